"""The playground app, driven with keys as a person would, checked by what the screen shows.

Each test runs the real app (App.run_test) on a tiny model of the bundled
`fables` corpus, so training, samples and gate traces are real and fast.
"""

from __future__ import annotations

import asyncio
import html
import re
import subprocess
import sys
import time

import numpy as np
from rich.cells import cell_len
from textual.widgets import Button, Input

from rnntui.tui.app import PlaygroundApp, make_app
from rnntui.tui.playground.dialogs import ConfirmDialog, PathDialog
from rnntui.tui.playground.help import HelpScreen
from rnntui.tui.playground.shared_trainer import CONTINUATION_LENGTH, PLAYGROUND_CONFIG, new_trainer
from rnntui.tui.playground.samples import MAX_ENTRIES

TINY = PLAYGROUND_CONFIG.with_changes(
    corpus="fables", hidden=16, embed=8, batch=4, seq_len=16, eval_every=5, eval_chars=400, seed=3,
)


def tiny_app(**changes) -> PlaygroundApp:
    return PlaygroundApp(new_trainer(TINY.with_changes(**changes)))


# One run of characters in the app's screenshot: its column (x, in pixels), its line and the text.
SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" [^>]*clip-path="url\(#[\w-]*-line-(\d+)\)">(.*?)</text>')
SVG_CHAR_WIDTH = 12.2  # pixels per terminal column in the screenshot


def screen_text(app) -> str:
    """Every line the terminal would show right now, as plain text, read from the app's screenshot.

    The screenshot is what the app draws, screens beneath a translucent one (the help) included.
    """
    lines: dict[int, list[tuple[int, str]]] = {}
    for x, line, text in SVG_TEXT.findall(app.export_screenshot()):
        lines.setdefault(int(line), []).append((round(float(x) / SVG_CHAR_WIDTH), html.unescape(text)))
    rows = []
    for line in range(app.size.height):  # a line with nothing on it has no text in the picture
        row = ""
        for column, text in sorted(lines.get(line, [])):
            row += " " * max(0, column - cell_len(row)) + text
        row = row.replace("\xa0", " ")
        rows.append(row + " " * (app.size.width - cell_len(row)))  # every line as wide as the terminal
    return "\n".join(rows)


async def wait_until(pilot, condition, timeout: float = 30.0, what: str = "") -> None:
    # A deadline, not a wait: on a machine busy with other work a frame can take seconds.
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition} (focus on {pilot.app.focused})")
        await pilot.pause(0.05)


async def tap(pilot, *keys: str) -> None:
    """Press keys the way a terminal sends them, without pilot.press's wait for an idle
    process: while training runs the process is never idle, and that wait takes a second."""
    for key in keys:
        pilot.app.simulate_key(key)
        await pilot.pause(0.02)  # waits for the key's messages to be handled, then a little


async def resize(pilot, width: int, height: int) -> None:
    await pilot.resize_terminal(width, height)
    await pilot.pause(0.1)


async def settle(pilot) -> None:
    """Let the one-off workers finish, the run answer what it was asked, and the screen catch up."""
    app = pilot.app
    one_off = [w for w in app.workers if w.group != "run"]  # the run's worker lasts as long as its model
    if one_off:  # (an empty list would mean every worker)
        await app.workers.wait_for_complete(one_off)
    await wait_until(pilot, lambda: app.quiet, what="the run's answers")
    # The screen focuses its first pane once it is shown: a key pressed before that is followed by
    # a focus change the person did not make. (On a busy machine the first frame can take seconds.)
    await wait_until(pilot, lambda: app.screen.focused is not None, what="the first focus")
    await pilot.pause(0.15)


async def answer(pilot, button: str) -> None:
    """Click a dialog's button once it is on the screen.

    A dialog is the app's screen as soon as it is pushed, but its buttons have a place only
    after the next layout; a click before that lands wherever an unplaced widget is (the
    screen's corner) and is lost. On a busy machine that layout comes late: the GRU test
    timed out waiting for a model that the lost click had never asked for.
    """
    app = pilot.app
    await wait_until(pilot, lambda: bool(app.screen.query(button)) and app.screen.query_one(button).region.area > 0,
                     what=f"{button} on the screen")
    assert await pilot.click(button), f"the click missed {button}"


