"""`rnntui train`: learning, logging, resuming exactly, stopping safely, refusing bad input."""

import json
import signal
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from cli_helpers import TINY, run, spawn
from rnntui.cli.progress import JsonLog
from rnntui.train.checkpoint import load_checkpoint
from rnntui.train.events import EvalDone, StepDone


def events(log_path):
    return [json.loads(line) for line in log_path.read_text().splitlines()]


def test_hello_is_learned_below_a_tenth_of_a_nat(tmp_path):
    log = tmp_path / "log.jsonl"
    result = run("train", "--corpus", "hello", "--steps", "300", "--hidden", "32", "--eval-every", "100",
                 "--out", tmp_path / "h.safetensors", "--log", log, "-q")
    assert result.exit_code == 0, result.stderr
    records = events(log)
    evals = [r for r in records if r["event"] == "eval"]
    assert [r["step"] for r in evals] == [100, 200, 300]
    assert evals[-1]["val_loss"] < 0.1
    steps = [r for r in records if r["event"] == "step"]
    assert len(steps) == 300 and all(r["chars_per_sec"] > 0 for r in steps)
    assert steps[0]["loss"] > 1.0  # it started knowing nothing: ln 4 = 1.39
    assert {"checkpoint", "sample"} <= {r["event"] for r in records}


def test_the_log_writes_steps_in_batches_and_anything_else_at_once(tmp_path):
    path = tmp_path / "log.jsonl"
    log = JsonLog(path)
    step = [StepDone(step=k, loss=1.0 / (k + 1), chars_per_sec=100.0, epoch=0, grad_norm=0.5, lr=0.01) for k in range(5)]
    log(step[1])
    assert path.read_text() == "", "a step waits for the next write"
    log(EvalDone(step=1, val_loss=1.5, train_loss=1.0))
    assert [(r["event"], r["step"]) for r in events(path)] == [("step", 1), ("eval", 1)]
    log(step[2])
    log.FLUSH_SECONDS = 0.0  # as if the flush interval had passed
    log(step[3])
    assert [r["step"] for r in events(path)] == [1, 1, 2, 3]
    log(step[4])
    log.close()
    assert events(path)[-1] == {"event": "step", "step": 4, "loss": 0.2, "chars_per_sec": 100.0, "epoch": 0,
                                "grad_norm": 0.5, "lr": 0.01, "skipped": False}


def test_resume_continues_bit_for_bit(tmp_path):
    shape = [*TINY, "--corpus", "fables", "--layers", "2", "--dropout", "0.2", "--cell", "gru"]
    assert run("train", *shape, "--steps", "24", "--out", tmp_path / "whole.safetensors").exit_code == 0
    assert run("train", *shape, "--steps", "12", "--out", tmp_path / "half.safetensors").exit_code == 0
    resumed = run("train", "--resume", tmp_path / "half.safetensors", "--steps", "24", "-q")
    assert resumed.exit_code == 0, resumed.stderr
    whole, half = load_file(tmp_path / "whole.safetensors"), load_file(tmp_path / "half.safetensors")
    assert whole.keys() == half.keys()
    for name in whole:
        assert np.array_equal(whole[name], half[name]), name
    assert load_checkpoint(tmp_path / "half.safetensors").train_state["step"] == 24


def five_steps_on_fables(tmp_path):
    """A checkpoint of the TINY model after 5 steps on fables (batch 4, seq-len 16, seed 0)."""
    path = tmp_path / "m.safetensors"
    assert run("train", *TINY, "--corpus", "fables", "--steps", "5", "--out", path).exit_code == 0
    return path


def test_resume_refuses_a_different_shape_but_takes_a_new_learning_rate(tmp_path):
    path = five_steps_on_fables(tmp_path)
    refused = run("train", "--resume", path, "--hidden", "32", "--steps", "10")
    assert refused.exit_code == 1
    assert "--hidden 32 disagrees with the checkpoint's --hidden 16" in refused.stderr
    changed = run("train", "--resume", path, "--lr", "0.01", "--steps", "10", "-q")
    assert changed.exit_code == 0, changed.stderr
    ckpt = load_checkpoint(path)
    assert ckpt.config["lr"] == 0.01 and ckpt.train_state["step"] == 10


