"""`rnntui explain`: what a checkpoint predicts at each position of a text, and which earlier characters it used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.progress import working
from rnntui.cli.common import app, error_line, text_or_corpus

BAR_WIDTH = 30
# Saliency tints, as a share of the row's largest: near-black for none, pale yellow for the most
# (the playground's ramp for 0..1 quantities, in eight steps).
TINTS = ("#0a0824", "#29175f", "#502589", "#902f7e", "#c44a63", "#ec7539", "#f9b461", "#fcfaa4")
DARK_INK_FROM = 5  # from this tint on, black text reads better than white


@app.command()
def explain(
    checkpoint: Path = typer.Option(..., help="The model to explain."),
    prompt: Optional[str] = typer.Option(None, help="The text to explain."),
    text: Optional[Path] = typer.Option(None, help="A UTF-8 text file to explain (with --memory: to take windows from)."),
    position: Optional[int] = typer.Option(None, help="Explain only the prediction of the character at N (the first is at 0, and is never predicted)."),
    top: int = typer.Option(5, min=1, help="How many of the likeliest next characters to show."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress spinner."),
    memory: bool = typer.Option(False, "--memory", help="Mean saliency against distance over windows of a text instead."),
    corpus: Optional[str] = typer.Option(None, help="With --memory: a named corpus (or path) to take windows from."),
    windows: int = typer.Option(200, min=1, help="With --memory: how many windows."),
    length: int = typer.Option(200, min=1, help="With --memory: characters each window reads before its prediction."),
    seed: int = typer.Option(0, min=0, help="With --memory: where the windows fall."),
) -> None:
    """Top predictions at each position and the saliency of every earlier character (full BPTT)."""
    from rnntui.data.corpus import read_text_file
    from rnntui.errors import RnntuiError
    from rnntui.train.explain import MAX_ALL_POSITIONS
    from rnntui.train.explain import explain as explain_text
    from rnntui.train.model_file import load_model

    if memory:
        if prompt is not None or position is not None:
            raise RnntuiError("--memory reads windows of --text FILE or --corpus NAME; --prompt and --position go without it")
        body = text_or_corpus(text, corpus)
        model, vocab = load_model(checkpoint)
        with working(f"reading {windows} windows", quiet=quiet or as_json):
            _memory(model, vocab.encode(body), windows, length, seed, as_json)
        return
    if corpus is not None:
        raise RnntuiError("--corpus goes with --memory; explain a text with --prompt STRING or --text FILE")
    if (prompt is None) == (text is None):
        raise RnntuiError("give exactly one of --prompt STRING or --text FILE")
    body = prompt if prompt is not None else read_text_file(text)
    if len(body) < 2:
        raise RnntuiError("the text needs at least two characters: one to read, one to predict")
    if position is not None and not 1 <= position < len(body):
        error_line(f"--position {position} is out of range: this text's predictions are at 1 to {len(body) - 1}")
        raise typer.Exit(2)
    if position is None and len(body) > MAX_ALL_POSITIONS:
        raise RnntuiError(
            f"the text has {len(body):,} characters; every position is explained up to {MAX_ALL_POSITIONS:,}: "
            "pick one with --position N, or a shorter text"
        )
    model, vocab = load_model(checkpoint)
    with working("explaining", quiet=quiet or as_json):
        found = explain_text(model, vocab, body, None if position is None else [position], top)
    if as_json:
        typer.echo(json.dumps(found.to_json()))
    else:
        _report(found, position if position is not None else len(body) - 1)


def _report(found, position: int, console=None) -> None:
    """The prediction at `position` as bars, and the text before it tinted by saliency (on `console`: a figure's)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    prediction = found.at(position)
    console = console or Console(highlight=False)
    console.print(
        f"position {position} of {len(found.text) - 1}: the model gave the actual next character "
        f"{_shown(prediction.target)} {prediction.prob:.1%}"
    )
    bars = Table.grid(padding=(0, 1))
    for char, p in prediction.top:
        mark = "← actual" if char == prediction.target else ""
        bars.add_row(_shown(char), Text("█" * max(1, round(p * BAR_WIDTH)) if p > 0 else "", style="orange1"),
                     f"{p:6.1%}", mark)
    if prediction.target not in dict(prediction.top):
        bars.add_row(_shown(prediction.target), Text("█" * round(prediction.prob * BAR_WIDTH), style="orange1"),
                     f"{prediction.prob:6.1%}", f"← actual (not in the top {len(prediction.top)})")
    console.print(bars)
    console.print("\nThe text it read, each character tinted by its saliency (share of the largest):")
    console.print(_tinted(found.text, prediction))
    console.print(Text.assemble("low ", *((" ", f"on {tint}") for tint in TINTS), " high"))
    salient = sorted(range(position), key=lambda t: -prediction.saliency[t])[:5]
    table = Table("character", "position", "back", "saliency", title="What it leaned on most")
    for t in salient:
        table.add_row(_shown(found.text[t]), str(t), str(position - t), f"{prediction.saliency[t]:.3e}")
    console.print(table)


def _tinted(text: str, prediction):
    """text[:n] with each character's background from its relative saliency, then the predicted character marked."""
    from rich.text import Text

    shares = prediction.relative_saliency()
    out = Text()
    for t, share in enumerate(shares):
        level = min(len(TINTS) - 1, int(share * len(TINTS)))
        char = text[t]
        ink = "black" if level >= DARK_INK_FROM else "white"
        tint = TINTS[level]
        out.append("⏎\n" if char == "\n" else char, style=f"{ink} on {tint}")
    out.append(prediction.target if prediction.target != "\n" else "⏎", style="bold reverse underline")
    return out


def _shown(char: str) -> str:
    """A character as it can be read in a report line: quoted, with whitespace and invisibles by name."""
    return {"\n": "'\\n'", "\t": "'\\t'", " ": "' '"}.get(char, repr(char))


def _memory(model, ids, windows: int, length: int, seed: int, as_json: bool) -> None:
    """Mean saliency against distance as a table with a log-scale bar, and how far back half and 90% of it reach."""
    from rich.console import Console
    from rich.table import Table

    from rnntui.errors import RnntuiError
    from rnntui.lab.textplot import log_bar
    from rnntui.train.explain import memory_span

    try:
        span = memory_span(model, ids, windows, length, seed)
    except ValueError as error:
        raise RnntuiError(f"{error}: pick a smaller --length or a longer text") from None
    if as_json:
        typer.echo(json.dumps({
            "windows": windows, "length": length, "seed": seed,
            "distance": span.distances.tolist(), "saliency": span.saliency.tolist(),
            "half_within": span.within(0.5), "most_within": span.within(0.9),
        }))
        return
    values = span.saliency
    positive = values[values > 0]
    low, high = (positive.min(), positive.max()) if positive.size else (1e-300, 1.0)
    table = Table("n - t", "mean saliency", f"log scale {low:.0e} .. {high:.0e}",
                  title=f"How far back the model looks: {windows} windows of {length} characters")
    for d in _distances(length):
        table.add_row(str(d), f"{values[d - 1]:.3e}", log_bar(values[d - 1], low, high, width=40))
    console = Console(highlight=False)
    console.print(table)
    console.print(f"half of the saliency lies within {span.within(0.5)} characters back, 90% within {span.within(0.9)}")


def _distances(length: int) -> list[int]:
    """About 20 distances from 1 to `length`, close together near 1 where the curve changes fastest."""
    import numpy as np

    return sorted(set(np.unique(np.geomspace(1, length, 20).round().astype(int)).tolist()))
