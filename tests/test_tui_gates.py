"""The Gates pane: a real trace from a small seeded model, keys pressed, what it shows checked.

Lines are read back the way Textual draws them (each view's render_line), and
positions are measured in terminal cells, so wide characters count as two.
"""

import numpy as np
import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape
from rnntui.plot import gate_stats
from rnntui.tui.playground.gates import PLACEHOLDER, GatesPane
from rnntui.plot.colour import luminance
from rnntui.plot.heatmap import COLUMN_WIDTH, FRACTION_PALETTE, SIGNED_PALETTE, ColourScale, column_label, visible_char
from rnntui.tui.widgets.heatmap import HeatmapView
from rnntui.tui.playground.unit_text import UnitTextView, wrap_positions

PROBE = 'say "안녕" 🙂\n\tto 日本 ok'


def real_trace(text=PROBE, cell="lstm", hidden=6, layers=2, seed=7):
    """The engine's own trace of `text`, batch axis dropped: per layer, quantity -> [T, H]."""
    vocab = sorted(set(text))
    model = CharRNN(ModelShape(cell, len(vocab), 5, hidden, layers), dtype=np.float64, seed=seed)
    tokens = np.array([[vocab.index(c) for c in text]])
    return [{name: a[0].copy() for name, a in layer.items()} for layer in model.forward(tokens, trace=True).trace]


class PaneApp(App):
    def compose(self) -> ComposeResult:
        yield GatesPane()

    def on_mount(self) -> None:
        self.query_one(GatesPane).focus()


async def started(pilot, trace, text=PROBE, cell="lstm", step=10):
    pane = pilot.app.query_one(GatesPane)
    pane.show(trace, text, cell, step)
    await pilot.pause()
    return pane


def row_text(view, y):
    return view.render_line(y).text


def cells_at(strip, start, width=COLUMN_WIDTH):
    """The text and style of the cells [start, start + width) of a rendered line."""
    piece = strip.crop(start, start + width)
    styles = [seg.style for seg in piece if seg.text]
    return piece.text, styles[0] if styles else None


def grid_cell(grid, row, t):
    """What the grid draws for display row `row`, timestep `t` (both must be on screen)."""
    x = grid.gutter_width + COLUMN_WIDTH * t - int(grid.scroll_x)
    y = 1 + row - int(grid.scroll_y)
    return cells_at(grid.render_line(y), x)


# ----- pure helpers -----------------------------------------------------------------------


def test_value_ranges_per_quantity():
    c = np.array([[0.5, -2.5], [1.0, 0.0]])
    assert gate_stats.value_range("f", c) == (0.0, 1.0)
    assert gate_stats.value_range("z", c) == (0.0, 1.0)
    assert gate_stats.value_range("g", c) == (-1.0, 1.0)
    assert gate_stats.value_range("h", c) == (-1.0, 1.0)
    assert gate_stats.value_range("c", c) == (-2.5, 2.5)
    assert gate_stats.value_range("c", np.zeros((3, 2))) == (-1.0, 1.0)
    assert gate_stats.is_fraction("i") and not gate_stats.is_fraction("c")


def test_order_by_variance_is_descending_and_stable():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(20, 7)) * np.arange(1, 8)
    values[:, 3] = 0.25  # constant: least variance
    order = gate_stats.order_by_variance(values)
    variance = values.var(axis=0)
    assert list(order) == list(np.argsort(-variance, kind="stable"))
    assert np.all(np.diff(variance[order]) <= 0)
    assert order[-1] == 3
    assert list(gate_stats.order_by_variance(np.ones((4, 5)))) == [0, 1, 2, 3, 4]


def test_char_correlation_matches_pearson():
    text = "abcaacbab"
    rng = np.random.default_rng(1)
    values = rng.normal(size=(len(text), 4))
    values[:, 1] = [1.0 if ch == "a" else 0.0 for ch in text]  # a perfect 'a' detector
    values[:, 2] = 3.0  # constant: correlation undefined, reported as 0
    r = gate_stats.char_correlation(values, text, "a")
    indicator = np.array([ch == "a" for ch in text], float)
    assert r[0] == pytest.approx(np.corrcoef(values[:, 0], indicator)[0, 1])
    assert r[1] == pytest.approx(1.0)
    assert r[2] == 0.0
    assert np.all(gate_stats.char_correlation(values, text, "z") == 0.0)  # absent character
    order = gate_stats.order_by_correlation(r)
    assert order[0] == 1
    assert np.all(np.diff(np.abs(r[order])) <= 0)


