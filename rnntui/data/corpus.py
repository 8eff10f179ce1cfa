"""A corpus by name or by path: the text a model is trained on.

Names come first: the bundled texts (shipped inside the package as
`rnntui.corpora`), `python` (built from this machine's standard library) and
`shakespeare` (downloaded once). Anything else that looks like a path is read
as a UTF-8 text file. Every way this can fail ends in one CorpusError line.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass, field
from pathlib import Path

from rnntui.data import download, python_corpus
from rnntui.errors import CorpusError

CACHE_ENV = "RNNTUI_CACHE_DIR"

# name -> (file in corpora/, description)
BUNDLED = {
    "hello": ("hello.txt", "the word hello, 2000 times: four letters, the smallest thing to learn"),
    "fables": ("fables.txt", "seven short fables in English prose, written for rnntui"),
    "unicode": ("unicode.txt", "a multilingual sample: Korean, Chinese, Japanese, Greek, Cyrillic, emoji, accents"),
}
SHAKESPEARE_DESCRIPTION = "tiny-shakespeare, 1.1 MB of plays (downloaded on first use)"


@dataclass(frozen=True)
class Corpus:
    name: str
    text: str = field(repr=False)  # a megabyte in a repr helps nobody
    source: str  # where the text came from, in words a user can act on


@dataclass(frozen=True)
class CorpusInfo:
    """One row of `rnntui corpora`. Sizes are None until the text exists locally."""

    name: str
    description: str
    length: int | None  # characters
    vocab_size: int | None
    offline: bool  # usable without a network right now


def corpus_names() -> list[str]:
    return [*BUNDLED, "python", "shakespeare"]


def cache_dir() -> Path:
    """Where built and downloaded corpora live; RNNTUI_CACHE_DIR overrides it."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # only needed when nothing overrides it

    return Path(platformdirs.user_cache_dir("rnntui"))


def load_corpus(name_or_path: str) -> Corpus:
    """The corpus with this name, or the UTF-8 text file at this path."""
    if name_or_path in BUNDLED:
        file_name = BUNDLED[name_or_path][0]
        return Corpus(name_or_path, _bundled_text(file_name), f"bundled corpus {file_name}")
    if name_or_path == "python":
        path = python_corpus.ensure_built(cache_dir())
        return Corpus("python", read_text_file(path), f"{python_corpus.describe()}, cached at {path}")
    if name_or_path == "shakespeare":
        path = download.ensure_downloaded(cache_dir())
        return Corpus("shakespeare", read_text_file(path), f"tiny-shakespeare, cached at {path}")
    if _looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        return Corpus(path.name, read_text_file(path), str(path.resolve()))
    raise CorpusError(
        f"no corpus named {name_or_path!r} and no such file; known corpora: "
        f"{', '.join(corpus_names())}, or give the path of a UTF-8 text file"
    )


def list_corpora() -> list[CorpusInfo]:
    """Every named corpus, with its size where the text is already on this machine."""
    rows = []
    for name, (_, description) in BUNDLED.items():
        rows.append(_info(name, description, _bundled_text(BUNDLED[name][0]), offline=True))
    built = python_corpus.cached_copy(cache_dir())
    # The python corpus never needs a network: it can always be built here.
    description = f"{python_corpus.describe()} (built on first use)"
    rows.append(_info("python", description, _try_read(built), offline=True))
    fetched = download.cached_copy(cache_dir())
    rows.append(_info("shakespeare", SHAKESPEARE_DESCRIPTION, _try_read(fetched), offline=fetched is not None))
    return rows


def read_text_file(path: Path) -> str:
    """The text of a UTF-8 file, or a CorpusError that names the file and the problem."""
    path = Path(path)
    if path.is_dir():
        raise CorpusError(f"{path} is a directory, not a text file")
    if path.exists() and not (path.is_file() or path.is_fifo()):  # a pipe ends; /dev/zero never does
        raise CorpusError(f"{path} is a device, not a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"corpus file not found: {path}") from None
    except OSError as e:
        raise CorpusError(f"cannot read {path}: {e.strerror or e}") from None
    return _decode(data, str(path))


def _decode(data: bytes, where: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{where} is UTF-16 text; save it as UTF-8")
    if b"\0" in data:
        raise CorpusError(f"{where} looks binary (it contains NUL bytes), not like UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"{where} is not UTF-8 text (byte 0x{data[e.start]:02X} at offset {e.start})"
        ) from None
    # A byte-order mark is an editor's artefact, not a character to learn.
    text = text.removeprefix("\ufeff")
    if not text:
        raise CorpusError(f"{where} is empty")
    return text


def _bundled_text(file_name: str) -> str:
    try:
        data = _bundled_dir().joinpath(file_name).read_bytes()
    except OSError:
        raise CorpusError(f"bundled corpus {file_name} is missing from this install of rnntui; reinstall it") from None
    return _decode(data, f"bundled corpus {file_name}")


def _bundled_dir():
    """The corpora folder: a package resource when installed (wheel or editable)."""
    try:
        return importlib.resources.files("rnntui.corpora")
    except ModuleNotFoundError:
        # A source checkout run without installing: the repo-root folder that
        # pyproject.toml maps to rnntui.corpora.
        return Path(__file__).resolve().parents[2] / "corpora"


def _looks_like_path(name: str) -> bool:
    if os.sep in name or (os.altsep and os.altsep in name):
        return True
    try:
        return Path(name).exists()
    except (OSError, ValueError):  # e.g. a NUL in the name
        return False


def _try_read(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return read_text_file(path)
    except CorpusError:
        return None


def _info(name: str, description: str, text: str | None, offline: bool) -> CorpusInfo:
    if text is None:
        return CorpusInfo(name, description, None, None, offline)
    return CorpusInfo(name, description, len(text), len(set(text)), offline)
