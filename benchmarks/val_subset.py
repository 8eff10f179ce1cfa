"""How closely the seeded validation subset tracks the full validation loss, and what it costs.

    python benchmarks/val_subset.py [--steps 600] [--seeds 400] [--corpus PATH] [--copies 2]

Trains the default model (`rnntui train`'s defaults) on a corpus (tiny-shakespeare
doubled, about 2.2 MB, by default) for a few hundred steps, then cuts its
validation split into stretches of several lengths. For each stretch length
and subset size it draws the subset with many seeds and reports how far the
subset's mean loss falls from the full split's: the standard deviation and the
95th percentile of |subset - full| over the seeds, in nats. One run's
evaluations all read one fixed subset, so this spread is how far that run's
validation curve may sit from the full loss; from one evaluation to the next
the subset does not change. The time of one evaluation is shown against one
training step.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from rnntui.engine.walk import walk
from rnntui.train.config import TrainConfig
from rnntui.train.evaluate import text_loss
from rnntui.train.trainer import Trainer
from rnntui.train.validation import stretch_loss, stretches, subset

CORPUS = Path("/work/shared/data/tinyshakespeare.txt")


def per_stretch_nll(model, ids, spans, k):
    """The summed loss of each whole stretch (the same numbers `stretch_loss` averages), one row each."""
    inputs = np.stack([ids[s] for s in spans])
    targets = np.stack([ids[s.start + 1: s.stop + 1] for s in spans])
    sums = np.zeros(len(spans))
    for rows in range(0, len(spans), 64):
        block = slice(rows, rows + 64)
        for span, result in walk(model, inputs[block], targets[block], k=k, logits=True):
            z = result.logits.astype(np.float64)
            z -= z.max(axis=2, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
            picked = np.take_along_axis(logp, targets[block, span][..., None], axis=2)[..., 0]
            sums[block] -= picked.sum(axis=1)
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--copies", type=int, default=2, help="the corpus repeated this many times")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=400)
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--chars", type=int, nargs="+", default=[10_000, 20_000, 40_000, 80_000])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.txt"
        path.write_text(args.corpus.read_text(encoding="utf-8") * args.copies, encoding="utf-8")
        config = TrainConfig(corpus=str(path), steps=args.steps, eval_every=10**9, sample_every=10**9)
        trainer = Trainer.from_config(config)
        start = time.perf_counter()
        for _ in range(args.steps):
            trainer.train_step()
        step_seconds = (time.perf_counter() - start) / args.steps
        megabytes = path.stat().st_size / 1e6
    model, ids = trainer.model, trainer.val_ids
    k = config.seq_len
    print(f"# {megabytes:.1f} MB ({args.corpus.name} x{args.copies}), validation split {len(ids):,} characters; "
          f"the default model after {args.steps} steps ({step_seconds * 1e3:.1f} ms a step)\n")
    one, _ = text_loss(model, ids)
    print("The full split read in stretches, each from a zero state, against the split read as one sequence "
          f"({one:.4f} nats):\n")
    for length in args.lengths:
        full, _ = stretch_loss(model, ids, stretches(ids, length), batch=trainer.batch, k=k)
        print(f"- stretches of {length}: {full:.4f} nats ({full - one:+.4f})")
    print()
    print("| stretch | subset chars | stretches | std of subset - full | 95th pct of abs | one evaluation | in steps |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for length in args.lengths:
        whole = [s for s in stretches(ids, length) if s.stop - s.start == length]
        sums = per_stretch_nll(model, ids, whole, k)
        full = sums.sum() / (len(whole) * length)
        for chars in args.chars:
            n = -(-chars // length)
            if n >= len(whole):
                continue
            deviations = []
            for seed in range(args.seeds):
                picked = np.random.default_rng([seed, 7]).choice(len(whole), n, replace=False)
                deviations.append(sums[picked].sum() / (n * length) - full)
            deviations = np.abs(np.array(deviations))
            spans = subset(ids, chars, 0, length)
            start = time.perf_counter()
            stretch_loss(model, ids, spans, batch=trainer.batch, k=k)
            seconds = time.perf_counter() - start
            print(f"| {length} | {n * length:,} | {n} | {np.sqrt(np.mean(deviations ** 2)):.4f} "
                  f"| {np.percentile(deviations, 95):.4f} | {seconds * 1e3:.0f} ms | {seconds / step_seconds:.1f} |",
                  flush=True)
    start = time.perf_counter()
    loss, count = stretch_loss(model, ids, stretches(ids), batch=trainer.batch, k=k)
    seconds = time.perf_counter() - start
    print(f"\nfull split: {loss:.4f} nats over {count:,} predictions in {seconds:.2f} s "
          f"({seconds / step_seconds:.0f} training steps)")


if __name__ == "__main__":
    main()
