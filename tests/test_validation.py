"""The validation loss: stretches of the held-out split, a fixed seeded subset of them, and the whole split."""

import numpy as np
import pytest

from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.train.evaluate import text_loss
from rnntui.train.validation import split_loss, stretch_loss, stretches, subset


def test_stretches_cover_every_prediction_once():
    ids = np.arange(1301)  # 1300 predictions
    spans = stretches(ids, 512)
    assert [(s.start, s.stop) for s in spans] == [(0, 512), (512, 1024), (1024, 1300)]
    assert stretches(np.arange(1), 512) == []


def test_the_subset_is_fixed_by_the_seed_and_drawn_from_the_whole_split():
    ids = np.arange(100_001)
    a, b, c = subset(ids, 10_000, seed=0), subset(ids, 10_000, seed=0), subset(ids, 10_000, seed=1)
    assert a == b and a != c
    assert len(a) == 20 and all(s.stop - s.start == 512 for s in a)  # 10,000 predictions' worth of whole stretches
    starts = [s.start for s in a]
    assert starts == sorted(set(starts))  # distinct, in order
    assert min(starts) < 25_000 and max(starts) > 75_000  # not one stretch of the text at its start
    assert subset(np.arange(3000), 10_000, seed=0) == stretches(np.arange(3000))  # a small split: all of it


def one_by_one(model, ids, spans):
    """The same mean computed the plain way: each stretch scored on its own as one sequence."""
    total, count = 0.0, 0
    for span in spans:
        loss, n = text_loss(model, ids[span.start: span.stop + 1])
        total += loss * n
        count += n
    return total / count, count


@pytest.mark.parametrize("batch, k", [(3, 7), (8, 100), (1, 0)])
def test_stretches_read_side_by_side_give_each_stretch_its_own_loss(batch, k):
    model = CharRNN(ModelShape("gru", 11, 4, 6, 2), dtype=np.float64, seed=3)
    ids = np.random.default_rng(0).integers(0, 11, 2000)
    loss, count = split_loss(model, ids, batch=batch, seq_len=k)  # stretches of 512, the last of 463 predictions
    expected, expected_count = one_by_one(model, ids, stretches(ids))
    assert count == expected_count == 1999
    assert loss == pytest.approx(expected, rel=1e-12)
    short = stretches(ids, 300)  # the last one of 199
    assert stretch_loss(model, ids, short, batch=batch, k=k or 300) == pytest.approx(one_by_one(model, ids, short), rel=1e-12)
    picked = subset(ids, 900, seed=5, length=300)
    assert stretch_loss(model, ids, picked, batch=batch, k=k or 300) == pytest.approx(one_by_one(model, ids, picked), rel=1e-12)


def test_an_empty_split_has_no_loss():
    model = CharRNN(ModelShape("rnn", 5, 2, 3, 1))
    loss, count = split_loss(model, np.arange(1), batch=4, seq_len=8)
    assert count == 0 and np.isnan(loss)
