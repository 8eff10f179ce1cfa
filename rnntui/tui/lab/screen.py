"""The memory lab as a screen: RNN, LSTM and GRU race on a memory task while their gradients and gates are watched.

Self-contained: an app opens it with `push_screen(LabScreen())`, and Escape
or q closes it. The race is a run (a WatchedRace, which also measures the
gradient reach and the gate saturation between steps, on its own thread) in
the screen's RunWorker, the one idiom every screen trains with: its events
come back as typed messages, at most 20 deliveries a second, and a message
from a race that was stopped or replaced never arrives. Closing the screen or
quitting the app stops the race within one step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from rnntui.data.tasks import TASKS, make_task
from rnntui.errors import RnntuiError
from rnntui.lab.captions import expectation, race_caption, reach_caption
from rnntui.lab.race import RaceConfig, Standings
from rnntui.lab.saturation import GATES
from rnntui.lab.watched import Measurement, WatchedRace
from rnntui.tui.lab.panes import RacePane, ReachPane, SaturationPane
from rnntui.tui.widgets.run_worker import RunFailed, RunFinished, RunMessage, RunWorker


class StandingsArrived(RunMessage):
    """Every cell's score after an evaluation (`event` is the Standings)."""

    event_type = Standings


class Measured(RunMessage):
    """The gradient reach and gate saturation measured right after those standings (`event` is the Measurement)."""

    event_type = Measurement


# The choices the keys step through: span L per task (see each task's `span`), and truncation k (0 = full).
SPANS = {"recall": (5, 10, 20, 40, 80), "reber": (0, 6, 10, 14, 20), "brackets": (0, 1, 2, 4, 8)}
TRUNCATIONS = (5, 10, 20, 40, 0)  # shortest first; full BPTT is the longest

REACH_HINT = "how much gradient through h reaches T-t steps back, one log axis for all cells: a flat line can learn that far"
SATURATION_HINT = "a dot per gate unit: far right = open > 90% of steps (memory kept), top = shut; x+y=1 switches"


@dataclass(frozen=True)
class LabSettings:
    """What the person picked: task, span L, truncation k, recall's filler. Everything else comes from the base config."""

    task: str = "recall"
    spans: dict = field(default_factory=lambda: {"recall": 40, "reber": 0, "brackets": 4})
    bptt: int = 0
    filler: str = "noise"

    @property
    def span(self) -> int:
        return self.spans[self.task]

    def next_task(self, direction: int = 1) -> LabSettings:
        return replace(self, task=TASKS[(TASKS.index(self.task) + direction) % len(TASKS)])

    def step_span(self, direction: int) -> LabSettings:
        return replace(self, spans={**self.spans, self.task: _neighbour(SPANS[self.task], self.span, direction)})

    def step_bptt(self, direction: int) -> LabSettings:
        return replace(self, bptt=_neighbour(TRUNCATIONS, self.bptt, direction))

    def toggle_filler(self) -> LabSettings:
        return replace(self, filler="constant" if self.filler == "noise" else "noise")

    def config(self, base: RaceConfig) -> RaceConfig:
        return replace(base, task=self.task, span=self.span, bptt=self.bptt, filler=self.filler)

    def describe(self) -> str:
        k = "full" if self.bptt == 0 else str(self.bptt)
        filler = f" · {self.filler} filler" if self.task == "recall" else ""
        return f"{self.task} · L={self.span} · k={k}{filler}"


def _neighbour(ladder: tuple[int, ...], value: int, direction: int) -> int:
    """The next value along `ladder` (clamped at its ends); a value off the ladder snaps to the nearest rung."""
    index = min(range(len(ladder)), key=lambda i: abs(ladder[i] - value)) if value not in ladder else ladder.index(value)
    return ladder[min(max(index + direction, 0), len(ladder) - 1)]


def hint(settings: LabSettings, chance: float) -> str:
    """What the settings set up, before the race has results."""
    return expectation(settings.task, settings.span, settings.bptt, settings.filler, chance)


