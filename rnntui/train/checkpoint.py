"""Checkpoints: a model, its vocabulary and (optionally) what training needs to resume, in one file.

The file is the contract in spec/model.md: a .safetensors file whose model
tensors are a PyTorch CharRNN state dict, whose `train.*` tensors hold optimizer
slots and carried states, and whose header metadata holds everything else as
text. Loading checks the whole header before reading any tensor data, so a bad
file is refused with one line naming the problem and never half-loads. Saving
runs the same checks on what it is about to write, so a saved file always loads.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NoReturn

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from rnntui.engine.shape import CELLS, ModelShape
from rnntui.errors import CheckpointError

FORMAT = "rnntui/1"
TRAIN_PREFIX = "train."
SIZE_KEYS = ("hidden_size", "num_layers", "embedding_dim")
FLOAT_DTYPES = ("float32", "float64")

Fail = Callable[[str], NoReturn]


@dataclass
class Checkpoint:
    shape: ModelShape
    vocab: list[str]  # one-character strings, in index order
    params: dict[str, np.ndarray]  # named exactly as shape.param_shapes()
    config: dict  # the full training configuration, JSON-able
    train_state: dict | None = None  # JSON-able resume state; None in a model-only file
    train_tensors: dict[str, np.ndarray] = field(default_factory=dict)  # stored as "train.<name>"

    @property
    def dtype(self) -> np.dtype:
        return self.params["embedding.weight"].dtype


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> None:
    """Write `ckpt` to `path` atomically: a crash mid-write leaves the previous file intact."""
    path = Path(path)
    where = f"{path}: cannot save"
    metadata, tensors = _encode(_failer(where), ckpt)
    header = {name: (t.dtype.name, t.shape) for name, t in tensors.items()}
    _check(_failer(where), metadata, header)
    data = safetensors.numpy.save(tensors, metadata=metadata)
    try:
        _write_atomically(path, data)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot write: {e.strerror or e}") from e


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, or raise CheckpointError with one line naming what is wrong."""
    path = Path(path)
    fail = _failer(str(path))
    with _open(path, fail) as f:
        metadata, header = _read_header(f)
        shape, vocab, config, train_state, _ = _check(fail, metadata, header)
        try:
            tensors = {name: f.get_tensor(name) for name in header}
        except (SafetensorError, OSError, TypeError, ValueError) as e:
            fail(f"cannot read tensor data ({_one_line(e)})")
    # Callers train these in place: hand out owned, C-ordered, writable arrays.
    tensors = {
        name: t if t.flags.c_contiguous and t.flags.writeable else np.array(t, order="C")
        for name, t in tensors.items()
    }
    return Checkpoint(
        shape=shape,
        vocab=vocab,
        params={name: tensors[name] for name in shape.param_shapes()},
        config=config,
        train_state=train_state,
        train_tensors={
            name[len(TRAIN_PREFIX) :]: t for name, t in tensors.items() if name.startswith(TRAIN_PREFIX)
        },
    )


def read_metadata(path: str | Path) -> dict:
    """Everything but the tensor data, checked as strictly as a load; cheap enough for listings.

    Keys: shape (ModelShape), vocab, dtype (numpy dtype), config, train_state
    (None in a model-only file) and train_tensors (their names, without "train.").
    """
    path = Path(path)
    fail = _failer(str(path))
    with _open(path, fail) as f:
        metadata, header = _read_header(f)
    shape, vocab, config, train_state, dtype = _check(fail, metadata, header)
    return {
        "shape": shape,
        "vocab": vocab,
        "dtype": np.dtype(dtype),
        "config": config,
        "train_state": train_state,
        "train_tensors": [n[len(TRAIN_PREFIX) :] for n in header if n.startswith(TRAIN_PREFIX)],
    }


# --- writing -------------------------------------------------------------------------------------


def _encode(fail: Fail, ckpt: Checkpoint) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    shape = ckpt.shape
    if len(ckpt.vocab) != shape.vocab_size:
        fail(f"vocab has {len(ckpt.vocab)} characters but shape.vocab_size is {shape.vocab_size}")
    expected = shape.param_shapes()
    for name in ckpt.params:
        if name not in expected:
            fail(f"unexpected tensor {name}")
    tensors = {name: _stored(fail, name, a) for name, a in ckpt.params.items()}
    for name, a in ckpt.train_tensors.items():
        tensors[TRAIN_PREFIX + name] = _stored(fail, TRAIN_PREFIX + name, a)
    metadata = {
        "format": FORMAT,
        "cell": shape.cell,
        **{key: str(getattr(shape, key)) for key in SIZE_KEYS},
        "vocab": _dumps(fail, "vocab", ckpt.vocab),
        "config": _dumps(fail, "config", ckpt.config),
    }
    if ckpt.train_state is not None:
        metadata["train_state"] = _dumps(fail, "train_state", ckpt.train_state)
    return metadata, tensors


def _stored(fail: Fail, name: str, a: object) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        fail(f"tensor {name} is a {type(a).__name__}, not a numpy array")
    # safetensors copies raw memory: a strided view (a transpose, a slice) would be
    # written in memory order and come back scrambled, so lay it out first.
    return a if a.flags.c_contiguous else a.copy(order="C")


def _dumps(fail: Fail, key: str, value: object) -> str:
    # ASCII escapes keep any character (emoji, newline, quote, lone surrogate) safe in the header.
    try:
        return json.dumps(value, ensure_ascii=True, default=_plain)
    except (TypeError, ValueError) as e:
        fail(f"{key} is not JSON-able ({e})")


