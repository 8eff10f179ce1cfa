"""Bad input, as a new user makes it by accident: one line, the right exit status, every good file unchanged.

Most cases are rows of one table, run in-process: the command, its exit status, a fragment of the
one line it must print. Around every row, each file in the test's folder is hashed before and
after, and no file may appear that the row does not expect. A refused `train` must be refused
before its run starts. The cases that need the real thing (a closed stdout, a full disk, a
process killed between two steps of a write, Ctrl-C during start-up) run as child processes,
with the fault injected at a fixed point.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import safe_open

from cli_helpers import TINY, run
from rnntui.errors import CheckpointError, RnntuiError, TrainingError
from rnntui.train.checkpoint import load_checkpoint
from rnntui.train.checkpoint_schema import check_contents, check_walk
from rnntui.train.config import TrainConfig
from rnntui.train.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]


# --- the good files every row starts from ----------------------------------------------------------


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> bytes:
    """Five steps of a tiny LSTM on the bundled fables, trained by the real command."""
    path = tmp_path_factory.mktemp("good") / "m.safetensors"
    result = run("train", *TINY, "--corpus", "fables", "--steps", "5", "--out", path)
    assert result.exit_code == 0, result.stderr
    return path.read_bytes()


@pytest.fixture
def folder(tmp_path, good_checkpoint) -> Path:
    (tmp_path / "m.safetensors").write_bytes(good_checkpoint)
    (tmp_path / "text.txt").write_text("the fox and the crow. " * 20, encoding="utf-8")
    return tmp_path


def read_raw(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    with safe_open(str(path), framework="numpy") as f:
        metadata = dict(f.metadata())
    return metadata, safetensors.numpy.load_file(str(path))


def damaged(folder: Path, change: Callable[[dict, dict], None]) -> None:
    """bad.safetensors: the good file with one thing changed, written raw as a damaged file would be."""
    metadata, tensors = read_raw(folder / "m.safetensors")
    change(metadata, tensors)
    safetensors.numpy.save_file(tensors, str(folder / "bad.safetensors"), metadata=metadata)


def snapshot(folder: Path) -> dict[str, str]:
    """Every regular file under `folder` (links not followed) and the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
    }


# --- the table -----------------------------------------------------------------------------------


@dataclass
class Case:
    argv: str  # {d} is the test's folder
    status: int
    fragment: str
    setup: Callable[[Path], None] | None = None
    writes: tuple[str, ...] = ()  # files the command may create or change
    input: str | bytes | None = None
    marks: list = field(default_factory=list)

    def param(self, name: str):
        return pytest.param(self, id=name, marks=self.marks)


def json_field(key: str, path: tuple, value) -> Callable[[dict, dict], None]:
    """Set metadata[key] (a JSON object) at `path` to `value`; None as the value deletes it."""
    def change(metadata, _tensors):
        obj = json.loads(metadata[key])
        node = obj
        for part in path[:-1]:
            node = node[part]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        metadata[key] = json.dumps(obj)
    return change


DELETE = object()


def tensor_set(name: str, index, value) -> Callable[[dict, dict], None]:
    def change(_metadata, tensors):
        tensors[name].flat[index] = value
    return change


def tensor_drop(name: str) -> Callable[[dict, dict], None]:
    return lambda _m, tensors: tensors.pop(name)


def tensor_add(name: str, shape) -> Callable[[dict, dict], None]:
    return lambda _m, tensors: tensors.__setitem__(name, np.zeros(shape, np.float32))


def vocab_swap(old: str, new: str) -> Callable[[dict, dict], None]:
    def change(metadata, _tensors):
        vocab = json.loads(metadata["vocab"])
        vocab[vocab.index(old)] = new
        metadata["vocab"] = json.dumps(vocab)
    return change


def both(*changes) -> Callable[[dict, dict], None]:
    def change(metadata, tensors):
        for c in changes:
            c(metadata, tensors)
    return change


