"""`rnntui train`: headless training with a Rich progress bar, a JSON Lines log and safe stops."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.common import (
    TEMPERATURE_HELP, app, corpus_file, error_line, fraction, non_negative, note_line, positive,
)
from rnntui.cli.progress import JsonLog, ProgressView
from rnntui.errors import TrainingError
from rnntui.files import output_target, resolved
from rnntui.train.config import DEFAULT_STEPS, MAX_BATCH, MAX_LAYERS, MAX_SPAN, MAX_UNITS, TrainConfig
from rnntui.train.events import CheckpointSaved, Failed
from rnntui.train.run import budget

DEFAULT = TrainConfig()

# Exit status for a stop by signal, as shells report it: 128 + the signal's number.
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@app.command()
def train(
    ctx: typer.Context,
    corpus: str = typer.Option(DEFAULT.corpus, help="Corpus name (see `rnntui corpora`) or path of a UTF-8 text file."),
    cell: str = typer.Option(DEFAULT.cell, help="rnn, lstm or gru."),
    hidden: int = typer.Option(DEFAULT.hidden, min=1, max=MAX_UNITS, help="Hidden units per layer."),
    layers: int = typer.Option(DEFAULT.layers, min=1, max=MAX_LAYERS, help="Stacked recurrent layers."),
    embed: int = typer.Option(DEFAULT.embed, min=1, max=MAX_UNITS, help="Embedding size."),
    seq_len: int = typer.Option(DEFAULT.seq_len, min=1, max=MAX_SPAN, help="Truncation k: characters per chunk of truncated BPTT."),
    bptt: str = typer.Option("truncated", help="truncated (chunks of --seq-len) or full (each stream at once)."),
    batch: int = typer.Option(DEFAULT.batch, min=1, max=MAX_BATCH, help="Parallel streams per step (lowered for a small corpus)."),
    steps: Optional[int] = typer.Option(
        None, min=0, show_default=False,
        help=f"The step to reach (with --resume, counted from the start). Default {DEFAULT_STEPS}; "
        "none with --minutes alone; with both, whichever comes first.",
    ),
    minutes: Optional[float] = typer.Option(
        None, callback=non_negative, show_default=False,
        help="Wall-clock minutes for this run (evaluations and checkpoints included); alone, no step cap.",
    ),
    lr: float = typer.Option(DEFAULT.lr, callback=positive, help="Learning rate."),
    optimizer: str = typer.Option(DEFAULT.optimizer, help="adam, sgd or adagrad."),
    momentum: float = typer.Option(DEFAULT.momentum, callback=non_negative, help="SGD momentum."),
    clip: float = typer.Option(DEFAULT.clip, callback=non_negative, help="Clip the gradient's global norm to this; 0 = off."),
    clip_value: float = typer.Option(DEFAULT.clip_value, callback=non_negative, help="Clip each gradient entry to +-this; 0 = off."),
    dropout: float = typer.Option(DEFAULT.dropout, callback=fraction, help="Dropout between layers."),
    dtype: str = typer.Option(DEFAULT.dtype, help="float32 or float64."),
    seed: int = typer.Option(DEFAULT.seed, min=0, help="Fixes initialisation, dropout and samples."),
    val_frac: float = typer.Option(DEFAULT.val_frac, callback=fraction, help="Share of the text kept for validation."),
    eval_every: int = typer.Option(
        DEFAULT.eval_every, min=1,
        help="Steps between evaluations on a fixed validation subset (and checkpoints, at most one a minute).",
    ),
    sample_every: int = typer.Option(DEFAULT.sample_every, min=1, help="Steps between printed samples."),
    temperature: float = typer.Option(DEFAULT.temperature, callback=non_negative, help=TEMPERATURE_HELP),
    skip_nonfinite: bool = typer.Option(False, help="Skip a step whose loss or gradient is not finite, instead of stopping."),
    out: Optional[Path] = typer.Option(None, help="Checkpoint path, written at evaluations (at most once a minute) and at the end."),
    resume: Optional[Path] = typer.Option(None, help="Continue from this checkpoint (its shape, vocabulary and corpus)."),
    log: Optional[Path] = typer.Option(None, help="Write every event as one JSON object per line."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or samples."),
) -> None:
    """Train a model headless, with checkpoints, and stop safely on Ctrl-C."""
    from rnntui.train.trainer import Trainer

    if bptt not in ("truncated", "full"):
        raise TrainingError("--bptt must be truncated or full")
    options = dict(
        corpus=corpus, cell=cell, hidden=hidden, layers=layers, embed=embed,
        seq_len=0 if bptt == "full" else seq_len, batch=batch, lr=lr,
        optimizer=optimizer, momentum=momentum, clip=clip, clip_value=clip_value, dropout=dropout,
        dtype=dtype, seed=seed, val_frac=val_frac, eval_every=eval_every, sample_every=sample_every,
        temperature=temperature, skip_nonfinite=skip_nonfinite,
    )
    options["steps"], options["minutes"] = budget(steps, minutes, DEFAULT_STEPS)
    if resume is not None:
        # Only what was said on the command line changes a resumed run.
        said = {k: v for k, v in options.items() if _given(ctx, k)}
        if _given(ctx, "bptt"):
            said["seq_len"] = options["seq_len"]
        if steps is not None or minutes is not None:  # a budget said replaces the saved one, both halves
            said["steps"], said["minutes"] = options["steps"], options["minutes"]
        trainer = Trainer.resume(resume, **said)
    else:
        trainer = Trainer.from_config(TrainConfig(**options))
    path = out or resume or Path(f"{Path(trainer.config.corpus).stem}-{trainer.config.cell}.safetensors")
    # Every output is checked before step 1, not found unwritable after an hour of training.
    inputs = {"--corpus": corpus_file(trainer.config.corpus), "--resume": resume}
    output_target(path, inputs=inputs, may_replace="--resume")
    if log is not None:
        output_target(log, inputs={**inputs, "--out": path})
    trainer.checkpoint_path = path
    if trainer.batch < trainer.config.batch:
        typer.echo(f"note: the corpus is small; batch lowered from {trainer.config.batch} to {trainer.batch}", err=True)

    stopped_by, failures, saved = [], [], []
    trainer.listeners.append(lambda event: failures.append(event.message) if isinstance(event, Failed) else None)
    trainer.listeners.append(lambda event: saved.append(event.step) if isinstance(event, CheckpointSaved) else None)

    def stop(signum, _frame):
        stopped_by.append(signum)
        trainer.request_stop()

    previous = {s: signal.signal(s, stop) for s in SIGNAL_EXIT}
    log_file = JsonLog(log, on_failure=trainer.request_stop) if log else None
    try:
        if log_file:
            trainer.listeners.append(log_file)
        view = None if quiet else ProgressView(trainer)
        if view:
            trainer.listeners.append(view)
            with view:
                finished = trainer.run()
        else:
            finished = trainer.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if log_file:
            log_file.close()

    if finished.reason == "failed":
        error_line(f"{failures[-1]}; the last good checkpoint is untouched")
        raise typer.Exit(1)
    # "saved" only for a save that happened at this step; otherwise say what the file holds.
    outcome = f"checkpoint saved to {path}" if saved and saved[-1] == trainer.step else _unsaved(path, resume)
    resume_hint = f"; resume with: rnntui train --resume {path} {trainer.resume_options()}" if saved else ""
    if log_file and log_file.failure:
        error_line(f"{log_file.failure}; stopped at step {trainer.step}; {outcome}{resume_hint}")
        raise typer.Exit(1)
    if stopped_by:
        note_line(f"stopped at step {trainer.step}; {outcome}{resume_hint}")
        raise typer.Exit(SIGNAL_EXIT[stopped_by[0]])
    if saved and saved[-1] == trainer.step:
        if not quiet:
            typer.echo(f"step {trainer.step}: {outcome}")
    else:
        note_line(f"step {trainer.step}: nothing to train (--steps {trainer.config.steps}); {outcome}")


def _unsaved(path: Path, resume: Optional[Path]) -> str:
    if resume is not None and resolved(path) == resolved(resume):
        return f"{path} is unchanged"
    return "no checkpoint written"


def _given(ctx: typer.Context, name: str) -> bool:
    """True when the user typed this option, rather than leaving its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
