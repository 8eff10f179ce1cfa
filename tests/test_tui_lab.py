"""The lab screen: a tiny race started with keys, its three panes read back as drawn, and a clean stop.

The race is made small (span 3, 600-parameter cells, 8 sequences a step) so a
whole test runs in a few seconds on a busy machine; what is checked is what
the person sees, read from the charts' own lines.
"""

import time

import numpy as np
import pytest
from textual.app import App

from rnntui.lab.race import RaceConfig
from rnntui.plot.chart import Line, Points, line_chart, scatter_chart
from rnntui.tui.lab.screen import LabScreen, LabSettings
from rnntui.tui.widgets.run_worker import RunWorker

TINY = RaceConfig(steps=400, batch=8, params=600, eval_every=10, eval_size=32)
ENDLESS = RaceConfig(steps=100_000, batch=8, params=600, eval_every=10, eval_size=32)  # stopped by the test
SHORT = LabSettings(spans={"recall": 5, "reber": 0, "brackets": 1})
BRAILLE = range(0x2801, 0x2900)  # a braille character with at least one dot


class LabApp(App):
    def __init__(self, config=TINY, settings=SHORT):
        super().__init__()
        self.lab = LabScreen(config, settings)

    def on_mount(self) -> None:
        self.push_screen(self.lab)


