"""Lessons 5-9 headless: `rnntui learn NAME --print`, its numbers checked against the models they come from."""

import json
import re

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file
from cli_helpers import run
from test_lesson_maths import check_equation_line

from rnntui.lessons import find
from rnntui.lessons.cell_lesson import PROBE

EQUATION = re.compile(r"^([ifgorzn]|c|h) = ")


def printed(*args):
    result = run("learn", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def equation_lines(text):
    """The printed equation lines: a quantity, its formula, its numbers and its value (three ' = ' at least)."""
    return [line for line in text.splitlines() if EQUATION.match(line) and line.count(" = ") >= 3]


@pytest.mark.parametrize("cell,unit,at", [("lstm", 5, 9), ("gru", 2, 16)])
def test_printed_gates_add_up_and_match_pytorch_cells(cell, unit, at, tmp_path):
    out = printed(cell, "--print", "--steps", "12", "--unit", unit, "--at", at, "--seed", "1")
    lines = equation_lines(out)
    order = [line.split(" = ")[0] for line in lines]
    assert order == (["i", "f", "g", "o", "c", "h"] if cell == "lstm" else ["r", "z", "n", "h"])  # PyTorch's order
    for line in lines:
        check_equation_line(line)
    # The same lesson, trained the same 12 steps and saved as a checkpoint: the printed numbers must
    # follow from the file's tensors alone.
    lesson = find(cell)(seed=1)
    lesson.train(12)
    lesson.live.trainer.save(tmp_path / "lesson.safetensors")
    tensors = load_file(str(tmp_path / "lesson.safetensors"))
    vocab = json.loads(safe_open(str(tmp_path / "lesson.safetensors"), "np").metadata()["vocab"])
    value = {line.split(" = ")[0]: float(line.rsplit(" = ", 1)[1]) for line in lines}
    expected = reference_step(tensors, [vocab.index(ch) for ch in PROBE], at, cell)
    for name, v in value.items():
        assert v == pytest.approx(expected[name][unit], abs=6e-4), name
    assert f"unit {unit}" in out and f"t={at} {PROBE[at]!r}" in out


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def reference_step(tensors, ids, at, cell):
    """Gates and state at step `at` from a checkpoint's tensors: PyTorch's own cells carry the state up to it
    where torch is installed, a NumPy loop written out here otherwise; the gates at `at` from the two sums."""
    p = {k: v.astype(np.float64) for k, v in tensors.items()}
    W_ih, W_hh, b_ih, b_hh = (p[f"rnn.{name}_l0"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    H = W_hh.shape[1]
    x = p["embedding.weight"][ids[: at + 1]]
    h, c = np.zeros(H), np.zeros(H)
    try:
        import torch
    except ImportError:
        torch = None
    for s in range(at + 1):
        a, b = W_ih @ x[s] + b_ih, W_hh @ h + b_hh  # the input side and the hidden side of every gate
        if cell == "lstm":
            i, f, g, o = sigmoid(a[:H] + b[:H]), sigmoid(a[H:2*H] + b[H:2*H]), np.tanh(a[2*H:3*H] + b[2*H:3*H]), \
                sigmoid(a[3*H:] + b[3*H:])
            gates, h_prev, c_prev = dict(i=i, f=f, g=g, o=o), h, c
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            r, z = sigmoid(a[:H] + b[:H]), sigmoid(a[H:2*H] + b[H:2*H])
            n = np.tanh(a[2*H:] + r * b[2*H:])
            gates, h_prev = dict(r=r, z=z, n=n), h
            h = (1 - z) * n + z * h
    if torch is not None:  # the state from PyTorch's own cell, stepped over the same inputs
        module = (torch.nn.LSTMCell if cell == "lstm" else torch.nn.GRUCell)(x.shape[1], H).double()
        module.load_state_dict({k: torch.from_numpy(v) for k, v in
                                dict(weight_ih=W_ih, weight_hh=W_hh, bias_ih=b_ih, bias_hh=b_hh).items()})
        state = (torch.zeros(1, H, dtype=torch.float64),) * (2 if cell == "lstm" else 1)
        with torch.no_grad():
            for s in range(at + 1):
                state = module(torch.from_numpy(x[s : s + 1]), state if cell == "lstm" else state[0])
                state = state if cell == "lstm" else (state,)
        np.testing.assert_allclose(h, state[0][0].numpy(), atol=1e-12)
        if cell == "lstm":
            np.testing.assert_allclose(c, state[1][0].numpy(), atol=1e-12)
    return dict(gates, h=h, h_prev=h_prev, **(dict(c=c, c_prev=c_prev) if cell == "lstm" else {}))


def test_unit_and_at_are_refused_where_they_mean_nothing():
    bad = run("learn", "race", "--print", "--unit", "1")
    assert bad.exit_code == 2 and "lstm and gru" in bad.stderr and "Traceback" not in bad.output
    bad = run("learn", "lstm", "--print", "--at", "999")
    assert bad.exit_code == 2 and "--at is a timestep" in bad.stderr


def percent(pattern, text):
    return float(re.search(pattern, text).group(1)) / 100


def test_bptt_print_says_what_its_numbers_say():
    out = printed("bptt", "--print", "--steps", "40")
    full, cut = percent(r"full BPTT (\d+)%", out), percent(r"k=5 (\d+)%", out)
    assert "the symbol at t=0 gets none of it" in out  # span 20 > k = 5
    if full < 0.9 and cut < 0.9:
        assert "neither copy has learned" in out
    elif cut < 0.9:
        assert "the cut costs" in out
    # The backward walk: the truncated row is cut before the last chunk, the full row is not.
    walk = run("learn", "bptt", "--print", "--steps", "0").stdout
    assert "k=5 0 (cut)" not in walk  # the walk starts at the last step, inside the last chunk
    assert re.search(r"L = .* = L_T = \d\.\d{3}", walk)


def test_vanishing_print_shows_the_factors_and_the_reach_before_training():
    out = printed("vanishing", "--print", "--steps", "0")
    sigma = float(re.search(r"σ_max\(W_hh\) = (\d\.\d+)", out).group(1))
    lesson = find("vanishing")(seed=0)
    from rnntui.lessons.jacobian import largest_singular_value
    rnn = next(r for r in lesson.race.racers if r.cell == "rnn").model
    assert sigma == pytest.approx(largest_singular_value(rnn.params["rnn.weight_hh_l0"]), abs=1e-3)
    reach = {row: float(re.search(rf"^ {re.escape(row)}\s+(\S+)", out, re.M).group(1))
             for row in ("RNN", "LSTM (h)", "LSTM (c)", "GRU")}
    assert reach["RNN"] < 1e-4 < reach["LSTM (c)"]  # the vanilla RNN's gradient has vanished over 20 steps
    assert ("memory lives in c" in out) == (reach["LSTM (c)"] > 10 * reach["LSTM (h)"])


def test_race_print_in_korean_speaks_of_its_own_scores():
    out = printed("race", "--print", "--steps", "30", "--lang", "ko")
    assert "경주" in out and "스텝 30" in out
    scores = dict(re.findall(r"^ (RNN|LSTM|GRU) .*?(\d+\.\d)%", out, re.M))
    assert set(scores) == {"RNN", "LSTM", "GRU"}
    if all(float(v) < 90 for v in scores.values()):
        assert "아직 아무도 기억하지 못합니다" in out