def test_every_column_label_is_two_cells():
    for char in "a \n\t안녕日本🙂é\u0301\x00":
        assert cell_len(column_label(char)) == COLUMN_WIDTH, repr(char)
    assert column_label("\n").startswith("⏎") and column_label(" ").startswith("·")
    assert column_label("\t").startswith("→") and column_label("안") == "안"


def test_colour_scales_tell_the_ends_apart():
    def rgb(style):
        return style.bgcolor.get_truecolor()

    shut, nearly_shut = ColourScale(0, 1, FRACTION_PALETTE).style(0.0), ColourScale(0, 1, FRACTION_PALETTE).style(0.05)
    fully_open = ColourScale(0, 1, FRACTION_PALETTE).style(1.0)
    nearly_open = ColourScale(0, 1, FRACTION_PALETTE).style(0.95)
    assert luminance(rgb(fully_open)) - luminance(rgb(shut)) > 150
    assert rgb(shut) != rgb(nearly_shut) and rgb(fully_open) != rgb(nearly_open)
    signed = ColourScale(-1, 1, SIGNED_PALETTE)
    low, zero, high = rgb(signed.style(-1.0)), rgb(signed.style(0.0)), rgb(signed.style(1.0))
    assert low[2] > low[0] and high[0] > high[2]  # blue below zero, orange above
    assert luminance(zero) < 40 < luminance(low) and luminance(zero) < luminance(high)
    assert signed.style(float("nan")) == signed.style(-1.0)


def test_wrap_keeps_every_character_in_order_within_the_width():
    text = "one two three four\n안녕하세요 🙂🙂🙂 end"
    for width in (1, 3, 7, 12, 80):
        lines = wrap_positions(text, width)
        assert [t for line in lines for t in line] == list(range(len(text)))
        for line in lines:
            glyphs = "".join(" " if text[t] == " " else visible_char(text[t]) for t in line)
            assert cell_len(glyphs) <= max(width, 2)
    lines = wrap_positions(text, 80)
    assert text[lines[0][-1]] == "\n" and len(lines) == 2
    short = "aaa bbb"
    assert [[short[t] for t in line] for line in wrap_positions(short, 5)] == [list("aaa "), list("bbb")]


# ----- the pane ---------------------------------------------------------------------------


async def test_placeholder_before_the_first_trace():
    async with PaneApp().run_test(size=(60, 20)) as pilot:
        pane = pilot.app.query_one(GatesPane)
        assert pane.border_title == "Gates"
        assert pane.can_focus and pane.has_focus
        assert pane.title_text() == PLACEHOLDER
        assert pane.value_at_cursor() is None
        await pilot.press("g", "l", "right", "down", "v", "x", "0", "u", "u", "pagedown")
        assert pane.title_text() == PLACEHOLDER


async def test_g_steps_through_the_quantities_and_redraws_the_values():
    trace = real_trace()
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace)
        grid = pilot.app.query_one(HeatmapView)
        assert pane.quantity == "i" and "i — input gate" in pane.title_text()
        assert "scale 0..1" in pane.title_text()
        await pilot.press("g")
        assert pane.quantity == "f"
        assert "f — forget gate: how much of the cell state is kept" in pane.title_text()
        assert pane.value_at_cursor() == trace[0]["f"][0, 0]
        scale = ColourScale.for_range(0.0, 1.0, fraction=True)
        for row, unit in enumerate(pane.order[:4]):
            _, style = grid_cell(grid, row, 2)
            assert style.bgcolor == scale.style(trace[0]["f"][2, unit]).bgcolor
        await pilot.press("g", "g")
        assert pane.quantity == "o"
        await pilot.press("g")
        peak = np.abs(trace[0]["c"]).max()
        assert pane.quantity == "c" and f"scale {-peak:.3g}..{peak:.3g}" in pane.title_text()
        await pilot.press("g", "g")
        assert pane.quantity == "i"  # wrapped round
        await pilot.press("G")
        assert pane.quantity == "h" and "scale -1..1" in pane.title_text()


async def test_l_changes_the_layer():
    trace = real_trace()
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace)
        assert pane.layer_index == 0 and "layer 1 of 2" in pane.title_text()
        await pilot.press("right", "l")
        assert pane.layer_index == 1 and "layer 2 of 2" in pane.title_text()
        assert pane.value_at_cursor() == trace[1]["i"][1, 0]
        await pilot.press("l")
        assert pane.layer_index == 0
        await pilot.press("L")
        assert pane.layer_index == 1


