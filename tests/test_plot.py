"""The chart painter, read exactly: a known series gives dots at known characters, axes say what they should."""

import math

import numpy as np

from rnntui.plot.chart import Line, line_chart, nice_ticks, plain, polyline
from rnntui.plot.colour import CONFIDENCE_RAMP, FRACTION_RAMP, ramp_colour, ramp_hex
from rnntui.plot.loss import BITS_PER_NAT, loss_chart, loss_line

TOP = chr(0x2800 + 0x01 + 0x08)  # both dots of a character's top row
BOTTOM = chr(0x2800 + 0x40 + 0x80)  # both dots of its bottom row


def plot_rows(lines):
    """The characters inside the plot frame (right of the y axis, above the x axis), one string per plot row."""
    rows = []
    for line in lines:
        text = line.plain
        if "└" in text:
            return rows
        rows.append(text[max(text.find("┤"), text.find("│")) + 1:])
    return rows


def test_a_flat_line_at_the_top_fills_the_top_dot_row_and_nothing_else():
    lines = line_chart([Line("a", [0, 10], [1.0, 1.0], "red")], 20, 8, x_range=(0, 10), y_range=(0, 1))
    rows = plot_rows(lines)
    cols = 20 - len("0.5 ┤") - 1
    assert len(rows) == 5 and rows[0] == TOP * cols + " "
    assert all(ch == " " for row in rows[1:] for ch in row)
    # At the bottom of the range: the bottom dot row of the last plot row.
    rows = plot_rows(line_chart([Line("a", [0, 10], [0.0, 0.0], "red")], 20, 8, x_range=(0, 10), y_range=(0, 1)))
    assert rows[4] == BOTTOM * cols + " " and all(ch == " " for row in rows[:4] for ch in row)


def test_a_dashed_line_is_three_dot_columns_on_three_off():
    rows = plot_rows(line_chart([Line("c", [0, 1], [1, 1], "grey50", dashed=True)], 20, 8, x_range=(0, 1), y_range=(0, 1)))
    # Dot columns 0-2 on, 3-5 off, ...: characters (2 dot columns each) read full, left half, empty.
    assert rows[0][:12] == (TOP + chr(0x2801) + " ") * 4
    assert "╌╌ c" in plain(line_chart([Line("c", [0, 1], [1, 1], "grey50", dashed=True)], 20, 8))


def test_a_rising_line_climbs_one_dot_row_per_dot_column_without_gaps():
    # 4 plot rows = 16 dot rows, 8 characters = 16 dot columns: y = x lands on the diagonal of the dot grid.
    width = len("15.00 ┤") + 8 + 1
    lines = line_chart([Line("d", [0, 15], [0, 15], "red")], width, 7, x_range=(0, 15), y_range=(0, 15),
                       y_format=lambda v: f"{v:.2f}")
    rows = plot_rows(lines)
    assert len(rows) == 4
    dots = np.zeros((16, 16), bool)
    for r, row in enumerate(rows):
        for c, ch in enumerate(row[:8]):
            bits = ord(ch) - 0x2800 if ch != " " else 0
            for (dr, dc), bit in np.ndenumerate(np.array([[1, 8], [2, 16], [4, 32], [64, 128]])):
                dots[4 * r + dr, 2 * c + dc] = bool(bits & bit)
    # Column c is read at row 15 - c and joined to the previous column's row 16 - c, so the line has no gaps.
    expected = np.zeros((16, 16), bool)
    for c in range(16):
        expected[15 - c:min(16 - c, 15) + 1, c] = True
    assert (dots == expected).all()


def test_polyline_joins_a_jump_with_a_vertical_run():
    dots = polyline(np.array([0.0, 1.0]), np.array([0.0, 7.0]), 2, 8)
    assert dots[:, 0].tolist() == [True] + [False] * 7 and dots[:, 1].all()


def test_a_log_axis_places_a_value_by_its_exponent():
    # 1e-3 .. 1 over 3 plot rows (12 dot rows): 1e-1 is a third of the way down, dot row 11/3 -> 4 = row 1's top.
    lines = line_chart([Line("r", [0, 1], [0.1, 0.1], "red")], 20, 6, x_range=(0, 1), y_range=(1e-3, 1.0), log_y=True)
    text = [line.plain for line in lines]
    gutter = len("1e-2 ┤")
    assert [t.split("┤")[0].strip() for t in text[:3] if "┤" in t] == ["1", "1e-2"]  # thinned, keeping the top
    assert set(text[1][gutter:gutter + 13]) == {TOP} and set(text[0][gutter:]) <= {" "}


def test_the_right_axis_reads_the_same_ticks_in_bits():
    train = [(s, 4.0 * math.exp(-s / 300) + 1.0) for s in range(1, 2001)]
    lines = [line.plain for line in loss_chart([loss_line("train", train, "blue")], 60, 14)]
    ticked = [t for t in lines if "┤" in t]
    assert len(ticked) >= 2
    for row in ticked:
        nats, bits = float(row.split("┤")[0]), float(row.split()[-1])
        assert abs(bits - nats * BITS_PER_NAT) < 0.006
    assert lines[0].split() == ["nats", "bits/char"] and all(len(t) == 60 for t in lines)


