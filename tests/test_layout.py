"""The layout's rules: who may import whom, checked on the code and on a running command.

The contracts live in pyproject.toml ([tool.importlinter]); `lint-imports` reads
them. The runtime check catches what a static graph cannot: an import that
happens while a command runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "BROKEN" not in result.stdout


def test_rnntui_train_help_loads_no_textual():
    # -X importtime names every module the process imports, on stderr.
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "rnntui", "train", "--help"],
                            cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--steps" in result.stdout, "the command ran and printed its help"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "rnntui.cli.train" in imported, "the import log is read correctly"
    assert not {name for name in imported if name == "textual" or name.startswith("textual.")}
