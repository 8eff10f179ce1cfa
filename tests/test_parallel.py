"""Data parallelism in worker processes: the one-process gradient, exact resumes, and clean ends."""

import json
import re

import numpy as np
import pytest

from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.engine.step import chunk_gradient
from rnntui.errors import CheckpointError, TrainingError
from rnntui.train.checkpoint import load_checkpoint, save_checkpoint
from rnntui.train.config import TrainConfig
from rnntui.train.parallel import ShardPool, default_workers
from rnntui.train.trainer import Trainer
from rnntui.train.validation import stretches

SMALL = TrainConfig(corpus="fables", cell="lstm", hidden=12, embed=6, layers=2, batch=7, seq_len=10, steps=8,
                    eval_every=4, sample_every=10**6, dtype="float64")


@pytest.fixture
def pools():
    """Pools made by a test, closed after it whatever happens."""
    made = []
    yield made
    for pool in made:
        pool.close()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_shards_give_the_one_process_loss_gradient_and_state(cell, pools):
    shape = ModelShape(cell, vocab_size=20, embedding_dim=6, hidden_size=10, num_layers=2)
    one = CharRNN(shape, np.float64, seed=3)
    # 7 streams over 3 workers: shards of 2, 2 and 3, so the batch mean must weight them by size.
    pool = ShardPool(shape, np.float64, batch=7, length=12, workers=3)
    pools.append(pool)
    shared = pool.adopt(one)
    rng = np.random.default_rng(0)
    for length in (12, 5):  # a full chunk, then a shorter last one
        x, y = rng.integers(0, 20, (7, length)), rng.integers(0, 20, (7, length))
        state = [tuple(rng.standard_normal((7, 10)) for _ in one.zero_state(7)[0]) for _ in range(2)]
        expected = chunk_gradient(one, x, y, state)()
        got = pool.gradient(shared, x, y, state)()
        assert got.count == expected.count == 7 * length
        assert got.loss == pytest.approx(expected.loss, rel=1e-13)
        np.testing.assert_allclose(shared.grad_flat, one.grad_flat, rtol=1e-11, atol=1e-15)
        assert np.abs(one.grad_flat).max() > 1e-3  # a gradient worth comparing
        for a, b in zip(got.state, expected.state):
            for p, q in zip(a, b):
                np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)


def test_the_workers_read_the_weights_the_parent_updates_in_place(pools):
    shape = ModelShape("gru", vocab_size=9, embedding_dim=4, hidden_size=6, num_layers=1)
    pool = ShardPool(shape, np.float64, batch=4, length=5, workers=2)
    pools.append(pool)
    shared = pool.adopt(CharRNN(shape, np.float64, seed=1))
    x = np.arange(20).reshape(4, 5) % 9
    before = pool.gradient(shared, x, x, shared.zero_state(4))().loss
    shared.flat *= 0.5  # what an optimizer step does: the workers must see it at the next step
    after = pool.gradient(shared, x, x, shared.zero_state(4))().loss
    copy = CharRNN(shape, np.float64)
    copy.flat[...] = shared.flat
    assert after != before
    assert after == pytest.approx(chunk_gradient(copy, x, x)().loss, rel=1e-13)


def test_the_default_count_follows_cores_and_batch_only():
    assert default_workers(32, cores=2) == 2
    assert default_workers(64, cores=4) == 4
    assert default_workers(24, cores=4) == 3  # 8 streams a worker at least
    assert default_workers(16, cores=2) == 2
    assert default_workers(15, cores=2) == 1  # too small to split
    assert default_workers(4, cores=8) == 1
    assert default_workers(1000, cores=1) == 1


def test_two_workers_train_like_one_process_to_float_rounding():
    one = Trainer.from_config(SMALL)
    two = Trainer.from_config(SMALL, workers=2)
    try:
        for _ in range(6):
            a, b = one.train_step(), two.train_step()
            assert b.loss == pytest.approx(a.loss, rel=1e-10)
        np.testing.assert_allclose(two.model.flat, one.model.flat, rtol=1e-9, atol=1e-12)
    finally:
        two.close()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_workers_read_the_validation_split_to_the_same_number_as_one_process(dtype):
    config = SMALL.with_changes(dtype=dtype, val_frac=0.3, eval_chars=1500, batch=2)  # two groups of stretches
    one = Trainer.from_config(config)
    two = Trainer.from_config(config, workers=2)
    try:
        two.model.flat[...] = one.model.flat  # the same weights (they are the same already; said here)
        for full in (False, True):  # the subset, and the whole split the end of a run reads
            assert two.validation_loss(full) == one.validation_loss(full)
        assert len(stretches(one.val_ids)) > one.batch, "groups for both workers to read"
        two.train_step()
        assert two.validation_loss(True) != one.validation_loss(True), "the workers read the weights as they are now"
    finally:
        two.close()