async def test_arrows_move_the_cursor_readout():
    trace = real_trace()
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace)
        grid = pilot.app.query_one(HeatmapView)
        await pilot.press("right", "right", "right", "right", "right", "down", "down", "down")
        assert pane.cursor == (3, 5)
        value = trace[0]["i"][5, 3]
        assert pane.value_at_cursor() == value
        assert f"unit 3, t=5 '안': {value:.3f}" in pane.title_text()
        assert grid_cell(grid, 3, 5)[0] == "[]"  # the cursor mark sits on that cell
        await pilot.press("left", "up")
        assert pane.cursor == (2, 4) and "t=4 '\"'" in pane.title_text()
        await pilot.press("left", "left", "left", "left", "left", "left", "up", "up", "up", "up")
        assert pane.cursor == (0, 0)  # clamped at the edges
        await pilot.press("end", "pagedown")
        assert pane.cursor == (5, len(PROBE) - 1)
        newline = PROBE.index("\n")
        await pilot.press("home", *["right"] * newline)
        assert f"t={newline} '⏎'" in pane.title_text()


async def test_v_orders_units_by_descending_variance():
    trace = real_trace(hidden=9)
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace)
        await pilot.press("g", "v")
        variance = trace[0]["f"].var(axis=0)
        assert pane.order == list(np.argsort(-variance, kind="stable"))
        assert np.all(np.diff(variance[pane.order]) <= 0)
        assert "order: variance" in pane.title_text()
        assert pane.cursor[0] == pane.order[0]  # the sort brings the cursor to the top unit
        grid = pilot.app.query_one(HeatmapView)
        assert row_text(grid, 1).split()[0] == str(pane.order[0])  # gutter shows real unit indexes
        await pilot.press("0")
        assert pane.order == list(range(9)) and "order: unit" in pane.title_text()


async def test_x_orders_units_by_correlation_with_the_character_under_the_cursor():
    text = "abcab abca bcabb aab"
    trace = real_trace(text, cell="gru", hidden=8, layers=1)
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace, text, cell="gru")
        assert pane.quantities == ["r", "z", "n", "h"]
        await pilot.press("right", "x")  # the cursor is on 'b'
        values = trace[0]["r"]
        indicator = np.array([ch == "b" for ch in text], float)
        r = np.array([np.corrcoef(values[:, k], indicator)[0, 1] for k in range(8)])
        assert pane.order == list(np.argsort(-np.abs(r), kind="stable"))
        top = pane.order[0]
        assert "order: |r| with 'b'" in pane.title_text()
        assert f"(r={r[top]:+.2f})" in pane.title_text()
        await pilot.press("right")  # moving on keeps the order about 'b'
        assert "order: |r| with 'b'" in pane.title_text() and pane.order[0] == top


async def test_u_shows_the_text_tinted_by_the_unit_under_the_cursor():
    trace = real_trace()
    async with PaneApp().run_test(size=(60, 20)) as pilot:
        pane = await started(pilot, trace)
        await pilot.press("g", "down", "down", "right", "u")
        text_view = pilot.app.query_one(UnitTextView)
        assert pane.text_view and text_view.display and not pilot.app.query_one(HeatmapView).display
        assert "unit 2" in row_text(text_view, 0)
        first_line = PROBE[: PROBE.index("\n")]
        assert row_text(text_view, 1).startswith(first_line + "⏎")
        assert row_text(text_view, 2).startswith("→to 日本 ok")
        scale = ColourScale.for_range(0.0, 1.0, fraction=True)

        def tint(line, t):
            x = cell_len(PROBE[:t]) if line == 1 else 0
            return cells_at(text_view.render_line(line), x, 1)[1]

        assert tint(1, 3).bgcolor == scale.style(trace[0]["f"][3, 2]).bgcolor
        assert tint(1, 1).underline  # the cursor's character is marked
        await pilot.press("down")  # another unit recolours the text
        assert "unit 3" in row_text(text_view, 0)
        assert tint(1, 3).bgcolor == scale.style(trace[0]["f"][3, 3]).bgcolor
        await pilot.press("u")
        assert not pane.text_view and pilot.app.query_one(HeatmapView).display


async def test_header_labels_stay_over_their_columns_with_wide_characters():
    trace = real_trace()
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace)
        grid = pilot.app.query_one(HeatmapView)
        header = grid.render_line(0)
        gutter = grid.gutter_width
        assert header.cell_length == grid.size.width
        for t, char in enumerate(PROBE):
            assert cells_at(header, gutter + COLUMN_WIDTH * t)[0] == column_label(char), (t, char)
        # the cursor mark in a unit row lands under the label of its timestep
        wide = PROBE.index("🙂")
        await pilot.press(*["right"] * wide)
        assert cells_at(grid.render_line(0), gutter + COLUMN_WIDTH * wide)[0] == "🙂"
        assert cells_at(grid.render_line(1), gutter + COLUMN_WIDTH * wide)[0] == "[]"
        assert pane.cursor == (0, wide)


