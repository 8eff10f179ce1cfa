"""`rnntui plot` and `rnntui lab race --svg`: figures of the screen's views, read back from the SVG they write."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from cli_helpers import run
from rnntui.plot.colour import TRAIN_COLOUR, VALIDATION_COLOUR
from rnntui.plot.heatmap import ColourScale
from rnntui.plot.quantities import gist
from rnntui.train.model_file import load_model
from rnntui.plot import gate_stats

SVG = "{http://www.w3.org/2000/svg}"
PROMPT = "hellohel"


@pytest.fixture(scope="module")
def lstm_model(tmp_path_factory):
    """A real checkpoint from the trainer: two LSTM layers that have learnt a little of 'hello'."""
    path = tmp_path_factory.mktemp("plot") / "hello.safetensors"
    result = run("train", "--corpus", "hello", "--cell", "lstm", "--layers", "2", "--hidden", "6", "--embed", "4",
                 "--batch", "4", "--seq-len", "16", "--steps", "40", "--eval-every", "10", "--out", path, "-q")
    assert result.exit_code == 0, result.stderr
    return path


def rows(path) -> list[str]:
    """The SVG's text, one string per terminal row, its pieces in order from left to right."""
    by_row: dict[float, list[tuple[float, str]]] = {}
    for element in ET.parse(path).getroot().iter(f"{SVG}text"):
        if element.get("y") is None:
            continue
        by_row.setdefault(float(element.get("y")), []).append((float(element.get("x", 0)), "".join(element.itertext())))
    return ["".join(text for _, text in sorted(pieces)).replace("\xa0", " ").rstrip() for _, pieces in sorted(by_row.items())]


def fills(path) -> set[str]:
    """Every background colour drawn (Rich draws a cell's background as a rect)."""
    return {r.get("fill").lower() for r in ET.parse(path).getroot().iter(f"{SVG}rect") if r.get("fill", "").startswith("#")}


def test_loss_figure_has_the_charts_axes_units_and_legend(lstm_model, tmp_path):
    out = tmp_path / "loss.svg"
    result = run("plot", "loss", "--checkpoint", lstm_model, "--out", out)
    assert result.exit_code == 0, result.stderr
    text = rows(out)
    assert any("nats" in row and "bits/char" in row for row in text)  # both units over the plot
    assert any(row.endswith("step") and "40" in row for row in text)  # the x axis to the last step
    legend = next(row for row in text if "train (smoothed)" in row)
    assert "validation" in legend and "bpc" in legend
    assert sum("┤" in row for row in text) >= 3  # y ticks
    svg = out.read_text()
    assert f"fill: {TRAIN_COLOUR}" in svg and f"fill: {VALIDATION_COLOUR}" in svg  # the screen's series colours


def test_gates_figure_names_every_quantity_and_colours_cells_like_the_pane(lstm_model, tmp_path):
    out = tmp_path / "gates.svg"
    result = run("plot", "gates", "--checkpoint", lstm_model, "--prompt", PROMPT, "--out", out)
    assert result.exit_code == 0, result.stderr
    text = rows(out)
    for layer in (0, 1):
        for name in ("i", "f", "g", "o", "c", "h"):
            assert f"layer {layer} · {name} · {gist(name)}" in text
    assert sum(row.strip() == " ".join(PROMPT) for row in text) == 12  # the prompt over every grid
    assert sum(row.strip() == "5" for row in text) == 12  # unit 5, the last of six, numbered in every grid
    # The cells carry the Gates pane's colours for the values the engine traces.
    model, vocab = load_model(lstm_model)
    trace = model.forward(vocab.encode(PROMPT)[None], trace=True).trace
    drawn = fills(out)
    for layer in trace:
        for name, values in layer.items():
            scale = ColourScale.for_range(*gate_stats.value_range(name, values[0]), gate_stats.is_fraction(name))
            expected = {scale.palette[level].bgcolor.triplet.hex for level in np.unique(scale.levels(values[0]))}
            assert expected <= drawn, name


def test_explain_figure_marks_the_actual_character_and_shows_the_prompt(lstm_model, tmp_path):
    out = tmp_path / "explain.svg"
    result = run("plot", "explain", "--checkpoint", lstm_model, "--prompt", PROMPT, "--out", out, "--top", "3")
    assert result.exit_code == 0, result.stderr
    text = rows(out)
    head = f"position {len(PROMPT) - 1} of {len(PROMPT) - 1}: the model gave the actual next character 'l'"
    assert any(row.startswith(head) for row in text)
    assert any("← actual" in row for row in text)
    assert sum(row.count("█") > 0 for row in text) >= 3  # a bar for each of the top three
    assert PROMPT[:-1] + "l" in text  # the text it read, tinted, then the predicted character
    assert "What it leaned on most" in "\n".join(text)


