"""Where a training step's time goes, by section (cProfile cannot see inside NumPy).

    python benchmarks/profile_engine.py [--cell lstm] [--config a] [--dtype float32] [--steps 20] [--batch B]

`--batch` replaces the config's batch: `--batch 16` at (a) is one worker's shard of
`rnntui train --workers 2` (run it with OPENBLAS_NUM_THREADS=1, as a worker runs).

Sections: the cells' time loops (forward, backward), the rest of forward
(input projections, head, softmax) and of backward (head and weight-gradient
GEMMs, embedding gradient), gradient clipping and the optimizer step. Each
section's share is the median over steps.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.optim import clip_by_norm, make_optimizer
from rnntui.engine.shape import ModelShape

from speed import CONFIGS, EMBED, load_tokens, streams


def timed(method, bucket, name):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            bucket[name] += time.perf_counter() - start
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--config", default="a", choices=list(CONFIGS))
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--vocab", type=int, default=None)
    parser.add_argument("--batch", type=int, default=None, help="streams per step instead of the config's")
    args = parser.parse_args()
    cfg = dict(CONFIGS[args.config], **({"batch": args.batch} if args.batch else {}))
    ids, V = load_tokens(args.vocab)
    chunk = streams(ids, cfg["batch"], cfg["seq"])
    model = CharRNN(ModelShape(args.cell, V, EMBED, cfg["hidden"], cfg["layers"]), dtype=np.dtype(args.dtype))
    opt = make_optimizer("adam", model.flat, 2e-3)
    bucket: dict[str, float] = defaultdict(float)
    for cell in model.cells:
        cell.forward = timed(cell.forward, bucket, "cell forward loops")
        cell.backward = timed(cell.backward, bucket, "cell backward loops")
    samples = defaultdict(list)
    state = None
    for j in range(args.steps + 3):
        bucket.clear()
        inputs, targets = chunk(j)
        t0 = time.perf_counter()
        result = model.forward(inputs, targets, state=state)
        t1 = time.perf_counter()
        model.backward()
        t2 = time.perf_counter()
        clip_by_norm(model.grad_flat, 5.0)
        t3 = time.perf_counter()
        opt.step(model.grad_flat)
        t4 = time.perf_counter()
        state = result.state
        if j < 3:
            continue
        parts = {
            "cell forward loops": bucket["cell forward loops"],
            "forward, rest": t1 - t0 - bucket["cell forward loops"],
            "cell backward loops": bucket["cell backward loops"],
            "backward, rest": t2 - t1 - bucket["cell backward loops"],
            "clip_by_norm": t3 - t2,
            "optimizer": t4 - t3,
        }
        for name, value in parts.items():
            samples[name].append(value)
        samples["total"].append(t4 - t0)
    total = statistics.median(samples["total"])
    chars = cfg["batch"] * cfg["seq"]
    print(f"{args.cell} ({args.config}) {args.dtype}: {total * 1e3:.2f} ms/step, {chars / total:,.0f} chars/s")
    for name, values in samples.items():
        if name != "total":
            m = statistics.median(values)
            print(f"  {name:22s} {m * 1e3:8.2f} ms  {100 * m / total:5.1f}%")


if __name__ == "__main__":
    main()