def toasts(app) -> str:
    return "\n".join(str(t.render()) for t in app.screen.query("Toast"))


# ----- the main screen ------------------------------------------------------------------


async def test_every_pane_is_visible_with_its_title_at_120x40():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        for title in ("Loss", "Samples", "Gates", "Prompt", "Controls"):
            assert f"─ {title} " in text, title
        for pane in (app.chart, app.gates, app.samples, app.prompt, app.controls):
            region = pane.region
            assert region.width >= 20 and region.height >= 3, pane
            assert app.screen.region.contains_region(region), pane
        first_line = text.splitlines()[0]
        assert "step 0" in first_line and "epoch 0" in first_line and "paused" in first_line
        await wait_until(pilot, lambda: screen_text(app).splitlines()[-1].strip(), what="the footer")
        footer = screen_text(app).splitlines()[-1]
        for key in ("Start", "Step", "Reset", "Save", "Prompt", "Help", "Quit"):
            assert key in footer, key


async def test_space_starts_training_the_step_advances_and_the_chart_gains_points():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.chart.train == []
        await tap(pilot, "space")
        await wait_until(pilot, lambda: app.trainer.step >= 12 and len(app.chart.train) >= 10, what="training")
        await pilot.pause(0.15)
        header = screen_text(app).splitlines()[0]
        assert "training" in header and "chars/s" in header and "– chars/s" not in header
        shown_step = int(header.split("step ")[1].split()[0])
        assert shown_step >= 10
        assert "Pause" in screen_text(app).splitlines()[-1]
        assert app.chart.val, "validation loss is plotted too"

        await tap(pilot, "space")
        await wait_until(pilot, lambda: "paused" in screen_text(app).splitlines()[0], what="paused header")
        await pilot.pause(0.2)
        step = app.trainer.step
        await pilot.pause(0.3)
        assert app.trainer.step == step, "a paused trainer takes no steps"
        assert f"step {step}" in screen_text(app).splitlines()[0]


async def test_s_takes_exactly_one_step_and_the_heatmap_follows():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for expected in (1, 2, 3):
            await pilot.press("s")
            await wait_until(pilot, lambda: app.trainer.step == expected, what=f"step {expected}")
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.trainer.step == 3
        text = screen_text(app)
        assert "step 3" in text.splitlines()[0] and "paused" in text.splitlines()[0]
        assert "LSTM · step 3" in text, "the Gates pane shows a trace of the model after the steps"


async def test_a_prompt_streams_its_continuation_and_becomes_the_probe_text():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: app.focused is app.prompt.input, what="the prompt focused")
        await pilot.press(*"the fox")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.samples.entries[-1].text) == CONTINUATION_LENGTH, what="stream")
        await settle(pilot)
        entry = app.samples.entries[-1]
        assert "· prompt" in entry.header
        text = screen_text(app)
        assert entry.header in text
        assert entry.text[:20] in text.replace("\n", "") or entry.text.split("\n")[0][:10] in text
        assert app.probe_text == "the fox"
        assert "t h e · f o x" in text, "the heatmap's columns are the prompt's characters"


async def test_unknown_characters_are_flagged_not_crashed_on():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "ß" not in app.trainer.vocab and "é" not in app.trainer.vocab
        await pilot.press("p")
        await wait_until(pilot, lambda: app.focused is app.prompt.input, what="the prompt focused")
        await pilot.press(*"café ßa")
        await pilot.pause(0.1)
        assert app.prompt.input.value == "café ßa"
        assert "unknown, skipped: 'ß' 'é'" in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.samples.entries[-1].text) == CONTINUATION_LENGTH, what="stream")
        await settle(pilot)
        assert "prompt · 2 skipped" in screen_text(app)
        assert app.probe_text == "café ßa"
        assert "c a f · a" in screen_text(app), "the probe keeps only the characters the model can read"


