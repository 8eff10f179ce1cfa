"""Checkpoint files: exact round trips, atomic saves, one-line refusals, PyTorch interchange."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

from rnntui.engine.shape import ModelShape
from rnntui.errors import CheckpointError
from rnntui.train.checkpoint import Checkpoint, load_checkpoint, read_metadata, save_checkpoint

REPO = Path(__file__).resolve().parents[1]
SHAPE = ModelShape("lstm", vocab_size=5, embedding_dim=4, hidden_size=6, num_layers=2)
VOCAB = ["\n", " ", "a", "é", "😀"]


def random_params(shape: ModelShape, dtype=np.float32, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(s).astype(dtype) for name, s in shape.param_shapes().items()}


@pytest.fixture
def params() -> dict[str, np.ndarray]:
    return random_params(SHAPE)


@pytest.fixture
def ckpt(params) -> Checkpoint:
    return Checkpoint(
        shape=SHAPE,
        vocab=list(VOCAB),
        params=params,
        config={"cell": "lstm", "lr": 0.002, "corpus": "tiny"},
        train_state={"step": 7, "cursor": [3, 9], "rng": {"state": 2**100 + 1}},
        train_tensors={"adam.m.head.bias": np.ones(5, np.float32), "hidden.h": np.zeros((2, 3, 6), np.float32)},
    )


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "model.safetensors"


def refusal(excinfo, path, *fragments) -> str:
    """Assert the one-line, path-first shape of every refusal and return the message."""
    message = str(excinfo.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_train", [True, False])
def test_round_trip_is_bit_exact(path, cell, dtype, with_train):
    shape = ModelShape(cell, vocab_size=5, embedding_dim=3, hidden_size=4, num_layers=3)
    params = random_params(shape, dtype, seed=1)
    # Values a lossy path (text, float casts) would change.
    params["head.bias"][:] = [np.nan, np.inf, -0.0, np.finfo(dtype).tiny / 4, np.finfo(dtype).max]
    train = {"m": np.arange(12, dtype=dtype).reshape(3, 4) / 3, "scalar": np.array(0.1, dtype)} if with_train else {}
    original = Checkpoint(
        shape, list(VOCAB), params, {"lr": 0.1}, {"step": 3} if with_train else None, train
    )
    save_checkpoint(path, original)
    back = load_checkpoint(path)

    assert back.shape == shape and back.vocab == VOCAB and back.config == {"lr": 0.1}
    assert back.train_state == original.train_state
    assert back.dtype == np.dtype(dtype)
    assert list(back.params) == list(shape.param_shapes())
    for name, a in params.items():
        assert same_bits(back.params[name], a), name
    assert set(back.train_tensors) == set(train)
    for name, a in train.items():
        assert same_bits(back.train_tensors[name], a), name
    for a in [*back.params.values(), *back.train_tensors.values()]:
        assert a.flags.c_contiguous and a.flags.writeable
        a += 1  # usable in place, as the trainer does


def test_vocab_survives_any_unicode(path, params):
    vocab = ["😀", "한", "\n", '"', "\\", "\t", "\x00", "\u0301", "\u2028", "\ud800", "["]
    shape = ModelShape("gru", len(vocab), 4, 6, 1)
    save_checkpoint(path, Checkpoint(shape, vocab, random_params(shape), {"name": "é\"\\\n😀"}))
    back = load_checkpoint(path)
    assert back.vocab == vocab and back.config == {"name": "é\"\\\n😀"}


def test_strided_arrays_are_written_in_logical_order(path, params):
    # safetensors copies raw memory; a transposed view must not come back scrambled.
    strided = {name: np.asfortranarray(a) for name, a in params.items()}
    strided["head.bias"] = np.repeat(params["head.bias"], 2)[::2]
    assert not strided["head.weight"].flags.c_contiguous
    save_checkpoint(path, Checkpoint(SHAPE, VOCAB, strided, {}))
    back = load_checkpoint(path)
    for name, a in params.items():
        assert np.array_equal(back.params[name], a), name


def test_header_follows_the_contract(path, ckpt):
    save_checkpoint(path, ckpt)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
        names = set(f.keys())
    assert meta["format"] == "rnntui/1"
    assert (meta["cell"], meta["hidden_size"], meta["num_layers"], meta["embedding_dim"]) == ("lstm", "6", "2", "4")
    assert json.loads(meta["vocab"]) == VOCAB
    assert json.loads(meta["config"]) == ckpt.config
    assert json.loads(meta["train_state"]) == ckpt.train_state
    assert names == set(SHAPE.param_shapes()) | {"train.adam.m.head.bias", "train.hidden.h"}


def test_model_only_file_has_no_train_state(path, params):
    save_checkpoint(path, Checkpoint(SHAPE, VOCAB, params, {"lr": 1}))
    with safe_open(str(path), framework="numpy") as f:
        assert "train_state" not in f.metadata()
    back = load_checkpoint(path)
    assert back.train_state is None and back.train_tensors == {}


def test_numpy_scalars_in_train_state_become_plain_numbers(path, ckpt):
    ckpt.train_state = {"step": np.int64(12), "best": np.float32(0.5), "inf": float("inf")}
    save_checkpoint(path, ckpt)
    state = load_checkpoint(path).train_state
    assert state["step"] == 12 and type(state["step"]) is int
    assert state["best"] == 0.5 and state["inf"] == float("inf")


def test_read_metadata_describes_the_file(path, ckpt):
    ckpt.params, ckpt.train_tensors = random_params(SHAPE, np.float64), {"m": np.zeros(2)}
    save_checkpoint(path, ckpt)
    info = read_metadata(path)
    assert info["shape"] == SHAPE and info["vocab"] == VOCAB and info["dtype"] == np.float64
    assert info["config"] == ckpt.config and info["train_state"] == ckpt.train_state
    assert info["train_tensors"] == ["m"]


def test_read_metadata_refuses_what_load_refuses(path):
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError) as e:
        read_metadata(path)
    refusal(e, path, "not a safetensors file")


def test_saving_again_replaces_the_file(path, ckpt):
    save_checkpoint(path, ckpt)
    ckpt.train_state = {"step": 8}
    save_checkpoint(path, ckpt)
    assert load_checkpoint(path).train_state == {"step": 8}
    assert os.listdir(path.parent) == [path.name]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_file_honours_the_umask(path, ckpt):
    # A temp file made by mkstemp would leave the checkpoint readable only by its owner.
    umask = os.umask(0o022)
    try:
        save_checkpoint(path, ckpt)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


# --- files that are not checkpoints --------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    refusal(e, path, "no such file")


def test_directory(tmp_path):
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path)
    refusal(e, tmp_path, "is a directory")


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is a text file\n" * 20, np.random.default_rng(5).bytes(4096), b"\x10" + b"\x00" * 7 + b"{}"],
    ids=["empty", "text", "random", "short-header"],
)
def test_not_safetensors(path, content):
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    refusal(e, path, "not a safetensors file")


def test_truncated_or_extended_file(path, ckpt):
    save_checkpoint(path, ckpt)
    good = path.read_bytes()
    header_end = 8 + int.from_bytes(good[:8], "little")
    cuts = [4, 8, 9, header_end // 2, header_end - 1, header_end, (header_end + len(good)) // 2, len(good) - 1]
    for cut in cuts:
        path.write_bytes(good[:cut])
        with pytest.raises(CheckpointError) as e:
            load_checkpoint(path)
        refusal(e, path, "not a safetensors file")
    path.write_bytes(good + b"\x00" * 4)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    refusal(e, path, "not a safetensors file")


# --- safetensors files that are not valid rnntui checkpoints -------------------------------------


def contract_metadata(shape: ModelShape = SHAPE, vocab=VOCAB) -> dict[str, str]:
    return {
        "format": "rnntui/1",
        "cell": shape.cell,
        "hidden_size": str(shape.hidden_size),
        "num_layers": str(shape.num_layers),
        "embedding_dim": str(shape.embedding_dim),
        "vocab": json.dumps(vocab),
        "config": "{}",
        "train_state": '{"step": 1}',
    }


def meta(**changes):
    def change(tensors, metadata):
        for key, value in changes.items():
            if value is None:
                metadata.pop(key)
            else:
                metadata[key] = value

    return change


def tensor(name, value):
    def change(tensors, metadata):
        if value is None:
            tensors.pop(name)
        else:
            tensors[name] = value

    return change


def retype(dtype, names=None):
    def change(tensors, metadata):
        for name in names or list(tensors):
            tensors[name] = tensors[name].astype(dtype)

    return change


BAD_FILES = {
    "no-metadata": (lambda t, m: m.clear(), "not an rnntui checkpoint"),
    "no-format": (meta(format=None), "not an rnntui checkpoint"),
    "foreign-format": (meta(format="other/2"), "foreign format 'other/2' (expected 'rnntui/1')"),
    "missing-tensor": (tensor("rnn.weight_hh_l1", None), "missing tensor rnn.weight_hh_l1"),
    "missing-head": (tensor("head.bias", None), "missing tensor head.bias"),
    "extra-tensor": (tensor("decoder.weight", np.zeros(3, np.float32)), "unexpected tensor decoder.weight"),
    "extra-layer": (meta(num_layers="1"), "(num_layers is 1)"),
    "missing-layer": (meta(num_layers="3"), "missing tensor rnn.weight_ih_l2 (num_layers is 3)"),
    "wrong-shape": (tensor("head.bias", np.zeros(6, np.float32)), "tensor head.bias has shape [6], expected [5]"),
    "wrong-rank": (tensor("rnn.bias_hh_l1", np.zeros((4, 6), np.float32)), "rnn.bias_hh_l1 has shape [4, 6], expected [24]"),
    "mixed-dtypes": (retype(np.float64, ["head.bias"]), "mixed dtypes: embedding.weight is float32 but head.bias is float64"),
    "mixed-train": (tensor("train.m", np.zeros(3)), "mixed dtypes"),
    "integer": (retype(np.int32, ["head.bias"]), "tensor head.bias has dtype int32; tensors must be float32 or float64"),
    "integer-train": (tensor("train.rng", np.zeros(4, np.int64)), "tensor train.rng has dtype int64"),
    "float16": (retype(np.float16), "dtype float16"),
    "hidden-disagrees": (
        meta(hidden_size="12"),
        "metadata disagrees with the tensors: hidden_size is 12 but rnn.weight_hh_l0 has shape [24, 6]",
    ),
    "vocab-short": (meta(vocab='["a","b","c","d"]'), "vocab has 4 characters but embedding.weight has 5 rows"),
    "vocab-long": (meta(vocab='["a","b","c","d","e","f"]'), "vocab has 6 characters but embedding.weight has 5 rows"),
    "embedding-disagrees": (meta(embedding_dim="3"), "tensor embedding.weight has shape [5, 4], expected [5, 3]"),
    "cell-disagrees": (meta(cell="gru"), "tensor rnn.weight_ih_l0 has shape [24, 4], expected [18, 4]"),
    "unknown-cell": (meta(cell="transformer"), "unknown cell 'transformer'"),
    "no-cell": (meta(cell=None), "metadata has no 'cell'"),
    "no-vocab": (meta(vocab=None), "metadata has no 'vocab'"),
    "hidden-float": (meta(hidden_size="6.0"), "hidden_size must be a positive integer, got '6.0'"),
    "hidden-negative": (meta(hidden_size="-6"), "hidden_size must be a positive integer"),
    "hidden-zero": (meta(hidden_size="0"), "hidden_size must be a positive integer"),
    "layers-word": (meta(num_layers="two"), "num_layers must be a positive integer, got 'two'"),
    "embedding-empty": (meta(embedding_dim=""), "embedding_dim must be a positive integer, got ''"),
    "vocab-bad-json": (meta(vocab='["a", "b"'), "vocab is not valid JSON"),
    "vocab-not-list": (meta(vocab='"abcde"'), "vocab must be a non-empty JSON list"),
    "vocab-empty": (meta(vocab="[]"), "vocab must be a non-empty JSON list"),
    "vocab-duplicate": (meta(vocab='["a","b","a","c","d"]'), "vocab lists 'a' more than once"),
    "vocab-multi-char": (meta(vocab='["ab","b","c","d","e"]'), "vocab entry 0 is 'ab', not a single character"),
    "vocab-not-string": (meta(vocab='["a",1,"c","d","e"]'), "vocab entry 1 is 1, not a single character"),
    "config-not-object": (meta(config="[1, 2]"), "config must be a JSON object, got list"),
    "config-bad-json": (meta(config="{lr: 1"), "config is not valid JSON"),
    "no-config": (meta(config=None), "metadata has no 'config'"),
    "train-state-not-object": (meta(train_state='"x"'), "train_state must be a JSON object, got str"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_checkpoint_is_refused_in_one_line(path, params, case):
    change, expected = BAD_FILES[case]
    tensors, metadata = dict(params), contract_metadata()
    change(tensors, metadata)
    safetensors.numpy.save_file(tensors, str(path), metadata=metadata or None)
    for read in (load_checkpoint, read_metadata):
        with pytest.raises(CheckpointError) as e:
            read(path)
        refusal(e, path, expected)


def test_the_unaltered_handmade_file_loads(path, params):
    # The control for the table above: its mutations, not its base file, cause the refusals.
    safetensors.numpy.save_file(params, str(path), metadata=contract_metadata())
    assert load_checkpoint(path).train_state == {"step": 1}


# --- saving never damages what is there ----------------------------------------------------------


def set_field(name, value):
    return lambda c: setattr(c, name, value)


def param(name, value):
    return lambda c: c.params.__setitem__(name, value) if value is not None else c.params.pop(name)


BAD_SAVES = {
    "config-not-json": (set_field("config", {"path": object()}), "config is not JSON-able"),
    "train-state-not-json": (set_field("train_state", {"seen": {1, 2}}), "train_state is not JSON-able"),
    "config-not-object": (set_field("config", [1, 2]), "config must be a JSON object"),
    "object-tensor": (param("head.bias", np.array([object()] * 5)), "tensor head.bias has dtype object"),
    "integer-tensor": (param("head.bias", np.arange(5)), "tensor head.bias has dtype int64"),
    "not-an-array": (param("head.bias", [0.0] * 5), "tensor head.bias is a list, not a numpy array"),
    "wrong-shape": (param("head.bias", np.zeros(6, np.float32)), "tensor head.bias has shape [6], expected [5]"),
    "missing-param": (param("rnn.bias_ih_l1", None), "missing tensor rnn.bias_ih_l1"),
    "extra-param": (param("train.x", np.zeros(1, np.float32)), "unexpected tensor train.x"),
    "mixed-train": (lambda c: c.train_tensors.__setitem__("m", np.zeros(2)), "mixed dtypes"),
    "vocab-vs-shape": (set_field("vocab", VOCAB[:4]), "vocab has 4 characters but shape.vocab_size is 5"),
    "vocab-duplicate": (set_field("vocab", ["a", "a", "b", "c", "d"]), "vocab lists 'a' more than once"),
    "vocab-multi-char": (set_field("vocab", ["ab", "c", "d", "e", "f"]), "vocab entry 0 is 'ab', not a single character"),
}


@pytest.mark.parametrize("case", list(BAD_SAVES))
def test_failed_save_leaves_the_old_file_intact(path, ckpt, case):
    save_checkpoint(path, ckpt)
    before = path.read_bytes()
    change, expected = BAD_SAVES[case]
    change(ckpt)
    with pytest.raises(CheckpointError) as e:
        save_checkpoint(path, ckpt)
    refusal(e, path, "cannot save: " + expected)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


WRITE_TOO_BIG = """
import resource, signal, sys
import numpy as np
from rnntui.engine.shape import ModelShape
from rnntui.errors import CheckpointError
from rnntui.train.checkpoint import Checkpoint, save_checkpoint