class LabScreen(ModalScreen):
    """Race, gradient reach and gate saturation on one screen."""

    DEFAULT_CSS = """
    LabScreen {
        layout: vertical;
        background: $background;  /* opaque: the lab replaces the playground, it does not float over it */
    }
    LabScreen > #lab-status {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    LabScreen > RacePane {
        height: 1fr;
        min-height: 7;
    }
    LabScreen > #lab-lower {
        height: 1fr;
        min-height: 7;
    }
    LabScreen ReachPane {
        width: 1fr;
    }
    LabScreen ReachPane > .lab-explain {
        max-height: 3;  /* the reach per cell, and why an LSTM can score with little of it */
    }
    LabScreen SaturationPane {
        width: 1fr;
        max-width: 64;
    }
    """

    BINDINGS = [
        Binding("space,s", "toggle_race", "Start/stop"),
        Binding("t", "task(1)", "Task"),
        Binding("T", "task(-1)", "Prev task", show=False),
        Binding("left_square_bracket", "span(-1)", "L-", key_display="["),
        Binding("right_square_bracket", "span(1)", "L+", key_display="]"),
        Binding("minus", "bptt(-1)", "k-", key_display="-"),
        Binding("equals_sign,plus", "bptt(1)", "k+", key_display="="),
        Binding("f", "filler", "Filler"),
        Binding("g", "gate_cell", "Gates of"),
        Binding("escape,q", "close", "Close"),
    ]

    worker_class = RunWorker  # a test may count what crosses from the race's thread

    def __init__(self, config: RaceConfig | None = None, settings: LabSettings | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = config or RaceConfig()
        self.settings = settings or LabSettings(filler=self.base.filler)
        self.step = 0
        self.running = False
        self.state = "ready"
        self.rate = 0.0  # steps a second, from the standings' steps and their arrival times
        self._last_seen: tuple[float, int] | None = None
        self.config: RaceConfig | None = None  # the settings applied to the base; None while they are not valid
        self.lab_task = None  # the task those settings make
        self.accuracy: dict[str, float] = {}  # the latest scores, for the reach caption
        self.race: WatchedRace | None = None  # the race on screen; None once it was stopped or replaced
        self.runner = self.worker_class(audience=[self])  # kept here: it is stopped while the screen unmounts

    def compose(self) -> ComposeResult:
        yield Static(id="lab-status")
        yield RacePane()
        with Horizontal(id="lab-lower"):
            yield ReachPane()
            yield SaturationPane()
        yield Footer()
        yield self.runner

    def on_mount(self) -> None:
        self._reset()

    # ----- what the screen shows --------------------------------------------------------

    @property
    def race_pane(self) -> RacePane:
        return self.query_one(RacePane)

    @property
    def reach_pane(self) -> ReachPane:
        return self.query_one(ReachPane)

    @property
    def saturation_pane(self) -> SaturationPane:
        return self.query_one(SaturationPane)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#lab-status", Static).render())

    def _reset(self) -> None:
        """Clear the panes for the current settings; a bad setting shows in the status line, never raises."""
        self.step, self.rate, self._last_seen, self.accuracy = 0, 0.0, None, {}
        try:
            config = self.settings.config(self.base).validated()
            task = make_task(config.task, config.span, config.filler)
        except RnntuiError as error:
            self.config, self.state = None, str(error)
            self._show_status()
            return
        self.config, self.lab_task = config, task
        race = self.race_pane
        race.border_title = f"Race · {self.settings.describe()}"
        race.reset(config.cells, config.steps, task.chance, config.bptt)
        race.explain(f"{task.describe()}\n{hint(self.settings, task.chance)}")
        self.reach_pane.explain(REACH_HINT)
        self.saturation_pane.explain(SATURATION_HINT)
        self._show_status()

    def _show_status(self) -> None:
        steps = (self.config or self.base).steps
        speed = f" · {self.rate:.0f} steps/s" if self.running and self.rate else ""
        self.query_one("#lab-status", Static).update(
            f"Memory lab · {self.settings.describe()} · step {self.step}/{steps}{speed} · {self.state}"
        )

    # ----- actions ----------------------------------------------------------------------

    def action_toggle_race(self) -> None:
        if self.running:
            self.stop_race()
            self.state = f"stopped at step {self.step}; space starts again from step 0"
            self._show_status()
        else:
            self.start_race()

    def start_race(self) -> None:
        self.stop_race()
        self._reset()
        if self.config is None:
            return
        try:
            race = WatchedRace(self.config)
        except RnntuiError as error:
            self.state = str(error)
            self._show_status()
            return
        self.running, self.state, self.race = True, "running", race
        self._show_status()
        self.runner.start(race)

    def stop_race(self) -> None:
        """Stop the race (within one step); whatever it said after this is never delivered."""
        self.running, self.race = False, None
        self.runner.stop()

    def _change(self, settings: LabSettings) -> None:
        """New settings stop the race and clear the panes: a curve belongs to one setting."""
        was_running = self.running
        self.stop_race()
        self.settings = settings
        self.state = "ready: space starts" if not was_running else "stopped: settings changed; space starts"
        self._reset()

    def action_task(self, direction: int) -> None:
        self._change(self.settings.next_task(direction))

    def action_span(self, direction: int) -> None:
        self._change(self.settings.step_span(direction))

    def action_bptt(self, direction: int) -> None:
        self._change(self.settings.step_bptt(direction))

    def action_filler(self) -> None:
        if self.settings.task == "recall":
            self._change(self.settings.toggle_filler())

    def action_gate_cell(self) -> None:
        pane = self.saturation_pane
        gated = [c for c in pane.gates if GATES.get(c)]
        if gated:
            pane.cell = gated[(gated.index(pane.cell) + 1) % len(gated)] if pane.cell in gated else gated[0]
            pane.show_gates(pane.gates)

    def action_close(self) -> None:
        self.stop_race()
        self.dismiss()

    def on_unmount(self) -> None:
        self.stop_race()  # also when the app quits with the screen open

    # ----- the race's news, on the UI thread ----------------------------------------------

    @on(StandingsArrived)
    def _standings(self, message: StandingsArrived) -> None:
        if message.run is not self.race:
            return  # said on its way out by a race that was stopped (the worker drops a replaced one's)
        standings: Standings = message.event
        race = self.race_pane
        for cell, score in standings.scores.items():
            race.add(cell, standings.step, score.accuracy)
        race.refresh_chart()
        self.accuracy = {cell: score.accuracy for cell, score in standings.scores.items()}
        now = time.monotonic()
        if self._last_seen and standings.step > self._last_seen[1]:
            self.rate = (standings.step - self._last_seen[1]) / max(now - self._last_seen[0], 1e-6)
        self._last_seen = (now, standings.step)
        self.step = max(self.step, standings.step)
        self._explain_race()
        self._show_status()

    @on(Measured)
    def _measured(self, message: Measured) -> None:
        if message.run is not self.race:
            return  # said on its way out by a race that was stopped (the worker drops a replaced one's)
        measurement: Measurement = message.event
        if measurement.reach:
            reach = self.reach_pane
            reach.show_reach(measurement.reach, measurement.step, self.config.bptt)
            far = max(int(r.distances[-1]) for r in measurement.reach.values())
            reach.explain(reach_caption(reach.ratios(), far, self.accuracy) or REACH_HINT)
        if measurement.gates:
            self.saturation_pane.show_gates(measurement.gates)

    @on(RunFinished)
    def _finished(self, message: RunFinished) -> None:
        if message.run is not self.race:
            return  # said on its way out by a race that was stopped (the worker drops a replaced one's)
        if message.event.reason == "stopped":
            return  # the person stopped it; the status already says so
        self.running = False
        final = "  ".join(f"{c} {curve[-1][1]:.0%}" for c, curve in self.race_pane.curves.items() if curve)
        self.state = f"finished: {final}"
        self._explain_race()
        self._show_status()

    @on(RunFailed)
    def _failed(self, message: RunFailed) -> None:
        if message.run is not self.race:
            return  # said on its way out by a race that was stopped (the worker drops a replaced one's)
        self.running, self.state = False, f"failed: {message.event.message}"
        self._show_status()

    def _explain_race(self) -> None:
        """The race pane's caption: what the scores on screen say (the expectation until there are some)."""
        config, task = self.config, self.lab_task
        caption = race_caption(self.race_pane.curves, task.chance, task.span, config.bptt, config.filler,
                               finished=not self.running)
        self.race_pane.explain(f"{task.describe()}\n{caption or hint(self.settings, task.chance)}")