# Damage a checkpoint can carry and still be a well-formed safetensors file: (change, the field named).
DAMAGE = {
    "nan-recurrent-weight": (tensor_set("rnn.weight_hh_l0", 7, np.nan), "tensor rnn.weight_hh_l0 holds 1 non-finite"),
    "inf-bias": (tensor_set("head.bias", 0, np.inf), "tensor head.bias holds 1 non-finite value (the first is inf)"),
    "nan-optimizer-slot": (tensor_set("train.optim.exp_avg", 3, np.nan), "tensor train.optim.exp_avg holds"),
    "lone-surrogate-in-vocab": (vocab_swap("z", "\ud800"), "vocab entry"),
    "config-hidden-is-text": (json_field("config", ("hidden",), "16"), "config.hidden must be an integer"),
    "config-lr-is-text": (json_field("config", ("lr",), "fast"), "config.lr must be a finite number"),
    "config-lr-is-list": (json_field("config", ("lr",), [1]), "config.lr must be a finite number"),
    "config-dropout-is-bool": (json_field("config", ("dropout",), True), "config.dropout must be a finite number"),
    "config-skip-is-number": (json_field("config", ("skip_nonfinite",), 1), "config.skip_nonfinite must be true or false"),
    "config-cell-disagrees": (json_field("config", ("cell",), "gru"), "config.cell is 'gru' but the tensors say 'lstm'"),
    "config-dtype-disagrees": (json_field("config", ("dtype",), "float64"), "config.dtype is 'float64'"),
    "config-missing-optimizer": (json_field("config", ("optimizer",), DELETE), "config has no 'optimizer'"),
    "config-unknown-optimizer": (json_field("config", ("optimizer",), "rmsprop"), "config is out of range: --optimizer"),
    "config-sample-length-huge": (json_field("config", ("sample_length",), 10**12),
                                  "config is out of range: --sample-length must be at most"),
    "config-seed-negative": (json_field("config", ("seed",), -1), "config is out of range: --seed must not be negative"),
    "config-negative-steps": (json_field("config", ("steps",), -4), "config is out of range: --steps"),
    "step-negative": (json_field("train_state", ("step",), -1), "train_state.step must be a non-negative integer"),
    "step-is-text": (json_field("train_state", ("step",), "5"), "train_state.step must be a non-negative integer"),
    "step-is-float": (json_field("train_state", ("step",), 5.5), "train_state.step must be a non-negative integer"),
    "step-is-bool": (json_field("train_state", ("step",), True), "train_state.step must be a non-negative integer"),
    "epoch-is-null": (json_field("train_state", ("epoch",), None), "train_state.epoch must be a non-negative integer"),
    "optimizer-steps-ahead": (json_field("train_state", ("optimizer_steps",), 99), "train_state.optimizer_steps (99)"),
    "elapsed-negative": (json_field("train_state", ("elapsed",), -3.0), "train_state.elapsed must not be negative"),
    "elapsed-nan": (json_field("train_state", ("elapsed",), float("nan")), "train_state.elapsed must be a finite number"),
    "rng-garbage": (json_field("train_state", ("rng",), "x"), "train_state.rng is not a PCG64 generator state"),
    "rng-empty": (json_field("train_state", ("rng",), {}), "train_state.rng is not a PCG64"),
    "rng-other-generator": (json_field("train_state", ("rng", "bit_generator"), "MT19937"), "train_state.rng"),
    "rng-state-negative": (json_field("train_state", ("rng", "state", "state"), -1), "train_state.rng"),
    "rng-increment-even": (json_field("train_state", ("rng", "state", "inc"), 2), "train_state.rng"),
    "rng-state-float": (json_field("train_state", ("rng", "state", "state"), 1.5), "train_state.rng"),
    "rng-missing": (json_field("train_state", ("rng",), DELETE), "train_state has no 'rng'"),
    "chunk-missing": (json_field("train_state", ("chunk",), DELETE), "train_state has no 'chunk'"),
    "digest-not-hex": (json_field("train_state", ("corpus_sha256",), "abc"), "train_state.corpus_sha256"),
    "history-not-object": (json_field("train_state", ("history",), "x"), "train_state.history must be an object"),
    "history-points-bad": (json_field("train_state", ("history", "train"), [["a", 1]]), "train_state.history.train"),
    "optimizer-slot-missing": (tensor_drop("train.optim.exp_avg_sq"), "missing tensor train.optim.exp_avg_sq"),
    "carried-cell-state-missing": (tensor_drop("train.state.l0.c"), "missing tensor train.state.l0.c"),
    "optimizer-slot-wrong-shape": (
        both(tensor_drop("train.optim.exp_avg"), tensor_add("train.optim.exp_avg", (3,))),
        "tensor train.optim.exp_avg has shape [3]",
    ),
    "unexpected-train-tensor": (tensor_add("train.junk", (2,)), "unexpected tensor train.junk"),
    "train-tensors-without-state": (
        lambda metadata, _t: metadata.pop("train_state"), "no train_state in the metadata",
    ),
}
# Damage only a resume can see: it needs the corpus to rebuild the data walk.
RESUME_ONLY = {
    "chunk-past-epoch": (json_field("train_state", ("chunk",), 10**9), "train_state.chunk is 1000000000"),
    "carried-state-wrong-batch": (
        lambda _m, t: t.update({k: np.zeros((7, 16), np.float32) for k in list(t) if k.startswith("train.state.")}),
        "carries 7 streams but the run reads 4",
    ),
}
COMMANDS = {
    "sample": "sample --checkpoint {d}/bad.safetensors --length 5",
    "eval": "eval --checkpoint {d}/bad.safetensors --corpus fables",
    "resume": "train --resume {d}/bad.safetensors --steps 10 -q",
    "reach": "lab reach --checkpoint {d}/bad.safetensors --corpus fables --span 5 --probes 1",
    "saturation": "lab saturation --checkpoint {d}/bad.safetensors --corpus fables --chars 50",
}


