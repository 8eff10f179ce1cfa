"""The `python` corpus: about 1 MB of this machine's own standard library source.

Nothing is downloaded or shipped: every Python install carries these files,
so the corpus is built on first use and cached. The text depends on the
Python version, so the cache file is named for it.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from rnntui.errors import CorpusError, OutputError
from rnntui.files import write_atomically

# Common pure-Python modules that exist in 3.10 to 3.13 (~1.1 MB on 3.11).
# Kept sorted: the corpus is these files in this order. One that a version
# lacks (or turned into a package) is skipped, not an error.
MODULES = (
    "argparse.py",
    "ast.py",
    "base64.py",
    "bisect.py",
    "calendar.py",
    "collections/__init__.py",
    "configparser.py",
    "contextlib.py",
    "copy.py",
    "csv.py",
    "dataclasses.py",
    "difflib.py",
    "enum.py",
    "fnmatch.py",
    "fractions.py",
    "functools.py",
    "glob.py",
    "heapq.py",
    "json/decoder.py",
    "json/encoder.py",
    "numbers.py",
    "operator.py",
    "pprint.py",
    "queue.py",
    "random.py",
    "shlex.py",
    "shutil.py",
    "statistics.py",
    "string.py",
    "tempfile.py",
    "textwrap.py",
    "threading.py",
    "tokenize.py",
    "weakref.py",
)


def cache_name() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}-stdlib.txt"


def describe() -> str:
    return f"Python {sys.version_info.major}.{sys.version_info.minor} standard library source"


def build_text(stdlib: Path | None = None) -> str:
    """Concatenate the modules found under `stdlib`, each after a header line."""
    stdlib = Path(stdlib or sysconfig.get_paths()["stdlib"])
    parts = []
    for name in MODULES:
        try:
            source = (stdlib / name).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # missing in this version, or somehow not UTF-8
        # Same text on every OS: Windows installs may carry CRLF line ends.
        parts.append(f"# ---- {name} ----\n" + source.replace("\r\n", "\n"))
    if not parts:
        raise CorpusError(f"no Python standard library sources found in {stdlib} to build the python corpus from")
    return "\n".join(parts)


def cached_copy(cache_dir: Path) -> Path | None:
    """The cached corpus in `cache_dir`, or None if it has not been built yet."""
    path = cache_dir / cache_name()
    return path if path.is_file() else None


def ensure_built(cache_dir: Path) -> Path:
    """Path of the cached corpus, building it first if it is not there yet."""
    path = cache_dir / cache_name()
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Atomic, so a crash never leaves half a corpus; two processes building at once
            # each write a whole file of the same text, and the last rename wins.
            write_atomically(path, build_text().encode("utf-8"))
        except (OSError, OutputError) as e:
            reason = e.strerror if isinstance(e, OSError) else str(e).removeprefix(f"{path}: ")
            raise CorpusError(
                f"cannot write the python corpus to {path} ({reason or e}); "
                "set RNNTUI_CACHE_DIR to a writable folder"
            ) from None
    return path
