"""The playground: train a character model and watch its loss, its samples and its gates, live.

The app owns one TrainingRunner (the trainer and its thread) at a time. It
never runs the training model itself: training happens on the runner's
thread, and samples, prompt continuations and gate traces on snapshots in
thread workers (playground/live.py). Replacing the model (reset, new shape, load) builds
the new trainer in a worker and swaps it in only once it exists, so a corpus
or a file that fails leaves the current model as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input

from rnntui.errors import RnntuiError
from rnntui.train.config import TrainConfig
from rnntui.tui.playground.bridge import POLLS_PER_SECOND
from rnntui.tui.playground.controls import LIVE_FIELDS, ControlsPane
from rnntui.tui.playground.dialogs import ConfirmDialog, PathDialog
from rnntui.tui.playground.gates import GatesPane
from rnntui.tui.playground.help import HelpScreen
from rnntui.tui.playground.live import SAMPLE_EVERY, TRACE_EVERY, LiveViews
from rnntui.tui.playground.loss_chart import LossChart
from rnntui.tui.playground.prompt import PromptPane
from rnntui.tui.playground.runner import PLAYGROUND_CONFIG, SharedTrainer, TrainingRunner, new_trainer, open_trainer
from rnntui.tui.playground.samples import SamplesPane
from rnntui.tui.playground.status import StatusLine

TEMPERATURE_STEP = 0.1
TEMPERATURE_RANGE = (0.0, 3.0)
TEMPERATURE_KEYS = Binding.Group("Temp")


class PlaygroundScreen(Screen):
    """The main screen; it lists the app's own keys first in the Footer."""

    @property
    def active_bindings(self):
        # A newcomer needs space, s, p and ? more than the focused pane's keys, and a
        # footer that overflows cuts from the right. The order is only for display.
        bindings = super().active_bindings
        return dict(sorted(bindings.items(), key=lambda item: item[1].node is not self.app))