shape = ModelShape("rnn", vocab_size=2, embedding_dim=4, hidden_size=512, num_layers=1)
params = {k: np.ones(s, np.float32) for k, s in shape.param_shapes().items()}
# The kernel refuses writes past 64 KiB, so the new file (1 MiB) fails partway through.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    save_checkpoint(sys.argv[1], Checkpoint(shape, ["a", "b"], params, {}))
    print("saved")
except CheckpointError as e:
    print(e)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_write_failing_midway_leaves_the_old_file_intact(path, ckpt):
    save_checkpoint(path, ckpt)
    before = path.read_bytes()
    assert len(before) < 65536
    child = run_python(WRITE_TOO_BIG, str(path))
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith(f"{path}: cannot write: File too large"), child.stdout
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_failing_rename_leaves_no_temp_file(tmp_path, ckpt):
    # Everything is written, then the final rename fails: the temp file must still go.
    target = tmp_path / "model.safetensors"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(CheckpointError) as e:
        save_checkpoint(target, ckpt)
    refusal(e, target, "cannot write")
    assert os.listdir(tmp_path) == [target.name] and os.listdir(target) == ["keep"]


SAVE_FOREVER = """
import sys
import numpy as np
from rnntui.engine.shape import ModelShape
from rnntui.train.checkpoint import Checkpoint, save_checkpoint

shape = ModelShape("lstm", vocab_size=64, embedding_dim=64, hidden_size=384, num_layers=2)
path, step = sys.argv[1], int(sys.argv[2])
while True:
    step += 1
    params = {k: np.full(s, step, np.float32) for k, s in shape.param_shapes().items()}
    save_checkpoint(path, Checkpoint(shape, [chr(65 + i) for i in range(64)], params, {}, {"step": step}))
    print(step, flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_sigkill_during_saves_never_corrupts(path):
    """A child saves a 7.6 MB checkpoint in a loop and is killed at a random moment, many times."""
    rng = random.Random()
    step, interrupted = 0, 0
    # Go on until some kills have landed mid-write, so the test proves something. Half the kills wait
    # until a write is under way: on a busy machine a random moment alone can miss every write.
    for trial in range(32):
        child = subprocess.Popen(
            [sys.executable, "-c", SAVE_FOREVER, str(path), str(step)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(), text=True,
        )
        first = child.stdout.readline()
        assert first, child.stderr.read()
        if trial % 2:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(p.name.endswith(".tmp") for p in path.parent.iterdir()):
                pass  # a write lasts milliseconds: poll without sleeping
        else:
            time.sleep(rng.uniform(0.0, 0.1))
        os.kill(child.pid, signal.SIGKILL)
        finished = [int(line) for line in (first + child.stdout.read()).split()]
        child.wait()
        child.stdout.close()
        child.stderr.close()

        back = load_checkpoint(path)
        got = back.train_state["step"]
        # The last save reported done is on disk, or the one after it completed too.
        assert finished[-1] <= got <= finished[-1] + 1
        assert all((a == got).all() for a in back.params.values())
        leftovers = [p for p in path.parent.iterdir() if p != path]
        assert all(p.name.startswith(f".{path.name}.") and p.name.endswith(".tmp") for p in leftovers)
        interrupted += bool(leftovers)  # a temp file left behind: the kill landed mid-write
        for p in leftovers:
            p.unlink()
        step = got
        if interrupted >= 2:
            break
    assert interrupted, "no kill landed during a write"


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=child_env(), timeout=60
    )


# --- PyTorch interchange -------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_file_written_by_pytorch_loads(path, cell, dtype):
    torch = pytest.importorskip("torch")
    import safetensors.torch
    from torch_module import TorchCharRNN

    torch.manual_seed(0)
    model = TorchCharRNN(len(VOCAB), 3, 5, 2, cell).to(getattr(torch, dtype))
    state = model.state_dict()
    shape = ModelShape(cell, len(VOCAB), 3, 5, 2)
    safetensors.torch.save_file(state, str(path), metadata={**contract_metadata(shape), "config": '{"from": "torch"}'})

    back = load_checkpoint(path)
    assert back.shape == shape and back.vocab == VOCAB and back.config == {"from": "torch"}
    assert back.dtype == np.dtype(dtype)
    assert set(back.params) == set(state)
    for name, t in state.items():
        assert same_bits(back.params[name], t.numpy()), name


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnntui_file_loads_into_pytorch(path, ckpt, cell):
    pytest.importorskip("torch")
    from torch_module import TorchCharRNN
    import safetensors.torch

    shape = ModelShape(cell, len(VOCAB), 4, 6, 2)
    ckpt.shape, ckpt.params = shape, random_params(shape, np.float64, seed=3)
    ckpt.train_tensors = {"m": np.ones(3)}
    save_checkpoint(path, ckpt)

    model = TorchCharRNN(len(VOCAB), 4, 6, 2, cell).double()
    state = {k: v for k, v in safetensors.torch.load_file(str(path)).items() if not k.startswith("train.")}
    model.load_state_dict(state)  # strict: every name and shape must match
    for name, t in model.state_dict().items():
        assert same_bits(t.numpy(), ckpt.params[name]), name
