"""The memory lab's computations: gradient reach, gate saturation, the race, and `rnntui lab`."""

import json
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

import rnntui.cli.lab  # noqa: F401  (registers `lab` until rnntui/cli/__init__.py imports it)
from rnntui.cli import app
from rnntui.data.tasks import RecallTask
from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.lab.race import Race, RaceConfig, batch_gradient, hidden_for_budget, run_race
from rnntui.lab.reach import gradient_reach, probe_reach
from rnntui.lab.saturation import gate_saturation

SMALL = RaceConfig(task="recall", span=4, steps=120, batch=16, params=1200, eval_every=40, eval_size=64)


# ----- gradient reach -------------------------------------------------------------------------


def numeric_reach(model, inputs, targets, position, t, eps=1e-6):
    """||dLoss/dh_t|| of the top layer by centred differences: run to t, nudge the carried h, run on to the scored step."""
    state = model.forward(inputs[None, : t + 1]).state
    mask = np.zeros((1, position - t))
    mask[0, -1] = 1.0
    rest = inputs[None, t + 1 : position + 1], targets[None, t + 1 : position + 1]

    def loss(h):
        nudged = state[:-1] + [(h, *state[-1][1:])]  # only h moves; an LSTM's c stays put
        return model.forward(*rest, mask, state=nudged).loss

    h = state[-1][0]
    grad = np.zeros_like(h)
    for i in range(h.size):
        up, down = h.copy(), h.copy()
        up.flat[i] += eps
        down.flat[i] -= eps
        grad.flat[i] = (loss(up) - loss(down)) / (2 * eps)
    return np.linalg.norm(grad)


@pytest.mark.parametrize("cell,layers", [("rnn", 1), ("lstm", 1), ("gru", 1), ("lstm", 2)])
def test_reach_matches_a_direct_computation(cell, layers):
    # Top layer only: a lower layer's h_t also feeds the layer above at t, a path the nudge above cannot reach.
    model = CharRNN(ModelShape(cell, 5, 3, 4, layers), dtype=np.float64, seed=1)
    rng = np.random.default_rng(2)
    inputs, targets, position = rng.integers(0, 5, 9), rng.integers(0, 5, 9), 7
    reach = probe_reach(model, inputs, targets, position)
    assert reach.shape == (layers, position + 1)
    for t in range(position):
        expected = numeric_reach(model, inputs, targets, position, t)
        assert reach[-1, position - t] == pytest.approx(expected, rel=1e-6)


def test_reach_averages_probes_geometrically_and_a_vanilla_rnn_vanishes():
    task = RecallTask(span=30)
    model = CharRNN(ModelShape("rnn", task.vocab.size, 8, 16, 1), dtype=np.float64, seed=0)
    batch = task.batch(np.random.default_rng(0), 2)
    one, two = (probe_reach(model, batch.inputs[b], batch.targets[b], 30) for b in range(2))
    reach = gradient_reach(model, batch)
    np.testing.assert_allclose(reach.norms, np.sqrt(one * two))
    assert reach.distances[-1] == 30
    # Small random weights contract: 30 steps back, orders of magnitude of the gradient are gone.
    assert reach.ratio(30) < 1e-4


# ----- gate saturation ------------------------------------------------------------------------


def test_saturation_counts_the_share_of_steps_each_unit_is_near_0_or_1():
    # A 3-unit LSTM whose gates read only the input: unit 0 always open, unit 1 always shut,
    # unit 2 open for token 0 and shut for token 1 (so its shares are the tokens' shares).
    model = CharRNN(ModelShape("lstm", 2, 1, 3, 1), dtype=np.float64)
    model.flat[...] = 0.0
    model.params["embedding.weight"][:, 0] = [1.0, -1.0]
    for gate in range(4):
        rows = slice(3 * gate, 3 * gate + 3)
        model.params["rnn.bias_ih_l0"][rows] = [10.0, -10.0, 0.0]
        model.params["rnn.weight_ih_l0"][rows][2, 0] = 10.0
    ids = np.array([0, 0, 0, 1] * 25)
    found = {g.gate: g for g in gate_saturation(model, ids, chunk=7)}  # chunks must not change the counts
    assert sorted(found) == ["f", "i", "o"]
    for g in found.values():
        np.testing.assert_allclose(g.right, [1.0, 0.0, 0.75])
        np.testing.assert_allclose(g.left, [0.0, 1.0, 0.25])
        assert g.steps == 100
    assert gate_saturation(CharRNN(ModelShape("rnn", 2, 1, 3, 1)), ids) == []