def checkpoint_rows():
    for name, (change, fragment) in DAMAGE.items():
        # Every command refuses every damage; the model-level ones run through all five.
        commands = COMMANDS if name in ("nan-recurrent-weight", "inf-bias", "lone-surrogate-in-vocab",
                                        "rng-garbage", "config-hidden-is-text") else ("sample", "resume")
        for command in commands:
            yield Case(COMMANDS[command], 1, fragment, setup=lambda d, c=change: damaged(d, c)).param(f"{name}-{command}")
    for name, (change, fragment) in RESUME_ONLY.items():
        yield Case(COMMANDS["resume"], 1, fragment, setup=lambda d, c=change: damaged(d, c)).param(f"{name}-resume")


def make_fifo(d: Path) -> None:
    os.mkfifo(d / "fifo")


def make_links(d: Path) -> None:
    (d / "link").symlink_to(d / "m.safetensors")
    (d / "fifo-link").symlink_to(d / "fifo")
    os.mkfifo(d / "fifo")
    os.link(d / "m.safetensors", d / "hard")
    (d / "sub").mkdir()


def read_only_folder(d: Path) -> None:
    (d / "locked").mkdir()
    (d / "locked").chmod(0o500)


AS_ROOT = pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
TRAIN = "train " + " ".join(TINY) + " --corpus fables --steps 5"

