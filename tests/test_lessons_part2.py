"""Lessons 5-9 headless: `rnntui learn NAME --print`, its numbers checked against the models they come from."""

import re

import numpy as np
import pytest
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
def test_printed_gates_add_up_and_match_pytorch_cells(cell, unit, at):
    out = printed(cell, "--print", "--steps", "12", "--unit", unit, "--at", at, "--seed", "1")
    lines = equation_lines(out)
    order = [line.split(" = ")[0] for line in lines]
    assert order == (["i", "f", "g", "o", "c", "h"] if cell == "lstm" else ["r", "z", "n", "h"])  # PyTorch's order
    for line in lines:
        check_equation_line(line)
    # The same lesson, trained the same 12 steps, gives the tensors the printed numbers must come from.
    lesson = find(cell)(seed=1)
    lesson.train(12)
    model, vocab = lesson.live.model, lesson.live.trainer.vocab
    value = {line.split(" = ")[0]: float(line.rsplit(" = ", 1)[1]) for line in lines}
    expected = reference_step(model, vocab.encode(PROBE), at, cell)
    for name, v in value.items():
        assert v == pytest.approx(expected[name][unit], abs=6e-4), name
    assert f"unit {unit}" in out and f"t={at} {PROBE[at]!r}" in out


def reference_step(model, ids, at, cell):
    """Gates and state at step `at`, from the model's tensors: PyTorch's own cells where installed, else NumPy."""
    p = {k: v.astype(np.float64) for k, v in model.params.items()}
    H = model.shape.hidden_size
    x = p["embedding.weight"][ids[: at + 1]]
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        T = lambda a: torch.from_numpy(a)  # noqa: E731
        Cell = torch.nn.LSTMCell if cell == "lstm" else torch.nn.GRUCell
        module = Cell(x.shape[1], H).double()
        module.load_state_dict({"weight_ih": T(p["rnn.weight_ih_l0"]), "weight_hh": T(p["rnn.weight_hh_l0"]),
                                "bias_ih": T(p["rnn.bias_ih_l0"]), "bias_hh": T(p["rnn.bias_hh_l0"])})
        h, c = torch.zeros(1, H, dtype=torch.float64), torch.zeros(1, H, dtype=torch.float64)
        with torch.no_grad():
            for s in range(at):
                if cell == "lstm":
                    h, c = module(T(x[s : s + 1]), (h, c))
                else:
                    h = module(T(x[s : s + 1]), h)
            a = torch.nn.functional.linear(T(x[at : at + 1]), module.weight_ih, module.bias_ih)[0].numpy()
            b = torch.nn.functional.linear(h, module.weight_hh, module.bias_hh)[0].numpy()
            h_prev, c_prev = h[0].numpy(), c[0].numpy()
            after = module(T(x[at : at + 1]), (h, c) if cell == "lstm" else h)
    else:
        raise pytest.skip.Exception("torch is not installed; test_lesson_maths checks the gates against NumPy")
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    if cell == "lstm":
        out = dict(i=sig(a[:H] + b[:H]), f=sig(a[H:2*H] + b[H:2*H]), g=np.tanh(a[2*H:3*H] + b[2*H:3*H]),
                   o=sig(a[3*H:] + b[3*H:]))
        out["c"], out["h"] = after[1][0].numpy(), after[0][0].numpy()
        assert np.allclose(out["c"], out["f"] * c_prev + out["i"] * out["g"])
    else:
        r, z = sig(a[:H] + b[:H]), sig(a[H:2*H] + b[H:2*H])
        out = dict(r=r, z=z, n=np.tanh(a[2*H:] + r * b[2*H:]), h=after[0].numpy())
        assert np.allclose(out["h"], (1 - z) * out["n"] + z * h_prev)
    return out


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
