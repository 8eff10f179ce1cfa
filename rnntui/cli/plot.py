"""`rnntui plot`: the playground's views of a checkpoint as SVG figures for slides and papers, with no Textual."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.common import app, error_line
from rnntui.plot.svg import FIGURE_WIDTH

plot = typer.Typer(name="plot", no_args_is_help=True, help="Figures: the loss, the gates or an explanation as an SVG file.")
app.add_typer(plot, name="plot")

CHECKPOINT_HELP = "The checkpoint to draw."
OUT_HELP = "The SVG file to write."
PROMPT_HELP = "The text the model reads."
MIN_WIDTH = 40  # columns a figure's titles and the heatmap's key need
MAX_GATES_PROMPT = 500  # timesteps: two columns each, so a 1,000-column figure, already past any slide


@plot.command()
def loss(
    checkpoint: Path = typer.Option(..., help=CHECKPOINT_HELP),
    out: Path = typer.Option(..., help=OUT_HELP),
    width: int = typer.Option(FIGURE_WIDTH, min=MIN_WIDTH, max=1000, help="Columns."),
    height: int = typer.Option(24, min=8, max=500, help="Rows."),
) -> None:
    """The training and validation loss saved in the checkpoint, in nats and bits per character."""
    from rnntui.errors import RnntuiError
    from rnntui.files import output_target, write_atomically
    from rnntui.plot.loss import loss_chart, loss_lines
    from rnntui.plot.svg import svg_of
    from rnntui.train.checkpoint import load_checkpoint
    from rnntui.train.history import History

    target = output_target(out, inputs={"--checkpoint": checkpoint})
    state = load_checkpoint(checkpoint).train_state
    history = History.from_json(state["history"]) if state and state.get("history") else None
    if history is None or not (history.train or history.val):
        raise RnntuiError(f"{checkpoint}: holds no loss history (a model-only file, or saved before its first step)")
    lines = loss_chart(loss_lines(history.train, history.val), width, height)
    write_atomically(target, svg_of(lines, f"rnntui · loss · {checkpoint.name}", width).encode())


@plot.command()
def gates(
    checkpoint: Path = typer.Option(..., help=CHECKPOINT_HELP),
    prompt: str = typer.Option(..., help=PROMPT_HELP),
    out: Path = typer.Option(..., help=OUT_HELP),
) -> None:
    """Every quantity of every layer over the prompt: units down, its characters across, the Gates pane's colours."""
    from rich.text import Text

    from rnntui.errors import RnntuiError
    from rnntui.files import output_target, write_atomically
    from rnntui.plot.heatmap import COLUMN_WIDTH, ColourScale, heatmap, scale_key
    from rnntui.plot import gate_stats
    from rnntui.plot.quantities import gist
    from rnntui.plot.svg import svg_of
    from rnntui.train.model_file import load_model

    target = output_target(out, inputs={"--checkpoint": checkpoint})
    if len(prompt) > MAX_GATES_PROMPT:
        raise RnntuiError(f"--prompt has {len(prompt):,} characters; a gates figure shows at most {MAX_GATES_PROMPT}")
    model, vocab = load_model(checkpoint)
    ids = _encoded(vocab, prompt, least=1)
    trace = model.forward(ids[None], trace=True).trace
    rows: list = []
    for layer, quantities in enumerate(trace):
        for name, values in quantities.items():
            values = values[0]  # [T, H] of the one sequence
            low, high = gate_stats.value_range(name, values)
            scale = ColourScale.for_range(low, high, gate_stats.is_fraction(name))
            title = Text.assemble((f"layer {layer} · {name}", "bold"), f" · {gist(name) or name}")
            rows += [title, scale_key(scale), *heatmap(values, scale, prompt), Text()]
    units = max(q["h"].shape[2] for q in trace)
    width = max(MIN_WIDTH, len(str(units - 1)) + 1 + COLUMN_WIDTH * len(prompt), max(r.cell_len for r in rows))
    title = f"rnntui · {model.shape.cell} gates · {checkpoint.name}"
    write_atomically(target, svg_of(rows, title, width).encode())


@plot.command()
def explain(
    checkpoint: Path = typer.Option(..., help=CHECKPOINT_HELP),
    prompt: str = typer.Option(..., help=PROMPT_HELP),
    out: Path = typer.Option(..., help=OUT_HELP),
    position: Optional[int] = typer.Option(None, min=1, help="Explain the prediction of the character at N (default: the last)."),
    top: int = typer.Option(5, min=1, help="How many of the likeliest next characters to show."),
) -> None:
    """The explanation of one prediction: the top characters as bars, the actual one marked, the text tinted by saliency."""
    from rnntui.cli.explain import _report
    from rnntui.files import output_target, write_atomically
    from rnntui.plot.svg import figure_console, to_svg
    from rnntui.train.explain import explain as explain_text
    from rnntui.train.model_file import load_model

    target = output_target(out, inputs={"--checkpoint": checkpoint})
    model, vocab = load_model(checkpoint)
    _encoded(vocab, prompt, least=2)
    at = len(prompt) - 1 if position is None else position
    if at >= len(prompt):  # a bad option value, as `rnntui explain` says it
        error_line(f"--position {at} is out of range: this text's predictions are at 1 to {len(prompt) - 1}")
        raise typer.Exit(2)
    found = explain_text(model, vocab, prompt, [at], top)
    console = figure_console()
    _report(found, at, console)
    write_atomically(target, to_svg(console, f"rnntui · explain · {checkpoint.name}").encode())


def _encoded(vocab, prompt: str, least: int):
    """The prompt's ids; an unknown character or a text too short is one line."""
    from rnntui.errors import RnntuiError

    if len(prompt) < least:
        raise RnntuiError(f"--prompt needs at least {least} character{'s' * (least > 1)}")
    return vocab.encode(prompt)