OUTPUT_ROWS = {
    # An output that is also an input, through any name for it.
    "grads-is-the-checkpoint": Case("eval --checkpoint {d}/m.safetensors --corpus fables --grads {d}/m.safetensors", 1,
                                    "is also the --checkpoint this command reads"),
    "grads-is-the-checkpoint-by-symlink": Case("eval --checkpoint {d}/m.safetensors --corpus fables --grads {d}/link", 1,
                                               "is also the --checkpoint", setup=make_links),
    "grads-is-the-checkpoint-by-hard-link": Case("eval --checkpoint {d}/m.safetensors --corpus fables --grads {d}/hard",
                                                 1, "is also the --checkpoint", setup=make_links),
    "grads-is-the-text": Case("eval --checkpoint {d}/m.safetensors --text {d}/text.txt --grads {d}/text.txt", 1,
                              "is also the --text"),
    "grads-is-the-corpus": Case("eval --checkpoint {d}/m.safetensors --corpus {d}/text.txt --grads {d}/text.txt", 1,
                                "is also the --corpus"),
    "out-is-the-corpus": Case("train --corpus {d}/text.txt --steps 2 --out {d}/text.txt -q", 1, "is also the --corpus"),
    "log-is-the-corpus": Case("train --corpus {d}/text.txt --steps 2 --out {d}/o.safetensors --log {d}/text.txt -q", 1,
                              "is also the --corpus"),
    "log-is-the-out": Case(TRAIN + " --out {d}/o.safetensors --log {d}/o.safetensors", 1, "is also the --out"),
    "log-is-the-resumed-checkpoint": Case("train --resume {d}/m.safetensors --steps 9 -q --log {d}/m.safetensors", 1,
                                          "is also the --resume"),
    "out-other-than-resume-is-its-link": Case("train --resume {d}/link --steps 5 -q --out {d}/m.safetensors", 0,
                                              "unchanged", setup=make_links),
    # Special files are refused, never replaced.
    "out-is-a-fifo": Case(TRAIN + " --out {d}/fifo", 1, "not a regular file", setup=make_fifo),
    "out-links-to-a-fifo": Case(TRAIN + " --out {d}/fifo-link", 1, "not a regular file", setup=make_links),
    "grads-is-a-fifo": Case("eval --checkpoint {d}/m.safetensors --corpus fables --grads {d}/fifo", 1,
                            "not a regular file", setup=make_fifo),
    "log-is-a-fifo": Case(TRAIN + " --out {d}/o.safetensors --log {d}/fifo", 1, "not a regular file", setup=make_fifo),
    "log-is-a-device": Case(TRAIN + " --out {d}/o.safetensors --log /dev/full", 1, "not a regular file"),
    "checkpoint-is-a-fifo": Case("sample --checkpoint {d}/fifo", 1, "not a regular file", setup=make_fifo),
    # Inputs that are devices: /dev/null reads as empty, so a missing check would say so instead.
    "corpus-is-a-device": Case("train --corpus /dev/null --steps 2 -q --out {d}/o.safetensors", 1, "is a device"),
    "text-is-a-device": Case("eval --checkpoint {d}/m.safetensors --text /dev/null", 1, "is a device"),
    # Folders: missing, a directory in the file's place, unwritable; all before step 1.
    "out-folder-missing": Case(TRAIN + " --out {d}/nowhere/o.safetensors", 1, "the folder"),
    "out-is-a-directory": Case(TRAIN + " --out {d}/sub", 1, "is a directory", setup=make_links),
    "log-folder-missing": Case(TRAIN + " --out {d}/o.safetensors --log {d}/nowhere/log.jsonl", 1, "does not exist"),
    "log-is-a-directory": Case(TRAIN + " --out {d}/o.safetensors --log {d}/sub", 1, "is a directory", setup=make_links),
    "grads-folder-missing": Case("eval --checkpoint {d}/m.safetensors --corpus fables --grads {d}/no/g.safetensors", 1,
                                 "does not exist"),
    "out-folder-read-only": Case(TRAIN + " --out {d}/locked/o.safetensors", 1, "cannot write in the folder",
                                 setup=read_only_folder, marks=[AS_ROOT]),
    # "saved" only when saved.
    "zero-steps-saves-nothing": Case(TRAIN.replace("--steps 5", "--steps 0") + " --out {d}/o.safetensors", 0,
                                     "no checkpoint written"),
    "resume-at-target-leaves-it": Case("train --resume {d}/m.safetensors --steps 5 -q", 0, "m.safetensors is unchanged"),
    "resume-behind-target-leaves-it": Case("train --resume {d}/m.safetensors --steps 3 -q", 0, "is unchanged"),
}

