"""The Explain view: a real explanation from a small seeded model, keys pressed, what it draws checked.

Lines are read back the way Textual draws them (the view's render_line), and
positions are measured in terminal cells, so wide characters count as two.
"""

import numpy as np
from rich.cells import cell_len
from textual.app import App, ComposeResult

from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.train.explain import explain
from rnntui.plot.heatmap import FRACTION_PALETTE, ColourScale, visible_char
from rnntui.tui.playground.unit_text import text_glyph
from rnntui.tui.widgets.explain_view import ACTUAL_MARK, CURSOR_STYLE, LABEL_CELLS, ExplainView, bar_label

PROBE = 'say "안녕" 🙂\n\tto 日本 ok. 안녕 日本'
VOCAB = Vocabulary.from_text(PROBE)


def explanation_of(seed=0, cell="gru", text=PROBE, top=4):
    model = CharRNN(ModelShape(cell, VOCAB.size, 5, 8, 2), dtype=np.float64, seed=seed)
    return explain(model, VOCAB, text, top=top)


class ViewApp(App):
    def compose(self) -> ComposeResult:
        yield ExplainView()

    def on_mount(self) -> None:
        self.query_one(ExplainView).focus()


def lines(view):
    return [view.render_line(y) for y in range(view.size.height)]


def cell_of(strip, column):
    """The text and style of the one cell at `column` of a drawn line (a wide character's left half)."""
    at = 0
    for segment in strip:
        width = cell_len(segment.text)
        if at <= column < at + width:
            offset = column - at
            for char in segment.text:
                w = cell_len(char)
                if offset < w:
                    return char, segment.style
                offset -= w
        at += width
    return None, None


def text_columns(view, text):
    """(line y, first cell) of every character of the text as the view draws it."""
    out = {}
    for number, line in enumerate(view._lines):
        column = 0
        for t in line:
            out[t] = (view._text_top + number, column)
            column += cell_len(text_glyph(text[t]))
    return out


async def shown(pilot, explanation):
    view = pilot.app.query_one(ExplainView)
    view.show(explanation)
    await pilot.pause()
    return view


async def test_the_cursor_starts_on_the_last_character_and_the_bars_show_its_prediction():
    explanation = explanation_of()
    async with ViewApp().run_test(size=(60, 20)) as pilot:
        view = await shown(pilot, explanation)
        last = len(PROBE) - 1
        prediction = explanation.at(last)
        drawn = lines(view)
        assert drawn[0].text.startswith(f"position {last} of {last}: p(actual '本') = {prediction.prob:.1%}")
        for row, (char, p) in enumerate(prediction.top, start=1):
            bar = drawn[row].text
            assert bar.startswith(bar_label(char)) and f"{p:.1%}" in bar
            assert (ACTUAL_MARK in bar) == (char == prediction.target)
        bar_lengths = [drawn[row].text.count("█") for row in range(1, len(prediction.top) + 1)]
        assert bar_lengths == sorted(bar_lengths, reverse=True)


async def test_moving_the_cursor_changes_the_bars_the_caption_and_the_tint():
    explanation = explanation_of()
    async with ViewApp().run_test(size=(60, 20)) as pilot:
        view = await shown(pilot, explanation)
        before = [strip.text for strip in lines(view)]
        await pilot.press("left", "left")
        assert view.position == len(PROBE) - 3
        prediction = explanation.at(view.position)
        drawn = lines(view)
        assert drawn[0].text.startswith(f"position {view.position} of")
        assert [strip.text for strip in drawn] != before
        assert drawn[1].text.startswith(bar_label(prediction.top[0][0])) and f"{prediction.top[0][1]:.1%}" in drawn[1].text
        # Every earlier character wears its saliency's tint; the cursor's own is marked; later ones dimmed.
        levels = ColourScale(0.0, 1.0, FRACTION_PALETTE).levels(prediction.relative_saliency())
        where = text_columns(view, PROBE)
        base = view.rich_style  # the widget's own style lies under every segment
        for t, (y, column) in where.items():
            glyph, style = cell_of(drawn[y], column)
            assert glyph == text_glyph(PROBE[t])[0]
            if t < view.position:
                assert style == base + FRACTION_PALETTE[levels[t]], t
            elif t == view.position:
                assert style == base + CURSOR_STYLE
            else:
                assert style.dim
        brightest = int(np.argmax(prediction.saliency))
        assert cell_of(drawn[where[brightest][0]], where[brightest][1])[1] == base + FRACTION_PALETTE[-1]
        await pilot.press("home")
        assert view.position == 1 and lines(view)[0].text.startswith("position 1 of")
        await pilot.press("left")
        assert view.position == 1
        await pilot.press("end")
        assert view.position == len(PROBE) - 1


async def test_up_and_down_move_between_wrapped_lines():
    async with ViewApp().run_test(size=(60, 20)) as pilot:
        view = await shown(pilot, explanation_of())
        assert len(view._lines) == 2  # the newline ends the first line
        await pilot.press("up")
        assert PROBE.index("\n") >= view.position >= 1
        await pilot.press("down")
        assert view.position > PROBE.index("\n")


async def test_bars_start_in_one_column_whatever_the_labels_width():
    explanation = explanation_of(top=8)
    async with ViewApp().run_test(size=(60, 24)) as pilot:
        view = await shown(pilot, explanation)
        widths = set()
        for position in range(1, len(PROBE)):
            view._go(position - 1)
            prediction = view.prediction
            for row in range(1, len(prediction.top) + 1):
                strip = view.render_line(row)
                label = prediction.top[row - 1][0]
                widths.add(cell_len(visible_char(label)))
                text = strip.text
                bar_start = cell_len(text[: text.index("█")]) if "█" in text else None
                if bar_start is not None:
                    assert bar_start == LABEL_CELLS + 1, (label, text)
        assert widths == {1, 2}  # both narrow and wide labels were drawn


async def test_a_new_explanation_keeps_the_cursor_and_redraws_the_tints():
    async with ViewApp().run_test(size=(60, 20)) as pilot:
        view = await shown(pilot, explanation_of(seed=0))
        await pilot.press("left", "left", "left")
        position = view.position
        first = [strip.text for strip in lines(view)]
        await shown(pilot, explanation_of(seed=1))
        assert view.position == position
        assert [strip.text for strip in lines(view)] != first  # another model, other bars
