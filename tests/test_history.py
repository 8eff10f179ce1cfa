"""The loss history: equal-width buckets over the whole run, checked against the raw series."""

import numpy as np
import pytest

from rnntui.train.checkpoint import load_checkpoint, save_checkpoint
from rnntui.train.config import TrainConfig
from rnntui.train.history import MAX_POINTS, SMOOTHING, History, Series
from rnntui.train.trainer import Trainer

LONG_RUN = 14_000


def noiseless(steps: int) -> np.ndarray:
    """A loss that falls from 4 to 0.05 by step 1500 and stays there; index = step - 1."""
    step = np.arange(1, steps + 1)
    return 0.05 + 3.95 * np.clip(1 - step / 1500, 0, None) ** 3


def falling_curve(steps: int) -> np.ndarray:
    """The same fall with a little noise."""
    return noiseless(steps) + 0.01 * np.random.default_rng(0).standard_normal(steps)


def raw_buckets(values: np.ndarray, width: int):
    """What each bucket must hold, computed from the raw series by hand: (last step, mean, min, max)."""
    out = []
    for start in range(0, len(values), width):
        chunk = values[start: start + width]
        out.append((start + len(chunk), chunk.mean(), chunk.min(), chunk.max()))
    return out


def test_a_long_series_is_equal_width_buckets_that_agree_with_the_raw_values():
    values = falling_curve(LONG_RUN)
    series = Series()
    for step, value in enumerate(values, start=1):
        series.add(step, float(value))
    assert MAX_POINTS // 2 < len(series.points) <= MAX_POINTS
    width = series.width
    assert width == 16  # 14,000 steps in at most 1000 buckets, the width doubling from 1
    expected = raw_buckets(values, width)
    assert [s for s, _ in series.points] == [s for s, _, _, _ in expected]
    np.testing.assert_allclose([m for _, m in series.points], [m for _, m, _, _ in expected], rtol=1e-12)
    np.testing.assert_allclose([lo for _, lo, _ in series.bands], [lo for _, _, lo, _ in expected])
    np.testing.assert_allclose([hi for _, _, hi in series.bands], [hi for _, _, _, hi in expected])


def test_an_early_fall_is_drawn_at_the_steps_where_it_happened():
    values = falling_curve(LONG_RUN)
    series = Series()
    for step, value in enumerate(values, start=1):
        series.add(step, float(value))
    steps = np.array([s for s, _ in series.points])
    means = np.array([m for _, m in series.points])
    gaps = np.diff(steps)
    assert gaps.min() == gaps.max() == series.width  # the first steps are as dense as the last
    assert (steps <= 1500).sum() >= 1500 // series.width
    truth = noiseless(LONG_RUN)
    crossing = np.argmax(truth < 0.1) + 1  # step 1137
    first_low = steps[np.argmax(means < 0.1)]
    assert abs(first_low - crossing) <= 2 * series.width  # the fall ends where it did, not thousands of steps later
    assert means[steps <= 750].min() > 0.4  # and had not ended halfway through
    assert np.abs(means[steps > 1500] - 0.05).max() < 0.01  # then flat at 0.05, as the raw series is


def test_the_smoothed_training_curve_matches_the_smoothed_raw_losses():
    values = falling_curve(5000)
    history = History()
    for step, value in enumerate(values, start=1):
        history.add_train(step, float(value))
    average, weight, smoothed = 0.0, 0.0, []
    for value in values:
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        weight = SMOOTHING * weight + (1 - SMOOTHING)
        smoothed.append(average / weight)
    expected = raw_buckets(np.array(smoothed), history.train_series.width)
    np.testing.assert_allclose([m for _, m in history.train], [m for _, m, _, _ in expected], rtol=1e-9)
    assert [(s, lo, hi) for s, lo, hi in history.train_bands] == pytest.approx(
        [(s, lo, hi) for s, _, lo, hi in expected])
    assert history.smoothed == pytest.approx(smoothed[-1])


def test_validation_points_every_few_steps_keep_their_own_steps_until_the_budget():
    history = History()
    for step in range(100, 100 * (MAX_POINTS + 1), 100):
        history.add_val(step, 1000.0 / step)
    assert [s for s, _ in history.val] == list(range(100, 100 * (MAX_POINTS + 1), 100))
    history.add_val(100 * (MAX_POINTS + 1), 0.5)  # one more than the budget: neighbours merge
    assert len(history.val) <= MAX_POINTS and history.val[-1] == (100 * (MAX_POINTS + 1), 0.5)


def test_history_survives_json():
    history = History()
    for step in range(1, 3 * MAX_POINTS):
        history.add_train(step, 5.0 / step)
        if step % 50 == 0:
            history.add_val(step, 6.0 / step)
    restored = History.from_json(history.to_json())
    assert restored.train == history.train and restored.val == history.val
    assert restored.train_bands == history.train_bands and restored.smoothed == history.smoothed
    restored.add_train(3 * MAX_POINTS, 0.001)
    history.add_train(3 * MAX_POINTS, 0.001)
    assert restored.train == history.train  # the width came back too


def old_format(points: int) -> dict:
    """A history as checkpoints held it before buckets: thinned (step, value) lists, denser at the end."""
    steps = sorted({*range(2, 1000, 4), *range(1000, 1000 + points - 250)})
    return {"train": [[s, 3.0 / s] for s in steps], "val": [[s, 4.0 / s] for s in range(100, 1100, 100)],
            "average": 1.5, "weight": 0.9}


def test_a_history_in_the_old_format_is_converted():
    data = old_format(600)
    history = History.from_json(data)
    assert history.train == [tuple(p) for p in data["train"]]  # under the budget: every point kept as it was
    assert history.val == [tuple(p) for p in data["val"]]
    assert history.smoothed == pytest.approx(1.5 / 0.9)
    big = History.from_json(old_format(3 * MAX_POINTS))
    steps = [s for s, _ in big.train]
    assert len(steps) <= MAX_POINTS and steps == sorted(steps) and steps[-1] == old_format(3 * MAX_POINTS)["train"][-1][0]
    assert np.diff(steps)[:-1].min() == big.train_series.width  # the old sparse start is no longer sparse


def test_a_checkpoint_written_before_buckets_opens_with_its_history_converted(tmp_path):
    config = TrainConfig(corpus="fables", hidden=16, embed=8, batch=4, seq_len=16, steps=3)
    trainer = Trainer.from_config(config)
    for _ in range(3):
        trainer.train_step()
    ckpt = trainer.to_checkpoint()
    old = {"train": [[1, 4.1], [2, 4.0], [3, 3.9]], "val": [[3, 4.2]], "average": 0.2, "weight": 0.06}
    ckpt.train_state = dict(ckpt.train_state, history=old)
    path = tmp_path / "old.safetensors"
    save_checkpoint(path, ckpt)
    assert load_checkpoint(path).train_state["history"] == old
    resumed = Trainer.resume(path, steps=4)
    assert resumed.history.train == [(1, 4.1), (2, 4.0), (3, 3.9)] and resumed.history.val == [(3, 4.2)]
    resumed.run()
    assert [s for s, _ in resumed.history.train] == [1, 2, 3, 4]
    saved = load_checkpoint(path).train_state["history"]
    assert History.from_json(saved).train == resumed.history.train