OPTION_ROWS = {
    "seed-negative-train": Case(TRAIN + " --seed -1", 2, "--seed"),
    "seed-negative-sample": Case("sample --checkpoint {d}/m.safetensors --seed -1", 2, "--seed"),
    "seed-negative-race": Case("lab race --seed -1", 2, "--seed"),
    "seed-negative-gradcheck": Case("gradcheck --seed -1", 2, "--seed"),
    "hidden-huge": Case(TRAIN + " --hidden 1000000", 2, "--hidden"),
    "embed-huge": Case(TRAIN + " --embed 100000000", 2, "--embed"),
    "layers-huge": Case(TRAIN + " --layers 100000", 2, "--layers"),
    "batch-huge": Case(TRAIN + " --batch 100000000", 2, "--batch"),
    "beyond-this-machine": Case(TRAIN + " --hidden 16384 --layers 64", 1, "not enough memory: this lstm needs about"),
    "race-span-huge": Case("lab race --span 100000000", 2, "--span"),
    "race-hidden-huge": Case("lab race --hidden 1000000", 2, "--hidden"),
    "reach-span-negative": Case("lab reach --span -2", 2, "--span"),
    "race-forget-bias-nan": Case("lab race --forget-bias nan", 2, "must be a finite number"),
    "race-forget-bias-inf": Case("lab race --forget-bias -inf", 2, "must be a finite number"),
    "race-lr-zero": Case("lab race --lr 0", 2, "must be above 0"),
    "lr-nan": Case(TRAIN + " --lr nan", 2, "must be a finite number"),
    "lr-inf": Case(TRAIN + " --lr inf", 2, "must be a finite number"),
    "dropout-nan": Case(TRAIN + " --dropout nan", 2, "must be a finite number"),
    "dropout-one": Case(TRAIN + " --dropout 1", 2, "must be below 1"),
    "val-frac-negative": Case(TRAIN + " --val-frac -0.1", 2, "must be at least 0"),
    "minutes-nan": Case(TRAIN + " --minutes nan", 2, "must be a finite number"),
    "clip-negative": Case(TRAIN + " --clip -1", 2, "must be at least 0"),
    "momentum-inf": Case(TRAIN + " --momentum inf", 2, "must be a finite number"),
    "train-temperature-nan": Case(TRAIN + " --temperature nan", 2, "must be a finite number"),
    "sample-temperature-inf": Case("sample --checkpoint {d}/m.safetensors --temperature inf", 2, "finite"),
    "sample-temperature-negative": Case("sample --checkpoint {d}/m.safetensors --temperature -1", 2, "at least 0"),
    "stdin-and-prompt": Case("sample --checkpoint {d}/m.safetensors --stdin --prompt x", 2, "not both", input="abc"),
    "stdin-not-utf8": Case("sample --checkpoint {d}/m.safetensors --stdin", 1, "byte 2 is 0xff", input=b"ab\xff"),
}


@pytest.mark.parametrize("case", [
    *checkpoint_rows(),
    *(case.param(name) for name, case in OUTPUT_ROWS.items()),
    *(case.param(name) for name, case in OPTION_ROWS.items()),
])
def test_bad_input(case: Case, folder, monkeypatch):
    if case.setup:
        case.setup(folder)
    if case.status != 0:  # a refused run is refused before its first step
        monkeypatch.setattr(Trainer, "run", lambda self: pytest.fail("training started before the refusal"))
    before = snapshot(folder)
    result = run(*case.argv.format(d=folder).split(), input=case.input)
    message = " ".join(result.stderr.split())  # Typer boxes usage errors over several lines
    assert result.exit_code == case.status, result.stderr + result.stdout
    assert case.fragment in message, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if case.status == 1:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("rnntui: error: "), result.stderr
    after = snapshot(folder)
    assert {k: v for k, v in after.items() if k not in case.writes} == {
        k: v for k, v in before.items() if k not in case.writes
    }, "a good file changed, or a file appeared"
    for link in ("link", "fifo-link"):
        assert not (folder / link).exists() or (folder / link).is_symlink()
    if (folder / "fifo").exists():
        assert (folder / "fifo").is_fifo()


# --- what a good output does --------------------------------------------------------------------


def test_symlink_output_writes_its_target_and_stays_a_link(folder):
    target = folder / "runs" / "real.safetensors"
    target.parent.mkdir()
    (folder / "out").symlink_to(target)  # dangling: the target is made
    result = run("train", *TINY, "--corpus", "fables", "--steps", "5", "--out", folder / "out")
    assert result.exit_code == 0, result.stderr
    assert (folder / "out").is_symlink() and os.readlink(folder / "out") == str(target)
    assert load_checkpoint(target).train_state["step"] == 5
    again = run("train", "--resume", folder / "out", "--steps", "10", "-q")  # resumed through the link
    assert again.exit_code == 0, again.stderr
    assert (folder / "out").is_symlink() and load_checkpoint(target).train_state["step"] == 10
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.safetensors"]