@pytest.mark.parametrize("option, value, saved", [
    ("--batch", "2", "4"), ("--seq-len", "8", "16"), ("--seed", "9", "0"), ("--corpus", "hello", "fables"),
    ("--forget-bias", "2.0", "0.0"),
])
def test_resume_refuses_a_different_data_walk_or_start_and_leaves_the_checkpoint_alone(tmp_path, option, value, saved):
    path = five_steps_on_fables(tmp_path)
    before = path.read_bytes()
    refused = run("train", "--resume", path, option, value, "--steps", "10")
    assert refused.exit_code == 1
    assert f"{option} {value} disagrees with the checkpoint's {option} {saved}" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before
    again = run("train", "--resume", path, option, saved, "--steps", "6", "-q")  # the same value is no change
    assert again.exit_code == 0, again.stderr


def forget_gate_bias(path) -> np.ndarray:
    """b_ih + b_hh of the forget gate (PyTorch's order: i, f, g, o) of an LSTM checkpoint's first layer."""
    params = load_checkpoint(path).params
    H = params["rnn.weight_hh_l0"].shape[1]
    return (params["rnn.bias_ih_l0"] + params["rnn.bias_hh_l0"])[H:2 * H]


def test_forget_bias_sets_the_lstm_start_and_defaults_to_pytorchs(tmp_path):
    default, raised = tmp_path / "default.safetensors", tmp_path / "raised.safetensors"
    for path, extra in ((default, ()), (raised, ("--forget-bias", "3"))):
        result = run("train", *TINY, "--cell", "lstm", "--corpus", "fables", "--steps", "1", "--lr", "1e-4",
                     "--out", path, "-q", *extra)
        assert result.exit_code == 0, result.stderr
    H = load_checkpoint(default).params["rnn.weight_hh_l0"].shape[1]
    # PyTorch's start: both biases uniform in +-1/sqrt(H); one step of lr 1e-4 moves each by 1e-4 at most
    assert np.abs(forget_gate_bias(default)).max() <= 2 / np.sqrt(H) + 1e-3
    assert np.allclose(forget_gate_bias(raised), 3.0, atol=1e-3)
    assert load_checkpoint(raised).config["forget_bias"] == 3.0


def test_resume_names_full_bptt_as_the_user_would_type_it(tmp_path):
    path = five_steps_on_fables(tmp_path)
    refused = run("train", "--resume", path, "--bptt", "full", "--steps", "10")
    assert refused.exit_code == 1
    assert "--bptt full disagrees with the checkpoint's --seq-len 16" in refused.stderr


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_saves_and_resumes(tmp_path, signum, status):
    path, log = tmp_path / "run.safetensors", tmp_path / "log.jsonl"
    child = spawn("train", *TINY, "--corpus", "fables", "--steps", "1000000", "--out", path, "--log", log, cwd=tmp_path)
    deadline = time.monotonic() + 600  # only bounds a hang: a busy machine may take long to start the child
    while time.monotonic() < deadline and not (log.exists() and log.read_text().count('"event": "step"') > 20):
        time.sleep(0.05)
    child.send_signal(signum)
    _, err = child.communicate(timeout=600)
    assert child.returncode == status, err
    assert "Traceback" not in err
    step = load_checkpoint(path).train_state["step"]
    assert step > 20
    assert f"stopped at step {step}" in err and f"rnntui train --resume {path}" in err
    resumed = run("train", "--resume", path, "--steps", step + 3, "-q")
    assert resumed.exit_code == 0, resumed.stderr
    assert load_checkpoint(path).train_state["step"] == step + 3


def test_a_diverging_run_stops_and_keeps_the_good_checkpoint(tmp_path):
    path = tmp_path / "good.safetensors"
    assert run("train", *TINY, "--corpus", "fables", "--steps", "10", "--out", path).exit_code == 0
    before = path.read_bytes()
    result = run("train", "--resume", path, "--steps", "40", "--optimizer", "sgd", "--lr", "1e38", "--clip", "0")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("rnntui: error:")]
    assert len(errors) == 1 and "non-finite at step" in errors[0]
    assert path.read_bytes() == before


def test_small_corpus_lowers_the_batch(tmp_path):
    text = tmp_path / "small.txt"
    text.write_text("abcdefghij" * 20)  # 200 chars: 180 train, 179 predictions
    result = run("train", "--corpus", text, "--batch", "64", "--seq-len", "16", "--steps", "3", "--hidden", "8",
                 "--out", tmp_path / "s.safetensors", "-q")
    assert result.exit_code == 0, result.stderr
    assert "batch lowered from 64 to 11" in result.stderr