def test_a_resume_with_the_same_count_is_bit_exact(tmp_path):
    config = SMALL.with_changes(dtype="float32", dropout=0.3)  # dropout: the shards' masks must resume too
    straight = Trainer.from_config(config, workers=2)
    halves = Trainer.from_config(config.with_changes(steps=4), workers=2)
    halves.checkpoint_path = tmp_path / "half.safetensors"
    try:
        straight.run()
        halves.run()
    finally:
        straight.close()
        halves.close()
    assert load_checkpoint(halves.checkpoint_path).train_state["workers"] == 2
    resumed = Trainer.resume(halves.checkpoint_path, workers=None, steps=8)  # the checkpoint's count
    try:
        assert resumed.workers == 2
        resumed.run()
    finally:
        resumed.close()
    assert resumed.step == straight.step == 8
    assert resumed.model.flat.tobytes() == straight.model.flat.tobytes()
    for a, b in zip(resumed.state, straight.state):
        assert all(p.tobytes() == q.tobytes() for p, q in zip(a, b))


def test_a_resume_with_another_count_goes_on_to_float_rounding(tmp_path):
    path = tmp_path / "one.safetensors"
    first = Trainer.from_config(SMALL.with_changes(steps=4))
    first.checkpoint_path = path
    first.run()
    straight = Trainer.from_config(SMALL)
    straight.run()
    resumed = Trainer.resume(path, workers=2, steps=8)
    try:
        assert (resumed.workers, resumed.resumed_from_workers) == (2, 1)
        resumed.run()
    finally:
        resumed.close()
    np.testing.assert_allclose(resumed.model.flat, straight.model.flat, rtol=1e-9, atol=1e-12)
    assert load_checkpoint(path).train_state["workers"] == 2


@pytest.mark.parametrize("bad", ["2", 0, -1, 1.5, True, None])
def test_a_bad_recorded_count_is_refused_in_one_line(tmp_path, bad):
    path = tmp_path / "m.safetensors"
    trainer = Trainer.from_config(SMALL.with_changes(steps=1))
    trainer.checkpoint_path = path
    trainer.run()
    ckpt = load_checkpoint(path)
    ckpt.train_state["workers"] = bad
    save_checkpoint(path, ckpt)
    # The checkpoint schema refuses it, naming the field and the value as the file holds it.
    with pytest.raises(CheckpointError, match=re.escape(f"train_state.workers must be a positive integer, got {json.dumps(bad)}")):
        Trainer.resume(path)


def test_more_workers_than_streams_is_refused():
    with pytest.raises(TrainingError, match="--workers 8 cannot split a batch of 7 streams"):
        Trainer.from_config(SMALL, workers=8)


def test_the_playground_default_is_one_process_even_from_a_checkpoint_of_two(tmp_path):
    trainer = Trainer.from_config(SMALL.with_changes(batch=32))
    assert trainer.workers == 1 and trainer.pool is None
    two = Trainer.from_config(SMALL.with_changes(steps=1), workers=2)
    two.checkpoint_path = tmp_path / "two.safetensors"
    try:
        two.run()
    finally:
        two.close()
    resumed = Trainer.resume(two.checkpoint_path)  # as the playground resumes: no count given
    assert resumed.workers == 1 and resumed.pool is None


def test_the_count_is_in_the_checkpoints_train_state_as_json(tmp_path):
    trainer = Trainer.from_config(SMALL.with_changes(steps=2), workers=2)
    trainer.checkpoint_path = tmp_path / "w.safetensors"
    try:
        trainer.run()
    finally:
        trainer.close()
    assert json.loads(json.dumps(load_checkpoint(trainer.checkpoint_path).train_state))["workers"] == 2
