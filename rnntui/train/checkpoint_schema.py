"""What a checkpoint must hold, checked in one place: the file's layout, then what a command uses.

Two levels, both here so a reader finds every rule together:

- `check_header` is the file contract of spec/model.md: metadata keys, sizes,
  vocabulary, tensor names, dtypes and shapes. Reading and writing run it on
  every file, so a file never half-loads and a saved file always loads.
- `check_contents` is what a command needs before it trusts the numbers:
  finite tensors, a vocabulary of real characters, a configuration of the
  right types that agrees with the tensors, and (when the file can resume) a
  complete, well-typed training state with every optimizer slot and carried
  state present. `load_usable` and `load_resumable` are the doors every command
  (and the playground) opens checkpoints through.

Every refusal is one line naming the field: "<path>: train_state.step must be ...".
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from pathlib import Path
from typing import Callable, NoReturn

import numpy as np

from rnntui.engine.optim import OPTIMIZERS, all_finite, make_optimizer
from rnntui.engine.shape import CELLS, ModelShape
from rnntui.errors import CheckpointError, TrainingError

FORMAT = "rnntui/1"
TRAIN_PREFIX = "train."
SIZE_KEYS = ("hidden_size", "num_layers", "embedding_dim")
FLOAT_DTYPES = ("float32", "float64")
# The keys the trainer writes into train_state; a resume needs every one of them.
TRAIN_STATE_KEYS = ("step", "epoch", "chunk", "elapsed", "optimizer_steps", "rng", "corpus_sha256", "history")
# The generator behind np.random.default_rng, whose state a resume restores bit for bit.
BIT_GENERATOR = "PCG64"

Fail = Callable[[str], NoReturn]


def failer(where: str) -> Fail:
    def fail(problem: str) -> NoReturn:
        raise CheckpointError(f"{where}: {problem}")

    return fail


# --- the file contract ---------------------------------------------------------------------------


def check_header(fail: Fail, metadata: dict[str, str] | None, header: dict):
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


# --- what a command may trust --------------------------------------------------------------------


def load_usable(path: str | Path):
    """A checkpoint whose model a command may run: sample, eval, the lab."""
    from rnntui.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    check_contents(ckpt, str(path))
    return ckpt


def load_resumable(path: str | Path):
    """A checkpoint a run may continue from exactly: all of the above, and a complete train state."""
    from rnntui.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    if ckpt.train_state is None:
        raise CheckpointError(f"{path}: holds a model only (no train_state in the metadata); there is nothing to resume")
    check_contents(ckpt, str(path))
    return ckpt


def check_contents(ckpt, where: str) -> None:
    """Refuse, in one line naming the field, anything a command would choke on or silently misuse."""
    fail = failer(where)
    for i, ch in enumerate(ckpt.vocab):
        if 0xD800 <= ord(ch) <= 0xDFFF:
            fail(f"vocab entry {i} is a lone surrogate (U+{ord(ch):04X}), not a character")
    for name, array in {**ckpt.params, **{TRAIN_PREFIX + k: v for k, v in ckpt.train_tensors.items()}}.items():
        if not all_finite(array.reshape(-1)):
            fail(f"tensor {name} holds {_non_finite(array)}; the weights are damaged")
    config = _check_config(fail, ckpt)
    if ckpt.train_state is None:
        if ckpt.train_tensors:
            fail(f"tensor {TRAIN_PREFIX}{next(iter(ckpt.train_tensors))} but no train_state in the metadata")
        return
    _check_train_state(fail, ckpt.train_state)
    _check_train_tensors(fail, ckpt, config)


def _non_finite(array: np.ndarray) -> str:
    bad = array[~np.isfinite(array)]
    return f"{bad.size} non-finite value{'s' if bad.size > 1 else ''} (the first is {bad.flat[0]})"


def _config_types() -> dict[str, type]:
    from rnntui.train.config import TrainConfig

    return typing.get_type_hints(TrainConfig)


def _check_config(fail: Fail, ckpt) -> dict:
    """Each known field well typed and agreeing with the tensors; in a resumable file, every field."""
    from rnntui.train.config import DATA_WALK_FIELDS, SHAPE_FIELDS, TrainConfig

    config, types = ckpt.config, _config_types()
    if ckpt.train_state is not None:
        # What decides the next step exactly must be there; a setting added to rnntui after the file
        # was written takes its default, as a training option left unsaid on resume does.
        for name in (*SHAPE_FIELDS, *DATA_WALK_FIELDS, "optimizer"):
            if name not in config:
                fail(f"config has no {name!r}; a run cannot resume from a partial configuration")
    for name, kind in types.items():
        if name in config:
            _check_type(fail, f"config.{name}", config[name], kind)
    shape, dtype = ckpt.shape, ckpt.params["embedding.weight"].dtype.name
    agree = {"cell": shape.cell, "hidden": shape.hidden_size, "layers": shape.num_layers,
             "embed": shape.embedding_dim, "dtype": dtype}
    for name, actual in agree.items():
        if name in config and config[name] != actual:
            fail(f"config.{name} is {config[name]!r} but the tensors say {actual!r}")
    if ckpt.train_state is not None:
        try:
            TrainConfig.from_json(config).validated()
        except TrainingError as e:
            fail(f"config is out of range: {e}")
    return config


def _check_type(fail: Fail, name: str, value, kind) -> None:
    if isinstance(kind, types.UnionType):  # an optional field: None, or its one other type
        if value is None and type(None) in kind.__args__:
            return
        kind = next(k for k in kind.__args__ if k is not type(None))
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        article = {"int": "an integer", "float": "a finite number", "str": "a string", "bool": "true or false"}
        fail(f"{name} must be {article.get(kind.__name__, kind.__name__)}, got {_shown(value)}")


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_train_state(fail: Fail, state: dict) -> None:
    for key in TRAIN_STATE_KEYS:
        if key not in state:
            fail(f"train_state has no {key!r}; nothing is resumed from a partial state")
    for key in ("step", "epoch", "chunk", "optimizer_steps"):
        value = state[key]
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            fail(f"train_state.{key} must be a non-negative integer, got {_shown(value)}")
    if state["optimizer_steps"] > state["step"]:
        fail(f"train_state.optimizer_steps ({state['optimizer_steps']}) exceeds train_state.step ({state['step']})")
    _check_type(fail, "train_state.elapsed", state["elapsed"], float)
    if state["elapsed"] < 0:
        fail(f"train_state.elapsed must not be negative, got {state['elapsed']}")
    digest = state["corpus_sha256"]
    if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
        fail(f"train_state.corpus_sha256 must be 64 hex digits, got {_shown(digest)}")
    _check_rng(fail, state["rng"])
    _check_history(fail, state["history"])


def _check_rng(fail: Fail, rng) -> None:
    def u(value, bits: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**bits

    inner = rng.get("state") if isinstance(rng, dict) else None
    well_formed = (
        isinstance(rng, dict) and set(rng) == {"bit_generator", "state", "has_uint32", "uinteger"}
        and rng["bit_generator"] == BIT_GENERATOR
        and isinstance(inner, dict) and set(inner) == {"state", "inc"}
        and u(inner["state"], 128) and u(inner["inc"], 128) and inner["inc"] % 2 == 1  # PCG's increment is odd
        and rng["has_uint32"] in (0, 1) and u(rng["uinteger"], 32)
    )
    if well_formed:
        try:  # the generator's own check, on a scratch generator
            np.random.default_rng().bit_generator.state = rng
            return
        except (TypeError, ValueError, KeyError, OverflowError):
            pass
    fail(f"train_state.rng is not a {BIT_GENERATOR} generator state")


def _check_history(fail: Fail, history) -> None:
    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if not isinstance(history, dict):
        fail(f"train_state.history must be an object, got {_shown(history)}")
    for key in ("train", "val"):
        series = history.get(key, [])
        if isinstance(series, list):  # written before buckets: (step, loss) points
            if not all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], int) and number(p[1]) for p in series):
                fail(f"train_state.history.{key} must be a list of [step, loss] pairs")
            continue
        buckets = series.get("buckets") if isinstance(series, dict) else None
        width = series.get("width") if isinstance(series, dict) else None
        if not (isinstance(width, int) and not isinstance(width, bool) and width >= 1):
            fail(f"train_state.history.{key}.width must be a positive integer")
        # A bucket: [last step, weighted sum, lowest, highest, weight].
        if not isinstance(buckets, list) or not all(
            isinstance(b, list) and len(b) == 5 and isinstance(b[0], int) and all(number(v) for v in b[1:]) and b[4] > 0
            for b in buckets
        ):
            fail(f"train_state.history.{key}.buckets must be a list of [step, sum, low, high, weight]")
    for key in ("average", "weight"):
        if key in history and not number(history[key]):
            fail(f"train_state.history.{key} must be a number, got {_shown(history[key])}")


def _check_train_tensors(fail: Fail, ckpt, config: dict) -> None:
    """Every optimizer slot and every carried state a resume reads, of the right shape; nothing else."""
    shape, tensors = ckpt.shape, ckpt.train_tensors
    optimizer = config["optimizer"]
    if optimizer not in OPTIMIZERS:
        fail(f"config.optimizer must be one of {', '.join(OPTIMIZERS)}, got {_shown(optimizer)}")
    flat = (shape.param_count(),)
    expected = {f"optim.{slot}": flat for slot in make_optimizer(optimizer, np.zeros(1), 1.0).slot_names}
    parts = ("h", "c") if shape.cell == "lstm" else ("h",)
    carried = [f"state.l{k}.{part}" for k in range(shape.num_layers) for part in parts]
    first = tensors.get(carried[0])
    rows = first.shape[0] if first is not None and first.ndim == 2 and first.shape[0] >= 1 else 1
    expected.update({name: (rows, shape.hidden_size) for name in carried})
    for name, want in expected.items():
        if name not in tensors:
            what = f"the {optimizer} optimizer's slot" if name.startswith("optim.") else "a carried state"
            fail(f"missing tensor {TRAIN_PREFIX}{name} ({what}); nothing is resumed from a partial state")
        if tensors[name].shape != want:
            fail(f"tensor {TRAIN_PREFIX}{name} has shape {list(tensors[name].shape)}, expected {list(want)}")
    for name in tensors:
        if name not in expected:
            fail(f"unexpected tensor {TRAIN_PREFIX}{name} for a {shape.cell} trained with {optimizer}")


def check_walk(where: str, ckpt, batch: int, chunks: int) -> None:
    """The carried state and data cursor against the batches a resumed run rebuilds from its corpus."""
    fail = failer(where)
    rows = ckpt.train_tensors["state.l0.h"].shape[0]
    if rows != batch:
        fail(f"tensor {TRAIN_PREFIX}state.l0.h carries {rows} streams but the run reads {batch}")
    if ckpt.train_state["chunk"] >= chunks:
        fail(f"train_state.chunk is {ckpt.train_state['chunk']} but an epoch has only {chunks} chunks")
