"""`rnntui train`: headless training with a Rich progress bar, a JSON Lines log and safe stops."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.common import (
    TEMPERATURE_HELP, app, error_line, finite, fraction, non_negative, note_line, positive,
)
from rnntui.cli.choices import DATA, MODEL, OUTPUT, TRAINING, Bptt, Cell, Device, Dtype, Engine, Optimizer
from rnntui.cli.progress import JsonLog, ProgressView
from rnntui.errors import TorchMissing
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
    cell: Cell = typer.Option(DEFAULT.cell, help="The recurrent cell.", rich_help_panel=MODEL),
    hidden: int = typer.Option(DEFAULT.hidden, min=1, max=MAX_UNITS, help="Hidden units per layer.", rich_help_panel=MODEL),
    layers: int = typer.Option(DEFAULT.layers, min=1, max=MAX_LAYERS, help="Stacked recurrent layers.", rich_help_panel=MODEL),
    embed: int = typer.Option(DEFAULT.embed, min=1, max=MAX_UNITS, help="Embedding size.", rich_help_panel=MODEL),
    dropout: float = typer.Option(DEFAULT.dropout, callback=fraction, help="Dropout between layers.", rich_help_panel=MODEL),
    forget_bias: float = typer.Option(
        DEFAULT.forget_bias, callback=finite,
        help="The LSTM's forget-gate bias at start (0: PyTorch's initialisation; 1 or more keeps memories longer early on).",
        rich_help_panel=MODEL,
    ),
    dtype: Dtype = typer.Option(DEFAULT.dtype, help="The model computes in this precision.", rich_help_panel=MODEL),
    corpus: str = typer.Option(DEFAULT.corpus, help="Corpus name (see `rnntui corpora`) or path of a UTF-8 text file.", rich_help_panel=DATA),
    seed: int = typer.Option(DEFAULT.seed, min=0, help="Fixes initialisation, dropout and samples.", rich_help_panel=DATA),
    val_frac: float = typer.Option(DEFAULT.val_frac, callback=fraction, help="Share of the text kept for validation.", rich_help_panel=DATA),
    seq_len: int = typer.Option(DEFAULT.seq_len, min=1, max=MAX_SPAN, help="Truncation k: characters per chunk of truncated BPTT.", rich_help_panel=TRAINING),
    bptt: Bptt = typer.Option("truncated", help="Truncated (chunks of --seq-len) or full (each stream at once).", rich_help_panel=TRAINING),
    batch: int = typer.Option(DEFAULT.batch, min=1, max=MAX_BATCH, help="Parallel streams per step (lowered for a small corpus).", rich_help_panel=TRAINING),
    steps: Optional[int] = typer.Option(
        None, min=0, show_default=False,
        help=f"The step to reach (with --resume, counted from the start). Default {DEFAULT_STEPS}; "
        "none with --minutes alone; with both, whichever comes first.",
        rich_help_panel=TRAINING,
    ),
    minutes: Optional[float] = typer.Option(
        None, callback=non_negative, show_default=False,
        help="Wall-clock minutes for this run, the evaluations between steps included (then one read of the "
        "whole validation split); alone, no step cap.",
        rich_help_panel=TRAINING,
    ),
    lr: float = typer.Option(DEFAULT.lr, callback=positive, help="Learning rate.", rich_help_panel=TRAINING),
    optimizer: Optimizer = typer.Option(DEFAULT.optimizer, help="The update rule.", rich_help_panel=TRAINING),
    momentum: float = typer.Option(DEFAULT.momentum, callback=non_negative, help="SGD momentum.", rich_help_panel=TRAINING),
    clip: float = typer.Option(DEFAULT.clip, callback=non_negative, help="Clip the gradient's global norm to this; 0 = off.", rich_help_panel=TRAINING),
    clip_value: float = typer.Option(DEFAULT.clip_value, callback=non_negative, help="Clip each gradient entry to +-this; 0 = off.", rich_help_panel=TRAINING),
    workers: Optional[int] = typer.Option(
        None, min=1, show_default=False,
        help="Processes sharing each step, each a shard of the streams. Default: one per core, "
        "each with 8 streams at least (1 below a batch of 16); with --resume, the checkpoint's count. "
        "With --engine torch: ranks of torch.distributed, rank 0 this process; default 1.",
        rich_help_panel=TRAINING,
    ),
    engine: Engine = typer.Option(
        "numpy", help="Who takes the steps: rnntui's NumPy engine, or PyTorch (pip install 'rnntui\\[torch]'); "
        "the checkpoint is the same and resumes in either.",
        rich_help_panel=TRAINING,
    ),
    device: Device = typer.Option("auto", help="With --engine torch: where it computes (auto: a GPU if PyTorch sees one).",
                                  rich_help_panel=TRAINING),
    skip_nonfinite: bool = typer.Option(False, "--skip-nonfinite", help="Skip a step whose loss or gradient is not finite, instead of stopping.", rich_help_panel=TRAINING),
    eval_every: int = typer.Option(
        DEFAULT.eval_every, min=1,
        help="Steps between evaluations on a fixed validation subset (and checkpoints, at most one a minute).",
        rich_help_panel=OUTPUT,
    ),
    sample_every: int = typer.Option(DEFAULT.sample_every, min=1, help="Steps between printed samples.", rich_help_panel=OUTPUT),
    temperature: float = typer.Option(DEFAULT.temperature, callback=non_negative, help=TEMPERATURE_HELP, rich_help_panel=OUTPUT),
    out: Optional[Path] = typer.Option(None, help="Checkpoint path, written at evaluations (at most once a minute) and at the end.", rich_help_panel=OUTPUT),
    resume: Optional[Path] = typer.Option(None, help="Continue from this checkpoint (its shape, vocabulary and corpus).", rich_help_panel=OUTPUT),
    log: Optional[Path] = typer.Option(None, help="Write every event as one JSON object per line.", rich_help_panel=OUTPUT),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or samples.", rich_help_panel=OUTPUT),
) -> None:
    """Train a model headless, with checkpoints, and stop safely on Ctrl-C."""
    from rnntui.train.trainer import Trainer

    options = dict(
        corpus=corpus, cell=cell.value, hidden=hidden, layers=layers, embed=embed,
        seq_len=0 if bptt.value == "full" else seq_len, batch=batch, lr=lr,
        optimizer=optimizer.value, momentum=momentum, clip=clip, clip_value=clip_value, dropout=dropout,
        forget_bias=forget_bias,
        dtype=dtype.value, seed=seed, val_frac=val_frac, eval_every=eval_every, sample_every=sample_every,
        temperature=temperature, skip_nonfinite=skip_nonfinite,
    )
    options["steps"], options["minutes"] = budget(steps, minutes, DEFAULT_STEPS)
    on = dict(engine=engine.value, device=device.value)
    if engine.value == "torch":
        from rnntui.train.trainer import load_torch_engine

        try:
            load_torch_engine()
        except TorchMissing as missing:  # an option this install cannot honour: a usage error
            error_line(str(missing))
            raise typer.Exit(2) from None
    if resume is not None:
        # Only what was said on the command line changes a resumed run.
        said = {k: v for k, v in options.items() if _given(ctx, k)}
        if _given(ctx, "bptt"):
            said["seq_len"] = options["seq_len"]
        if steps is not None or minutes is not None:  # a budget said replaces the saved one, both halves
            said["steps"], said["minutes"] = options["steps"], options["minutes"]
    launched = _torchrun_ranks() if engine.value == "torch" else None
    changes = said if resume is not None else options  # what every rank's job carries
    if launched:
        trainer, followers = _launched(launched, workers, _job(device.value, resume, changes)), None
    elif engine.value == "torch" and (workers or 1) > 1:
        trainer, followers = _ranks(workers, device.value, resume, changes)
    elif resume is not None:
        trainer, followers = Trainer.resume(resume, workers=workers, **on, **said), None
    else:
        trainer, followers = Trainer.from_config(TrainConfig(**options), workers=workers, **on), None
    if resume is not None and trainer.workers != trainer.resumed_from_workers:
        typer.echo(f"note: resuming with {trainer.workers} worker(s) where {resume} was trained with "
                   f"{trainer.resumed_from_workers}: the same run to float rounding, not to the last bit", err=True)
    try:
        _train(trainer, out, resume, log, quiet)
    finally:
        trainer.close()  # no worker process outlives the command, however it ends
        if followers:
            followers.close()


def _job(device: str, resume: Optional[Path], options: dict) -> dict:
    """What every rank builds its trainer from (ranks.build)."""
    return {"device": device, **({"resume": str(resume), "changes": options} if resume is not None
                                  else {"config": TrainConfig(**options).validated().to_json()})}


def _torchrun_ranks():
    from rnntui.train.ranks import launched_ranks

    return launched_ranks()


def _launched(ranks: tuple[int, int, str], workers: Optional[int], job: dict):
    """Under torchrun: rank 0's trainer; any other rank follows it silently and ends the command."""
    from rnntui.train.ranks import build, run_follower

    if workers is not None and workers != ranks[1]:
        error_line(f"--workers {workers} disagrees with torchrun's {ranks[1]} processes; leave it out")
        raise typer.Exit(2)
    if ranks[0] != 0:
        raise typer.Exit(run_follower(job, ranks))
    return build(job, ranks)


def _ranks(workers: int, device: str, resume: Optional[Path], options: dict):
    """Rank 0's trainer, and ranks 1..workers-1 started as followers that build the same one (ranks.py)."""
    from rnntui.train.ranks import Followers, build, free_address

    job = _job(device, resume, options)
    address = free_address()
    followers = Followers(job, workers, address)
    try:
        return build(job, (0, workers, address)), followers
    except BaseException:
        followers.close()
        raise


def _train(trainer, out: Optional[Path], resume: Optional[Path], log: Optional[Path], quiet: bool) -> None:
    from rnntui.data.corpus import corpus_file

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