async def test_gate_keys_switch_the_quantity_and_the_layer_and_the_values_change():
    app = tiny_app(layers=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.focused is app.gates
        first = app.gates.title_text()
        assert "layer 1 of 2 · i" in first and "layer 1 of 2 · i" in screen_text(app)
        value_i = app.gates.value_at_cursor()
        await pilot.press("g")
        assert "layer 1 of 2 · f" in screen_text(app)
        assert app.gates.value_at_cursor() != value_i
        await pilot.press("l")
        assert "layer 2 of 2 · f" in screen_text(app)
        await pilot.press("G", "G")
        assert "layer 2 of 2 · h" in screen_text(app)


async def test_temperature_keys_change_the_header_the_control_and_the_trainer():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        assert "T 0.70" in screen_text(app).splitlines()[0]
        await pilot.press("T", "T")
        assert "T 0.90" in screen_text(app).splitlines()[0]
        assert app.controls.query_one("#field-temperature", Input).value == "0.9"
        await wait_until(pilot, lambda: app.trainer.temperature == 0.9, what="trainer's temperature")


# ----- controls ----------------------------------------------------------------------------


async def set_field(pilot, name: str, value: str) -> None:
    field = pilot.app.controls.query_one(f"#field-{name}", Input)
    field.focus()
    await wait_until(pilot, lambda: pilot.app.focused is field, what=f"the {name} field focused")
    field.value = value
    await pilot.press("enter")
    await pilot.pause(0.1)


async def test_learning_rate_applies_live_without_a_restart():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        trainer = app.trainer
        await set_field(pilot, "lr", "0.01")
        assert not isinstance(app.screen, ConfirmDialog)
        await wait_until(pilot, lambda: trainer.optimizer.lr == 0.01, what="lr applied")
        assert app.trainer is trainer


async def test_a_bad_number_is_one_message_and_the_field_goes_back():
    app = tiny_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await set_field(pilot, "hidden", "lots")
        await wait_until(pilot, lambda: "hidden must be a whole number, not 'lots'" in toasts(app), what="the message")
        assert app.controls.query_one("#field-hidden", Input).value == "16"


async def test_a_shape_change_asks_first_then_builds_a_new_model():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.trainer.step == 1)
        await set_field(pilot, "hidden", "24")
        assert isinstance(app.screen, ConfirmDialog)
        assert "hidden = 24 needs a new model" in screen_text(app)
        await answer(pilot, "#answer-cancel")
        await pilot.pause(0.1)
        assert app.trainer.config.hidden == 16
        assert app.controls.query_one("#field-hidden", Input).value == "16"

        await set_field(pilot, "hidden", "24")
        await answer(pilot, "#answer-restart")
        await wait_until(pilot, lambda: app.trainer.config.hidden == 24, what="new model")
        await settle(pilot)
        assert "LSTM 1×24" in screen_text(app).splitlines()[0]
        assert app.trainer.step == 0


async def test_a_corpus_that_fails_to_load_leaves_the_model_and_the_app_running(tmp_path):
    app = tiny_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        trainer = app.trainer
        missing = tmp_path / "nothing-here.txt"
        await set_field(pilot, "corpus", str(missing))
        await answer(pilot, "#answer-restart")
        await wait_until(pilot, lambda: "corpus file not found" in toasts(app), what="error message")
        assert app.trainer is trainer and app.is_running
        assert "paused" in screen_text(app).splitlines()[0]
        assert app.controls.query_one("#field-corpus", Input).value == "fables"


# ----- files ---------------------------------------------------------------------------------


async def test_save_then_load_restores_the_step_and_the_history(tmp_path):
    path = tmp_path / "fables.safetensors"
    app = tiny_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        for _ in range(6):
            await pilot.press("s")
        await wait_until(pilot, lambda: app.trainer.step == 6)
        assert "unsaved" in screen_text(app).splitlines()[0]
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PathDialog)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, lambda: path.exists() and not app.unsaved, what="saved")
        await pilot.pause(0.1)
        assert f"saved step 6 to {path}" in toasts(app)
        assert "unsaved" not in screen_text(app).splitlines()[0]

        await pilot.press("r")
        await answer(pilot, "#answer-reset")
        await wait_until(pilot, lambda: app.trainer.step == 0, what="reset")

        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.trainer.step == 6, what="loaded")
        await settle(pilot)
        assert "step 6" in screen_text(app).splitlines()[0] and "paused" in screen_text(app).splitlines()[0]
        assert [p[0] for p in app.chart.train] == [1, 2, 3, 4, 5, 6]


