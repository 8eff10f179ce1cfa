"""The bundled corpora ship: in a built wheel, and through an editable install.

Both checks run Python in a subprocess from a folder outside the repo, so the
source tree cannot stand in for the install.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rnntui.data.corpus import BUNDLED

REPO = Path(__file__).resolve().parents[1]

# Loads every bundled corpus and reports where the code and the texts came from.
PROBE = """
import json, rnntui, rnntui.corpora
from rnntui.data.corpus import BUNDLED, load_corpus
print(json.dumps({
    "package": rnntui.__file__,
    "corpora": rnntui.corpora.__file__,
    "lengths": {name: len(load_corpus(name).text) for name in BUNDLED},
}))
"""


def run_probe(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True)


def expected_lengths() -> dict[str, int]:
    return {name: len((REPO / "corpora" / file).read_text(encoding="utf-8-sig")) for name, (file, _) in BUNDLED.items()}


def build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the project, so no build/ or egg-info lands in the repo."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "rnntui", src / "rnntui", ignore=ignore)
    shutil.copytree(REPO / "corpora", src / "corpora", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, src / name)
    if not (src / "README.md").exists():  # the project readme is not this test's subject
        (src / "README.md").write_text("rnntui\n")
    command = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-w", str(tmp_path / "dist"), "-q"]
    if importlib.util.find_spec("setuptools"):
        command.append("--no-build-isolation")  # offline and fast when setuptools is at hand
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("rnntui-*.whl")
    return wheel


def test_wheel_carries_the_corpora_and_every_subpackage(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())

    for file, _ in BUNDLED.values():
        assert f"rnntui/corpora/{file}" in names
    # pyproject.toml lists packages by hand; a subpackage left off it would
    # work from the repo and be missing from the wheel.
    for init in (REPO / "rnntui").rglob("__init__.py"):
        assert init.relative_to(REPO).as_posix() in names, f"{init.parent.name} is missing from pyproject.toml packages"

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_probe(elsewhere, pythonpath=site)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert Path(report["package"]).is_relative_to(site)
    assert Path(report["corpora"]).is_relative_to(site)
    assert report["lengths"] == expected_lengths()


def test_editable_install_finds_the_corpora_from_anywhere(tmp_path):
    result = run_probe(tmp_path)
    if "No module named 'rnntui'" in result.stderr:
        pytest.skip("rnntui is not installed; run pip install -e .")
    assert result.returncode == 0, (
        f"{result.stderr}\n(an editable install older than the corpora mapping? re-run pip install -e .)"
    )
    report = json.loads(result.stdout)
    if not Path(report["package"]).is_relative_to(REPO):
        pytest.skip(f"rnntui is installed from {report['package']}, not from this tree")
    assert Path(report["corpora"]) == REPO / "corpora" / "__init__.py"
    assert report["lengths"] == expected_lengths()