# ----- the race ---------------------------------------------------------------------------------


def test_cells_are_sized_to_the_same_parameter_budget():
    sizes = {cell: hidden_for_budget(cell, 9, 8, 3000) for cell in ("rnn", "lstm", "gru")}
    assert sizes["rnn"] > sizes["gru"] > sizes["lstm"]
    for cell, hidden in sizes.items():
        count = ModelShape(cell, 9, 8, hidden, 1).param_count()
        step = ModelShape(cell, 9, 8, hidden + 1, 1).param_count() - count
        assert abs(count - 3000) <= step / 2 + 1


def test_truncation_cuts_the_gradient_that_would_carry_the_symbol():
    task = RecallTask(span=6)
    batch = task.batch(np.random.default_rng(0), 8)
    symbols = np.unique(batch.inputs[:, 0])
    model = CharRNN(ModelShape("lstm", task.vocab.size, 4, 5, 1), dtype=np.float64)
    full = batch_gradient(model, batch, bptt=0)().loss
    embedding_full = model.grads["embedding.weight"][symbols].copy()
    # k at least the sequence length is full BPTT, the same loss and gradient.
    assert batch_gradient(model, batch, bptt=7)().loss == pytest.approx(full)
    np.testing.assert_allclose(model.grads["embedding.weight"][symbols], embedding_full)
    # k = 3: the symbol is read in the first chunk, scored in the last, and no gradient reaches it.
    assert batch_gradient(model, batch, bptt=3)().loss == pytest.approx(full)  # the forward pass is unchanged
    assert np.abs(embedding_full).max() > 0
    assert np.abs(model.grads["embedding.weight"][symbols]).max() == 0.0


def test_a_small_race_yields_standings_and_the_gated_cells_learn():
    seen = []
    race = run_race(SMALL, seen.append)
    assert [s.step for s in seen] == [0, 40, 80, 120]
    results = {r.cell: r for r in race.results()}
    assert set(results) == {"rnn", "lstm", "gru"}
    for r in results.values():
        assert r.chance == pytest.approx(1 / 8) and len(r.curve) == 4 and 0 <= r.accuracy <= 1
        assert abs(r.params - 1200) < 100
    assert results["gru"].accuracy > 0.9 and results["lstm"].accuracy > 0.9
    again = run_race(SMALL).results()
    assert [r.curve for r in again] == [r.curve for r in results.values()]  # a seed fixes the whole race


def test_a_race_can_be_stopped_between_standings():
    race = Race(replace(SMALL, steps=1000))
    race.listeners.append(lambda event: race.request_stop() if getattr(event, "step", 0) == 40 else None)
    finished = race.run()
    assert finished.reason == "stopped"
    assert race.step == 40 and len(race.results()[0].curve) == 2


def test_a_race_takes_one_step_at_a_time_when_paused():
    race = Race(replace(SMALL, steps=1000))
    race.send("pause")
    race.send("step")
    race.send("step")
    race.send("stop")
    finished = race.run()
    assert (finished.step, finished.reason) == (2, "stopped")


def test_a_race_with_a_time_budget_alone_runs_past_any_step_cap_and_ends_on_standings():
    seen = []
    race = run_race(replace(SMALL, steps=None, minutes=0.005), seen.append)  # 0.3 seconds
    assert race.step > 0 and seen[-1].step == race.step  # the curves end where the time ran out
    steps = [s.step for s in seen]
    assert steps == sorted(set(steps)) and all(step % 40 == 0 for step in steps[:-1])  # every 40 steps, then the last
    both = run_race(replace(SMALL, steps=40, minutes=10.0))
    assert both.step == 40  # whichever comes first