async def test_loading_a_bad_checkpoint_shows_the_error_and_keeps_the_model(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"this is not a checkpoint")
    app = tiny_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        trainer = app.trainer
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "failed" in toasts(app), what="error toast")
        message = toasts(app)
        assert str(bad) in message and "Traceback" not in message
        assert app.trainer is trainer and app.is_running


async def test_saving_over_the_corpus_text_is_refused_and_the_text_is_kept(tmp_path):
    corpus = tmp_path / "story.txt"
    corpus.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    before = corpus.read_bytes()
    app = tiny_app(corpus=str(corpus))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.trainer.step == 1)
        await pilot.press("ctrl+s")
        app.screen.query_one(Input).value = str(corpus)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "not saved" in toasts(app), what="the refusal")
        assert "--corpus" in toasts(app) and app.unsaved
    assert corpus.read_bytes() == before


async def test_the_checkpoint_option_opens_a_saved_run_paused_with_its_history(tmp_path):
    path = tmp_path / "run.safetensors"
    trainer = new_trainer(TINY)
    for _ in range(7):
        trainer.train_step()
    trainer.save(path)
    app = make_app(checkpoint=str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        header = screen_text(app).splitlines()[0]
        assert "step 7" in header and "paused" in header and "unsaved" not in header
        assert len(app.chart.train) == 7
        assert app.default_save_path() == str(path)


def test_a_bad_checkpoint_on_the_command_line_is_one_line_and_no_ui(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"junk")
    result = subprocess.run(
        [sys.executable, "-m", "rnntui", "--checkpoint", str(bad)], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("rnntui: error:") and len(result.stderr.strip().splitlines()) == 1
    assert "\x1b[" not in result.stderr + result.stdout, "no terminal UI was started"


# ----- dialogs, help, palette, quitting -----------------------------------------------------------


async def test_help_explains_each_gate_with_its_equation_beside_the_gates_pane():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Screens are pushed and popped a frame after their key, later still on a loaded machine:
        # each step waits for what it asserts.
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        # The help is composed over the playground: wait for both to be drawn.
        await wait_until(pilot, lambda: "─ Gates " in screen_text(app), what="the Gates pane beside the help")
        text = screen_text(app)
        assert "f = σ(W_if x + b_if + W_hf h + b_hf)" in text and "c' = f * c + i * g" in text
        assert "The equations, one gate a line:" in text and "rnntui/engine/reference.py" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="the help closed")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help again, on F1")


async def test_the_command_palette_lists_start_and_pause_training():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await tap(pilot, *"training")
        await wait_until(pilot, lambda: "Pause training" in screen_text(app), what="the palette's matches")
        text = screen_text(app)
        assert "Start training" in text and "Pause training" in text
        await pilot.press("enter")  # the first match, Start training, is highlighted
        await wait_until(pilot, lambda: app.trainer.step > 0, what="training from the palette")
        assert app.training


async def test_the_palette_names_the_cli_command_that_does_the_same_headless():
    import typer

    from rnntui.cli import app as cli_app

    cli_commands = set(typer.main.get_command(cli_app).commands)
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
    named = {title: re.search(r"rnntui (\w+)", help_text) for title, help_text in commands.items()}
    named = {title: found.group(1) for title, found in named.items() if found}
    assert named == {"Explain or gates": "explain", "Export view as SVG": "plot", "Memory lab": "lab", "Learn": "learn"}
    assert set(named.values()) <= cli_commands


async def test_dialogs_answer_to_the_keyboard_alone_tab_moves_between_answers():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.trainer.step == 1)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await wait_until(pilot, lambda: app.focused and app.focused.id == "answer-save", what="the first answer")
        await pilot.press("tab")
        await wait_until(pilot, lambda: app.focused.id == "answer-quit", what="tab to the next answer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.is_running, what="quit without saving")


async def test_quitting_a_saved_model_asks_nothing():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause(0.1)
        assert not app.is_running


async def test_quitting_while_training_asks_then_stops_within_a_second():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "space")
        await wait_until(pilot, lambda: app.trainer.step >= 5)
        await tap(pilot, "q")
        await wait_until(pilot, lambda: "not saved" in screen_text(app), what="the question")
        assert isinstance(app.screen, ConfirmDialog)
        asked_at = app.trainer.step
        await wait_until(pilot, lambda: app.trainer.step > asked_at, what="training to go on while asking")
        runner = app.runner
        start = time.monotonic()
        app.screen.query_one("#answer-quit", Button).press()  # as a click does, without waiting for the screen
        while runner.alive and time.monotonic() - start < 2.0:
            await asyncio.sleep(0.01)
        assert not runner.alive and time.monotonic() - start < 1.0
        await pilot.pause(0.2)
        assert not app.is_running


