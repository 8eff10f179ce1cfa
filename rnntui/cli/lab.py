"""`rnntui lab`: the memory lab headless: race, gradient reach and gate saturation as tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.choices import Filler, Task
from rnntui.cli.progress import working
from rnntui.cli.common import app, finite, positive, text_or_corpus
from rnntui.lab.race import DEFAULT_STEPS as RACE_STEPS
from rnntui.lab.race import RaceConfig
from rnntui.train.config import MAX_BATCH, MAX_SPAN

lab = typer.Typer(
    name="lab", no_args_is_help=True, help="The memory lab: vanishing gradients, truncated BPTT and gate saturation."
)
app.add_typer(lab, name="lab")

DEFAULT = RaceConfig()
TASK_HELP = "The memory task."
# A task's sequences are held whole, per batch and for the held-out set: a span the lab can race in minutes.
MAX_TASK_SPAN = 2_000
# The race trains every cell at once on whole sequences: the lab's models are small by design.
MAX_RACE_PARAMS, MAX_RACE_HIDDEN = 10_000_000, 2_048
SPAN = dict(min=0, max=MAX_TASK_SPAN)
SPAN_HELP = "The task's memory span L (recall: fillers between the two symbols). Default: the task's own."
FILLER_HELP = "Recall's filler: random distractors, or one '.' repeated (which a vanilla RNN can exploit)."


def _cells(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _config(**options) -> RaceConfig:
    from dataclasses import replace

    return replace(DEFAULT, **options).validated()


@lab.command()
def race(
    task: Task = typer.Option(DEFAULT.task, help=TASK_HELP),
    span: Optional[int] = typer.Option(None, **SPAN, help=SPAN_HELP),
    filler: Filler = typer.Option(DEFAULT.filler, help=FILLER_HELP),
    bptt: int = typer.Option(DEFAULT.bptt, "--bptt", "--seq-len", min=0, max=MAX_SPAN, help="Truncation k; 0 = full BPTT over each sequence."),
    steps: Optional[int] = typer.Option(
        None, min=1, show_default=False,
        help=f"Training steps (one batch each, for every cell). Default {RACE_STEPS}; none with --minutes alone; "
        "with both, whichever comes first.",
    ),
    minutes: Optional[float] = typer.Option(None, min=0, show_default=False, callback=finite, help="Wall-clock minutes; alone, no step cap."),
    params: int = typer.Option(DEFAULT.params, min=1, max=MAX_RACE_PARAMS, help="Parameter budget: each cell's hidden size is fitted to it."),
    hidden: int = typer.Option(0, min=0, max=MAX_RACE_HIDDEN, help="One hidden size for every cell instead of a budget; 0 = use --params."),
    cells: str = typer.Option(",".join(DEFAULT.cells), help="Comma-separated cells to race."),
    lr: float = typer.Option(DEFAULT.lr, callback=positive, help="Adam's learning rate."),
    forget_bias: float = typer.Option(DEFAULT.forget_bias, callback=finite, help="The LSTM's initial forget-gate bias."),
    batch: int = typer.Option(DEFAULT.batch, min=1, max=MAX_BATCH, help="Sequences per step."),
    eval_every: int = typer.Option(DEFAULT.eval_every, min=1, help="Steps between evaluations (points on the curves)."),
    seed: int = typer.Option(DEFAULT.seed, min=0),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    svg: Optional[Path] = typer.Option(None, "--svg", help="Also draw the race chart to this SVG file."),
) -> None:
    """Train RNN, LSTM and GRU of about the same size on one task; accuracy on the scored positions against step."""
    from rich.console import Console
    from rich.table import Table

    from rnntui.files import output_target
    from rnntui.lab.race import Race, Standings
    from rnntui.lab.textplot import sparkline
    from rnntui.train.run import budget

    steps, minutes = budget(steps, minutes, RACE_STEPS)
    config = _config(
        task=task.value, span=span, filler=filler.value, bptt=bptt, steps=steps, minutes=minutes, params=params, hidden=hidden, cells=_cells(cells), lr=lr,
        forget_bias=forget_bias, batch=batch, eval_every=eval_every, seed=seed,
    )
    target = None if svg is None else output_target(svg)
    contest = Race(config)
    if not (quiet or as_json) and sys.stdout.isatty():
        Console(stderr=True).print(f"{contest.task.describe()}; truncation {'full' if config.bptt == 0 else config.bptt}")
    with working(f"racing {', '.join(config.cells)}", total=config.steps, quiet=quiet or as_json) as update:
        contest.listeners.append(lambda event: update(event.step) if isinstance(event, Standings) else None)
        contest.run()
    results = contest.results()
    if target is not None:
        _race_figure(target, results, contest.step, contest.task)
    if as_json:
        summary = dict(
            task=config.task, span=contest.task.span, filler=config.filler, bptt=config.bptt, steps=contest.step, seed=config.seed,
            chance=contest.task.chance, results=[r.to_json() for r in results],
        )
        typer.echo(json.dumps(summary))
        return
    table = Table("cell", "hidden", "params", "accuracy", "chance", "loss", f"accuracy over {contest.step} steps", "seconds")
    for r in results:
        table.add_row(
            r.cell, str(r.hidden), f"{r.params:,}", f"{r.accuracy:.1%}", f"{r.chance:.1%}", f"{r.loss:.3f}",
            sparkline([a for _, a in r.curve], width=30), f"{r.seconds:.1f}",
        )
    Console().print(table)


def _race_figure(target: Path, results, steps: int, task) -> None:
    """The lab screen's race chart, as an SVG file."""
    from rnntui.files import write_atomically
    from rnntui.plot.race import race_chart
    from rnntui.plot.svg import FIGURE_WIDTH, svg_of

    lines = race_chart({r.cell: r.curve for r in results}, steps, task.chance, FIGURE_WIDTH, 24)
    write_atomically(target, svg_of(lines, f"rnntui · race · {task.describe()}").encode())


