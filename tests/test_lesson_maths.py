"""The computations under lessons 5-8: the gradient's walk back, the vanishing factor, the gates taken apart."""

import itertools
import re

import numpy as np
import pytest

from rnntui.data.tasks import RecallTask
from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.lessons.backward_walk import gradient_walk, step_losses
from rnntui.lessons.gate_parts import ProbeTrace, equations
from rnntui.lessons.jacobian import step_factors

# ----- bptt -------------------------------------------------------------------------------------


def recall_row(span=12, seed=0):
    task = RecallTask(span=span)
    batch = task.batch(np.random.default_rng(seed), 1)
    return task, batch.inputs[0], batch.targets[0], batch.mask[0]


def test_step_losses_sum_to_the_engines_loss():
    task, inputs, targets, _ = recall_row()
    model = CharRNN(ModelShape("gru", task.vocab.size, 4, 6, 1), dtype=np.float64, seed=2)
    losses = step_losses(model, inputs, targets)
    assert losses.shape == (len(inputs),) and np.all(losses > 0)
    mean = model.forward(inputs[None], targets[None]).loss
    assert losses.sum() == pytest.approx(mean * len(inputs), rel=1e-10)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_full_walk_is_the_engines_reach_of_the_summed_loss(cell):
    task, inputs, targets, _ = recall_row()
    model = CharRNN(ModelShape(cell, task.vocab.size, 4, 6, 1), dtype=np.float64, seed=2)
    every = np.ones(len(inputs))
    walk = gradient_walk(model, inputs, targets, every, k=0)
    # The sum's gradient at the first step, found directly: nudge h_0 and rerun the rest.
    first = model.forward(inputs[None, :1], targets[None, :1])
    eps = 1e-6

    def summed(h0):
        state = [(h0, *first.state[0][1:])]
        rest = model.forward(inputs[None, 1:], targets[None, 1:], state=state)
        return rest.loss * rest.count

    h0 = first.state[0][0]
    grad = np.array([
        (summed(h0 + eps * np.eye(6)[u]) - summed(h0 - eps * np.eye(6)[u])) / (2 * eps) for u in range(6)
    ])
    # dL/dh_0 = the first step's own loss gradient + what flows back from the rest.
    own = model.forward(inputs[None, :1], targets[None, :1])
    model.backward()
    head = model.params["head.weight"]
    logits = own.state[0][0] @ head.T + model.params["head.bias"]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    p[0, targets[0]] -= 1.0
    assert walk[0] == pytest.approx(np.linalg.norm(grad + p @ head), rel=1e-6)


def test_truncation_cuts_the_gradient_at_every_chunk_boundary():
    task, inputs, targets, mask = recall_row(span=12)  # only the last step is scored: the recalled symbol
    model = CharRNN(ModelShape("lstm", task.vocab.size, 4, 6, 1), dtype=np.float64, seed=2, forget_bias=2.0)
    full = gradient_walk(model, inputs, targets, mask, k=0)
    cut = gradient_walk(model, inputs, targets, mask, k=5)  # chunks 0-4, 5-9, 10-12
    assert np.all(full > 0)
    np.testing.assert_array_equal(cut[:10], 0.0)  # the symbol at t=0 gets nothing from the answer at t=12
    # Inside the last chunk the walk is the same pass, from the carried state.
    state = model.forward(inputs[None, :10]).state
    model.forward(inputs[None, 10:], targets[None, 10:], mask[None, 10:], state=state)
    _, (reach,) = model.backward(reach=True)
    np.testing.assert_allclose(cut[10:], reach, rtol=1e-12)
    # The first step back is the same with or without the cut; further back they differ.
    assert cut[12] == pytest.approx(full[12], rel=1e-12)


# ----- vanishing --------------------------------------------------------------------------------