def test_a_write_removes_only_its_own_file_s_temporaries_of_dead_writers(tmp_path):
    from rnntui.files import write_atomically

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = int(finished.stdout), os.getpid()
    litter = tmp_path / f".m.safetensors.{dead}-0a1b2c3d.tmp"  # a killed writer's
    in_flight = tmp_path / f".m.safetensors.{alive}-0a1b2c3d.tmp"  # a writer still running
    neighbour = tmp_path / f".n.safetensors.{dead}-0a1b2c3d.tmp"  # another file's
    for p in (litter, in_flight, neighbour):
        p.write_bytes(b"partial")
    write_atomically(tmp_path / "m.safetensors", b"whole")
    assert (tmp_path / "m.safetensors").read_bytes() == b"whole"
    assert not litter.exists() and in_flight.exists() and neighbour.exists()


def test_a_file_from_before_a_new_setting_still_resumes(folder):
    damaged(folder, json_field("config", ("sample_length",), DELETE))  # as if the setting came later
    result = run("train", "--resume", folder / "bad.safetensors", "--steps", "6", "-q")
    assert result.exit_code == 0, result.stderr
    assert load_checkpoint(folder / "bad.safetensors").config["sample_length"] == TrainConfig().sample_length


def test_eval_grads_are_written_beside_the_model(folder):
    result = run("eval", "--checkpoint", folder / "m.safetensors", "--corpus", "fables", "--grads", folder / "g.safetensors")
    assert result.exit_code == 0, result.stderr
    grads = safetensors.numpy.load_file(str(folder / "g.safetensors"))
    assert set(grads) == set(load_checkpoint(folder / "m.safetensors").params)
    assert all(np.isfinite(g).all() and g.any() for g in grads.values())


def test_zero_steps_claims_no_save_and_a_real_run_does(folder):
    nothing = run("train", *TINY, "--corpus", "fables", "--steps", "0", "--out", folder / "o.safetensors")
    assert not (folder / "o.safetensors").exists() and "saved" not in nothing.stdout + nothing.stderr
    done = run("train", *TINY[:-1], "--corpus", "fables", "--steps", "3", "--out", folder / "o.safetensors")
    assert done.exit_code == 0 and f"step 3: checkpoint saved to {folder / 'o.safetensors'}" in done.stdout
    assert load_checkpoint(folder / "o.safetensors").train_state["step"] == 3


def test_tiny_temperature_is_greedy(folder):
    args = ("sample", "--checkpoint", folder / "m.safetensors", "--prompt", "The ", "--length", "40", "--seed", "1")
    tiny, greedy = run(*args, "--temperature", "1e-320"), run(*args, "--temperature", "0")
    assert tiny.exit_code == 0 and greedy.exit_code == 0, tiny.stderr
    assert tiny.stdout == greedy.stdout and len(tiny.stdout) == len("The ") + 40 + 1


# --- the real process: streams, signals, a full disk, a write killed halfway -------------------------


def child(*args, cwd, env=None, **kwargs) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "rnntui", *map(str, args)], cwd=cwd, env=environment,
                          capture_output="stdout" not in kwargs, text=True, timeout=120, **kwargs)