def test_race_svg_draws_the_race_chart(tmp_path):
    out = tmp_path / "race.svg"
    result = run("lab", "race", "--task", "recall", "--span", "3", "--steps", "4", "--eval-every", "2", "--params", "400",
                 "--batch", "4", "--svg", out, "--json")
    assert result.exit_code == 0, result.stderr
    text = rows(out)
    legend = next(row for row in text if "━━ chance" in row or "╌╌ chance" in row)
    assert all(cell in legend for cell in ("rnn", "lstm", "gru"))
    assert any(row.startswith("100% ┤") for row in text) and any(row.strip().startswith("0% ┤") for row in text)
    assert any(row.endswith("step") for row in text)


def test_plot_loads_no_textual(lstm_model, tmp_path):
    probe = (
        "import sys\nfrom rnntui.cli import main\nsys.argv = ['rnntui'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('TEXTUAL' if any(m.split('.')[0] == 'textual' for m in sys.modules) else 'CLEAN')\n"
    )
    for args in (["plot", "--help"], ["plot", "loss", "--checkpoint", str(lstm_model), "--out", str(tmp_path / "l.svg")],
                 ["plot", "gates", "--checkpoint", str(lstm_model), "--prompt", "hel", "--out", str(tmp_path / "g.svg")]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        assert result.stdout.strip().endswith("CLEAN"), (args, result.stderr[-300:])
    assert (tmp_path / "l.svg").is_file() and (tmp_path / "g.svg").is_file()


@pytest.mark.parametrize("args, code, message", [
    (["loss", "--checkpoint", "{missing}"], 1, "missing.safetensors"),
    (["gates", "--checkpoint", "{model}", "--prompt", "helé"], 1, "'é' (U+00E9) at position 3 is not in the model's vocabulary"),
    (["gates", "--checkpoint", "{model}", "--prompt", "hello" * 101], 1, "--prompt has 505 characters"),
    (["explain", "--checkpoint", "{model}", "--prompt", "h"], 1, "--prompt needs at least 2 characters"),
    (["explain", "--checkpoint", "{model}", "--prompt", "hello", "--position", "5"], 2,
     "--position 5 is out of range: this text's predictions are at 1 to 4"),
])
def test_bad_input_is_one_line_and_writes_nothing(lstm_model, tmp_path, args, code, message):
    out = tmp_path / "figure.svg"
    filled = [a.format(missing=tmp_path / "missing.safetensors", model=lstm_model) for a in args]
    result = run("plot", *filled, "--out", out)
    assert result.exit_code == code
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()


def test_out_a_directory_is_refused_before_any_work(lstm_model, tmp_path):
    before = lstm_model.read_bytes()
    for command in (["plot", "loss", "--checkpoint", lstm_model, "--out", tmp_path],
                    ["lab", "race", "--steps", "1", "--svg", tmp_path]):
        result = run(*command)
        assert result.exit_code == 1
        assert result.stderr == f"rnntui: error: {tmp_path}: cannot write: is a directory\n"
        assert result.stdout == ""  # refused before the race ran
    assert lstm_model.read_bytes() == before


def test_a_model_only_file_has_no_loss_to_draw(tmp_path):
    from test_explain import write_model

    path = write_model(tmp_path / "bare.safetensors", "gru")
    result = run("plot", "loss", "--checkpoint", path, "--out", tmp_path / "loss.svg")
    assert result.exit_code == 1 and "holds no loss history" in result.stderr
    assert not (tmp_path / "loss.svg").exists()


def test_gates_figure_of_a_gru_names_its_gates(tmp_path):
    from test_explain import write_model

    path = write_model(tmp_path / "gru.safetensors", "gru", layers=1)
    out = tmp_path / "gates.svg"
    result = run("plot", "gates", "--checkpoint", path, "--prompt", "the fox", "--out", out)
    assert result.exit_code == 0, result.stderr
    titles = [row for row in rows(out) if row.startswith("layer ")]
    assert titles == [f"layer 0 · {name} · {gist(name)}" for name in ("r", "z", "n", "h")]
    assert "t h e · f o x" in [row.strip() for row in rows(out)]  # a space is shown as the pane shows it