def test_step_factor_is_the_norm_of_the_numerical_jacobian_and_bounds_the_reach():
    task, inputs, targets, mask = recall_row(span=10)
    model = CharRNN(ModelShape("rnn", task.vocab.size, 4, 5, 1), dtype=np.float64, seed=3)
    model.params["rnn.weight_hh_l0"] *= 3.0  # some units saturate: the slope matters
    sf = step_factors(model, inputs)
    T = len(inputs)
    assert sf.factors.shape == (T - 1,) and sf.products[0] == 1.0
    np.testing.assert_allclose(sf.products[1:], np.cumprod(sf.factors))
    # d = 2: dh_(T-3)/dh_(T-4) by centred differences, from the state before step T-3.
    t = T - 3
    before = model.forward(inputs[None, :t]).state
    eps = 1e-6
    columns = []
    for u in range(5):
        up, down = before[0][0].copy(), before[0][0].copy()
        up[0, u] += eps
        down[0, u] -= eps
        step = lambda h: model.forward(inputs[None, t : t + 1], state=[(h,)]).state[0][0][0]  # noqa: E731
        columns.append((step(up) - step(down)) / (2 * eps))
    assert sf.factors[2] == pytest.approx(np.linalg.norm(np.array(columns).T, 2), rel=1e-6)
    assert np.all(sf.factors <= sf.sigma_max + 1e-12)
    assert np.all(sf.chain <= sf.products * (1 + 1e-9)) and sf.chain[1] == pytest.approx(sf.factors[0])
    # chain[2] is the two-step Jacobian's norm: found again by composing the two numerical steps' product
    assert sf.chain[2] <= sf.factors[0] * sf.factors[1] * (1 + 1e-9)
    # The product of the factors bounds what the real gradient keeps d steps back.
    reach = gradient_walk(model, inputs, targets, mask, k=0)[::-1]
    assert np.all(reach / reach[0] <= sf.products * (1 + 1e-9))
    assert np.all(reach / reach[0] <= sf.chain * (1 + 1e-9))  # the real chain bounds it too, more tightly
    assert reach[-1] / reach[0] < reach[1] / reach[0]


# ----- lstm, gru: the gates taken apart ---------------------------------------------------------

NUMBER = r"-?\d+\.\d+"


def corners(expression: str, half_unit: float):
    """Every value `expression` takes when each printed number moves by up to half a unit of its last digit.

    The expressions are sums and products of the printed numbers, linear in each, so their extremes
    over the rounding box sit at its corners."""
    numbers = [float(x) for x in re.findall(NUMBER, expression)]
    template = re.sub(NUMBER, "{}", expression)
    values = []
    for signs in itertools.product((-1, 1), repeat=len(numbers)):
        values.append(eval(template.format(*(f"({n + s * half_unit})" for n, s in zip(numbers, signs)))))
    return min(values), max(values)


def check_equation_line(line: str, digits: int = 3) -> None:
    """A printed gate or state line checks out: its parts add up to its sum, the nonlinearity of that is its value."""
    half = 0.5 * 10 ** -digits
    parts = [p.strip() for p in line.split(" = ")]
    act = {"σ": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh}
    if parts[0] in ("i", "f", "g", "o", "r", "z", "n"):
        name = re.match(r"(σ|tanh)\(", parts[2]).group(1)
        numbers, pre, value = parts[2][len(name) + 1 : -1], float(parts[3][len(name) + 1 : -1]), float(parts[4])
        low, high = corners(numbers.replace(" - ", " + -"), half)
        assert low - half <= pre <= high + half, line
        # the nonlinearity's slope is at most 1: the printed sum's rounding moves the value by at most half a unit
        assert abs(act[name](pre) - value) <= 2 * half + 1e-12, line
    else:  # c = f * c_prev + i * g = ... = c;   h = ... = h
        expression = parts[2].replace("tanh", "np.tanh")
        if "np.tanh" in expression:  # h = o * tanh(c): check the tanh step, then the product
            expression = parts[3]
            o, c = (float(x) for x in re.findall(NUMBER, parts[2]))
            assert abs(np.tanh(c) - float(re.findall(NUMBER, parts[3])[1])) <= 2 * half, line
        low, high = corners(expression, half)
        assert low - half <= float(parts[-1]) <= high + half, line