async def until(pilot, condition, seconds=20.0):
    """Let the app run until `condition()` holds; fail after `seconds` (generous: the machine is shared)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def dots(text: str) -> int:
    return sum(ord(c) in BRAILLE for c in text)


# ----- the charts alone ---------------------------------------------------------------------


def test_line_chart_has_its_ticks_legend_and_exactly_the_size_asked():
    lines = [Line("lstm", [0, 50, 100], [0.1, 0.6, 1.0], "blue", legend=("lstm 100%",)),
             Line("chance", [0, 100], [0.125, 0.125], "grey50", dashed=True)]
    drawn = line_chart(lines, 60, 12, x_range=(0, 100), y_range=(0.0, 1.0), y_format=lambda v: f"{v:.0%}", x_title="step")
    text = [s.plain for s in drawn]
    assert len(drawn) == 12 and all(s.cell_len == 60 for s in drawn)
    assert text[0].startswith("100% ┤") and any(t.startswith("  0% ┤") for t in text)
    assert text[-2].rstrip().endswith("step") and "50" in text[-2]
    assert "━━ lstm 100%" in text[-1] and "╌╌ chance" in text[-1]
    assert dots("".join(text)) > 20
    # Too small to plot: only the legend, still exactly the size asked.
    assert [s.cell_len for s in line_chart(lines, 20, 3, x_range=(0, 1), y_range=(0, 1))] == [20, 20, 20]


def test_log_chart_ticks_are_powers_of_ten_and_a_cut_is_marked():
    distances = np.arange(21)
    lines = [Line("rnn", distances, 10.0 ** -(distances / 4.0), "red")]
    text = [s.plain for s in line_chart(lines, 50, 14, x_range=(0, 20), y_range=(1e-5, 1.0), log_y=True, marks=[(10, "k")])]
    ticks = [t.split("┤")[0].strip() for t in text if "┤" in t]
    assert ticks[0] == "1" and ticks[-1] == "1e-5" and all(t == "1" or t.startswith("1e-") for t in ticks)
    assert "k" in text[0]


def test_scatter_is_square_with_axes_from_0_to_1():
    # One unit at (x=0, y=1), top left; one at (x=1, y=0), bottom right.
    drawn = [s.plain for s in scatter_chart([Points("f", [0.0, 1.0], [1.0, 0.0], "blue")], 40, 16, "right →", "↑ left")]
    plot = [t for t in drawn if "┤" in t or "│" in t]
    rows = len(plot)
    assert [t.split("┤")[0].strip() for t in plot if "┤" in t] == ["1", "0.5", "0"]
    inside = [t[5:5 + 2 * rows] for t in plot]  # two columns per row: 2x4 dots a character, so the dots are square
    assert inside[0][0] != " " and inside[-1][-1] != " " and dots("".join(inside)) == 2
    axis_labels = next(t for t in drawn if t.strip().startswith("0 ") and "┤" not in t)
    assert axis_labels.split() == ["0", "0.5", "1"]
    assert drawn[-1].strip() == "━━ f" and "↑ left" in drawn[0]


# ----- the screen ---------------------------------------------------------------------------


async def test_space_starts_a_race_whose_step_and_curves_advance_and_every_pane_fills():
    app = LabApp(config=ENDLESS)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        assert "step 0/100000" in lab.status_text and lab.race_pane.points() == 0
        await pilot.press("space")
        await until(pilot, lambda: lab.step >= 20 and lab.race_pane.points() >= 6)
        first_step, first_points = lab.step, lab.race_pane.points()
        await until(pilot, lambda: lab.step > first_step + 20 and lab.race_pane.points() > first_points)
        assert f"step {lab.step}/100000" in lab.status_text and "running" in lab.status_text
        chart = lab.race_pane.plot.text()
        assert "100% ┤" in chart and "━━ rnn" in chart and "━━ gru" in chart and "╌╌ chance 12%" in chart
        assert dots(chart) > 20
        # Gradient reach: a log-scale chart of three cells with a ratio per cell.
        reach = lab.reach_pane.plot.text()
        assert set(lab.reach_pane.ratios()) == {"rnn", "lstm", "gru"} and "T-t" in reach and dots(reach) > 10
        assert all(0 < r < 10 for r in lab.reach_pane.ratios().values())
        # Gate saturation: the LSTM's gates, a point per unit, then the GRU's after g.
        saturation = lab.saturation_pane
        assert saturation.cell == "lstm" and "━━ f" in saturation.plot.text() and dots(saturation.plot.text()) > 0
        await pilot.press("g")
        assert saturation.cell == "gru" and "━━ z" in saturation.plot.text()
        await pilot.press("space")  # stop
        await until(pilot, lambda: not lab.runner.alive, seconds=1.0)
        assert "stopped at step" in lab.status_text


async def test_keys_change_task_span_and_truncation_and_the_descriptions_follow():
    app = LabApp()
    async with app.run_test(size=(120, 40)) as pilot:
        race = app.lab.race_pane
        assert race.border_title == "Race · recall · L=5 · k=full · noise filler"
        await pilot.press("right_square_bracket")
        assert "L=10" in race.border_title and "after 10 noise fillers" in race.explanation
        await pilot.press("minus", "minus", "minus", "minus")  # k from full BPTT down to 40, 20, 10, 5
        assert "k=5" in race.border_title and "expected: the gradient is cut every k=5" in race.explanation
        assert "even the LSTM struggles" in race.explanation  # the textbook, said as an expectation
        await pilot.press("minus")  # 5 is the shortest
        assert "k=5" in race.border_title
        await pilot.press("equals_sign")  # k = L: the whole memory fits in one chunk again
        assert "k=10" in race.border_title and "struggles" not in race.explanation
        await pilot.press("f")
        assert "constant filler" in race.border_title and "fixed point" in race.explanation
        await pilot.press("t")
        assert race.border_title.startswith("Race · reber") and "Reber" in race.explanation
        await pilot.press("t")
        assert race.border_title.startswith("Race · brackets · L=1") and "bracket pairs" in race.explanation
        assert "chance 27%" in race.plot.text()  # the chart's dashed line follows the task: 4 pairs, (4/3)/5


async def test_a_change_during_a_race_stops_it_and_clears_the_chart():
    app = LabApp(config=ENDLESS)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = app.lab
        await pilot.press("space")
        await until(pilot, lambda: lab.race_pane.points() >= 6)
        await pilot.press("t")
        await until(pilot, lambda: not lab.runner.alive, seconds=1.0)
        await pilot.pause(0.2)  # a message the old race posted on its way out must be ignored
        assert lab.race_pane.points() == 0 and "settings changed" in lab.status_text


async def test_after_a_race_the_captions_state_the_scores_and_reach_on_screen():
    from rnntui.lab.captions import NAMES

    app = LabApp(config=RaceConfig(steps=60, batch=8, params=600, eval_every=10, eval_size=32))
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        assert "expected:" in lab.race_pane.explanation
        await pilot.press("space")
        await until(pilot, lambda: not lab.running)
        assert "finished" in lab.status_text
        caption = lab.race_pane.explanation
        assert "expected" not in caption
        assert caption.split("\n")[1].startswith(("after 60 steps:", "step 60:"))  # the race's own last evaluation
        for cell, curve in lab.race_pane.curves.items():
            assert f"{NAMES[cell]} {curve[-1][1]:.0%}" in caption  # every score as the legend shows it
        reach = lab.reach_pane
        far = max(int(r.distances[-1]) for r in reach.reach.values())
        assert reach.explanation.startswith(f"gradient through h left {far} steps back:")
        for cell, ratio in reach.ratios().items():
            assert f"{NAMES[cell]} {ratio:.0e}" in reach.explanation
        await pilot.press("right_square_bracket")  # new settings: the curves are gone, so is the verdict
        assert lab.race_pane.explanation.split("\n")[1].startswith("expected:")


@pytest.mark.parametrize("key", ["escape", "q"])
async def test_closing_the_screen_stops_the_race_thread_within_a_second(key):
    app = LabApp(config=ENDLESS)
    async with app.run_test(size=(80, 24)) as pilot:
        lab = app.lab
        await pilot.press("space")
        await until(pilot, lambda: lab.step > 0)
        await pilot.press(key)
        assert app.screen is not lab
        await until(pilot, lambda: not lab.runner.alive, seconds=1.0)


async def test_quitting_the_app_mid_race_ends_the_thread():
    app = LabApp(config=ENDLESS)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.lab.step > 0)
    deadline = time.monotonic() + 1.0
    while app.lab.runner.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not app.lab.runner.alive


@pytest.mark.parametrize("size, no_color", [((80, 24), True), ((60, 20), False)])
async def test_small_terminals_still_show_the_race(size, no_color, monkeypatch):
    if no_color:  # and a dumb terminal: the charts draw with dots, not colour alone
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("TERM", "dumb")
    app = LabApp(config=RaceConfig(steps=30, batch=8, params=600, eval_every=10, eval_size=32))
    async with app.run_test(size=size) as pilot:
        lab = app.lab
        await pilot.press("space")
        await until(pilot, lambda: not lab.running)
        assert "finished" in lab.status_text
        assert "━━ rnn" in lab.race_pane.plot.text() and dots(lab.race_pane.plot.text()) > 0
        screenshot = app.export_screenshot()  # the whole screen draws, every pane
        assert all(word in screenshot for word in ("Race", "Gradient", "reach", "Gate", "saturation"))
    assert app.return_code in (0, None), "the app closed without an error"


class CountingWorker(RunWorker):
    """Counts what the race's thread posts to the UI (a wake-up, at most one per delivery)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.arrivals = []

    def post_message(self, message):
        if isinstance(message, RunWorker.Wake):
            self.arrivals.append(time.monotonic())
        return super().post_message(message)


class CountingLab(LabScreen):
    worker_class = CountingWorker


async def test_the_race_thread_posts_at_most_twenty_times_a_second():
    # Steps here take a millisecond or two: posting each one would flood the UI hundreds of times a second.
    app = LabApp(config=RaceConfig(steps=100_000, batch=2, params=300, eval_every=5, eval_size=8))
    app.lab = CountingLab(app.lab.base, SHORT)
    async with app.run_test(size=(80, 24)) as pilot:
        lab = app.lab
        await pilot.press("space")
        await until(pilot, lambda: len(lab.runner.arrivals) >= 2)
        start, steps = time.monotonic(), lab.step
        await pilot.pause(1.5)
        seconds = time.monotonic() - start
        count = sum(t > start for t in lab.runner.arrivals)
        assert lab.step > steps and 1 <= count <= 20 * seconds + 2
        await pilot.press("escape")