def test_sample_into_a_full_disk(folder):
    with open("/dev/full", "w") as full:
        result = child("sample", "--checkpoint", folder / "m.safetensors", "--length", "50", cwd=folder,
                       stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == "rnntui: error: cannot write output: No space left on device\n"


def test_closed_stdin_is_an_error(folder):
    result = child("sample", "--checkpoint", "m.safetensors", "--stdin", cwd=folder, stdin=None,
                   preexec_fn=lambda: os.close(0))
    assert result.returncode == 1 and result.stderr == "rnntui: error: --stdin: standard input is closed\n"


@pytest.mark.parametrize("command", [
    ("sample", "--checkpoint", "m.safetensors", "--length", "5"),
    ("eval", "--checkpoint", "m.safetensors", "--corpus", "fables"),
    ("corpora",),
])
def test_closed_stdout_is_an_error_not_silence(folder, command):
    result = child(*command, cwd=folder, stdout=None, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert result.returncode == 1
    assert result.stderr == "rnntui: error: cannot write output: standard output is closed\n"


def test_ascii_stdout_escapes_what_it_cannot_show(folder):
    (folder / "u.txt").write_text("é😀€ ab\n" * 40, encoding="utf-8")
    trained = run("train", "--hidden", "8", "--embed", "4", "--batch", "2", "--seq-len", "4", "--corpus",
                  folder / "u.txt", "--steps", "2", "-q", "--out", folder / "u.safetensors")
    assert trained.exit_code == 0, trained.stderr
    result = child("sample", "--checkpoint", "u.safetensors", "--prompt", "é😀", "--length", "30", "--seed", "0",
                   cwd=folder, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii() and result.stdout.startswith("\\xe9\\U0001f600")


def test_a_reader_closing_the_pipe_ends_quietly(folder):
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnntui", "sample", "--checkpoint", "m.safetensors", "--length", "1000000"],
        cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert len(proc.stdout.read(20)) == 20
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""


START_INTERRUPTED = """
import importlib.abc, os, signal, sys

SIGNAL = int(sys.argv[1])

class CtrlCDuringImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "rnntui.cli":  # a fixed point inside the heavy imports
            os.kill(os.getpid(), SIGNAL)
        return None

sys.meta_path.insert(0, CtrlCDuringImport())
sys.argv = ["rnntui", "corpora"]
from rnntui.__main__ import main
main()
"""


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_stop_during_start_up_is_one_line(tmp_path, signum, status, word):
    result = subprocess.run([sys.executable, "-c", START_INTERRUPTED, str(int(signum))], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60)
    assert result.returncode == status
    assert result.stderr == f"rnntui: stopped by {word} while starting\n" and result.stdout == ""


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_stop_during_a_command_is_a_stop_not_an_error(folder, signum, status, word):
    # A sample long enough to be stopped in the middle: it streams, so its first characters say it has begun.
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnntui", "sample", "--checkpoint", "m.safetensors", "--length", "100000000"],
        cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    assert len(proc.stdout.read(20)) == 20
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status
    last = err.strip().splitlines()[-1]
    assert last == f"rnntui: stopped by {word}" and "Traceback" not in err and "error" not in err


def test_sigterm_still_ends_the_playground(tmp_path):
    """The headless commands turn SIGTERM into a reported stop; the playground must not swallow it."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the real app in a real terminal
        os.environ.update(TERM="xterm-256color", PYTHONPATH=str(REPO))
        os.execv(sys.executable, [sys.executable, "-m", "rnntui", "--corpus", "fables"])
    screen, deadline = b"", time.monotonic() + 60
    while b"\x1b[?1049h" not in screen:  # the app has taken the screen
        assert time.monotonic() < deadline, screen[-300:]
        if select.select([fd], [], [], 0.5)[0]:
            screen += os.read(fd, 65536)
    os.kill(pid, signal.SIGTERM)
    while not (ended := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the playground kept running after SIGTERM")
        with __import__("contextlib").suppress(OSError):
            if select.select([fd], [], [], 0.2)[0]:
                os.read(fd, 65536)
    os.close(fd)
    assert os.waitstatus_to_exitcode(ended[1]) == -signal.SIGTERM


def test_a_full_disk_for_the_log_still_saves_the_checkpoint(folder):
    limit = 1 << 20  # no file may grow past 1 MiB; the log already has
    log = folder / "log.jsonl"
    log.write_text(("{}\n" * (limit // 3 + 1))[:limit])

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    result = child("train", *TINY, "--corpus", "fables", "--steps", "1000000", "--out", "o.safetensors",
                   "--log", log, cwd=folder, preexec_fn=small_files)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    step = load_checkpoint(folder / "o.safetensors").train_state["step"]
    assert line.startswith(f"rnntui: error: {log}: cannot write the log: File too large; stopped at step {step}; ")
    assert "checkpoint saved to o.safetensors; resume with: rnntui train --resume o.safetensors" in line
    assert log.stat().st_size == limit


def test_a_full_disk_for_the_checkpoint_is_one_line_and_no_litter(folder):
    path = folder / "m.safetensors"
    good = path.read_bytes()

    def small_files():  # the checkpoint (about 40 KB) cannot be written whole
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    result = child("train", "--resume", path, "--steps", "7", "-q", cwd=folder, preexec_fn=small_files)
    assert result.returncode == 1
    assert result.stderr == f"rnntui: error: {path}: cannot write: File too large\n"
    assert path.read_bytes() == good
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


KILLED_BETWEEN_WRITE_AND_RENAME = """
import os, signal, sys
# The fault, at a fixed point: the new checkpoint is written and synced, the rename never happens.
os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
sys.argv = ["rnntui", *sys.argv[1:]]
from rnntui.__main__ import main
main()
"""


def test_a_write_killed_before_its_rename_leaves_the_old_file_and_no_litter(folder):
    path = folder / "m.safetensors"
    good = path.read_bytes()
    killed = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_WRITE_AND_RENAME, "train", "--resume", path,
                             "--steps", "10", "-q"], cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    litter = [p.name for p in folder.iterdir() if p.name.startswith(".m.safetensors.")]
    assert len(litter) == 1 and litter[0].endswith(".tmp")  # the temp file a real crash leaves
    assert path.read_bytes() == good

    again = run("train", "--resume", path, "--steps", "10", "-q")
    assert again.exit_code == 0, again.stderr
    assert load_checkpoint(path).train_state["step"] == 10
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "the next write removes the dead writer's temp"


# --- the schema, property-tested -----------------------------------------------------------------


FABLE = "The fox saw the crow with a piece of cheese and said: what a voice you must have. " * 6
SMALL = TrainConfig(corpus="fable", cell="lstm", hidden=8, embed=4, batch=2, seq_len=8, steps=2, eval_every=100,
                    sample_every=100, val_frac=0.1)


@functools.cache
def trained():
    """Two steps of a small LSTM, as the trainer hands it to the checkpoint writer."""
    trainer = Trainer(SMALL, FABLE)
    trainer.run()
    return trainer.to_checkpoint()


def json_containers(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)


json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**130), max_value=2**130)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8))
json_values = st.recursive(json_scalars, json_containers, max_leaves=6)
TRAIN_STATE_FIELDS = ["step", "epoch", "chunk", "elapsed", "optimizer_steps", "rng", "corpus_sha256", "history"]
CONFIG_FIELDS = sorted(TrainConfig.__dataclass_fields__)


def replaced(ckpt, where: str, key: str, value):
    import copy

    ckpt = copy.copy(ckpt)
    part = copy.deepcopy(getattr(ckpt, where))
    part[key] = value
    setattr(ckpt, where, part)
    return ckpt


def test_the_trainers_own_checkpoint_passes():
    check_contents(trained(), "f")


@settings(max_examples=150, deadline=None)
@given(where=st.sampled_from(["train_state", "config"]), data=st.data(), value=json_values)
def test_any_metadata_value_is_refused_by_name_or_resumes(where, data, value):
    """Whatever JSON a field holds: a one-line refusal naming that field, or a trainer that takes a step."""
    key = data.draw(st.sampled_from(TRAIN_STATE_FIELDS if where == "train_state" else CONFIG_FIELDS))
    ckpt = replaced(trained(), where, key, value)
    try:
        check_contents(ckpt, "f")
        trainer = Trainer(TrainConfig.from_json(ckpt.config), FABLE, ckpt)
        check_walk("f", ckpt, trainer.batch, trainer.streams.chunks)
    except CheckpointError as refusal:
        message = str(refusal)
        assert "\n" not in message
        # The field itself, or what it made inconsistent: the carried state or the data cursor.
        names = (f"{where}.{key}", f"'{key}'", f"--{key.replace('_', '-')}", "tensor train.", "train_state.chunk")
        assert any(name in message for name in names), message
        return
    except RnntuiError:  # a valid config the text cannot serve (a --seq-len longer than it): a one-line refusal too
        return
    try:
        trainer.train_step()
    except TrainingError:  # a valid but diverging setting (an enormous --lr) is stopped in one line too
        return
    assert np.isfinite(trainer.model.flat).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.characters(), min_size=1, max_size=12, unique=True))
def test_vocabularies_of_real_characters_pass_and_surrogates_do_not(chars):
    from rnntui.engine.shape import ModelShape
    from rnntui.train.checkpoint import Checkpoint

    shape = ModelShape("gru", len(chars), 2, 3, 1)
    params = {k: np.zeros(s, np.float32) for k, s in shape.param_shapes().items()}
    ckpt = Checkpoint(shape, chars, params, {})
    surrogates = [i for i, c in enumerate(chars) if 0xD800 <= ord(c) <= 0xDFFF]
    if surrogates:
        with pytest.raises(CheckpointError, match=f"vocab entry {surrogates[0]} is a lone surrogate"):
            check_contents(ckpt, "f")
    else:
        check_contents(ckpt, "f")