async def test_a_failed_run_says_why_and_the_app_keeps_going():
    app = tiny_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        app.trainer.model.flat[:] = np.nan  # as if the weights had blown up
        await tap(pilot, "space")
        await wait_until(pilot, lambda: "training stopped" in toasts(app), what="failure message")
        assert "non-finite" in toasts(app)
        assert "failed" in screen_text(app).splitlines()[0]
        await pilot.press("p", *"the fox", "enter")
        await wait_until(pilot, lambda: "reset it (r)" in toasts(app), what="the prompt's refusal")
        assert app.is_running


# ----- sizes and long runs -------------------------------------------------------------------------


async def test_resizing_down_to_60x20_and_back_while_training():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "space")
        for size in ((80, 24), (60, 20), (80, 24), (120, 40)):
            await resize(pilot, *size)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1] and "step" in lines[0]
        await tap(pilot, "question_mark")
        await resize(pilot, 70, 22)  # with the help screen on top
        await tap(pilot, "escape")
        await resize(pilot, 120, 40)
        assert not isinstance(app.screen, HelpScreen)
        step = app.trainer.step
        await wait_until(pilot, lambda: app.trainer.step > step, what="training after resizing")
        assert app.chart.region.height == 14, "the layout is back to its 120x40 shape"
        assert "─ Controls " in screen_text(app)


async def test_the_samples_pane_keeps_only_the_newest_entries():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for i in range(MAX_ENTRIES + 10):
            app.samples.add_entry(f"sample {i}", text="abc", probs=[0.5] * 3)
        await pilot.pause(0.1)
        assert len(app.samples.children) == MAX_ENTRIES
        assert app.samples.entries[-1].header == f"sample {MAX_ENTRIES + 9}"


