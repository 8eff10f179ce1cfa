"""The trainer on its own: events, commands between steps, history that stays small."""

import threading

import numpy as np
import pytest

from rnntui.engine.optim import all_finite
from rnntui.errors import TrainingError
from rnntui.train.config import TrainConfig
from rnntui.train.events import EvalDone, Finished, SampleReady, StepDone, as_record
from rnntui.train.history import MAX_POINTS, History
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
    deadline = threading.Event()
    for _ in range(200):
        if sum(isinstance(e, StepDone) for e in seen) == 2:
            break
        deadline.wait(0.02)
    deadline.wait(0.2)
    assert sum(isinstance(e, StepDone) for e in seen) == 2  # paused again after each single step
    assert trainer.optimizer.lr == 0.05 and trainer.temperature == 0.3 and trainer.config.lr == 0.05
    trainer.send("stop")
    thread.join(timeout=2)
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


def test_history_thins_but_keeps_its_shape():
    history = History()
    for step in range(1, 10 * MAX_POINTS):
        history.add_train(step, 5.0 / step)
    assert len(history.train) <= MAX_POINTS
    assert history.train[-1][0] == 10 * MAX_POINTS - 1
    steps = [s for s, _ in history.train]
    assert steps == sorted(steps) and steps[0] < 100
    restored = History.from_json(history.to_json())
    assert restored.train == history.train and restored.smoothed == history.smoothed


def test_the_smoothed_loss_starts_at_the_first_loss():
    history = History()
    history.add_train(1, 4.0)
    assert history.smoothed == pytest.approx(4.0)
