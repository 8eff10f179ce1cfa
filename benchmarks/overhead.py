"""The share of a training run's wall time spent outside training steps, at `rnntui train`'s defaults.

    python benchmarks/overhead.py [--copies 2] [--steps N] [--minutes M] [--eval-every N] [--eval-chars N]
                                  [--workers N]

Trains on tiny-shakespeare repeated `--copies` times (twice: about 2.2 MB)
with the trainer the CLI runs, its JSON Lines log listening and its checkpoint
written, and times every piece of the run: the training steps themselves, the
evaluations on the validation subset, the one over the whole validation split
at the end, the checkpoint writes, the samples, and the rest (events, the log,
commands). The worker count is `rnntui train`'s default unless --workers says
otherwise (2 on two cores at the default batch), and starting the workers is
counted too, as a part of its own. Run it with the BLAS thread count you train with
(OPENBLAS_NUM_THREADS=1 for one core). With one process CPU time is shown beside
wall time: on a machine shared with other work it moves less.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rnntui.cli.progress import JsonLog
from rnntui.train.config import DEFAULT_STEPS, TrainConfig
from rnntui.train.run import budget
from rnntui.train.trainer import Trainer

CORPUS = Path("/work/shared/data/tinyshakespeare.txt")


def timed(seconds: dict, cpu: dict, name, method):
    """`method`, adding the wall and CPU time of every call to seconds[name] and cpu[name]
    (a callable name sees the call's arguments)."""
    def wrapper(*args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            key = name(*args, **kwargs) if callable(name) else name
            seconds[key] += time.perf_counter() - start
            cpu[key] += time.process_time() - start_cpu
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--eval-every", type=int, default=None)
    parser.add_argument("--eval-chars", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: rnntui train's)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.txt"
        path.write_text(args.corpus.read_text(encoding="utf-8") * args.copies, encoding="utf-8")
        steps, minutes = budget(args.steps, args.minutes, DEFAULT_STEPS)
        changes = {k: v for k, v in dict(eval_every=args.eval_every, eval_chars=args.eval_chars).items() if v}
        config = TrainConfig(corpus=str(path), steps=steps, minutes=minutes, **changes)
        start, start_cpu = time.perf_counter(), time.process_time()
        trainer = Trainer.from_config(config, workers=args.workers)
        built, built_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        trainer.checkpoint_path = Path(tmp) / "run.safetensors"
        seconds: dict = defaultdict(float)
        cpu: dict = defaultdict(float)
        trainer.train_step = timed(seconds, cpu, "training steps", trainer.train_step)
        trainer.evaluate_now = timed(
            seconds, cpu, lambda full=False: "whole validation split (end)" if full else "validation subset",
            trainer.evaluate_now)
        trainer.save = timed(seconds, cpu, "checkpoint writes", trainer.save)
        trainer.sample = timed(seconds, cpu, "samples", trainer.sample)
        log = JsonLog(Path(tmp) / "log.jsonl")
        trainer.listeners.append(timed(seconds, cpu, "the log", log))
        start, start_cpu = time.perf_counter(), time.process_time()
        finished = trainer.run()
        wall, wall_cpu = time.perf_counter() - start + built, time.process_time() - start_cpu + built_cpu
        trainer.close()
        log.close()
        megabytes = path.stat().st_size / 1e6
    seconds["start (corpus, model, workers)"], cpu["start (corpus, model, workers)"] = built, built_cpu
    seconds["the rest (events, commands, the loop)"] = wall - sum(seconds.values())
    cpu["the rest (events, commands, the loop)"] = wall_cpu - sum(cpu.values())
    cfg = trainer.config
    print(f"# {megabytes:.1f} MB corpus ({args.corpus.name} x{args.copies}), validation split "
          f"{len(trainer.val_ids):,} characters; {cfg.cell} H={cfg.hidden} B={trainer.batch} T={cfg.seq_len}, "
          f"{trainer.workers} worker(s); "
          f"eval every {cfg.eval_every} steps on {sum(s.stop - s.start for s in trainer.val_subset):,} predictions; "
          f"ended by {finished.reason} at step {finished.step} after {wall:.1f} s\n")
    # With workers the steps' CPU time is theirs, not this process's: only wall time compares.
    alone = trainer.workers == 1
    print("| part | seconds | share of wall time |" + (" share of CPU time |" if alone else ""))
    print("| --- | ---: | ---: |" + (" ---: |" if alone else ""))
    for name, value in seconds.items():
        print(f"| {name} | {value:.2f} | {value / wall:.2%} |" + (f" {cpu[name] / wall_cpu:.2%} |" if alone else ""))
    end = "whole validation split (end)"
    for label, parts, total in (("wall", seconds, wall), ("CPU", cpu, wall_cpu))[:2 if alone else 1]:
        outside = total - parts["training steps"]
        first = parts["start (corpus, model, workers)"]
        print(f"\noutside training steps ({label} time): {outside / total:.2%} of the run "
              f"({first / total:.2%} at the start, {(outside - first - parts[end]) / total:.2%} between steps, "
              f"{parts[end] / total:.2%} at the end)", end="")
    print()


if __name__ == "__main__":
    main()