def test_train_and_help_do_not_import_textual(tmp_path):
    probe = (
        "import sys\n"
        "from rnntui.cli import main\n"
        "sys.argv = ['rnntui'] + sys.argv[1:]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('TEXTUAL' if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 'CLEAN')\n"
    )
    for args in (["--help"], ["train", "--help"],
                 ["train", "--corpus", "hello", "--steps", "2", "--hidden", "8", "--quiet",
                  "--out", str(tmp_path / "m.safetensors")]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        assert result.stdout.strip().endswith("CLEAN"), (args, result.stdout[-300:], result.stderr[-300:])


async def test_choosing_gru_builds_a_gru_and_the_gates_show_its_quantities():
    from textual.widgets import Select

    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        cell = app.controls.query_one("#field-cell", Select)
        cell.focus()  # the person opens the dropdown, then picks
        await wait_until(pilot, lambda: app.focused is cell, what="the cell field focused")
        cell.value = "gru"
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await answer(pilot, "#answer-restart")
        await wait_until(pilot, lambda: app.trainer.config.cell == "gru", what="a GRU")
        await settle(pilot)
        assert "GRU 1×16" in screen_text(app).splitlines()[0]
        assert app.gates.quantities == ["r", "z", "n", "h"]
        assert "layer 1 of 1 · r" in screen_text(app)


# ----- the pieces behind the panes -----------------------------------------------------------------


def test_the_collector_coalesces_steps_and_keeps_every_other_event():
    from rnntui.train.events import EvalDone, StepDone
    from rnntui.tui.widgets.run_worker import Collector, Evaluated, Steps

    run, wakes = object(), []
    collector = Collector(run, wakes.append)
    for step in range(1, 1001):
        collector(StepDone(step=step, loss=2.0, chars_per_sec=1000.0 * step, epoch=0, grad_norm=1.0, lr=1e-3))
        if step % 400 == 0:
            collector(EvalDone(step=step, val_loss=2.5, train_loss=2.0))
    assert wakes == [collector], "one wake-up for the whole batch, however many events"
    steps, *events = collector.take()
    assert isinstance(steps, Steps) and steps.count == 1000 and steps.event.step == 1000
    assert all(isinstance(e, Evaluated) for e in events) and [e.event.step for e in events] == [400, 800]
    assert all(m.run is run for m in [steps, *events]), "every message is stamped with its run"
    assert 1000.0 < steps.chars_per_sec < 1000.0 * 1000, "a smoothed rate, neither the first nor the last"
    assert collector.take() == [] and not collector.waiting
    collector(StepDone(step=1001, loss=2.0, chars_per_sec=1000.0, epoch=0, grad_norm=1.0, lr=1e-3))
    (again,) = collector.take()
    assert wakes == [collector, collector], "the next event after a take wakes the UI again"
    remembered = 0.9 * steps.chars_per_sec + 0.1 * 1000.0
    assert abs(again.chars_per_sec - remembered) < 1e-6 * remembered, "the rate is remembered between takes"


def test_the_chart_fits_its_box_and_reads_in_nats_and_bits():
    import math

    from rnntui.plot.loss import loss_chart, loss_line

    train = [(s, 4.0 * math.exp(-s / 300) + 1.0) for s in range(1, 2001)]
    val = [(s, 4.0 * math.exp(-s / 300) + 1.3) for s in range(100, 2001, 100)]
    for width, height in ((76, 12), (42, 7), (24, 5)):
        lines = loss_chart([loss_line("train (smoothed)", train, "blue", "train"), loss_line("validation", val, "red", "val")],
                           width, height)
        assert len(lines) == height and all(line.cell_len <= width for line in lines)
        assert "train" in lines[-1].plain and "val" in lines[-1].plain
    ln4 = math.log(4)  # 2 bits exactly
    lines = [line.plain for line in loss_chart([loss_line("train", train + [(2001, ln4)], "blue")], 76, 12)]
    assert lines[0].split() == ["nats", "bits/char"]
    assert "step" in lines[-2] and "1k" in lines[-2] and "2k" in lines[-2]
    assert "1.386 nats 2.00 bpc" in lines[-1]  # the last point, in both units
    plot = "".join(lines[1:-3])
    assert any("\u2800" < ch <= "\u28ff" for ch in plot), "the curve is drawn in braille"


async def test_e_explains_the_probe_text_and_the_explanation_follows_training():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "e")
        await wait_until(pilot, lambda: app.explain.view.prediction is not None, what="an explanation")
        view = app.explain.view
        assert app.focused is view and not app.gates.display
        await wait_until(pilot, lambda: "Explain · LSTM · step 0" in screen_text(app), what="the pane drawn")
        text = screen_text(app)
        last = view.prediction
        assert f"position {last.position} of {last.position}" in text and "◀ actual" in text
        assert "chars back" in text and "half within" in text, "the memory span chart sits below"
        first_saliency = last.saliency.copy()

        await tap(pilot, "left", "left")
        await wait_until(pilot, lambda: view.position == last.position - 2, what="the cursor moved")
        moved = view.prediction
        await wait_until(pilot, lambda: f"position {moved.position} of" in screen_text(app), what="the caption")
        top_char, top_p = moved.top[0]
        assert f"{top_p:6.1%}" in screen_text(app), "the bars are the prediction under the cursor"

        for expected in (1, 2, 3):  # training on: a fresh explanation, the cursor kept where it was
            await tap(pilot, "s")
            await wait_until(pilot, lambda: app.trainer.step == expected, what=f"step {expected}")
        await wait_until(pilot, lambda: "Explain · LSTM · step 3" in screen_text(app), what="a fresh explanation")
        assert view.position == last.position - 2
        await tap(pilot, "end")
        await wait_until(pilot, lambda: view.position == last.position, what="back to the last character")
        assert not np.allclose(view.prediction.saliency, first_saliency), "the saliency follows the model"

        await tap(pilot, "e")
        await wait_until(pilot, lambda: app.gates.display and app.focused is app.gates, what="the gates again")
        await wait_until(pilot, lambda: "LSTM · step 3" in screen_text(app) and "Gates" in screen_text(app),
                         what="the gates drawn")


