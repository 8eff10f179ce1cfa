"""The memory tasks: scored positions where the memory is needed, and chance levels that are exact."""

import numpy as np
import pytest

from rnntui.data.tasks import BracketsTask, EmbeddedReberTask, RecallTask, correct_count, make_task
from rnntui.errors import RnntuiError


def rng():
    return np.random.default_rng(0)


def test_recall_scores_only_the_repeat_of_the_first_symbol():
    task = RecallTask(span=6, symbols=5)
    batch = task.batch(rng(), 64)
    assert batch.inputs.shape == batch.targets.shape == batch.mask.shape == (64, 7)
    # Targets are the inputs shifted by one.
    np.testing.assert_array_equal(batch.inputs[:, 1:], batch.targets[:, :-1])
    # One scored position per sequence, the last, holding the symbol read `span` steps earlier.
    assert batch.mask.sum() == 64 and batch.mask[:, -1].all()
    np.testing.assert_array_equal(batch.targets[:, -1], batch.inputs[:, 0])
    # Everything between is filler, never a recall symbol.
    assert np.isin(batch.inputs[:, 1:], task.fillers).all()
    assert not np.isin(task.fillers, task.answers).any()
    assert task.chance == pytest.approx(1 / 5)
    shown = task.show(batch)
    assert shown.endswith("]") and sum(c in RecallTask.NOISE for c in shown) == 6


def test_recall_noise_filler_is_uniform_and_tells_nothing_about_the_symbol():
    task = RecallTask(span=20, symbols=4)
    assert task.filler == "noise" and len(task.fillers) == 4 and "noise" in task.describe()
    batch = task.batch(rng(), 20000)
    symbol = batch.targets[:, -1]
    filler = batch.inputs[:, 1:]
    # Each distractor a quarter of the time, whatever the symbol: the filler's share given the
    # symbol equals its share overall, so a model that forgot the symbol is left with chance.
    overall = np.array([(filler == f).mean() for f in task.fillers])
    np.testing.assert_allclose(overall, 0.25, atol=0.005)
    for s in task.answers:
        given = np.array([(filler[symbol == s] == f).mean() for f in task.fillers])
        np.testing.assert_allclose(given, overall, atol=0.01)
    # And the filler changes from step to step: a sequence is not one repeated distractor.
    assert (filler[:, 1:] != filler[:, :-1]).mean() == pytest.approx(0.75, abs=0.01)


def test_recall_constant_filler_is_one_dot_and_the_symbols_are_the_same_for_a_seed():
    constant, noise = RecallTask(span=6, filler="constant"), RecallTask(span=6)
    batch = constant.batch(rng(), 64)
    assert (batch.inputs[:, 1:] == constant.vocab.index(".")).all()
    assert constant.show(batch).count(".") == 6 and constant.chance == noise.chance == 1 / 8
    # The symbol is drawn before the filler, so one seed asks both variants about the same symbols.
    same = noise.batch(rng(), 64)
    assert constant.vocab.decode(batch.inputs[:, 0]) == noise.vocab.decode(same.inputs[:, 0])
    with pytest.raises(RnntuiError, match="--filler"):
        RecallTask(filler="zeros")
    with pytest.raises(RnntuiError, match="--filler"):
        make_task("recall", 5, filler="zeros")
    assert make_task("recall", 5, filler="constant").filler == "constant"


def test_recall_symbols_are_uniform_so_a_constant_guess_scores_chance():
    for filler in ("noise", "constant"):
        task = RecallTask(span=3, symbols=4, filler=filler)
        batch = task.batch(rng(), 40000)
        shares = np.bincount(batch.targets[:, -1], minlength=task.vocab.size)[task.answers] / 40000
        np.testing.assert_allclose(shares, task.chance, atol=0.01)
        assert task.chance == 0.25


def test_reber_strings_follow_the_grammar_and_score_the_repeated_branch():
    task = EmbeddedReberTask()
    batch = task.batch(rng(), 200)
    for b in range(200):
        text = task.vocab.decode(np.r_[batch.inputs[b, :1], batch.targets[b]]).rstrip("_")
        assert text[0] == "B" and text[-1] == "E" and text[1] in "TP" and text[-2] == text[1]
        inner = text[2:-2]
        assert inner[0] == "B" and inner[-1] == "E"
        (t,) = np.flatnonzero(batch.mask[b])
        assert task.vocab.decode(batch.targets[b, t : t + 1]) == text[1]
        assert t == len(text) - 3  # the penultimate symbol, whatever the length
    assert task.chance == 0.5
    # Padding comes after the end, so it never changes what the model read before a scored position.
    pad = task.vocab.index("_")
    assert (batch.mask[batch.targets == pad] == 0).all()


def test_reber_span_is_a_minimum_distance_between_the_branches():
    task = EmbeddedReberTask(span=12)
    for _ in range(20):
        s = task.string(rng())
        assert len(s) - 2 - 1 >= 12
    with pytest.raises(RnntuiError):
        EmbeddedReberTask(span=99)


def test_brackets_are_balanced_and_scored_where_a_closer_or_the_end_is_due():
    task = BracketsTask(span=2, pairs=4, depth=2)
    batch = task.batch(rng(), 100)
    closes = {")": "(", "]": "[", "}": "{"}
    for b in range(100):
        text = task.vocab.decode(np.r_[batch.inputs[b, :1], batch.targets[b]])
        stack, deepest = [], 0
        for c in text:
            if c in "([{":
                stack.append(c)
                deepest = max(deepest, len(stack))
            elif c in closes:
                assert stack.pop() == closes[c]
        assert not stack and deepest <= 2 and text.endswith(".")
        scored = {text[t + 1] for t in np.flatnonzero(batch.mask[b])}
        assert scored <= set(")]}.") and np.sum(batch.mask[b]) == 4 + 1


def test_brackets_chance_is_the_best_constant_guess_over_scored_targets():
    task = BracketsTask(span=1, pairs=4)
    batch = task.batch(rng(), 6000)
    targets = batch.targets[batch.mask > 0]
    best_share = np.bincount(targets).max() / len(targets)
    assert task.chance == pytest.approx(4 / 3 / 5)
    assert best_share == pytest.approx(task.chance, abs=0.01)
    # With few pairs the end is the most common answer: one per string.
    assert BracketsTask(pairs=2).chance == pytest.approx(1 / 3)


def test_accuracy_is_argmax_among_the_answers_at_scored_positions():
    task = RecallTask(span=2, symbols=3)
    batch = task.batch(rng(), 10)
    logits = np.zeros(batch.inputs.shape + (task.vocab.size,))
    logits[np.arange(10), -1, batch.targets[:, -1]] = 1.0  # right everywhere it is scored
    logits[:, :, task.fillers] = 5.0  # a filler is not an answer, so it never wins
    assert task.accuracy(logits, batch) == 1.0
    logits[:3, -1, :] = 0.0
    logits[:3, -1, batch.targets[:3, -1] % 3 + 1] = 2.0  # a wrong symbol for three of them
    assert correct_count(logits, batch, task.answers) == 7


def test_batches_are_reproducible_from_a_seed_and_bad_names_fail_in_one_line():
    for name in ("recall", "reber", "brackets"):
        a, b = make_task(name).batch(rng(), 4), make_task(name).batch(rng(), 4)
        np.testing.assert_array_equal(a.inputs, b.inputs)
    with pytest.raises(RnntuiError, match="unknown task"):
        make_task("copy")
    with pytest.raises(RnntuiError):
        RecallTask(span=0)
