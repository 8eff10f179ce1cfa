"""The playground: train a character model and watch its loss, its samples and its gates, live.

The app holds one model at a time, a SharedTrainer, run by its RunWorker
(widgets/run_worker.py): training, samples, prompt continuations, gate
traces and explanations all happen on the run's thread, and come back as messages that the
panes handle. The app's own state is two reactives, `state` and
`temperature`. Replacing the model (reset, new shape, load) builds the new
trainer in a worker and swaps it in only once it exists, so a corpus or a file
that fails leaves the current model as it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import DescendantFocus
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Select

from rnntui.data.corpus import corpus_file
from rnntui.engine.optim import all_finite
from rnntui.errors import RnntuiError
from rnntui.files import output_target
from rnntui.train.config import TrainConfig
from rnntui.tui.playground.controls import LIVE_FIELDS, ControlsPane
from rnntui.tui.playground.dialogs import ConfirmDialog, PathDialog
from rnntui.tui.playground.explain_pane import ExplainPane
from rnntui.tui.playground.gates import GatesPane
from rnntui.tui.playground.help import HelpScreen
from rnntui.tui.playground.loss_chart import LossChart
from rnntui.tui.playground.probe import known_text, validation_snippet
from rnntui.tui.playground.prompt import PromptPane
from rnntui.tui.playground.samples import SamplesPane, marked_prompt
from rnntui.tui.playground.shared_trainer import PLAYGROUND_CONFIG, SharedTrainer, new_trainer, open_trainer
from rnntui.tui.playground.status import Status, StatusLine
from rnntui.tui.widgets.export import export_svg
from rnntui.tui.widgets.run_worker import Evaluated, RunFailed, RunFinished, RunWorker, Steps

TEMPERATURE_STEP = 0.1
TEMPERATURE_RANGE = (0.0, 3.0)
TEMPERATURE_KEYS = Binding.Group("Temp")
SAMPLE_EVERY = 4.0  # seconds between samples while training
TRACE_EVERY = 2.0  # seconds between gate traces while training
CHART_EVERY = 0.5  # seconds between loss chart redraws while training

PANES = ("loss", "gates", "explain", "controls", "samples", "prompt")  # ids: what "Export view" can write

# What the app can be doing. "closing" is final: whatever arrives after it is dropped.
STATES = ("paused", "training", "loading", "failed", "closing")
# The footer's keys: they work whichever pane has focus, except in a text field (see check_action).
EVERYWHERE = dict(priority=True)


class PlaygroundScreen(Screen):
    """The main screen; it lists the app's own keys first in the Footer."""

    @property
    def active_bindings(self):
        # A newcomer needs space, s, p and ? more than the focused pane's keys, and a
        # footer that overflows cuts from the right. The order is only for display.
        bindings = super().active_bindings
        return dict(sorted(bindings.items(), key=lambda item: item[1].node is not self.app))


class ModelBuilt(Message):
    def __init__(self, trainer: SharedTrainer, saved_step: int | None, save_path: str | None, what: str) -> None:
        super().__init__()
        self.trainer, self.saved_step, self.save_path, self.what = trainer, saved_step, save_path, what


class Refused(Message):
    """A worker could not do its job (build a model, save one): one line for the person."""

    def __init__(self, text: str, building: bool = False) -> None:
        super().__init__()
        self.text, self.building = text, building


class Saved(Message):
    def __init__(self, trainer: SharedTrainer, path: str, step: int, then_quit: bool) -> None:
        super().__init__()
        self.trainer, self.path, self.step, self.then_quit = trainer, path, step, then_quit


class PlaygroundApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "rnntui"
    AUTO_FOCUS = "GatesPane"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("space", "start", "Start", **EVERYWHERE),
        Binding("space", "pause", "Pause", **EVERYWHERE),
        Binding("s", "step", "Step", **EVERYWHERE),
        Binding("r", "reset", "Reset", **EVERYWHERE),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+o", "load", "Load", show=False),  # a button, the palette and help show it; 80 columns are few
        Binding("t", "temperature(-1)", "Temp down", group=TEMPERATURE_KEYS, **EVERYWHERE),
        Binding("T", "temperature(1)", "Temp up", group=TEMPERATURE_KEYS, **EVERYWHERE),
        Binding("p", "prompt", "Prompt", **EVERYWHERE),
        Binding("slash", "prompt", "Prompt", show=False, **EVERYWHERE),
        # Help and Quit before the features: at 80 columns the Footer cuts from the right.
        Binding("question_mark", "help", "Help", **EVERYWHERE),
        Binding("f1", "help", "Help", show=False),
        Binding("q", "quit", "Quit", **EVERYWHERE),
        Binding("e", "toggle_explain", "Explain", **EVERYWHERE),
        Binding("m", "memory_lab", "Lab", **EVERYWHERE),
        Binding("E", "export_view", "Export view", show=False, **EVERYWHERE),  # the palette and help show them
        Binding("ctrl+e", "export_screen", "Export screen", show=False, **EVERYWHERE),
        Binding("f2", "lessons", "Learn", show=False),  # the palette and help show it; l/L are the Gates pane's
        Binding("escape", "leave_input", "Keys"),
    ]
    OWN_ACTIONS = frozenset(binding.action.split("(")[0] for binding in BINDINGS)

    state: reactive[str] = reactive("paused", init=False)
    temperature: reactive[float] = reactive(0.8, init=False)

    def __init__(self, trainer: SharedTrainer, saved_step: int | None = None, save_path: str | None = None):
        super().__init__()
        self.set_reactive(PlaygroundApp.temperature, trainer.temperature)
        self._first_trainer = trainer
        self.saved_step = saved_step  # the step last saved or loaded; None for a fresh model
        self.save_path = save_path
        self.probe_text = ""  # the last prompt; empty means a validation snippet
        self.chars_per_sec: float | None = None
        self._before_loading = "paused"
        self._chart_drawn = 0.0
        self._chart_dirty = False
        self._learner_focus: Widget | None = None  # where to go back to after the Controls pane
        self._prompts = 0  # prompts sent so far: each continuation finds its own entry

    # ----- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield LossChart(id="loss")
                yield GatesPane(id="gates")
                yield ExplainPane(id="explain")
            with Vertical(id="right"):
                yield ControlsPane(self._first_trainer.config, id="controls").data_bind(PlaygroundApp.temperature)
                yield SamplesPane(id="samples")
                yield PromptPane(id="prompt")
        yield RunWorker()
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
        self.explain = self.query_one(ExplainPane)
        self.explain.display = False  # e shows it in the Gates pane's place
        self.controls = self.query_one(ControlsPane)
        self.samples = self.query_one(SamplesPane)
        self.prompt = self.query_one(PromptPane)
        self.footer = self.query_one(Footer)
        self.runner = self.query_one(RunWorker)
        # The app hears about steps, evaluations and the end; the panes about their own results.
        self.runner.audience = [self, self.samples, self.gates, self.explain]
        self.on_resize()
        self._install(self._first_trainer, self.saved_step, self.save_path)
        self.samples.note("Press space to train, s for one step, p to write a prompt, ? for help.")
        self.set_interval(SAMPLE_EVERY, self._sample_tick)
        self.set_interval(TRACE_EVERY, self._trace_tick)

    def on_unmount(self) -> None:
        self.runner.stop()

    @property
    def trainer(self) -> SharedTrainer:
        return self.runner.run

    @property
    def training(self) -> bool:
        return self.state == "training"

    @property
    def unsaved(self) -> bool:
        return self.trainer.step > 0 and self.trainer.step != self.saved_step

    @property
    def quiet(self) -> bool:
        """Nothing owed: every sample, continuation and trace asked for has been delivered."""
        return self.trainer.asked == self.trainer.answered and not self.runner.pending

    # ----- state ------------------------------------------------------------------------

    def watch_state(self, state: str) -> None:
        self.controls.set_training(state == "training")
        self.refresh_bindings()
        self._show_status()

    def watch_temperature(self, value: float) -> None:
        self.trainer.send("temperature", value)
        self._show_status()

    def _show_status(self) -> None:
        trainer = self.trainer
        state = "paused" if self.state == "closing" else self.state
        self.status_line.show(Status(
            model=self._describe(trainer), step=trainer.step, epoch=trainer.epoch,
            chars_per_sec=self.chars_per_sec, state=state, temperature=self.temperature, unsaved=self.unsaved,
        ))

    def _describe(self, trainer: SharedTrainer) -> str:
        c = trainer.config
        return f"{c.cell.upper()} {c.layers}×{c.hidden} · {Path(c.corpus).name} · vocab {trainer.vocab.size}"

    # ----- installing a model -----------------------------------------------------------

    def _install(self, trainer: SharedTrainer, saved_step: int | None, save_path: str | None) -> None:
        """Make `trainer` the app's model, paused; the previous run is stopped and its news dropped."""
        trainer.paused = True  # commands such as a new temperature apply at once
        self.runner.start(trainer)
        self.saved_step, self.save_path = saved_step, save_path
        self.temperature = trainer.temperature
        self.chars_per_sec = None
        self.prompt.set_vocab(trainer.vocab)
        self.controls.show_config(trainer.config)
        self.samples.clear()
        self._draw_chart()
        self.state = "paused"
        self._show_status()
        self.refresh_trace()
        if trainer.step > 0:  # a trained model (a loaded file): show what it writes straight away
            self._ask("sample")

    @work(thread=True, exclusive=True, group="model")
    def _build(self, make, what: str, saved_step_from_file: bool = False, save_path: str | None = None) -> None:
        """Build a trainer off the UI thread; install it, or say in one line why it could not be built."""
        try:
            trainer = make()
        except MemoryError:  # sizes typed into Controls can ask for more than the machine has
            self.post_message(Refused(f"{what} failed: not enough memory for a model this size", building=True))
            return
        except (RnntuiError, OSError) as error:
            self.post_message(Refused(f"{what} failed: {error}", building=True))
            return
        self.post_message(ModelBuilt(trainer, trainer.step if saved_step_from_file else None, save_path, what))

    def on_model_built(self, message: ModelBuilt) -> None:
        if self.state == "closing":
            return
        self._install(message.trainer, message.saved_step, message.save_path)
        self.samples.note(f"{message.what}: {self._describe(message.trainer)}, step {message.trainer.step}")

    def on_refused(self, message: Refused) -> None:
        if self.state == "closing":
            return
        if message.building and self.state == "loading":
            self.state = self._before_loading
            self.controls.show_config(self.trainer.config)
        self.notify(message.text, severity="error", timeout=8)

    def _replace_model(self, make, what: str, **kwargs) -> None:
        self.action_pause()
        self._before_loading = self.state
        self.state = "loading"
        self._build(make, what, **kwargs)

    # ----- what the run says ------------------------------------------------------------------

    def on_steps(self, message: Steps) -> None:
        if message.chars_per_sec is not None:
            self.chars_per_sec = message.chars_per_sec
        self._chart_dirty = True
        if self.state != "training":
            self.refresh_trace()  # a single step: show what it changed
        self._catch_up()

    def on_evaluated(self, message: Evaluated) -> None:
        self._chart_dirty = True
        self._catch_up()

    def on_run_failed(self, message: RunFailed) -> None:
        if self.state != "closing":
            self.state = "failed"
            self.notify(f"training stopped: {message.event.message}", severity="error", timeout=10)

    def on_run_finished(self, message: RunFinished) -> None:
        if message.event.reason != "stopped" and self.state == "training":
            self.state = "paused"

    def _catch_up(self) -> None:
        if self._chart_dirty and (self.state != "training" or time.monotonic() - self._chart_drawn >= CHART_EVERY):
            self._draw_chart()
        self._show_status()

    def _draw_chart(self) -> None:
        history = self.trainer.history
        self.chart.plot(history.train, history.val)
        self._chart_drawn = time.monotonic()
        self._chart_dirty = False

    # ----- samples, prompts and traces: asked of the run, answered as messages -----------------

    def _ask(self, command: str, value=None) -> None:
        if self.runner.alive:  # a failed run's loop has ended: nobody would answer
            self.trainer.request(command, value)

    def _sample_tick(self) -> None:
        if self.training:
            self._ask("sample")

    def _trace_tick(self) -> None:
        if self.training:
            self.refresh_trace()
        elif self._chart_dirty:
            self._draw_chart()

    @property
    def explaining(self) -> bool:
        return self.explain.display

    @property
    def probe_view(self) -> Widget:
        """What shows the probe text now, and takes the keys: the Gates pane or the Explain view."""
        return self.explain.view if self.explaining else self.gates

    def refresh_trace(self) -> None:
        """Ask for the model's reading of the probe text: a trace for the Gates pane, or an
        explanation for the Explain pane, whichever is shown; it shows the answer when it comes."""
        trainer = self.trainer
        text = known_text(trainer.vocab, self.probe_text) if self.probe_text else ""
        if not text:
            text = validation_snippet(trainer.vocab, trainer.val_ids, trainer.text)
        self._ask("explain" if self.explaining else "trace", text)

    @on(PromptPane.Submitted)
    def run_prompt(self, message: PromptPane.Submitted) -> None:
        """The model's continuation of the prompt goes to Samples; the prompt becomes the probe text."""
        prompt, vocab = message.text, self.trainer.vocab
        unknown = set(vocab.unknown_chars(prompt))
        if prompt and not known_text(vocab, prompt):
            self.notify("none of the prompt's characters are in the model's vocabulary", severity="warning")
            return
        if not all_finite(self.trainer.model.flat) or not self.runner.alive:
            self.notify("the model's weights are not finite: reset it (r) or load a checkpoint", severity="error")
            return
        header = f"step {self.trainer.step} · T {self.temperature:.2f} · prompt"
        if unknown:
            header += f" · {len(unknown)} skipped"  # they are the red ones in the prompt below
        self._prompts += 1
        self.samples.add_entry(header, marked_prompt(prompt, unknown), number=self._prompts)
        self._ask("continue", (self._prompts, prompt))
        if prompt:
            self.probe_text = prompt
            self.refresh_trace()

    # ----- controls -----------------------------------------------------------------------

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        widget = event.widget
        if not widget.is_attached:  # the app is closing: the focus event outlived the widget
            return
        if widget.screen is self.screen_stack[0] and self.controls not in widget.ancestors_with_self:
            self._learner_focus = widget

    def _back_to_the_learner(self) -> None:
        """After the Controls pane applied or undid a change: focus where the person was before it."""

        def focus() -> None:
            now = self.screen_stack[0].focused
            if now is not None and self.controls not in now.ancestors_with_self:
                return  # the person has moved on already (a late Undone, a key pressed meanwhile)
            target = self._learner_focus
            if target is None or not target.is_attached or not target.focusable or target in (self.gates, self.explain.view):
                target = self.probe_view
            target.focus()

        # After the refresh: a dialog that just closed gives focus back to what had it, first.
        self.call_after_refresh(focus)

    @on(ControlsPane.Changed)
    def _control_changed(self, message: ControlsPane.Changed) -> None:
        try:
            config = self.trainer.config.with_changes(**{message.name: message.value}).validated()
        except RnntuiError as error:
            self.notify(str(error).replace("--", ""), severity="error")
            self.controls.show_config(self.trainer.config)
            self._back_to_the_learner()
            return
        if message.name in LIVE_FIELDS:
            if message.name == "temperature":
                self.temperature = message.value
            else:
                self.trainer.send(message.name, message.value)
                self.controls.config = config
                self.notify(f"{message.name} is now {message.value:g}", timeout=2)
            self._back_to_the_learner()
            return
        self._confirm_restart(config, f"{message.name.replace('_', '-')} = {message.value}")

    @on(ControlsPane.Undone)
    def _control_undone(self) -> None:
        self._back_to_the_learner()

    def _confirm_restart(self, config: TrainConfig, change: str) -> None:
        def answered(answer: str | None) -> None:
            if answer == "restart":
                self._replace_model(lambda: new_trainer(config), f"new model ({change})")
            else:
                self.controls.show_config(self.trainer.config)
            self._back_to_the_learner()

        lost = f" The current model's {self.trainer.step} steps are not saved." if self.unsaved else ""
        self.push_screen(ConfirmDialog(
            f"Changing {change} needs a new model, trained from scratch.{lost}",
            [("restart", "New model", "warning"), ("cancel", "Keep this one", "default")],
        ), answered)

    @on(Button.Pressed, "#start-pause")
    def _start_pause_pressed(self) -> None:
        self.action_pause() if self.training else self.action_start()

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
        # False hides a binding from the Footer (space shows Start or Pause, never both); None
        # shows it greyed out (while a new model is being built, while typing, under a dialog).
        # Either way the key goes on to the focused widget: the footer's keys are priority
        # bindings, so they reach the app first from any pane.
        if action not in self.OWN_ACTIONS:
            return True  # Textual's own (tab's focus_next in a dialog, the palette): not ours to grey out
        focused = self.screen_stack[0].focused
        typing = isinstance(focused, Input) or any(
            isinstance(node, Select) and node.expanded for node in (focused.ancestors_with_self if focused else ())
        )
        if action == "leave_input":  # shown, and useful, only while typing
            return typing
        allowed = self._allowed(action)
        if allowed and (typing or self.screen is not self.screen_stack[0]):
            return None  # the key is the text's, or a dialog's, the help's, the lab's: greyed out here
        return allowed

    def _allowed(self, action: str) -> bool | None:
        if action == "start":
            return None if self.state == "loading" else self.state != "training"
        if action == "pause":
            return self.state == "training"
        if action in ("step", "reset", "save", "load", "temperature") and self.state == "loading":
            return None
        return True

    def action_start(self) -> None:
        if self.state in ("loading", "closing"):
            return
        self.trainer.send("resume")
        self.runner.start(self.trainer)  # again, if a failure had ended its loop
        self.state = "training"

    def action_pause(self) -> None:
        self.trainer.send("pause")
        if self.state == "training":
            self.state = "paused"

    def action_step(self) -> None:
        """One step, then paused (also when it was training)."""
        if not self.runner.alive:
            self.trainer.paused = True
            self.runner.start(self.trainer)
        self.trainer.send("step")
        if self.state in ("training", "failed"):
            self.state = "paused"

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
                self._save(self.trainer, path, then_quit)

        self.push_screen(PathDialog("Save a checkpoint (`rnntui train --resume` and `--checkpoint` read it too)",
                                    self.default_save_path(), "Save"), answered)

    @work(thread=True, exclusive=True, group="save")
    def _save(self, trainer: SharedTrainer, path: str, then_quit: bool) -> None:
        try:
            # The same checks as the CLI's --out: never over the corpus text, a folder or a device.
            output_target(path, inputs={"--corpus": corpus_file(trainer.config.corpus)})
            with trainer.between_steps():  # weights, optimizer, state and step from one moment
                trainer.save(path)
                step = trainer.step
        except (RnntuiError, OSError) as error:
            self.post_message(Refused(f"not saved: {error}"))
            return
        self.post_message(Saved(trainer, path, step, then_quit))

    def on_saved(self, message: Saved) -> None:
        if message.trainer is self.trainer:
            self.saved_step, self.save_path = message.step, message.path
            self._show_status()
        self.notify(f"saved step {message.step} to {message.path}", timeout=4)
        if message.then_quit:
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
        self.temperature = min(high, max(low, round(self.temperature + direction * TEMPERATURE_STEP, 2)))

    def action_prompt(self) -> None:
        self.prompt.input.focus()

    def action_leave_input(self) -> None:
        self.probe_view.focus()

    def action_toggle_explain(self) -> None:
        """The Explain pane in the Gates pane's place, or back; it shows the model as it is now."""
        showing = not self.explaining
        self.explain.display, self.gates.display = showing, not showing
        self.probe_view.focus()
        self.refresh_trace()

    def focused_pane(self) -> Widget:
        """The pane that holds the focus (the Gates pane when nothing has it)."""
        for node in self.focused.ancestors_with_self if self.focused else ():
            if node.id in PANES:
                return node
        return self.explain if self.explaining else self.gates

    def action_export_view(self) -> None:
        pane = self.focused_pane()
        name = pane.id.capitalize()
        self._export(f"rnntui-{pane.id}-step{self.trainer.step}", f"rnntui · {name} · step {self.trainer.step}", pane)

    def action_export_screen(self) -> None:
        self._export(f"rnntui-step{self.trainer.step}", f"rnntui · step {self.trainer.step}")

    def _export(self, stem: str, title: str, pane: Widget | None = None) -> None:
        """The figure goes to a new file in the current folder; a toast says where, or why not."""
        try:
            path = export_svg(self, stem, title, pane)
        except RnntuiError as error:
            self.notify(f"not exported: {error}", severity="error", timeout=8)
            return
        self.notify(f"{'the ' + pane.id + ' pane' if pane else 'the screen'} saved to {path}", timeout=6)

    def action_memory_lab(self) -> None:
        """The lab races its own three models; the playground pauses so they get the cores."""
        from rnntui.tui.lab.screen import LabScreen  # loaded only when the lab is opened

        self.action_pause()
        self.push_screen(LabScreen())

    def action_lessons(self) -> None:
        """The lessons train their own small models; the playground pauses so they get the cores."""
        from rnntui.lessons.base import default_language
        from rnntui.tui.lessons.list_screen import lesson_list  # loaded only when the lessons are opened

        self.action_pause()
        self.push_screen(lesson_list(default_language()))

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
        self.runner.stop()  # first: the training thread is what holds up the exit
        self.state = "closing"
        self.workers.cancel_all()
        self.exit()

    # ----- the command palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if screen is not self.screen_stack[0]:  # the lab, a lesson, the help: the playground's commands wait
            yield from super().get_system_commands(screen)
            return
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
        yield SystemCommand("Explain or gates", "What the model guesses at each character, and which "
                            "earlier characters it used; or the gates again (e; rnntui explain)", self.action_toggle_explain)
        yield SystemCommand("Export view as SVG", "The focused pane, as drawn now, to a file in the current "
                            "folder (E; rnntui plot)", self.action_export_view)
        yield SystemCommand("Export screen as SVG", "The whole screen to a file in the current folder (ctrl+e)",
                            self.action_export_screen)
        yield SystemCommand("Memory lab", "Race RNN, LSTM and GRU on a memory task (m; rnntui lab)", self.action_memory_lab)
        yield SystemCommand("Learn", "The lessons: the lecture, step by step, on small models training live "
                            "(f2; rnntui learn)",
                            self.action_lessons)
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
    app.run()
    if app.return_code:  # the app ended on an error it has already shown: the shell must see it too
        raise SystemExit(app.return_code)