def svg_lines(path) -> list[str]:
    """The text of an SVG figure, one string per line of the terminal it shows."""
    lines: dict[int, list[tuple[float, str]]] = {}
    for x, line, text in SVG_TEXT.findall(path.read_text()):
        lines.setdefault(int(line), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    return ["".join(text for _, text in sorted(lines[n])) for n in sorted(lines)]


async def test_export_writes_the_focused_pane_or_the_screen_to_new_svg_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = tiny_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        app.samples.focus()
        await tap(pilot, "E")
        pane = tmp_path / "rnntui-samples-step0.svg"
        await wait_until(pilot, lambda: f"the samples pane saved to {pane}" in toasts(app), what="the toast")
        lines = svg_lines(pane)
        assert "Samples" in lines[0] and "Press space to train" in "".join(lines)
        assert not any("Loss" in line or "Controls" in line for line in lines), "only the focused pane"
        assert max(cell_len(line) for line in lines) == app.samples.region.width

        await tap(pilot, "E")  # again: a new file, the first one kept
        await wait_until(pilot, lambda: (tmp_path / "rnntui-samples-step0-2.svg").exists(), what="a second file")
        await tap(pilot, "ctrl+e")
        whole = tmp_path / "rnntui-step0.svg"
        await wait_until(pilot, lambda: whole.exists(), what="the screen's file")
        text = "\n".join(svg_lines(whole))
        assert all(title in text for title in ("Loss", "Gates", "Controls", "Samples", "Prompt"))

        gone = tmp_path / "gone"
        gone.mkdir()
        monkeypatch.chdir(gone)
        gone.rmdir()
        await tap(pilot, "E")
        await wait_until(pilot, lambda: "not exported" in toasts(app), what="the refusal")
        assert app.is_running


async def test_m_opens_the_memory_lab_and_pauses_the_playground():
    from rnntui.tui.lab.screen import LabScreen

    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "space")
        await wait_until(pilot, lambda: app.trainer.step > 0, what="training")
        await tap(pilot, "m")
        await wait_until(pilot, lambda: isinstance(app.screen, LabScreen), what="the lab screen")
        assert not app.training
        # The new screen is drawn a frame after it is pushed; under load that frame can come late.
        await wait_until(pilot, lambda: "Race" in screen_text(app), what="the lab drawn")
        text = screen_text(app)
        assert "Race" in text and "Gradient reach" in text and "Gate saturation" in text
        await tap(pilot, "r")  # the playground's reset key does nothing under the lab
        await pilot.pause(0.1)
        assert isinstance(app.screen, LabScreen)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Quit" in titles and "Start training" not in titles, "nor do its palette commands"
        await tap(pilot, "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LabScreen), what="the playground again")
        await wait_until(pilot, lambda: "Loss" in screen_text(app), what="the playground drawn again")


async def test_f2_opens_the_lessons_in_the_locales_language_and_pauses_the_playground(monkeypatch):
    from rnntui.tui.lessons.list_screen import LessonListScreen

    monkeypatch.setenv("LC_ALL", "ko_KR.UTF-8")
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await tap(pilot, "space")
        await wait_until(pilot, lambda: app.trainer.step > 0, what="training")
        await tap(pilot, "f2")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonListScreen), what="the lessons")
        assert not app.training
        await wait_until(pilot, lambda: "rnntui 강의" in screen_text(app), what="the list drawn, in Korean")
        await tap(pilot, "space")  # the playground's start key does nothing under the lessons
        await pilot.pause(0.1)
        assert not app.training and isinstance(app.screen, LessonListScreen)
        await tap(pilot, "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LessonListScreen), what="the playground again")
        await wait_until(pilot, lambda: "Loss" in screen_text(app), what="the playground drawn again")


# ----- keys and focus, whatever the learner touched last ---------------------------------------------


async def test_after_the_controls_pane_focus_returns_and_every_key_works_again():
    from textual.widgets import Select

    app = tiny_app(layers=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.focused is app.gates
        cell = app.controls.query_one("#field-cell", Select)
        cell.focus()
        await wait_until(pilot, lambda: app.focused is cell, what="the cell field focused")
        cell.value = "gru"  # what choosing it in the dropdown does
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
        await wait_until(pilot, lambda: "Keep this one" in screen_text(app), what="the dialog drawn")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.focused is app.gates, what="focus back on the Gates pane")
        assert app.trainer.config.cell == "lstm" and cell.value == "lstm"
        await pilot.press("g")
        assert "layer 1 of 2 · f" in screen_text(app), "the Gates pane's own keys work again"

        cell.focus()  # a focused dropdown, left as it is: the footer's keys still reach the app
        await pilot.pause(0.05)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.trainer.step == 1, what="one step from the dropdown")
        await pilot.press("T")
        assert "T 0.90" in screen_text(app).splitlines()[0]
        await pilot.press("space")
        await wait_until(pilot, lambda: app.trainer.step > 3, what="training started from the dropdown")
        assert not cell.expanded, "space trained instead of opening the dropdown"
        await tap(pilot, "space")
        await wait_until(pilot, lambda: not app.training, what="paused")

        lr = app.controls.query_one("#field-lr", Input)
        lr.focus()
        await pilot.pause(0.05)
        await pilot.press(*"0.01", "enter")  # typed over the selected old value
        await wait_until(pilot, lambda: app.trainer.optimizer.lr == 0.01, what="the new lr")
        await wait_until(pilot, lambda: app.focused is app.gates, what="focus back after applying")
        assert not isinstance(app.screen, ConfirmDialog)


