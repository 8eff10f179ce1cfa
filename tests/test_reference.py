"""The reference cells against centred differences, then the fast engine against the reference.

The reference (engine/reference.py) is the equations one gate a line; once its
gradients are shown right by finite differences, every number the fast engine
produces (losses, logits, final states, the traced gates, every gradient, the
gradient handed to an earlier chunk, the gradient's reach) must equal it to
float64 rounding, on each path the fast code takes.
"""

import numpy as np
import pytest

from rnntui.engine import cells, reference
from rnntui.engine.gradcheck import random_problem, relative_error
from rnntui.engine.model import CharRNN
from rnntui.engine.shape import gate_count

CELLS = ["rnn", "lstm", "gru"]
# Fast against reference in float64, as a share of a tensor's largest entry: measured at most 1e-15
# (rounding), and a weight off by 1e-6 moves every compared quantity by at least 5e-11.
FLOAT64_TOL = 1e-12
# float32 against the same parameters in float64: measured at most 3e-7 (float32 rounds at 6e-8).
FLOAT32_TOL = 3e-6


def centred_differences(f, array: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """d f() / d array, one entry at a time, by (f(a + eps) - f(a - eps)) / (2 eps), `array` changed in place."""
    grad = np.zeros_like(array)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for n in range(flat.size):
        keep = flat[n]
        flat[n] = keep + eps
        plus = f()
        flat[n] = keep - eps
        minus = f()
        flat[n] = keep
        out[n] = (plus - minus) / (2 * eps)
    return grad


def random_state(cell: str, layers: int, batch: int, hidden: int, rng) -> list:
    return [tuple(rng.uniform(-0.8, 0.8, (batch, hidden)) for _ in reference.STATE[cell]) for _ in range(layers)]


def dot(states_a: list, states_b: list) -> float:
    """Sum of elementwise products over every layer's state arrays."""
    return sum(float(np.sum(a * b)) for la, lb in zip(states_a, states_b) for a, b in zip(la, lb))


# ----- (a) the reference's backward against centred differences ---------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_reference_sequence_backward_matches_centred_differences(cell):
    """One layer over time, from a carried state, with gradient arriving at every output and at the final state."""
    rng = np.random.default_rng(1)
    T, B, D, H = 5, 2, 3, 4
    G = gate_count(cell)
    w = reference.Weights(rng.uniform(-0.7, 0.7, (G * H, D)), rng.uniform(-0.7, 0.7, (G * H, H)),
                          rng.uniform(-1, 1, G * H), rng.uniform(-1, 1, G * H))
    xs = rng.standard_normal((T, B, D))
    (state,) = random_state(cell, 1, B, H, rng)
    dhs = rng.standard_normal((T, B, H))  # the loss is linear in the outputs and the final state:
    (dstate,) = random_state(cell, 1, B, H, rng)  # sum(dhs * hs) + sum(dstate * final state)

    def loss():
        hs, final, _ = reference.sequence_forward(cell, w, xs, state)
        return float(np.sum(dhs * hs)) + dot([final], [dstate])

    _, _, saved = reference.sequence_forward(cell, w, xs, state)
    back = reference.sequence_backward(cell, w, saved, dhs, dstate)
    for name, analytic, array in [*zip(reference.Weights._fields, back.weights, w), ("xs", back.xs, xs),
                                  *((f"state.{s}", d, a) for s, d, a in zip(reference.STATE[cell], back.state, state))]:
        assert relative_error(analytic, centred_differences(loss, array)) < 1e-7, name


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("handed_back", [False, True])
def test_reference_model_backward_matches_centred_differences(cell, layers, handed_back):
    """The whole model, from a carried state, with a mask; `handed_back`: a later chunk's dLoss/d(final state)."""
    model, batch = random_problem(cell, layers, vocab=5, batch=2, steps=5, embed=3, hidden=3)
    params = {name: p.copy() for name, p in model.params.items()}
    state = batch.pop("state")
    dstate = random_state(cell, layers, 2, 3, np.random.default_rng(2)) if handed_back else None

    def loss():
        run = reference.model_forward(cell, params, **batch, state=state)
        return run.loss + (dot(run.state, dstate) if handed_back else 0.0)

    run = reference.model_forward(cell, params, **batch, state=state)
    grads, dstate0, _ = reference.model_backward(cell, params, run, dstate)
    for name, p in params.items():
        assert relative_error(grads[name], centred_differences(loss, p)) < 1e-7, name
    for k in range(layers):
        for s, analytic, array in zip(reference.STATE[cell], dstate0[k], state[k]):
            assert relative_error(analytic, centred_differences(loss, array)) < 1e-7, f"layer {k} {s}"


def test_reference_lstm_step_reads_as_the_equations():
    """One unit, one input: the step's trace against the contract's equations written with scalars."""
    rng = np.random.default_rng(3)
    w = reference.Weights(*(rng.uniform(-1.5, 1.5, shape) for shape in [(4, 1), (4, 1), (4,), (4,)]))
    x, h0, c0 = 0.3, -0.4, 0.9

    def s(v):
        return 1 / (1 + np.exp(-v))

    sums = w.W_ih[:, 0] * x + w.b_ih + w.W_hh[:, 0] * h0 + w.b_hh  # rows i, f, g, o
    i, f, g, o = s(sums[0]), s(sums[1]), np.tanh(sums[2]), s(sums[3])
    (h, c), saved = reference.lstm_step(w, np.array([[x]]), (np.array([[h0]]), np.array([[c0]])))
    assert c[0, 0] == pytest.approx(f * c0 + i * g, abs=1e-15)
    assert h[0, 0] == pytest.approx(o * np.tanh(f * c0 + i * g), abs=1e-15)
    assert [saved[k][0, 0] for k in "ifgo"] == pytest.approx([i, f, g, o], abs=1e-15)


# ----- (b) the fast engine against the reference -----------------------------------------------


def fast_and_reference(model: CharRNN, batch: dict, dstate: list | None, params64: dict | None = None) -> dict:
    """Every number one forward and backward of the fast model gives, paired with the reference's:
    name -> (fast, reference). The reference runs in float64 on `params64` (default: the model's own)."""
    cell, dtype = model.shape.cell, model.dtype
    state = [tuple(a.astype(dtype) for a in layer) for layer in batch["state"]]
    fast = model.forward(batch["inputs"], batch["targets"], batch["mask"], state, logits=True, trace=True)
    fast_dstate = None if dstate is None else [tuple(a.astype(dtype) for a in layer) for layer in dstate]
    fast_dstate0, fast_reach = model.backward(fast_dstate, reach=True)

    params = params64 or {name: p.astype(np.float64) for name, p in model.params.items()}
    ref_state = [tuple(a.astype(np.float64) for a in layer) for layer in state]
    run = reference.model_forward(cell, params, batch["inputs"], batch["targets"], batch["mask"], ref_state)
    grads, dstate0, reach = reference.model_backward(cell, params, run, dstate)

    pairs = {"loss": (np.array(fast.loss), np.array(run.loss)), "logits": (fast.logits, run.logits)}
    pairs.update({f"grad {name}": (g, grads[name]) for name, g in model.grads.items()})
    for k in range(model.shape.num_layers):
        assert fast.trace[k].keys() == run.trace[k].keys() == set(reference.TRACED[cell])
        pairs.update({f"trace l{k} {name}": (a, run.trace[k][name]) for name, a in fast.trace[k].items()})
        for s, fast_s, ref_s, fast_d, ref_d in zip(reference.STATE[cell], fast.state[k], run.state[k],
                                                   fast_dstate0[k], dstate0[k]):
            pairs[f"final {s} l{k}"] = (fast_s, ref_s)
            pairs[f"dLoss/d initial {s} l{k}"] = (fast_d, ref_d)
        pairs[f"reach l{k}"] = (fast_reach[k], reach[k])
    return pairs


def deviations(pairs: dict) -> dict[str, float]:
    """Per quantity: the largest difference, as a share of the reference's largest entry."""
    worst = {}
    for name, (fast, ref) in pairs.items():
        assert fast.shape == ref.shape, name
        scale = np.max(np.abs(ref))
        assert scale > 0, f"{name} is all zeros: the comparison would show nothing"
        worst[name] = float(np.max(np.abs(fast - ref)) / scale)
    return worst


def problem(cell: str, layers: int, fold: bool, handed_back: bool, seed: int = 0):
    """A float64 model with a carried state and a mask; T*B > V takes the folded first layer."""
    vocab = 7 if fold else 40
    model, batch = random_problem(cell, layers, seed, vocab=vocab, batch=3, steps=6, hidden=5)
    assert (batch["inputs"].size > vocab) == fold
    dstate = random_state(cell, layers, 3, 5, np.random.default_rng(seed + 10)) if handed_back else None
    return model, batch, dstate


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("fold", [True, False], ids=["folded", "unfolded"])
@pytest.mark.parametrize("handed_back", [False, True], ids=["truncated", "full"])
def test_fast_engine_equals_reference_in_float64(cell, layers, fold, handed_back):
    worst = deviations(fast_and_reference(*problem(cell, layers, fold, handed_back)))
    assert max(worst.values()) < FLOAT64_TOL, {k: v for k, v in worst.items() if v >= FLOAT64_TOL}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("block_steps", [1, 4])
def test_fast_engine_equals_reference_on_the_paths_large_shapes_take(cell, block_steps, monkeypatch):
    """One recurrent product a gate, backward factors a block of steps at a time (4 does not divide T=6)."""
    monkeypatch.setattr(cells, "PER_GATE_PRODUCT_MIN", 0)
    model, batch, dstate = problem(cell, 2, True, True)
    B, G, H = 3, model.cells[0].G, model.shape.hidden_size
    monkeypatch.setattr(cells, "FACTOR_BLOCK_BYTES", block_steps * B * G * H * 8)
    assert model.cells[0]._block_steps(B, np.float64) == block_steps
    worst = deviations(fast_and_reference(model, batch, dstate))
    assert max(worst.values()) < FLOAT64_TOL, {k: v for k, v in worst.items() if v >= FLOAT64_TOL}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("fold", [True, False], ids=["folded", "unfolded"])
def test_fast_engine_in_float32_is_near_the_reference(cell, fold):
    model64, batch, dstate = problem(cell, 2, fold, True)
    model = CharRNN(model64.shape, dtype=np.float32)
    model.load_params(model64.params)
    worst = deviations(fast_and_reference(model, batch, dstate))
    assert max(worst.values()) < FLOAT32_TOL, {k: v for k, v in worst.items() if v >= FLOAT32_TOL}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_lstm_gates_are_exact_and_silent(dtype):
    """Pre-activations in the thousands: e^-x overflows inside the LSTM's gate pass, which is exact
    there (1 / (1 + inf) = 0), so the forward values equal the reference's and nothing warns.
    (The backward of so saturated a model amplifies rounding past the tolerances above either way.)"""
    model64, batch, dstate = problem("lstm", 2, True, True)
    for name, p in model64.params.items():
        if name.startswith("rnn.weight"):
            p *= 2000.0
    model = CharRNN(model64.shape, dtype=dtype)
    model.load_params(model64.params)
    state = [tuple(a.astype(dtype) for a in layer) for layer in batch["state"]]
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):  # what NumPy warns of
        model.forward(batch["inputs"], batch["targets"], batch["mask"], state)
    gates = model.cells[0].acts
    with np.errstate(over="ignore"):  # the reference's sigmoid, 1 / (1 + e^-x), overflows the same way
        pairs = fast_and_reference(model, batch, dstate)
    assert all(np.isfinite(fast).all() for fast, _ in pairs.values())
    sigmoids, g = gates[:, :, [0, 1, 3]], gates[:, :, 2]
    assert sigmoids.min() == 0.0 and sigmoids.max() == 1.0  # e^-x overflowed, and e^-x vanished beside 1
    assert g.min() == -1.0 and g.max() == 1.0
    if dtype == np.float64:  # in float32 the pre-activations themselves, in the thousands, round at 1e-4
        forward = {k: v for k, v in pairs.items() if k.split()[0] in ("loss", "logits", "trace", "final")}
        worst = deviations(forward)
        assert max(worst.values()) < FLOAT64_TOL, {k: v for k, v in worst.items() if v >= FLOAT64_TOL}


@pytest.mark.parametrize("cell", CELLS)
def test_a_small_error_in_one_weight_fails_every_comparison(cell):
    """The tolerance is tight: were the fast engine's W_hh off by 1e-6 in one entry of the first
    layer, every quantity compared above (the loss included) would miss by over ten times it."""
    model, batch, dstate = problem(cell, 2, True, True)
    params = {name: p.copy() for name, p in model.params.items()}
    params["rnn.weight_hh_l0"][0, 0] += 1e-6
    worst = deviations(fast_and_reference(model, batch, dstate, params64=params))
    assert min(worst.values()) > 10 * FLOAT64_TOL, min(worst, key=worst.get)
