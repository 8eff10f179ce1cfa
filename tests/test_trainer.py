"""The trainer on its own: events, commands between steps, history that stays small."""

import threading
import time

import numpy as np
import pytest

from rnntui.engine.optim import all_finite
from rnntui.errors import TrainingError
from rnntui.train.config import TrainConfig
from rnntui.train.events import CheckpointSaved, EvalDone, Finished, SampleReady, StepDone, as_record
from rnntui.train.history import History
from rnntui.train.run import budget
from rnntui.train.trainer import Trainer

SMALL = TrainConfig(corpus="fables", hidden=16, embed=8, batch=4, seq_len=16, steps=12, eval_every=4, sample_every=6,
                    sample_length=30)


def collect(trainer):
    seen = []
    trainer.listeners.append(seen.append)
    return seen


def test_a_run_emits_steps_evaluations_samples_and_finishes():
    trainer = Trainer.from_config(SMALL)
    seen = collect(trainer)
    finished = trainer.run()
    assert finished == Finished(12, "steps")
    assert [e.step for e in seen if isinstance(e, StepDone)] == list(range(1, 13))
    assert [e.step for e in seen if isinstance(e, EvalDone)] == [4, 8, 12]
    samples = [e for e in seen if isinstance(e, SampleReady)]
    assert [s.step for s in samples] == [6, 12]
    assert all(len(s.text) == 30 and len(s.probs) == 30 for s in samples)
    assert all(0 < p <= 1 for s in samples for p in s.probs)
    assert as_record(samples[0])["event"] == "sample" and "probs" not in as_record(samples[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_sees_one_bad_weight(dtype, bad):
    flat = np.random.default_rng(0).standard_normal(1000).astype(dtype)
    assert all_finite(flat)
    flat[3] = np.finfo(dtype).max  # its square overflows: the entry-by-entry check decides
    assert all_finite(flat)
    flat[617] = bad
    assert not all_finite(flat)


def test_weights_that_stop_being_finite_end_the_step_with_one_message():
    trainer = Trainer.from_config(SMALL)
    trainer.train_step()
    trainer.optimizer.lr = float("inf")  # the gradients stay finite; the update does not
    with pytest.raises(TrainingError, match="weights became non-finite at step 2"):
        trainer.train_step()


def test_commands_pause_step_change_and_stop_a_running_trainer():
    trainer = Trainer.from_config(SMALL.with_changes(steps=10**9, eval_every=10**6, sample_every=10**6))
    seen = collect(trainer)
    trainer.send("pause")
    thread = threading.Thread(target=trainer.run)
    thread.start()
    trainer.send("lr", 0.05)
    trainer.send("temperature", 0.3)
    trainer.send("step")
    trainer.send("step")
    deadline = time.monotonic() + 600  # only bounds a hang: on a busy machine two steps may take a while
    while sum(isinstance(e, StepDone) for e in seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # long enough for a third step, were the trainer not paused again
    assert sum(isinstance(e, StepDone) for e in seen) == 2  # paused again after each single step
    assert trainer.optimizer.lr == 0.05 and trainer.temperature == 0.3 and trainer.config.lr == 0.05
    trainer.send("stop")
    thread.join(timeout=600)  # returns as soon as the run ends
    assert not thread.is_alive()
    assert isinstance(seen[-1], Finished) and seen[-1].reason == "stopped"


def test_snapshot_is_a_private_copy():
    trainer = Trainer.from_config(SMALL)
    copy = trainer.snapshot()
    assert np.array_equal(copy.flat, trainer.model.flat)
    trainer.train_step()
    assert not np.array_equal(copy.flat, trainer.model.flat)


def test_no_validation_text_means_no_evaluations():
    trainer = Trainer.from_config(SMALL.with_changes(val_frac=0.0))
    seen = collect(trainer)
    trainer.run()
    assert not any(isinstance(e, EvalDone) for e in seen)


def test_samples_depend_on_seed_and_step_only():
    a, b = Trainer.from_config(SMALL), Trainer.from_config(SMALL)
    a.sample("The ")  # drawing a sample must not disturb what follows
    assert a.sample("The ").text == b.sample("The ").text
    a.train_step()
    b.train_step()
    assert np.array_equal(a.model.flat, b.model.flat)


def test_the_smoothed_loss_starts_at_the_first_loss():
    history = History()
    history.add_train(1, 4.0)
    assert history.smoothed == pytest.approx(4.0)


def test_a_run_ends_with_the_whole_validation_split_but_a_stop_does_not_wait_for_it():
    trainer = Trainer.from_config(SMALL)
    seen = collect(trainer)
    trainer.run()
    evals = [e for e in seen if isinstance(e, EvalDone)]
    assert [(e.step, e.full) for e in evals] == [(4, False), (8, False), (12, True)]
    assert evals[-1].val_loss == trainer.validation_loss(full=True)
    assert trainer.history.val[-1] == (12, evals[-1].val_loss)

    stopped = Trainer.from_config(SMALL)
    seen = collect(stopped)
    stopped.listeners.append(lambda e: stopped.request_stop() if isinstance(e, StepDone) and e.step == 6 else None)
    assert stopped.run() == Finished(6, "stopped")
    assert [(e.step, e.full) for e in seen if isinstance(e, EvalDone)] == [(4, False)]


def test_evaluations_read_a_fixed_subset_and_the_end_reads_it_all():
    trainer = Trainer.from_config(SMALL.with_changes(eval_chars=600, val_frac=0.5))
    assert sum(s.stop - s.start for s in trainer.val_subset) == 1024  # two stretches of 512
    assert len(trainer.val_ids) > 2 * 1024 + 512  # the subset is less than the split
    subset_loss, full_loss = trainer.validation_loss(), trainer.validation_loss(full=True)
    assert subset_loss == trainer.validation_loss() and subset_loss != full_loss
    again = Trainer.from_config(SMALL.with_changes(eval_chars=600, val_frac=0.5))
    assert again.val_subset == trainer.val_subset  # fixed by the seed


@pytest.mark.parametrize("save_seconds, saved_at", [(0.0, [4, 8, 12]), (10**6, [4, 12])])
def test_checkpoints_are_paced_by_time_and_the_end_always_writes_one(tmp_path, save_seconds, saved_at):
    trainer = Trainer.from_config(SMALL)
    trainer.checkpoint_path = tmp_path / "run.safetensors"
    trainer.SAVE_SECONDS = save_seconds
    seen = collect(trainer)
    trainer.run()
    assert [e.step for e in seen if isinstance(e, CheckpointSaved)] == saved_at


def test_a_time_budget_alone_has_no_step_cap_and_says_what_is_left():
    trainer = Trainer.from_config(SMALL.with_changes(steps=None, minutes=0.002, eval_every=10**6, sample_every=10**6))
    finished = trainer.run()
    assert finished.reason == "time" and trainer.config.steps is None
    trainer.config = trainer.config.with_changes(minutes=10.0)
    trainer.started = time.monotonic() - 240  # four of its ten minutes used
    assert trainer.resume_options() == "--minutes 6"
    trainer.config = trainer.config.with_changes(steps=5000)
    assert trainer.resume_options() == "--steps 5000 --minutes 6"


def test_budget_reads_steps_minutes_both_or_neither():
    assert budget(None, None, 1000) == (1000, 0.0)
    assert budget(None, 2.0, 1000) == (None, 2.0)
    assert budget(300, None, 1000) == (300, 0.0)
    assert budget(300, 2.0, 1000) == (300, 2.0)
