"""`--engine torch`: PyTorch takes the steps; the losses, weights, checkpoint and resume are the NumPy engine's.

The comparisons need PyTorch and are skipped without it; the tests that a default
install never imports torch, and that `--engine torch` without it says how to
install it, run everywhere.
"""

import json
import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from cli_helpers import TINY, run, spawn
from rnntui.train.checkpoint import load_checkpoint
from rnntui.train.config import TrainConfig
from rnntui.train.trainer import Trainer

needs_torch = pytest.mark.skipif(find_spec("torch") is None,
                                 reason="PyTorch is not installed (pip install 'rnntui[torch]')")

# float64, so that the two engines differ by rounding alone; 2 layers, so the state between layers is
# carried and (with dropout) masked; a corpus long enough that steps read different chunks.
F64 = TrainConfig(corpus="fables", hidden=12, embed=6, layers=2, batch=4, seq_len=10, steps=8, eval_every=4,
                  sample_every=4, sample_length=20, dtype="float64", seed=5)


def losses(trainer, steps):
    return [trainer.train_step().loss for _ in range(steps)]


def gap(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@needs_torch
@pytest.mark.parametrize("cell, optimizer, dropout", [
    ("rnn", "adam", 0.0), ("lstm", "adam", 0.2), ("gru", "adam", 0.0),
    ("lstm", "sgd", 0.0), ("gru", "adagrad", 0.2),
])
def test_the_first_steps_match_the_numpy_engine_in_float64(cell, optimizer, dropout):
    config = F64.with_changes(cell=cell, optimizer=optimizer, dropout=dropout, lr=0.05, clip=0.5, clip_value=0.2)
    ours, theirs = Trainer.from_config(config), Trainer.from_config(config, engine="torch", device="cpu")
    ours_losses, theirs_losses = losses(ours, 4), losses(theirs, 4)
    assert gap(ours_losses, theirs_losses) < 1e-10, (ours_losses, theirs_losses)
    assert len(set(ours_losses)) == 4  # four different chunks, and the weights moved between them
    weights = theirs.current_model().flat
    assert gap(ours.model.flat, weights) < 1e-10
    assert gap(ours.model.flat, Trainer.from_config(config).model.flat) > 1e-3  # the steps did move them
    for name, slot in ours.optimizer.slots.items():
        assert gap(slot, theirs.optimizer.slots[name]) < 1e-10, name
    assert theirs.optimizer.steps == ours.optimizer.steps == 4
    for ours_layer, theirs_layer in zip(ours.state, theirs.state):
        for a, b in zip(ours_layer, theirs_layer):
            assert gap(a, b) < 1e-10


@needs_torch
def test_evaluations_and_samples_read_the_torch_weights():
    ours, theirs = Trainer.from_config(F64), Trainer.from_config(F64, engine="torch", device="cpu")
    losses(ours, 3), losses(theirs, 3)
    assert theirs.validation_loss() == pytest.approx(ours.validation_loss(), abs=1e-10)
    assert theirs.sample().text == ours.sample().text


@needs_torch
@pytest.mark.parametrize("first, then", [("torch", "numpy"), ("numpy", "torch")])
def test_a_checkpoint_resumes_in_the_other_engine_where_it_stopped(tmp_path, first, then):
    config = F64.with_changes(dropout=0.1, steps=None, minutes=1.0)
    whole = Trainer.from_config(config)
    uninterrupted = losses(whole, 7)
    before = Trainer.from_config(config, engine=first, device="cpu")
    assert gap(losses(before, 4), uninterrupted[:4]) < 1e-10
    path = tmp_path / "half.safetensors"
    before.save(path)
    after = Trainer.resume(path, engine=then, device="cpu")
    assert after.step == 4
    # The data cursor, carried state, optimizer moments and dropout RNG all came across:
    # the next steps are the uninterrupted run's, not a fresh start's.
    assert gap(losses(after, 3), uninterrupted[4:]) < 1e-10
    assert gap(after.current_model().flat, whole.model.flat) < 1e-10


@needs_torch
def test_rnntui_train_on_torch_writes_a_checkpoint_that_sample_and_eval_read(tmp_path):
    path, log = tmp_path / "m.safetensors", tmp_path / "log.jsonl"
    trained = run("train", *TINY, "--corpus", "fables", "--cell", "gru", "--layers", "2", "--steps", "10",
                  "--engine", "torch", "--device", "cpu", "--out", path, "--log", log)
    assert trained.exit_code == 0, trained.stderr
    ckpt = load_checkpoint(path)
    assert ckpt.train_state["step"] == 10 and ckpt.shape.cell == "gru"
    assert "optim.exp_avg" in ckpt.train_tensors and np.abs(ckpt.train_tensors["optim.exp_avg"]).max() > 0
    events = log.read_text().splitlines()
    assert sum('"event": "step"' in line for line in events) == 10 and '"event": "finished"' in events[-1]
    sampled = run("sample", "--checkpoint", path, "--prompt", "The ", "--length", "30")
    assert sampled.exit_code == 0, sampled.stderr
    assert sampled.stdout.startswith("The ") and len(sampled.stdout.rstrip("\n")) >= 30
    evaluated = run("eval", "--checkpoint", path, "--json")  # the validation split, as training reported it
    assert evaluated.exit_code == 0, evaluated.stderr
    reported = [json.loads(line) for line in events if '"full": true' in line][-1]["val_loss"]
    assert json.loads(evaluated.stdout)["loss_nats"] == pytest.approx(reported, rel=1e-5)


@needs_torch
async def test_a_torch_trained_checkpoint_opens_in_the_playground_and_explains(tmp_path):
    from rnntui.tui.app import make_app

    path = tmp_path / "m.safetensors"
    trained = run("train", *TINY, "--corpus", "fables", "--steps", "6", "--engine", "torch", "--device", "cpu",
                  "--out", path)
    assert trained.exit_code == 0, trained.stderr
    explained = run("explain", "--checkpoint", path, "--prompt", "The fox", "--json")
    assert explained.exit_code == 0, explained.stderr
    assert len(json.loads(explained.stdout)["positions"]) == 6
    app = make_app(checkpoint=str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while app.trainer.step != 6 or not app.gates.quantities:  # the playground reads it as any other file
            assert time.monotonic() < deadline, "the checkpoint never opened"
            await pilot.pause(0.05)
        assert app.trainer.config.corpus == "fables" and app.state == "paused"


def child(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_engine_torch_without_torch_says_how_to_install_it(tmp_path):
    out = tmp_path / "m.safetensors"
    # None in sys.modules makes `import torch` fail as it does where PyTorch is not installed.
    result = child(
        "import sys\nsys.modules['torch'] = None\nfrom rnntui.cli import main\n"
        "sys.argv = ['rnntui'] + sys.argv[1:]\nmain()\n",
        "train", "--engine", "torch", "--corpus", "hello", "--steps", "2", "--hidden", "8", "-q", "--out", out,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "rnntui: error: --engine torch needs PyTorch, which is not installed: pip install 'rnntui[torch]'"
    ]
    assert not out.exists()


def test_the_default_paths_never_import_torch(tmp_path):
    result = child(
        "import sys\nimport rnntui.cli, rnntui.train.trainer, rnntui.tui.app\nfrom rnntui.cli import main\n"
        "sys.argv = ['rnntui'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')) or 'CLEAN')\n",
        "train", "--corpus", "hello", "--steps", "3", "--hidden", "8", "--eval-every", "2", "--quiet",
        "--out", tmp_path / "m.safetensors",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "m.safetensors").exists()  # it did train and save
    assert result.stdout.strip().splitlines()[-1] == "CLEAN", result.stdout[-500:]


# ----- --workers N on torch: ranks over torch.distributed (gloo on 127.0.0.1) ---------------------------

RANKED = ["--corpus", "fables", "--hidden", "12", "--embed", "6", "--layers", "2", "--batch", "5", "--seq-len", "10",
          "--dropout", "0.2", "--dtype", "float64", "--seed", "7919", "--eval-every", "4", "-q", "--engine", "torch",
          "--device", "cpu"]


def rank_processes() -> dict[int, str]:
    """Follower ranks of this test's runs (seed 7919 is in their command line) still running: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if "rnntui.train.ranks" in cmdline and "7919" in cmdline:
            found[int(entry.name)] = cmdline
    return found


def wait_for(condition, what: str, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        time.sleep(0.1)


@needs_torch
@pytest.mark.slow  # five processes that each import torch
def test_two_gloo_ranks_take_the_one_process_steps(tmp_path):
    """Batch 5 splits 2 + 3: each rank's loss is scaled to its share, so the sum is the batch mean.
    The ranks are started by `rnntui train --workers 2` itself, or by torchrun."""
    one, two, log = tmp_path / "one.safetensors", tmp_path / "two.safetensors", tmp_path / "two.jsonl"
    launched = tmp_path / "torchrun.safetensors"
    torchrun = Path(sys.executable).with_name("torchrun")
    procs = [spawn("train", *RANKED, "--steps", "9", "--out", path, *extra, cwd=tmp_path)
             for path, extra in ((one, []), (two, ["--workers", "2", "--log", log]))]
    procs.append(subprocess.Popen(
        [torchrun, "--standalone", "--nproc-per-node", "2", "-m", "rnntui", "train", *RANKED, "--steps", "9",
         "--out", launched], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    alone = load_file(one)
    for path in (two, launched):
        shared = load_file(path)
        assert alone.keys() == shared.keys() and "train.optim.exp_avg" in shared and "train.state.l1.h" in shared
        for name in alone:
            assert gap(alone[name], shared[name]) < 1e-10, (path.name, name)
        assert load_checkpoint(path).train_state["workers"] == 2
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "step"] == list(range(1, 10))  # rank 0 alone logs
    assert [e["event"] for e in events].count("finished") == 1
    assert rank_processes() == {}


@needs_torch
@pytest.mark.slow  # three processes that each import torch
def test_ctrl_c_stops_every_rank_and_keeps_the_checkpoint(tmp_path):
    path, log = tmp_path / "m.safetensors", tmp_path / "log.jsonl"
    proc = spawn("train", *RANKED, "--minutes", "10", "--workers", "2", "--out", path, "--log", log, cwd=tmp_path)
    try:
        wait_for(lambda: log.exists() and '"event": "step"' in log.read_text(), "the first step")
        wait_for(lambda: len(rank_processes()) == 1, "the follower rank")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "resume with: rnntui train --resume" in err
    step = load_checkpoint(path).train_state["step"]
    assert step >= 1
    wait_for(lambda: rank_processes() == {}, "the follower to end", seconds=60)
    resumed = spawn("train", "--resume", path, "--engine", "torch", "--workers", "2", "--steps", str(step + 2), "-q",
                    cwd=tmp_path)
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert load_checkpoint(path).train_state["step"] == step + 2


@needs_torch
@pytest.mark.slow  # three processes that each import torch
def test_a_lost_rank_ends_the_run_in_one_line_and_keeps_the_last_checkpoint(tmp_path):
    path, log = tmp_path / "m.safetensors", tmp_path / "log.jsonl"
    proc = spawn("train", *RANKED, "--minutes", "10", "--workers", "2", "--out", path, "--log", log, cwd=tmp_path)
    try:
        wait_for(lambda: log.exists() and '"event": "checkpoint"' in log.read_text(), "the first checkpoint")
        saved = path.read_bytes()
        followers = list(rank_processes())
        assert len(followers) == 1
        os.kill(followers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        "rnntui: error: a training process (another rank) was lost; the last good checkpoint is untouched"
    ]
    assert load_checkpoint(path).train_state["step"] >= 4 and path.read_bytes() == saved


@needs_torch
def test_more_ranks_than_streams_is_refused_in_one_line_and_no_rank_is_left(tmp_path):
    out = tmp_path / "m.safetensors"
    refused = run("train", *RANKED, "--batch", "2", "--workers", "3", "--steps", "2", "--out", out)  # the last --batch counts
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "rnntui: error: --workers 3 cannot split a batch of 2 streams (each rank needs one stream at least)"
    ]
    assert not out.exists() and rank_processes() == {}


def test_the_help_names_the_extra_to_install_as_it_is_typed():
    shown = run("train", "--help").stdout
    assert "'rnntui[torch]'" in shown  # a bracket the help's markup would otherwise swallow
