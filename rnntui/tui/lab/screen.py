"""The memory lab as a screen: RNN, LSTM and GRU race on a memory task while their gradients and gates are watched.

Self-contained: an app opens it with `push_screen(LabScreen())`, and Escape
or q closes it. The race trains on a thread of its own (the UI's loop never
runs a step). The models are not thread-safe, so the same thread also
measures the gradient reach and the gate saturation, between steps, and posts
plain arrays. It posts at most 20 times a second however fast it steps, and
looks at its stop flag before every step and every measurement, so closing
the screen or quitting the app ends it within one step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from rnntui.data.tasks import TASKS, make_task
from rnntui.errors import RnntuiError
from rnntui.lab.race import Race, RaceConfig, Standings
from rnntui.lab.reach import Reach, gradient_reach
from rnntui.lab.saturation import GATES, GateSaturation, gate_saturation
from rnntui.tui.lab.panes import RacePane, ReachPane, SaturationPane

POST_INTERVAL = 0.05  # seconds: at most 20 messages a second reach the UI
PROBES = 4  # sequences the gradient reach is averaged over
SATURATION_ROWS = 64  # held-out sequences the gates are counted over

# The choices the keys step through: span L per task (see each task's `span`), and truncation k (0 = full).
SPANS = {"recall": (5, 10, 20, 40, 80), "reber": (0, 6, 10, 14, 20), "brackets": (0, 1, 2, 4, 8)}
TRUNCATIONS = (5, 10, 20, 40, 0)  # shortest first; full BPTT is the longest

REACH_HINT = "how much gradient reaches T-t steps back (log): the RNN's dies off; a flat line can learn that far"
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
    """What to look for in the race, given the settings."""
    if settings.bptt and settings.bptt < max(settings.span, 1):
        return (f"with L larger than k, even the LSTM struggles: the gradient is cut at k={settings.bptt}, "
                f"so no step learns to carry the symbol {settings.span} steps")
    if settings.task == "recall" and settings.filler == "constant":
        return (f"constant filler: the RNN can park the symbol in a fixed point of its dynamics and beat chance "
                f"({chance:.0%}) without long-range gradient; f switches to noise")
    return f"LSTM and GRU climb towards 100%; the vanilla RNN lags far behind, near chance ({chance:.0%}, dashed) on most seeds"


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

    class Update(Message):
        """What the race thread saw since its last post: the newest step and every evaluation, in order."""

        def __init__(self, run: int, step: int, rate: float, standings: list[Standings],
                     reach: dict[str, Reach] | None, gates: dict[str, list[GateSaturation]] | None,
                     done: bool = False, error: str = "") -> None:
            super().__init__()
            self.run, self.step, self.rate, self.standings = run, step, rate, standings
            self.reach, self.gates, self.done, self.error = reach, gates, done, error

    def __init__(self, config: RaceConfig | None = None, settings: LabSettings | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = config or RaceConfig()
        self.settings = settings or LabSettings(filler=self.base.filler)
        self.run = 0  # bumped at every start or change: a message from an older run is ignored
        self.step = 0
        self.running = False
        self.state = "ready"
        self._stop = threading.Event()
        self.race_thread: threading.Thread | None = None  # the latest race's thread, for whoever must wait on it
        self.config: RaceConfig | None = None  # the settings applied to the base; None while they are not valid
        self.lab_task = None  # the task those settings make

    def compose(self) -> ComposeResult:
        yield Static(id="lab-status")
        yield RacePane()
        with Horizontal(id="lab-lower"):
            yield ReachPane()
            yield SaturationPane()
        yield Footer()

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
        self.step = 0
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

    def _show_status(self, rate: float = 0.0) -> None:
        steps = (self.config or self.base).steps
        speed = f" · {rate:.0f} steps/s" if self.running and rate else ""
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
        self.run += 1
        self._stop = threading.Event()
        self.running, self.state = True, "running"
        self._show_status()
        # A thread of its own rather than Textual's pooled worker threads: it ends when the race ends, so
        # "stopped" is something a caller can wait for (join), and daemon=True never holds the process open.
        self.race_thread = threading.Thread(
            target=self._race, args=(self.run, self.config, self._stop), name="rnntui-lab-race", daemon=True,
        )
        self.race_thread.start()

    def stop_race(self) -> None:
        """Tell the race thread to stop; it notices before its next step (it is never waited for here)."""
        self._stop.set()
        self.running = False

    def _change(self, settings: LabSettings) -> None:
        """New settings stop the race and clear the panes: a curve belongs to one setting."""
        was_running = self.running
        self.stop_race()
        self.run += 1
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

    # ----- the race thread --------------------------------------------------------------

    def _race(self, run: int, config: RaceConfig, stop: threading.Event) -> None:
        """Train, measure and post, on the race thread, until done or told to stop."""
        stopped = stop.is_set

        try:
            race = Race(config)
            probe = race.task.batch(np.random.default_rng([config.seed, 2]), PROBES)
            pending = [race.standings()]
            reach, gates = self._measure(race, probe, stopped)
            last, last_step, rate = 0.0, 0, 0.0
            while not race.finished and not stopped():
                standings = race.advance()
                if standings is not None:
                    pending.append(standings)
                    reach, gates = self._measure(race, probe, stopped)
                now = time.monotonic()
                if now - last >= POST_INTERVAL:
                    if last:
                        rate = (race.step - last_step) / (now - last)
                    if not self._post(self.Update(run, race.step, rate, pending, reach, gates)):
                        return
                    last, last_step, pending, reach, gates = now, race.step, [], None, None
            self._post(self.Update(run, race.step, rate, pending, reach, gates, done=race.finished))
        except Exception as error:  # noqa: BLE001  (anything that breaks the race is shown, not raised in a thread)
            self._post(self.Update(run, 0, 0.0, [], None, None, done=True, error=f"{type(error).__name__}: {error}"))

    def _measure(self, race: Race, probe, stopped) -> tuple[dict[str, Reach], dict[str, list[GateSaturation]]]:
        """Gradient reach of every cell and gate saturation of the gated ones, on the live models (same thread)."""
        reach, gates = {}, {}
        inputs = race.held_out.inputs[:SATURATION_ROWS]
        for racer in race.racers:
            if stopped():
                break
            reach[racer.cell] = gradient_reach(racer.model, probe)
            if GATES[racer.cell]:
                gates[racer.cell] = gate_saturation(racer.model, inputs)
        return reach, gates

    def _post(self, message: Message) -> bool:
        """Post from the race thread; False once the screen or the app is gone."""
        try:
            return self.post_message(message)
        except RuntimeError:  # the app's event loop has closed
            return False

    # ----- the race thread's news, on the UI thread ---------------------------------------

    def on_lab_screen_update(self, message: Update) -> None:
        if message.run != self.run:
            return  # from a race that was stopped or replaced
        race = self.race_pane
        for standings in message.standings:
            for cell, score in standings.scores.items():
                race.add(cell, standings.step, score.accuracy)
        if message.standings:
            race.refresh_chart()
        if message.reach:
            self.reach_pane.show_reach(message.reach, message.step, self.config.bptt)
        if message.gates:
            self.saturation_pane.show_gates(message.gates)
        self.step = max(self.step, message.step)
        if message.error:
            self.running, self.state = False, f"failed: {message.error}"
        elif message.done:
            self.running = False
            final = "  ".join(f"{c} {curve[-1][1]:.0%}" for c, curve in race.curves.items() if curve)
            self.state = f"finished: {final}"
        self._show_status(message.rate)