@lab.command()
def reach(
    cell: str = typer.Option("rnn,lstm,gru", help="Comma-separated cells to train and probe (ignored with --checkpoint)."),
    task: Task = typer.Option(DEFAULT.task, help=TASK_HELP),
    span: Optional[int] = typer.Option(None, **SPAN, help=SPAN_HELP + " With --checkpoint: the probe's length."),
    filler: Filler = typer.Option(DEFAULT.filler, help=FILLER_HELP),
    steps: int = typer.Option(0, min=0, help="Train this many race steps first; 0 = the freshly initialised model."),
    checkpoint: Optional[Path] = typer.Option(None, help="Probe a saved model on its own text instead."),
    text: Optional[Path] = typer.Option(None, help="With --checkpoint: probe windows from this UTF-8 file."),
    corpus: Optional[str] = typer.Option(None, help="With --checkpoint: probe windows from this corpus."),
    probes: int = typer.Option(8, min=1, max=MAX_BATCH, help="Probe sequences; the curve is their geometric mean."),
    every: int = typer.Option(0, min=0, help="Print every n-th distance; 0 = about 20 rows."),
    seed: int = typer.Option(DEFAULT.seed, min=0),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
) -> None:
    """||dLoss_T/dh_t|| against the distance T - t, per layer, on a log scale: how far back a model can learn."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from rnntui.errors import RnntuiError
    from rnntui.lab.reach import gradient_reach
    from rnntui.lab.textplot import log_bar

    if checkpoint is not None:
        curves = {checkpoint.name: _checkpoint_reach(checkpoint, text, corpus, span, probes, seed)}
    else:
        if text is not None or corpus is not None:
            raise RnntuiError("--text and --corpus go with --checkpoint; without one, the probe is the task")
        contest = _trained(_config(task=task.value, span=span, filler=filler.value, cells=_cells(cell), steps=max(steps, 1), seed=seed), steps)
        probe = contest.task.batch(np.random.default_rng([seed, 2]), probes)
        curves = {r.cell: gradient_reach(r.model, probe) for r in contest.racers}
    if as_json:
        typer.echo(json.dumps({name: dict(distance=c.distances.tolist(), norms=c.norms.tolist()) for name, c in curves.items()}))
        return
    console = Console()
    # One axis for every cell and layer: bars scaled each on its own would draw a flat 1e-2 like a fall to 1e-20.
    nonzero = np.concatenate([c.norms[c.norms > 0] for c in curves.values()])
    low, high = (nonzero.min(), nonzero.max()) if nonzero.size else (1e-300, 1.0)
    for name, curve in curves.items():
        norms = curve.norms
        stride = every or max(1, len(curve.distances) // 20)
        for layer in range(norms.shape[0]):
            table = Table("T - t", "||dLoss/dh_t||", f"log scale {low:.0e} .. {high:.0e}", title=f"{name}, layer {layer}")
            for d in curve.distances[::stride]:
                table.add_row(str(d), f"{norms[layer, d]:.2e}", log_bar(norms[layer, d], low, high, width=40))
            console.print(table)
            far = int(curve.distances[-1])
            console.print(f"{name} layer {layer}: {curve.ratio(far, layer):.1e} of the gradient survives {far} steps back")


def _trained(config: RaceConfig, steps: int):
    """A race run `steps` steps (none when 0), with a note on stderr while it runs."""
    from rnntui.lab.race import Race

    contest = Race(config)
    if steps:
        sys.stderr.write(f"training {', '.join(config.cells)} for {steps} steps on {contest.task.describe()}\n")
        contest.run()
    return contest


def _checkpoint_reach(path: Path, text: Optional[Path], corpus: Optional[str], span: Optional[int], probes: int, seed: int):
    """Probe windows of span + 1 characters from a text, each scored on its last character."""
    import numpy as np

    from rnntui.data.tasks import TaskBatch
    from rnntui.lab.reach import gradient_reach
    from rnntui.train.model_file import load_model

    body = text_or_corpus(text, corpus)
    model, vocab = load_model(path)
    ids = vocab.encode(body)
    length = span or 50
    if len(ids) < length + 2:
        from rnntui.errors import RnntuiError

        raise RnntuiError(f"the text has {len(ids)} characters; a probe of span {length} needs {length + 2}")
    starts = np.random.default_rng(seed).integers(0, len(ids) - length - 1, probes)
    windows = np.stack([ids[s : s + length + 2] for s in starts])
    mask = np.zeros((probes, length + 1), np.float32)
    mask[:, -1] = 1.0
    return gradient_reach(model, TaskBatch(windows[:, :-1], windows[:, 1:], mask))


@lab.command()
def saturation(
    checkpoint: Optional[Path] = typer.Option(None, help="The model to read; without it, one is trained on a task."),
    text: Optional[Path] = typer.Option(None, help="A UTF-8 text file to run the model over."),
    corpus: Optional[str] = typer.Option(None, help="A named corpus (or path) to run the model over."),
    chars: int = typer.Option(20000, min=2, help="Read at most this many characters of the text."),
    cell: str = typer.Option("lstm", help="Without --checkpoint: the one cell to train (lstm or gru)."),
    task: Task = typer.Option(DEFAULT.task, help="Without --checkpoint: " + TASK_HELP),
    span: Optional[int] = typer.Option(None, **SPAN, help="Without --checkpoint: " + SPAN_HELP),
    filler: Filler = typer.Option(DEFAULT.filler, help="Without --checkpoint: " + FILLER_HELP),
    steps: int = typer.Option(DEFAULT.steps, min=0, help="Without --checkpoint: training steps first."),
    plot: bool = typer.Option(False, "--plot", help="Also draw each gate's units: right-saturation on x, left on y."),
    seed: int = typer.Option(DEFAULT.seed, min=0),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
) -> None:
    """Per gate, the share of timesteps each unit is below 0.1 (left) or above 0.9 (right)."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from rnntui.errors import RnntuiError
    from rnntui.lab.saturation import HIGH, LOW, gate_saturation
    from rnntui.lab.textplot import scatter

    if checkpoint is None and cell.strip() == "rnn":
        raise RnntuiError("a vanilla RNN has no gates to saturate; try an lstm or gru")
    if checkpoint is not None:
        from rnntui.train.model_file import load_model

        body = text_or_corpus(text, corpus)[:chars]  # the options first, then the file
        model, vocab = load_model(checkpoint)
        ids = vocab.encode(body)
        if len(ids) < 2:
            raise RnntuiError("the text needs at least two characters")
    else:
        if text is not None or corpus is not None:
            raise RnntuiError("--text and --corpus go with --checkpoint; without one, the model reads its task")
        contest = _trained(
            _config(task=task.value, span=span, filler=filler.value, cells=_cells(cell), steps=max(steps, 1), seed=seed), steps
        )
        model, ids = contest.racers[0].model, contest.held_out.inputs
    if model.shape.cell == "rnn":
        raise RnntuiError("a vanilla RNN has no gates to saturate; try an lstm or gru")
    found = gate_saturation(model, ids)
    if as_json:
        typer.echo(json.dumps(dict(
            cell=model.shape.cell, low=LOW, high=HIGH, timesteps=found[0].steps,
            gates=[dict(layer=g.layer, gate=g.gate, left=g.left.tolist(), right=g.right.tolist()) for g in found],
        )))
        return
    console = Console()
    table = Table(
        "layer", "gate", "units", "mean left", "mean right", "mostly closed", "mostly open",
        title=f"{model.shape.cell} gates over {found[0].steps:,} timesteps (left < {LOW}, right > {HIGH})",
    )
    for g in found:
        table.add_row(
            str(g.layer), g.gate, str(len(g.left)), f"{g.left.mean():.1%}", f"{g.right.mean():.1%}",
            str(int(np.sum(g.left > 0.5))), str(int(np.sum(g.right > 0.5))),
        )
    console.print(table)
    console.print("mostly closed/open: units left/right-saturated more than half the time")
    if plot:
        for g in found:
            console.print(f"\nlayer {g.layer}, gate {g.gate}: right-saturated share on x, left on y", highlight=False)
            console.print("\n".join(scatter(g.right, g.left)), highlight=False, markup=False)