class PlaygroundApp(LiveViews, App):
    CSS_PATH = "app.tcss"
    TITLE = "rnntui"
    AUTO_FOCUS = "GatesPane"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("space", "start", "Start"),
        Binding("space", "pause", "Pause"),
        Binding("s", "step", "Step"),
        Binding("r", "reset", "Reset"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+o", "load", "Load", show=False),  # a button, the palette and help show it; 80 columns are few
        Binding("t", "temperature(-1)", "Temp down", group=TEMPERATURE_KEYS),
        Binding("T", "temperature(1)", "Temp up", group=TEMPERATURE_KEYS),
        Binding("p", "prompt", "Prompt"),
        Binding("slash", "prompt", "Prompt", show=False),
        Binding("m", "memory_lab", "Lab"),
        Binding("question_mark", "help", "Help"),
        Binding("f1", "help", "Help", show=False),
        Binding("q", "quit", "Quit"),
        Binding("escape", "leave_input", "Keys"),
    ]

    def __init__(self, trainer: SharedTrainer, saved_step: int | None = None, save_path: str | None = None):
        super().__init__()
        self._first_trainer = trainer
        self.runner: TrainingRunner | None = None
        self.training = False
        self.loading = False
        self.failed = False
        self.saved_step = saved_step  # the step last saved or loaded; None for a fresh model
        self.save_path = save_path
        self.temperature = trainer.temperature
        self.probe_text = ""  # the last prompt; empty means a validation snippet
        self.chars_per_sec: float | None = None
        self._chart_drawn = 0.0
        self._chart_dirty = False
        self._last_step_seen = -1
        self._bindings_state: tuple[bool, bool] | None = None
        self.closing = False  # set on quit: results that workers deliver late are dropped
        self._prompts = 0  # prompts sent so far: each continuation draws its own random numbers

    # ----- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield LossChart(id="loss")
                yield GatesPane(id="gates")
            with Vertical(id="right"):
                yield ControlsPane(self._first_trainer.config, self._first_trainer.temperature, id="controls")
                yield SamplesPane(id="samples")
                yield PromptPane(id="prompt")
        yield Footer(compact=True)

    def on_resize(self) -> None:
        # At 80 columns the Footer has no room for the palette key as well as q Quit.
        if hasattr(self, "footer"):
            self.footer.show_command_palette = self.size.width >= 100

    def get_default_screen(self) -> Screen:
        return PlaygroundScreen(id="_default")

    def on_mount(self) -> None:
        # Held here, not queried: a dialog or the help screen on top would hide them from query_one.
        self.status_line = self.query_one(StatusLine)
        self.chart = self.query_one(LossChart)
        self.gates = self.query_one(GatesPane)
        self.controls = self.query_one(ControlsPane)
        self.samples = self.query_one(SamplesPane)
        self.prompt = self.query_one(PromptPane)
        self.footer = self.query_one(Footer)
        self.on_resize()
        self._install(self._first_trainer, self.saved_step, self.save_path)
        self.samples.note(
            "Press space to train, s for one step, p to write a prompt, ? for help."
        )
        self.set_interval(1 / POLLS_PER_SECOND, self._poll)
        self.set_interval(SAMPLE_EVERY, self._sample_tick)
        self.set_interval(TRACE_EVERY, self._trace_tick)

    def on_unmount(self) -> None:
        if self.runner is not None:
            self.runner.stop()

    @property
    def trainer(self) -> SharedTrainer:
        return self.runner.trainer

    @property
    def unsaved(self) -> bool:
        return self.trainer.step > 0 and self.trainer.step != self.saved_step

    # ----- installing a model -----------------------------------------------------------

    def _install(self, trainer: SharedTrainer, saved_step: int | None, save_path: str | None) -> None:
        """Make `trainer` the app's model, paused; the previous one's thread is stopped."""
        if self.runner is not None:
            self.runner.stop()
        self.runner = TrainingRunner(trainer)
        self.runner.open()  # paused: commands such as a new temperature apply at once
        self.training = self.loading = self.failed = False
        self.saved_step, self.save_path = saved_step, save_path
        self.temperature = trainer.temperature
        self.chars_per_sec = None
        self._last_step_seen = trainer.step
        self.prompt.set_vocab(trainer.vocab)
        self.controls.show_config(trainer.config, trainer.temperature)
        self._draw_chart()
        self._show_state()
        self.refresh_trace()
        if trainer.step > 0:  # a trained model (a loaded file): show what it writes straight away
            self._take_sample(self.runner, self.temperature)

    def _describe(self, trainer: SharedTrainer) -> str:
        c = trainer.config
        return f"{c.cell.upper()} {c.layers}×{c.hidden} · {Path(c.corpus).name} · vocab {trainer.vocab.size}"

    @work(thread=True, exclusive=True, group="model")
    def _build(self, make, what: str, saved_step_from_file: bool = False, save_path: str | None = None) -> None:
        """Build a trainer off the UI thread; install it, or say in one line why it could not be built."""
        try:
            trainer = make()
        except (RnntuiError, OSError) as error:
            self.call_from_thread(self._build_failed, f"{what} failed: {error}")
            return
        saved = trainer.step if saved_step_from_file else None
        self.call_from_thread(self._built, trainer, saved, save_path, what)

    def _built(self, trainer: SharedTrainer, saved_step, save_path, what: str) -> None:
        if self.closing:
            return
        self._install(trainer, saved_step, save_path)
        self.samples.note(f"{what}: {self._describe(trainer)}, step {trainer.step}")

    def _build_failed(self, message: str) -> None:
        self.loading = False
        self.controls.show_config(self.trainer.config, self.temperature)
        self.notify(message, severity="error", timeout=8)
        self._show_state()

    def _replace_model(self, make, what: str, **kwargs) -> None:
        self.action_pause()
        self.loading = True
        self._show_state()
        self._build(make, what, **kwargs)

    @on(PromptPane.Submitted)
    def _prompt_submitted(self, message: PromptPane.Submitted) -> None:
        self.run_prompt(message.text)

    # ----- controls -----------------------------------------------------------------------

    @on(ControlsPane.Changed)
    def _control_changed(self, message: ControlsPane.Changed) -> None:
        controls = self.controls
        try:
            config = self.trainer.config.with_changes(**{message.name: message.value}).validated()
        except RnntuiError as error:
            self.notify(str(error).replace("--", ""), severity="error")
            controls.show_config(self.trainer.config, self.temperature)
            return
        if message.name in LIVE_FIELDS:
            if message.name == "temperature":
                self._set_temperature(message.value)
            else:
                self.trainer.send(message.name, message.value)
                controls.config = config
                self.notify(f"{message.name} is now {message.value:g}", timeout=2)
            return
        self._confirm_restart(config, f"{message.name.replace('_', '-')} = {message.value}")

    def _confirm_restart(self, config: TrainConfig, change: str) -> None:
        def answered(answer: str | None) -> None:
            if answer == "restart":
                self._replace_model(lambda: new_trainer(config), f"new model ({change})")
            else:
                self.controls.show_config(self.trainer.config, self.temperature)

        lost = f" The current model's {self.trainer.step} steps are not saved." if self.unsaved else ""
        self.push_screen(ConfirmDialog(
            f"Changing {change} needs a new model, trained from scratch.{lost}",
            [("restart", "New model", "warning"), ("cancel", "Keep this one", "default")],
        ), answered)

    @on(Button.Pressed, "#start-pause")
    def _start_pause_pressed(self) -> None:
        if self.training:
            self.action_pause()
        else:
            self.action_start()

    @on(Button.Pressed, "#step")
    def _step_pressed(self) -> None:
        self.action_step()

    @on(Button.Pressed, "#reset")
    def _reset_pressed(self) -> None:
        self.action_reset()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#load")
    def _load_pressed(self) -> None:
        self.action_load()

    # ----- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides a binding from the Footer (space shows Start or Pause, never both);
        # None shows it greyed out while a new model is being built.
        if action == "start":
            return None if self.loading else not self.training
        if action == "pause":
            return self.training
        if action in ("step", "reset", "save", "load", "temperature") and self.loading:
            return None
        if action == "leave_input":  # shown, and useful, only while typing
            return isinstance(self.screen_stack[0].focused, Input)
        return True

    def action_start(self) -> None:
        if self.loading:
            return
        self.runner.start()
        self.training, self.failed = True, False
        self._show_state()

    def action_pause(self) -> None:
        self.runner.pause()
        self.training = False
        self._show_state()

    def action_step(self) -> None:
        self.runner.step()
        self.training = False
        self._show_state()

    def action_reset(self) -> None:
        def answered(answer: str | None) -> None:
            if answer == "reset":
                config = self.trainer.config
                self._replace_model(lambda: new_trainer(config), "fresh model")

        lost = f" Its {self.trainer.step} steps are not saved." if self.unsaved else ""
        self.push_screen(ConfirmDialog(
            f"Reset the model to fresh random weights?{lost}",
            [("reset", "Reset", "warning"), ("cancel", "Cancel", "default")],
        ), answered)

    def default_save_path(self) -> str:
        if self.save_path:
            return self.save_path
        config = self.trainer.config
        return f"{Path(config.corpus).stem}-{config.cell}.safetensors"

    def action_save(self, then_quit: bool = False) -> None:
        def answered(path: str | None) -> None:
            if path:
                self._save(self.runner, path, then_quit)

        self.push_screen(PathDialog("Save a checkpoint (`rnntui train --resume` and `--checkpoint` read it too)",
                                    self.default_save_path(), "Save"), answered)

    @work(thread=True, exclusive=True, group="save")
    def _save(self, runner: TrainingRunner, path: str, then_quit: bool) -> None:
        trainer = runner.trainer
        try:
            with trainer.between_steps():  # weights, optimizer, state and step from one moment
                trainer.save(path)
                step = trainer.step
        except (RnntuiError, OSError) as error:
            self.call_from_thread(self.notify, f"not saved: {error}", severity="error", timeout=8)
            return
        self.call_from_thread(self._saved, runner, path, step, then_quit)

    def _saved(self, runner: TrainingRunner, path: str, step: int, then_quit: bool) -> None:
        if runner is self.runner:
            self.saved_step, self.save_path = step, path
            self._show_state()
        self.notify(f"saved step {step} to {path}", timeout=4)
        if then_quit:
            self._quit_now()

    def action_load(self) -> None:
        def answered(path: str | None) -> None:
            if path:
                self._replace_model(lambda: open_trainer(path), f"loaded {path}",
                                    saved_step_from_file=True, save_path=path)

        self.push_screen(PathDialog("Open a checkpoint; it opens paused, with its history",
                                    self.save_path or "", "Open"), answered)

    def action_temperature(self, direction: int) -> None:
        low, high = TEMPERATURE_RANGE
        self._set_temperature(min(high, max(low, round(self.temperature + direction * TEMPERATURE_STEP, 2))))

    def _set_temperature(self, value: float) -> None:
        self.temperature = value
        self.trainer.send("temperature", value)
        controls = self.controls
        controls.show_config(controls.config, value)
        self._show_state()

    def action_prompt(self) -> None:
        self.prompt.input.focus()

    def action_leave_input(self) -> None:
        self.gates.focus()

    def action_memory_lab(self) -> None:
        """The lab races its own three models; the playground pauses so they get the cores."""
        from rnntui.tui.lab.screen import LabScreen  # loaded only when the lab is opened

        if self.training:
            self.action_pause()
        self.push_screen(LabScreen())

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.trainer.config.cell, self.gates.quantity))

    def action_quit(self) -> None:
        if not self.unsaved:
            self._quit_now()
            return

        def answered(answer: str | None) -> None:
            if answer == "quit":
                self._quit_now()
            elif answer == "save":
                self.action_save(then_quit=True)

        since = f" (last saved at step {self.saved_step})" if self.saved_step else ""
        self.push_screen(ConfirmDialog(
            f"The model at step {self.trainer.step} is not saved{since}.",
            [("save", "Save, then quit", "primary"), ("quit", "Quit without saving", "error"),
             ("cancel", "Cancel", "default")],
        ), answered)

    def _quit_now(self) -> None:
        self.closing = True
        self.workers.cancel_all()
        self.runner.stop()
        self.exit()

    # ----- the command palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Start training", "Train continuously (space)", self.action_start)
        yield SystemCommand("Pause training", "Pause after the current step (space)", self.action_pause)
        yield SystemCommand("Single step", "Train one step, then pause (s)", self.action_step)
        yield SystemCommand("Reset model", "Fresh random weights, same settings (r)", self.action_reset)
        yield SystemCommand("Save checkpoint", "Write the model and its training state (ctrl+s)", self.action_save)
        yield SystemCommand("Load checkpoint", "Open a saved model, paused, with its history (ctrl+o)",
                            self.action_load)
        yield SystemCommand("Temperature down", "Samples get safer (t)", lambda: self.action_temperature(-1))
        yield SystemCommand("Temperature up", "Samples get wilder (T)", lambda: self.action_temperature(1))
        yield SystemCommand("Write a prompt", "Focus the prompt box (p)", self.action_prompt)
        yield SystemCommand("Memory lab", "Race RNN, LSTM and GRU on a memory task (m)", self.action_memory_lab)
        yield SystemCommand("Help", "Keys, panes and the gate equations (?)", self.action_help)
        yield from super().get_system_commands(screen)


def make_app(corpus: str = "python", checkpoint: str | None = None) -> PlaygroundApp:
    """The playground on a fresh small model of `corpus`, or on a saved run, paused with its history.

    Raises RnntuiError (one line) before any UI exists if the corpus or the file is unusable.
    """
    if checkpoint is not None:
        trainer = open_trainer(checkpoint)
        return PlaygroundApp(trainer, saved_step=trainer.step, save_path=checkpoint)
    return PlaygroundApp(new_trainer(PLAYGROUND_CONFIG.with_changes(corpus=corpus)))


def run_app(corpus: str = "python", checkpoint: str | None = None) -> None:
    # One BLAS thread: training takes one core and the UI keeps the other. With two, the
    # BLAS pool spins on both cores and every redraw waits (about 5x slower training, too,
    # measured by benchmarks/tui_responsiveness.py with the machine busy).
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    app = make_app(corpus, checkpoint)
    try:
        app.run()
    finally:
        if app.runner is not None:
            app.runner.stop()
