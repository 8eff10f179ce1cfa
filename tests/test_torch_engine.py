"""`--engine torch`: PyTorch takes the steps; the losses, weights, checkpoint and resume are the NumPy engine's.

The comparisons need PyTorch and are skipped without it; the tests that a default
install never imports torch, and that `--engine torch` without it says how to
install it, run everywhere.
"""

import json
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest

from cli_helpers import TINY, run
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
def test_torch_trains_in_one_process():
    with pytest.raises(Exception, match="--engine torch trains in one process"):
        Trainer.from_config(F64, workers=2, engine="torch")


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