def _plain(value: object) -> object:
    # Step counters and losses often arrive as numpy scalars; they are plain numbers in JSON.
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _write_atomically(path: Path, data: bytes) -> None:
    # Same directory, so os.replace is a rename on one filesystem: readers see the old
    # file or the new one, never a partial one. O_EXCL with mode 0o666 honours the umask.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C included: never leave a temp file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself survive a power cut; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading and checking ------------------------------------------------------------------------


@contextlib.contextmanager
def _open(path: Path, fail: Fail):
    if not path.exists():
        fail("no such file")
    if path.is_dir():
        fail("is a directory, not a checkpoint file")
    try:
        handle = safe_open(str(path), framework="numpy")
    except SafetensorError as e:
        fail(f"not a safetensors file ({_one_line(e).removeprefix('Error while deserializing header: ')})")
    except OSError as e:
        fail(f"cannot read: {e.strerror or e}")
    with handle as f:
        yield f


def _read_header(f) -> tuple[dict[str, str] | None, dict[str, tuple[str, tuple[int, ...]]]]:
    header = {}
    for name in f.keys():
        piece = f.get_slice(name)
        header[name] = (_dtype_name(piece.get_dtype()), tuple(piece.get_shape()))
    return f.metadata(), header


def _dtype_name(code: str) -> str:
    # safetensors' codes (F32, BF16, I64, ...) as numpy names, so both paths speak alike.
    m = re.fullmatch(r"(BF|F|I|U)(\d+)", code)
    if not m:
        return code.lower()
    return {"BF": "bfloat", "F": "float", "I": "int", "U": "uint"}[m[1]] + m[2]


def _check(fail: Fail, metadata: dict[str, str] | None, header: dict):
    """Validate header metadata and tensor names, dtypes and shapes; return what they describe."""
    if not metadata or "format" not in metadata:
        fail("not an rnntui checkpoint (no 'format' key in the header metadata)")
    if metadata["format"] != FORMAT:
        fail(f"foreign format {metadata['format']!r} (expected {FORMAT!r})")
    for key in ("cell", *SIZE_KEYS, "vocab", "config"):
        if key not in metadata:
            fail(f"metadata has no {key!r}")
    cell = metadata["cell"]
    if cell not in CELLS:
        fail(f"unknown cell {cell!r} (expected one of {', '.join(CELLS)})")
    sizes = {}
    for key in SIZE_KEYS:
        if not re.fullmatch(r"[1-9][0-9]*", metadata[key]):
            fail(f"{key} must be a positive integer, got {metadata[key]!r}")
        sizes[key] = int(metadata[key])
    vocab = _parse_vocab(fail, metadata["vocab"])
    config = _parse_object(fail, "config", metadata["config"])
    train_state = None
    if "train_state" in metadata:
        train_state = _parse_object(fail, "train_state", metadata["train_state"])
    shape = ModelShape(cell=cell, vocab_size=len(vocab), **sizes)
    dtype = _check_tensors(fail, shape, header)
    return shape, vocab, config, train_state, dtype


def _parse_vocab(fail: Fail, text: str) -> list[str]:
    try:
        vocab = json.loads(text)
    except ValueError:
        fail("vocab is not valid JSON")
    if not isinstance(vocab, list) or not vocab:
        fail("vocab must be a non-empty JSON list of characters")
    for i, ch in enumerate(vocab):
        if not isinstance(ch, str) or len(ch) != 1:
            fail(f"vocab entry {i} is {ch!r}, not a single character")
    seen = set()
    for ch in vocab:
        if ch in seen:
            fail(f"vocab lists {ch!r} more than once")
        seen.add(ch)
    return vocab


def _parse_object(fail: Fail, key: str, text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        fail(f"{key} is not valid JSON")
    if not isinstance(value, dict):
        fail(f"{key} must be a JSON object, got {type(value).__name__}")
    return value


def _check_tensors(fail: Fail, shape: ModelShape, header: dict) -> str:
    for name, (dtype, _) in header.items():
        if dtype not in FLOAT_DTYPES:
            fail(f"tensor {name} has dtype {dtype}; tensors must be float32 or float64")
    first = {}
    for name, (dtype, _) in header.items():
        first.setdefault(dtype, name)
    if len(first) > 1:
        (a, da), (b, db) = [(n, d) for d, n in first.items()][:2]
        fail(f"mixed dtypes: {a} is {da} but {b} is {db}; all tensors must share one")

    expected = shape.param_shapes()
    layers = f" (num_layers is {shape.num_layers})"
    for name in expected:
        if name not in header:
            fail(f"missing tensor {name}" + (layers if name.startswith("rnn.") else ""))
    for name in header:
        if name == TRAIN_PREFIX:
            fail(f"tensor {name!r} has no name after the prefix")
        if name not in expected and not name.startswith(TRAIN_PREFIX):
            fail(f"unexpected tensor {name}" + (layers if name.startswith("rnn.") else ""))

    # The usual way a shape goes wrong is metadata written for another model; say so.
    emb, hh = header["embedding.weight"][1], header["rnn.weight_hh_l0"][1]
    if len(emb) == 2 and emb[0] != shape.vocab_size:
        fail(
            f"metadata disagrees with the tensors: vocab has {shape.vocab_size} characters"
            f" but embedding.weight has {emb[0]} rows"
        )
    if len(hh) == 2 and hh[1] != shape.hidden_size:
        fail(
            f"metadata disagrees with the tensors: hidden_size is {shape.hidden_size}"
            f" but rnn.weight_hh_l0 has shape {list(hh)}"
        )
    for name, want in expected.items():
        got = header[name][1]
        if got != want:
            fail(f"tensor {name} has shape {list(got)}, expected {list(want)}")
    return next(iter(first))


def _failer(where: str) -> Fail:
    def fail(problem: str) -> NoReturn:
        raise CheckpointError(f"{where}: {problem}")

    return fail


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())