def test_full_bptt_trains_on_whole_streams(tmp_path):
    log = tmp_path / "log.jsonl"
    result = run("train", "--corpus", "hello", "--bptt", "full", "--batch", "2", "--steps", "2", "--hidden", "8",
                 "--out", tmp_path / "f.safetensors", "--log", log, "-q")
    assert result.exit_code == 0, result.stderr
    # 9000 training characters, 2 streams: every step reads 2 x 4499 of them, and each step is an epoch.
    steps = [r for r in events(log) if r["event"] == "step"]
    assert [r["epoch"] for r in steps] == [1, 2]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"abc\x00def" * 10, "binary"),
    (b"caf\xe9 au lait " * 10, "UTF-8"),
    (b"tiny", "fewer than one chunk"),
])
def test_bad_corpus_files_are_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = run("train", "--corpus", path, "--steps", "1", "--out", tmp_path / "x.safetensors")
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.safetensors").exists()


def test_a_missing_corpus_names_the_choices(tmp_path):
    result = run("train", "--corpus", tmp_path / "nope.txt", "--steps", "1")
    assert result.exit_code == 1 and "nope.txt" in result.stderr
    result = run("train", "--corpus", "nonesuch", "--steps", "1")
    assert result.exit_code == 1 and "hello" in result.stderr


@pytest.mark.parametrize("option", [
    ["--hidden", "0"], ["--layers", "-1"], ["--batch", "0"], ["--seq-len", "0"], ["--val-frac", "1"],
    ["--val-frac", "-0.1"], ["--temperature", "-1"], ["--dropout", "1"], ["--steps", "-5"],
    ["--lr", "0"],
])
def test_out_of_range_options_are_refused_before_work(tmp_path, option):
    result = run("train", "--corpus", "hello", *option, "--out", tmp_path / "x.safetensors")
    assert result.exit_code == 2
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize("option, choices", [
    (["--cell", "transformer"], "'rnn', 'lstm', 'gru'"),
    (["--optimizer", "rmsprop"], "'adam', 'sgd', 'adagrad'"),
    (["--bptt", "partial"], "'truncated', 'full'"),
    (["--dtype", "float16"], "'float32', 'float64'"),
])
def test_bad_choices_are_usage_errors_that_name_the_choices(tmp_path, option, choices):
    result = run("train", "--corpus", "hello", *option, "--out", tmp_path / "x.safetensors")
    text = " ".join(result.stderr.replace("│", " ").split())  # the message is boxed and wrapped
    assert result.exit_code == 2 and f"Invalid value for '{option[0]}'" in text and choices in text
    assert not (tmp_path / "x.safetensors").exists()


def test_train_help_groups_its_options_in_panels_and_lists_choices():
    text = run("train", "--help").stdout
    panels = [line.split("─ ")[1].split(" ")[0] for line in text.splitlines() if line.startswith("╭─ ")]
    assert panels == ["Options", "Model", "Data", "Training", "Output"]
    assert "rnn|lstm|gru" in text and "adam|sgd|adagrad" in text and "truncated|full" in text


