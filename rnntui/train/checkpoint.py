"""Checkpoints: a model, its vocabulary and (optionally) what training needs to resume, in one file.

The file is the contract in spec/model.md: a .safetensors file whose model
tensors are a PyTorch CharRNN state dict, whose `train.*` tensors hold optimizer
slots and carried states, and whose header metadata holds everything else as
text. Loading checks the whole header before reading any tensor data, so a bad
file is refused with one line naming the problem and never half-loads. Saving
runs the same checks on what it is about to write, so a saved file always loads.
The checks themselves live in checkpoint_schema.py; the writing in rnntui/files.py.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from rnntui.engine.shape import ModelShape
from rnntui.errors import CheckpointError, OutputError
from rnntui.files import write_atomically
from rnntui.train.checkpoint_schema import FORMAT, SIZE_KEYS, TRAIN_PREFIX, Fail, check_header
from rnntui.train.checkpoint_schema import failer as _failer


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
    check_header(_failer(where), metadata, header)
    data = safetensors.numpy.save(tensors, metadata=metadata)
    try:
        write_atomically(path, data)
    except OutputError as e:
        raise CheckpointError(str(e)) from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, or raise CheckpointError with one line naming what is wrong."""
    path = Path(path)
    fail = _failer(str(path))
    with _open(path, fail) as f:
        metadata, header = _read_header(f)
        shape, vocab, config, train_state, _ = check_header(fail, metadata, header)
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
    shape, vocab, config, train_state, dtype = check_header(fail, metadata, header)
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


# --- reading and checking ------------------------------------------------------------------------


@contextlib.contextmanager
def _open(path: Path, fail: Fail):
    if not path.exists():
        fail("no such file")
    if path.is_dir():
        fail("is a directory, not a checkpoint file")
    if not path.is_file():  # a FIFO or a device would block the read or never end
        fail("not a regular file (a FIFO, device or socket is not a checkpoint)")
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


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())
