"""The engine against the equations: numerical gradients, hand-computed steps, chunked BPTT."""

import math
import tracemalloc

import numpy as np
import pytest

from rnntui.engine import cells
from rnntui.engine.gradcheck import check_gradients, random_problem
from rnntui.engine.model import CharRNN, segment_sum
from rnntui.engine.shape import ModelShape

CELLS = ["rnn", "lstm", "gru"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("carried_state", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_gradients_match_centred_differences(cell, layers, carried_state, masked):
    model, batch = random_problem(cell, layers, initial_state=carried_state, mask=masked)
    worst = check_gradients(model, batch)
    assert max(worst.values()) < 1e-6, worst


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_without_embedding_fold(cell):
    # More vocabulary than tokens in the batch takes the gather-then-GEMM path.
    model, batch = random_problem(cell, 2, vocab=40, batch=2, steps=4)
    assert batch["inputs"].size < model.shape.vocab_size
    worst = check_gradients(model, batch)
    assert max(worst.values()) < 1e-6, worst


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("block_steps", [1, 2])
def test_gradients_on_the_paths_large_shapes_take(cell, block_steps, monkeypatch):
    """One recurrent product a gate, and backward factors made a block of steps at a time:
    large models take these paths, so here a small one is made to, its blocks not dividing T."""
    model, batch = random_problem(cell, 2, steps=7)
    B, H = batch["inputs"].shape[0], model.shape.hidden_size
    monkeypatch.setattr(cells, "PER_GATE_PRODUCT_MIN", 0)
    gates = model.cells[0].G
    monkeypatch.setattr(cells, "FACTOR_BLOCK_BYTES", block_steps * B * gates * H * 8)
    assert model.cells[0]._recurrent_product(model.params["rnn.weight_hh_l0"], B)[0] is np.matmul
    assert model.cells[0]._block_steps(B, np.float64) == block_steps
    worst = check_gradients(model, batch)
    assert max(worst.values()) < 1e-6, worst


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("per_gate", [False, True])
def test_held_weights_copy_w_hh_once_and_let_go(cell, per_gate, monkeypatch):
    """A character at a time under weights_held: the same values as one pass; the loop's copy of
    W_hh is made once (a change made inside is not seen: the caller promised none), and after
    leaving, every pass reads the weights as they are."""
    if per_gate:
        monkeypatch.setattr(cells, "PER_GATE_PRODUCT_MIN", 0)
    model = CharRNN(ModelShape(cell, 6, 4, 5, 2), dtype=np.float64, seed=1)
    tokens = np.random.default_rng(1).integers(0, 6, (1, 9))
    whole = model.forward(tokens, logits=True).logits[0]
    W_hh = model.params["rnn.weight_hh_l1"]
    with model.weights_held():
        state, stepped = None, []
        for t in range(tokens.shape[1]):
            result = model.forward(tokens[:, t:t + 1], state=state, logits=True)
            stepped.append(result.logits[0, 0])
            state = result.state
        assert np.allclose(np.array(stepped), whole, rtol=0, atol=1e-12)
        W_hh *= 0.5  # breaks the promise, to show what is held
        assert np.array_equal(model.forward(tokens, logits=True).logits[0], whole)
    changed = model.forward(tokens, logits=True).logits[0]
    fresh = CharRNN(ModelShape(cell, 6, 4, 5, 2), dtype=np.float64, seed=1)
    fresh.flat[...] = model.flat
    assert not np.allclose(changed, whole)
    assert np.array_equal(changed, fresh.forward(tokens, logits=True).logits[0])


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def one_step_model(cell, seed=3):
    """One layer, one unit, embedding size one: every weight is a single number."""
    model = CharRNN(ModelShape(cell, 3, 1, 1, 1), dtype=np.float64, seed=seed)
    rng = np.random.default_rng(seed)
    for p in model.params.values():
        p[...] = rng.uniform(-1.5, 1.5, p.shape)
    return model


def step(model, token, h0, c0=None):
    state = [(np.array([[h0]]), np.array([[c0]]))] if c0 is not None else [(np.array([[h0]]),)]
    return model.forward(np.array([[token]]), state=state, trace=True).trace[0]


def test_rnn_step_by_hand():
    m = one_step_model("rnn")
    p = m.params
    x = p["embedding.weight"][2, 0]
    h0 = 0.4
    pre = p["rnn.weight_ih_l0"][0, 0] * x + p["rnn.bias_ih_l0"][0] + p["rnn.weight_hh_l0"][0, 0] * h0 + p["rnn.bias_hh_l0"][0]
    assert step(m, 2, h0)["h"][0, 0, 0] == pytest.approx(math.tanh(pre), abs=1e-14)


def test_lstm_step_by_hand():
    m = one_step_model("lstm")
    p = m.params
    x = p["embedding.weight"][1, 0]
    h0, c0 = -0.3, 0.7
    Wi, Wh, bi, bh = (p[f"rnn.{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def gate(k):  # rows in PyTorch's order: i, f, g, o
        return Wi[k, 0] * x + bi[k] + Wh[k, 0] * h0 + bh[k]

    i, f, g, o = sigmoid(gate(0)), sigmoid(gate(1)), math.tanh(gate(2)), sigmoid(gate(3))
    c = f * c0 + i * g
    h = o * math.tanh(c)
    trace = step(m, 1, h0, c0)
    for name, value in dict(i=i, f=f, g=g, o=o, c=c, h=h).items():
        assert trace[name][0, 0, 0] == pytest.approx(value, abs=1e-14), name


def test_gru_step_by_hand():
    m = one_step_model("gru")
    p = m.params
    x = p["embedding.weight"][0, 0]
    h0 = 0.55
    Wi, Wh, bi, bh = (p[f"rnn.{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    r = sigmoid(Wi[0, 0] * x + bi[0] + Wh[0, 0] * h0 + bh[0])
    z = sigmoid(Wi[1, 0] * x + bi[1] + Wh[1, 0] * h0 + bh[1])
    n = math.tanh(Wi[2, 0] * x + bi[2] + r * (Wh[2, 0] * h0 + bh[2]))
    h = (1 - z) * n + z * h0
    trace = step(m, 0, h0)
    for name, value in dict(r=r, z=z, n=n, h=h).items():
        assert trace[name][0, 0, 0] == pytest.approx(value, abs=1e-14), name


@pytest.mark.parametrize("cell", CELLS)
def test_two_chunks_with_carried_state_equal_one_pass(cell):
    model = CharRNN(ModelShape(cell, 11, 6, 8, 2), dtype=np.float64, seed=1)
    tokens = np.random.default_rng(0).integers(0, 11, (3, 20))
    whole = model.forward(tokens, logits=True)
    first = model.forward(tokens[:, :12], logits=True)
    second = model.forward(tokens[:, 12:], state=first.state, logits=True)
    np.testing.assert_allclose(np.concatenate([first.logits, second.logits], axis=1), whole.logits, rtol=0, atol=1e-12)
    for a, b in zip(second.state, whole.state):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_state_gradient_joins_chunks_into_full_bptt(cell):
    """Backward through chunk 2, hand dLoss/dstate to chunk 1: the sum is the whole sequence's gradient."""
    model = CharRNN(ModelShape(cell, 9, 4, 5, 2), dtype=np.float64, seed=2)
    rng = np.random.default_rng(1)
    inputs, targets = rng.integers(0, 9, (2, 14)), rng.integers(0, 9, (2, 14))
    model.forward(inputs, targets)
    model.backward()
    whole = model.grad_flat.copy()

    # Each chunk's mean loss is weighted by its share of positions to make the same total mean.
    first = model.forward(inputs[:, :6], targets[:, :6])
    model.forward(inputs[:, 6:], targets[:, 6:], state=first.state)
    dstate, _ = model.backward()
    late = model.grad_flat * (8 / 14)
    # Chunk 1's backward is scaled by 6/14 below, so hand it dstate * (8/14) / (6/14).
    dstate = [tuple(d * (8 / 6) for d in layer) for layer in dstate]
    model.forward(inputs[:, :6], targets[:, :6])
    model.backward(dstate)
    np.testing.assert_allclose(late + model.grad_flat * (6 / 14), whole, rtol=0, atol=1e-12)


def test_truncated_bptt_cuts_the_gradient_at_the_boundary():
    """With the state carried but no gradient handed back, early weights see only their own chunk."""
    model = CharRNN(ModelShape("lstm", 5, 3, 4, 1), dtype=np.float64, seed=0)
    inputs = np.array([[1, 2, 3, 4, 0, 1]])
    first = model.forward(inputs[:, :3], inputs[:, 1:4])
    model.forward(inputs[:, 3:5], inputs[:, 4:6], state=first.state)
    model.backward()
    # Token 1 appears only in the first chunk: its embedding row gets no gradient from the second.
    assert np.all(model.grads["embedding.weight"][1] == 0)
    assert np.any(model.grads["embedding.weight"][4] != 0)


def test_gradient_reach_is_the_norm_of_dloss_dh():
    """Only the last position is scored; dLoss/dh_t found directly by perturbing h_t."""
    model = CharRNN(ModelShape("rnn", 6, 3, 5, 1), dtype=np.float64, seed=4)
    inputs = np.array([[1, 2, 3, 4, 5, 0, 1]])
    mask = np.zeros(inputs.shape)
    mask[0, -1] = 1
    model.forward(inputs, inputs, mask)
    _, (reach,) = model.backward(reach=True)
    eps = 1e-6
    for t in (0, 3, 5):
        h = model.forward(inputs[:, : t + 1]).state[0][0]  # the state after reading x_0 .. x_t

        def loss_from(state):
            return model.forward(inputs[:, t + 1:], inputs[:, t + 1:], mask[:, t + 1:], state=[(state,)]).loss

        grad = np.zeros(h.shape[1])
        for u in range(h.shape[1]):
            up, down = h.copy(), h.copy()
            up[0, u] += eps
            down[0, u] -= eps
            grad[u] = (loss_from(up) - loss_from(down)) / (2 * eps)
        assert reach[t] == pytest.approx(np.linalg.norm(grad), rel=1e-6)
    assert reach[0] < reach[5]  # further back, less gradient: the vanilla RNN forgets


def test_float32_by_default_and_seed_reproduces():
    a = CharRNN(ModelShape("gru", 10, 4, 6, 2), seed=7)
    b = CharRNN(ModelShape("gru", 10, 4, 6, 2), seed=7)
    c = CharRNN(ModelShape("gru", 10, 4, 6, 2), seed=8)
    assert a.flat.dtype == np.float32
    assert np.array_equal(a.flat, b.flat) and not np.array_equal(a.flat, c.flat)
    tokens = np.arange(20).reshape(2, 10) % 10
    assert a.forward(tokens, tokens).loss == b.forward(tokens, tokens).loss


def test_initialisation_bounds_and_forget_bias():
    H = 16
    model = CharRNN(ModelShape("lstm", 10, 8, H, 2), seed=0, forget_bias=1.0)
    bound = 1 / math.sqrt(H)
    w = model.params["rnn.weight_hh_l1"]
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    for k in range(2):
        total = model.params[f"rnn.bias_ih_l{k}"] + model.params[f"rnn.bias_hh_l{k}"]
        assert np.all(total[H:2 * H] == 1.0)
        assert not np.any(total[:H] == 1.0)


def test_dropout_is_seeded_and_only_between_layers():
    model = CharRNN(ModelShape("lstm", 8, 4, 6, 2), dtype=np.float64, seed=0)
    tokens = np.random.default_rng(0).integers(0, 8, (2, 9))
    plain = model.forward(tokens, tokens).loss

    def run(seed):
        return model.forward(tokens, tokens, dropout=0.5, rng=np.random.default_rng(seed)).loss

    assert run(1) == run(1) and run(1) != run(2) and run(1) != plain
    single = CharRNN(ModelShape("lstm", 8, 4, 6, 1), dtype=np.float64, seed=0)
    assert single.forward(tokens, tokens, dropout=0.5, rng=np.random.default_rng(1)).loss == single.forward(tokens, tokens).loss


def test_dropout_gradients_match_with_a_fixed_mask():
    model, batch = random_problem("gru", 2, mask=False)
    seeded = dict(batch, dropout=0.3)
    # The same generator seed before every pass gives every pass the same dropout mask.
    model.forward(**seeded, rng=np.random.default_rng(5))
    model.backward()
    analytic = model.grad_flat.copy()
    eps, numeric = 1e-5, np.zeros_like(analytic)
    for i in range(0, model.flat.size, 7):
        keep = model.flat[i]
        model.flat[i] = keep + eps
        plus = model.forward(**seeded, rng=np.random.default_rng(5)).loss
        model.flat[i] = keep - eps
        minus = model.forward(**seeded, rng=np.random.default_rng(5)).loss
        model.flat[i] = keep
        numeric[i] = (plus - minus) / (2 * eps)
    picked = slice(0, model.flat.size, 7)
    np.testing.assert_allclose(analytic[picked], numeric[picked], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("width", [2, 100])  # narrow rows go through reduceat, wide ones run by run
def test_segment_sum_adds_rows_by_index(width):
    rows = np.arange(6 * width, dtype=float).reshape(6, width)
    out = segment_sum(np.array([2, 0, 2, 3, 0, 2]), rows, 5)
    expected = np.zeros((5, width))
    for i, v in enumerate([2, 0, 2, 3, 0, 2]):
        expected[v] += rows[i]
    np.testing.assert_array_equal(out, expected)


def test_segment_sum_of_wide_rows_does_not_copy_them_all():
    # At (c) in float64 d is 105 MB; a sorted copy of it added as much to the step's peak memory.
    rows = np.ones((4000, 256))  # 8 MB, in 40 runs
    index = np.arange(4000) % 40
    tracemalloc.start()
    try:
        out = segment_sum(index, rows, 40)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(out, np.full((40, 256), 100.0))
    assert peak < rows.nbytes / 4, f"{peak / 1e6:.1f} MB for {rows.nbytes / 1e6:.1f} MB of rows"


def test_fully_masked_batch_scores_nothing():
    model = CharRNN(ModelShape("rnn", 5, 3, 4, 1), dtype=np.float64)
    tokens = np.array([[1, 2, 3]])
    result = model.forward(tokens, tokens, np.zeros((1, 3)))
    model.backward()
    assert result.count == 0 and result.loss == 0.0
    assert not np.any(model.grad_flat)


def test_a_trace_survives_the_next_forward_pass():
    model = CharRNN(ModelShape("lstm", 6, 3, 4, 1), dtype=np.float64, seed=0)
    trace = model.forward(np.array([[1, 2, 3]]), trace=True).trace
    kept = {name: a.copy() for name, a in trace[0].items()}
    model.forward(np.array([[5, 4, 0]]))
    for name, a in trace[0].items():
        assert np.array_equal(a, kept[name]), name