def test_version_and_shell_completion_of_choices():
    import os
    import subprocess
    import sys

    from rnntui import __version__

    assert run("--version").stdout.strip() == f"rnntui {__version__}"
    # What bash asks when <tab> is pressed after `rnntui train --cell `, in a real process.
    env = {**os.environ, "_RNNTUI_COMPLETE": "complete_bash", "COMP_WORDS": "rnntui train --cell ", "COMP_CWORD": "3"}
    done = subprocess.run([sys.executable, "-m", "rnntui"], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["rnn", "lstm", "gru"]


@pytest.mark.parametrize("shell, script, rc, line", [
    ("bash", ".bash_completions/rnntui.sh", ".bashrc", ".bash_completions/rnntui.sh"),
    ("zsh", ".zfunc/_rnntui", ".zshrc", "fpath+=~/.zfunc"),
])
def test_install_completion_writes_the_script_into_home(tmp_path, shell, script, rc, line):
    import os
    import subprocess
    import sys

    # Typer finds the shell among the parent processes, which a test run may not have (a detached
    # runner); its test switch makes the option take the shell's name instead, as a user may give it.
    env = {**os.environ, "HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run([sys.executable, "-m", "rnntui", "--install-completion", shell],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "_RNNTUI_COMPLETE" in (tmp_path / script).read_text()
    assert line in (tmp_path / rc).read_text()


def test_minutes_is_the_budget_of_the_whole_run(tmp_path):
    log = tmp_path / "log.jsonl"
    start = time.monotonic()
    result = run("train", *TINY, "--corpus", "fables", "--steps", "100000000", "--minutes", "0.03",
                 "--out", tmp_path / "m.safetensors", "--log", log)
    elapsed = time.monotonic() - start
    assert result.exit_code == 0, result.stderr
    finished = events(log)[-1]
    assert finished["event"] == "finished" and finished["reason"] == "time"
    assert elapsed >= 1.8
    assert load_checkpoint(tmp_path / "m.safetensors").train_state["step"] == finished["step"]


def budget_of(path):
    config = load_checkpoint(path).config
    return config["steps"], config["minutes"]


def test_minutes_alone_lifts_the_step_cap_and_both_end_at_whichever_comes_first(tmp_path):
    alone, log = tmp_path / "alone.safetensors", tmp_path / "alone.jsonl"
    result = run("train", *TINY, "--corpus", "fables", "--minutes", "0.01", "--out", alone, "--log", log)
    assert result.exit_code == 0, result.stderr
    assert budget_of(alone) == (None, 0.01) and events(log)[-1]["reason"] == "time"
    both, log = tmp_path / "both.safetensors", tmp_path / "both.jsonl"
    assert run("train", *TINY, "--corpus", "fables", "--steps", "3", "--minutes", "10", "--out", both, "--log", log).exit_code == 0
    assert events(log)[-1] == {"event": "finished", "step": 3, "reason": "steps"}
    assert budget_of(both) == (3, 10.0)
    # --steps 0 is a budget of no steps, not "no cap": the run ends at once, and writes nothing.
    neither, log = tmp_path / "neither.safetensors", tmp_path / "neither.jsonl"
    assert run("train", *TINY, "--corpus", "hello", "--steps", "0", "--out", neither, "--log", log).exit_code == 0
    assert events(log)[-1] == {"event": "finished", "step": 0, "reason": "steps"} and not neither.exists()


def test_the_progress_bar_fills_with_the_steps_or_with_the_minutes(tmp_path):
    by_steps = run("train", *TINY[:-1], "--corpus", "fables", "--steps", "4", "--out", tmp_path / "s.safetensors")
    assert by_steps.exit_code == 0 and "step 4/4" in by_steps.stderr
    by_time = run("train", *TINY[:-1], "--corpus", "fables", "--minutes", "0.005", "--out", tmp_path / "t.safetensors")
    assert by_time.exit_code == 0, by_time.stderr
    step = load_checkpoint(tmp_path / "t.safetensors").train_state["step"]
    assert f"step {step} " in by_time.stderr and "/" not in by_time.stderr.split("chars/s")[0]  # no last step to show


def test_the_budget_is_explained_in_help():
    text = " ".join(run("train", "--help").stdout.replace("│", " ").split())  # the help is boxed and wrapped
    assert "Default 1000; none with --minutes alone; with both, whichever comes first" in text
    assert "alone, no step cap" in text


def test_a_budget_said_on_resume_replaces_the_saved_one(tmp_path):
    path = five_steps_on_fables(tmp_path)
    assert budget_of(path) == (5, 0.0)
    # --minutes alone: no step cap any more, though the file said 5.
    assert run("train", "--resume", path, "--minutes", "0.01", "-q").exit_code == 0
    assert budget_of(path) == (None, 0.01) and load_checkpoint(path).train_state["step"] > 5
    # Nothing said: the saved budget again (another 0.01 minutes).
    step = load_checkpoint(path).train_state["step"]
    assert run("train", "--resume", path, "-q").exit_code == 0
    assert budget_of(path) == (None, 0.01) and load_checkpoint(path).train_state["step"] > step
    # --steps alone: that step, and the saved minutes no longer apply.
    step = load_checkpoint(path).train_state["step"]
    assert run("train", "--resume", path, "--steps", step + 2, "-q").exit_code == 0
    assert budget_of(path) == (step + 2, 0.0) and load_checkpoint(path).train_state["step"] == step + 2