def test_an_empty_loss_chart_says_how_to_start():
    lines = [line.plain for line in loss_chart([loss_line("train", [], "blue")], 50, 10, "press space")]
    assert any("press space" in t for t in lines) and not any(0x2800 < ord(ch) <= 0x28FF for t in lines for ch in t)


def test_nice_ticks_are_round_and_within_range():
    assert nice_ticks(0, 1, 5) == [0, 0.5, 1]
    assert nice_ticks(0, 2001, 6) == [0, 500, 1000, 1500, 2000]
    assert nice_ticks(5, 5, 3) == [5]


def test_one_ramp_module_serves_every_tint():
    assert ramp_colour(FRACTION_RAMP, 0.0) == (10, 8, 36) and ramp_colour(FRACTION_RAMP, 2.0) == (252, 250, 164)
    assert ramp_hex(CONFIDENCE_RAMP, 0.0) == "#ff5555" and ramp_hex(CONFIDENCE_RAMP, 1.0) == "#87ffaf"
    middle = ramp_colour(CONFIDENCE_RAMP, 0.15)  # halfway from red to amber
    assert middle == (255, 130, 90)


def test_the_headless_scatter_is_the_same_painter_in_plain_text():
    from rnntui.lab.textplot import scatter

    lines = scatter([0.0, 1.0], [1.0, 0.0])
    plot = [line[len("0.5 ┤"):] for line in lines if "┤" in line or "│" in line]
    braille = [(r, c) for r, row in enumerate(plot) for c, ch in enumerate(row) if 0x2800 < ord(ch) <= 0x28FF]
    assert braille == [(0, 0), (len(plot) - 1, 2 * len(plot) - 1)]  # top left and bottom right of a square plot
    assert chr(0x2801) == plot[0][0] and chr(0x2880) == plot[-1][2 * len(plot) - 1]  # the corner dot of each
    assert not any("\x1b" in line for line in lines)  # plain text: no colour codes in a pipe


def test_the_painter_and_the_lab_captions_load_no_textual():
    # `rnntui plot` and the headless lab draw with these; a real interpreter, so nothing else imported Textual first.
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import rnntui.plot.chart, rnntui.plot.loss, rnntui.plot.colour, rnntui.lab.textplot, rnntui.lab.captions\n"
        "import rnntui.plot.heatmap, rnntui.plot.race, rnntui.plot.svg\n"
        "import rnntui.lab.watched\n"
        "print('TEXTUAL' if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 'CLEAN')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "CLEAN", result.stderr[-300:]


def test_the_memory_span_chart_reads_half_the_saliency_and_draws_a_falling_curve():
    from rnntui.plot.memory import memory_span_chart
    from rnntui.train.explain import MemorySpan

    distances = np.arange(1, 41)
    span = MemorySpan(distances, 0.5 ** distances.astype(float), windows=8)  # half of it at distance 1
    lines = [line.plain for line in memory_span_chart(span, 60, 10)]
    assert len(lines) == 10 and all(len(line) == 60 for line in lines)
    assert "half within 1 chars back" in lines[-1] and "chars back" in lines[-2]
    plot = lines[:-3]
    first_dot = [min((c for c, ch in enumerate(row) if "\u2800" < ch <= "\u28ff"), default=None) for row in plot]
    drawn = [(row, c) for row, c in enumerate(first_dot) if c is not None]
    assert drawn[0][1] < drawn[-1][1], "the curve starts high on the left and falls to the right"
    flat = MemorySpan(distances, np.ones(40), windows=8)
    assert "half within 20 chars back" in memory_span_chart(flat, 60, 10)[-1].plain
    assert "no span yet" in "".join(line.plain for line in memory_span_chart(None, 60, 10))


def test_loss_chart_ticks_sit_evenly_on_whole_rows_at_every_height():
    rng = np.random.default_rng(0)
    for height in [h for h in range(10, 31) for _ in range(4)]:  # four curves a height
        start, end = rng.uniform(2.0, 6.0), rng.uniform(0.05, 1.9)
        train = [(s, end + (start - end) * math.exp(-s / rng.uniform(20, 200))) for s in range(1, 400)]
        lines = [line.plain for line in loss_chart([loss_line("train", train, "blue")], 70, height)]
        tick_rows = [y for y, line in enumerate(lines) if "┤" in line]
        gaps = {b - a for a, b in zip(tick_rows, tick_rows[1:])}
        assert len(tick_rows) >= 2 and len(gaps) == 1 and min(gaps) >= 2, (height, tick_rows)
        values = [float(lines[y].split("┤")[0]) for y in tick_rows]
        steps = {round(a - b, 9) for a, b in zip(values, values[1:])}
        assert len(steps) == 1, (height, values)  # equal values between equal gaps: a true scale
        assert values[-1] >= 0.0