def independent_gates(model: CharRNN, ids: np.ndarray, t: int) -> dict[str, np.ndarray]:
    """The first layer's gates at step t, written out from the tensors in float64, without the engine."""
    p = {k: v.astype(float) for k, v in model.params.items()}
    H = model.shape.hidden_size
    W_ih, W_hh, b_ih, b_hh = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["rnn.bias_ih_l0"], p["rnn.bias_hh_l0"]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    h, c = np.zeros(H), np.zeros(H)
    for s in range(t + 1):
        x = p["embedding.weight"][ids[s]]
        a, b = W_ih @ x + b_ih, W_hh @ h + b_hh
        if model.shape.cell == "lstm":
            i, f, g, o = sig(a[:H] + b[:H]), sig(a[H:2*H] + b[H:2*H]), np.tanh(a[2*H:3*H] + b[2*H:3*H]), sig(a[3*H:] + b[3*H:])
            c_prev, c = c, f * c + i * g
            h_prev, h = h, o * np.tanh(c)
            gates = dict(i=i, f=f, g=g, o=o, c_prev=c_prev, c=c, h_prev=h_prev, h=h)
        else:
            r, z = sig(a[:H] + b[:H]), sig(a[H:2*H] + b[H:2*H])
            n = np.tanh(a[2*H:] + r * b[2*H:])
            h_prev, h = h, (1 - z) * n + z * h
            gates = dict(r=r, z=z, n=n, h_prev=h_prev, h=h)
    return gates


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gate_parts_add_up_to_the_engines_gate_values(cell):
    model = CharRNN(ModelShape(cell, 7, 5, 6, 1), seed=4)  # float32, as the lessons train
    ids = np.array([1, 5, 2, 2, 6, 0, 3, 4])
    trace = ProbeTrace(model, ids, "abccgade")
    act = {"σ": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh}
    for t, unit in [(0, 0), (3, 2), (7, 5)]:
        step = trace.step(unit, t)
        assert [g.gate for g in step.gates] == list({"lstm": "ifgo", "gru": "rzn"}[cell])
        expected = independent_gates(model, ids, t)
        for line in step.gates:
            # the engine's value is the nonlinearity of the parts' sum (float32 rounding apart) ...
            assert act[line.nonlinearity](line.pre_activation) == pytest.approx(line.value, abs=2e-6)
            # ... and both agree with the equations computed independently in float64
            assert line.value == pytest.approx(expected[line.gate][unit], abs=2e-6)
        assert step.h == pytest.approx(expected["h"][unit], abs=2e-6)
        assert step.h_prev == pytest.approx(expected["h_prev"][unit], abs=2e-6)
        if cell == "lstm":
            assert step.c == pytest.approx(expected["c"][unit], abs=2e-6)
            assert step.c_prev == pytest.approx(expected["c_prev"][unit], abs=2e-6)
        for printed in equations(step):
            check_equation_line(printed)


def test_unit_history_lets_c_be_checked_at_every_step():
    model = CharRNN(ModelShape("lstm", 7, 5, 6, 1), dtype=np.float64, seed=4, forget_bias=1.0)
    ids = np.array([1, 5, 2, 2, 6, 0, 3, 4])
    v = ProbeTrace(model, ids, "abccgade").history(3).values
    np.testing.assert_allclose(v["c"], v["f"] * v["c_prev"] + v["i"] * v["g"], atol=1e-12)
    np.testing.assert_allclose(v["h"], v["o"] * np.tanh(v["c"]), atol=1e-12)
    gru = CharRNN(ModelShape("gru", 7, 5, 6, 1), dtype=np.float64, seed=4)
    v = ProbeTrace(gru, ids, "abccgade").history(1).values
    np.testing.assert_allclose(v["h"], (1 - v["z"]) * v["n"] + v["z"] * v["h_prev"], atol=1e-12)