async def test_narrow_pane_scrolls_to_keep_the_cursor_in_view():
    text = "안녕하세요 " * 12
    trace = real_trace(text, cell="rnn", hidden=40, layers=1)
    async with PaneApp().run_test(size=(60, 20)) as pilot:
        pane = await started(pilot, trace, text, cell="rnn")
        grid = pilot.app.query_one(HeatmapView)
        await pilot.press("end", *["pagedown"] * 3)
        await pilot.pause()
        assert pane.cursor == (39, len(text) - 1)
        assert grid.scroll_x > 0 and grid.scroll_y > 0
        assert grid_cell(grid, 39, len(text) - 1)[0] == "[]"
        header = grid.render_line(0)
        x = grid.gutter_width + COLUMN_WIDTH * (len(text) - 2) - int(grid.scroll_x)
        assert cells_at(header, x)[0] == "요"  # labels scroll with their columns
        await pilot.press("home")
        await pilot.pause()
        assert grid.scroll_x == 0 and grid_cell(grid, 39, 0)[0] == "[]"
        # scrolled by an odd number of cells, a column is cut in half at each edge
        grid.scroll_to(x=3, animate=False)
        await pilot.pause()
        assert grid.scroll_x == 3
        header = grid.render_line(0)
        assert header.cell_length == grid.size.width
        assert cells_at(header, grid.gutter_width, 3)[0] == " 하"  # half of 녕, then 하
        assert all(grid.render_line(y).cell_length == grid.size.width for y in range(grid.size.height))


async def test_a_fresh_trace_keeps_layer_quantity_cursor_and_order():
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, real_trace(seed=7))
        await pilot.press("l", "g", "g", "v", "right", "right", "down")
        unit, t = pane.cursor
        fresh = real_trace(seed=8)
        pane.show(fresh, PROBE, "lstm", 20)
        await pilot.pause()
        assert (pane.layer_index, pane.quantity, pane.cursor) == (1, "g", (unit, t))
        assert pane.order == list(np.argsort(-fresh[1]["g"].var(axis=0), kind="stable"))
        assert pane.value_at_cursor() == fresh[1]["g"][t, unit]
        assert pane.border_subtitle == "LSTM · step 20"
        # a smaller model (another run) clamps what no longer exists
        pane.show(real_trace("ab", cell="gru", hidden=2, layers=1), "ab", "gru", 1)
        await pilot.pause()
        assert pane.layer_index == 0 and pane.quantity == "r" and pane.cursor == (1, 1)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
async def test_one_unit_one_step_at_a_tiny_size(cell):
    trace = real_trace("x", cell=cell, hidden=1, layers=1)
    async with PaneApp().run_test(size=(60, 20)) as pilot:
        pane = await started(pilot, trace, "x", cell=cell)
        keys = ["g", "G", "l", "L", "left", "right", "up", "down", "pageup", "pagedown", "home", "end",
                "v", "x", "0", "u", "down", "u"]
        await pilot.press(*keys)
        assert pane.cursor == (0, 0) and pane.order == [0]
        assert pane.value_at_cursor() == trace[0][pane.quantity][0, 0]
        assert "unit 0, t=0 'x'" in pane.title_text()
        await pilot.resize_terminal(12, 6)
        await pilot.press("right", "u", "u")
        pilot.app.query_one(HeatmapView).render_line(0)


async def test_clicking_a_cell_moves_the_cursor():
    trace = real_trace()
    async with PaneApp().run_test(size=(100, 30)) as pilot:
        pane = await started(pilot, trace)
        grid = pilot.app.query_one(HeatmapView)
        await pilot.click(HeatmapView, offset=(grid.gutter_width + COLUMN_WIDTH * 4 + 1, 1 + 2))
        assert pane.cursor == (2, 4)


async def test_an_empty_probe_text_says_so():
    async with PaneApp().run_test(size=(60, 20)) as pilot:
        pane = await started(pilot, [{"h": np.zeros((0, 4), np.float32)}], "", cell="rnn")
        await pilot.press("g", "right", "down", "v", "x", "u", "down", "u")
        assert pane.title_text() == "the probe text is empty: nothing to show"
        assert pane.value_at_cursor() is None and pane.order == [0, 1, 2, 3]
        pane.show([], "", "rnn", 2)  # every character unknown to the model: no trace at all
        await pilot.pause()
        assert pane.title_text().startswith("nothing to trace")