async def test_typing_in_the_prompt_keeps_the_letters_that_are_keys_elsewhere():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: app.focused is app.prompt.input, what="the prompt focused")
        await pilot.press(*"rats must sleep? ")
        assert app.prompt.input.value == "rats must sleep? "
        assert app.trainer.step == 0 and not isinstance(app.screen, (ConfirmDialog, HelpScreen))
        assert "T 0.80" in screen_text(app).splitlines()[0]


async def test_reset_clears_the_old_models_samples():
    app = tiny_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p", *"the fox", "enter")
        await wait_until(pilot, lambda: app.samples.entries and len(app.samples.entries[-1].text) == CONTINUATION_LENGTH,
                         what="a continuation")
        old_text = app.samples.entries[-1].text
        await pilot.press("escape", "s")
        await wait_until(pilot, lambda: app.trainer.step == 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: "Reset" in screen_text(app), what="the question")
        await answer(pilot, "#answer-reset")
        await wait_until(pilot, lambda: app.trainer.step == 0 and "fresh model" in screen_text(app), what="reset")
        await settle(pilot)
        assert app.samples.entries == []
        assert old_text[:20] not in screen_text(app).replace("\n", "")


# ----- terminals without colour, dumb terminals, small ones ------------------------------------------


async def test_no_color_a_dumb_terminal_and_80x24_train_and_draw_every_pane(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await tap(pilot, "space")
        await wait_until(pilot, lambda: app.trainer.step >= 10, what="training")
        await tap(pilot, "space")
        await wait_until(pilot, lambda: not app.training, what="paused")
        await settle(pilot)
        await pilot.press("u")  # the text view too: both draw line by line
        await settle(pilot)
        text = screen_text(app)
        assert len(text.splitlines()) == 24
        for title in ("Loss", "Samples", "Gates", "Prompt", "Controls"):
            assert f"─ {title} " in text, title
        assert "layer 1 of 1" in text and app.is_running
        await tap(pilot, "e")  # the Explain pane draws line by line too
        await wait_until(pilot, lambda: "─ Explain · LSTM" in screen_text(app), what="the Explain pane drawn")
        assert "◀ actual" in screen_text(app) and app.is_running
    assert app.return_code in (0, None), "the app closed without an error"