def test_advancing_step_by_step_is_the_same_race_as_iterating():
    # A UI advances one step at a time to look for a stop between steps; the curves must not change.
    stepped = Race(replace(SMALL, steps=80))
    seen = [stepped.standings()]
    while not stepped.finished:
        standings = stepped.advance()
        if standings is not None:
            seen.append(standings)
    assert [s.step for s in seen] == [0, 40, 80]
    assert [r.curve for r in stepped.results()] == [r.curve for r in run_race(replace(SMALL, steps=80)).results()]


# ----- the command ------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(app, ["lab", *map(str, args)])


def test_lab_race_json_holds_a_result_per_cell():
    result = run("race", "--span", 3, "--steps", 20, "--eval-every", 10, "--cells", "rnn,gru", "--params", 800, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["task"] == "recall" and summary["span"] == 3 and summary["chance"] == pytest.approx(0.125)
    assert summary["filler"] == "noise"  # random distractors unless asked otherwise
    assert [r["cell"] for r in summary["results"]] == ["rnn", "gru"]
    for r in summary["results"]:
        assert {"cell", "params", "accuracy", "chance", "curve"} <= set(r)
        assert [step for step, _ in r["curve"]] == [0, 10, 20]


def test_lab_race_table_and_reach_and_saturation_print():
    race = run("race", "--task", "brackets", "--span", 1, "--steps", 5, "--eval-every", 5, "--params", 600, "-q")
    assert race.exit_code == 0 and "accuracy" in race.stdout and "lstm" in race.stdout
    constant = run("race", "--filler", "constant", "--span", 3, "--steps", 5, "--eval-every", 5, "--params", 600, "-q")
    assert constant.exit_code == 0 and "rnn" in constant.stdout
    reach = run("reach", "--cell", "rnn", "--span", 10)
    assert reach.exit_code == 0 and "survives 10 steps back" in reach.stdout
    saturation = run("saturation", "--cell", "gru", "--span", 3, "--steps", 2, "--plot")
    assert saturation.exit_code == 0 and "gate z" in saturation.stdout


def test_lab_race_minutes_alone_and_its_help():
    result = run("race", "--span", 3, "--minutes", 0.005, "--eval-every", 10, "--cells", "gru", "--params", 600, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["steps"] > 0 and summary["results"][0]["curve"][-1][0] == summary["steps"]
    text = " ".join(run("race", "--help").stdout.replace("│", " ").split())
    assert "Default 1500; none with --minutes alone; with both, whichever comes first" in text


def test_lab_reach_draws_every_cell_on_one_axis():
    result = CliRunner().invoke(app, ["lab", "reach", "--cell", "rnn,gru", "--span", "30"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    axes = {line.strip() for line in result.stdout.splitlines() if "log scale" in line}
    assert len(axes) == 1  # one header for both cells
    rows = []
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) == 5 and cells[1].isdigit():
            rows.append((float(cells[2]), len(cells[3])))
    assert len(rows) > 20
    rows.sort()
    lengths = [length for _, length in rows]
    assert lengths == sorted(lengths)  # a longer bar always means a larger norm, whichever cell it belongs to
    assert lengths[0] < lengths[-1] / 4  # and the RNN's vanishing tail is drawn short beside the GRU


@pytest.mark.parametrize("args,message", [
    (["race", "--task", "copy"], "unknown task"),
    (["race", "--cells", "rnn,tcn"], "--cells"),
    (["race", "--filler", "zeros"], "--filler"),
    (["saturation", "--cell", "rnn", "--steps", "1"], "no gates"),
    (["saturation", "--checkpoint", "missing.safetensors"], "exactly one of --text"),
])
def test_lab_mistakes_end_in_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr
