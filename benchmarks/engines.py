"""Training speed of the two engines behind `rnntui train`: NumPy against `--engine torch`, in characters per second.

    python benchmarks/engines.py [--cells lstm gru rnn] [--configs a b c] [--threads 2] [--rounds 3] [--seconds 4]

Both sides are the trainer's own step (`Trainer.train_step`, what `rnntui train`
runs between its evaluations) on the configs of speed.py, float32, one process
each with the same number of threads (OpenBLAS's for NumPy, PyTorch's intra-op
pool for torch). Each measurement runs in its own child process, and the two
children of one round run back to back, so a ratio compares two numbers taken
under the same load; the table shows the median over the rounds. On a machine
shared with other work the wall-clock rates swing with the load; the rates per
CPU-second of the process (all its threads) swing far less, and with one thread
a side they are the fairer comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from speed import CELLS, CONFIGS, CORPUS, EMBED

ENGINES = ("numpy", "torch")


def measure(job: dict) -> dict:
    """Characters per wall-clock second and per CPU-second of one engine's training steps, after a few to warm up."""
    from rnntui.train.config import TrainConfig
    from rnntui.train.trainer import Trainer

    cfg = CONFIGS[job["config"]]
    if job["engine"] == "torch":
        import torch

        torch.set_num_threads(job["threads"])
    config = TrainConfig(corpus=str(CORPUS), cell=job["cell"], hidden=cfg["hidden"], layers=cfg["layers"],
                         embed=EMBED, batch=cfg["batch"], seq_len=cfg["seq"], steps=None, minutes=60.0)
    trainer = Trainer.from_config(config, workers=1, engine=job["engine"], device="cpu")
    for _ in range(3):
        trainer.train_step()
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < job["seconds"] or steps < 3:
        trainer.train_step()
        steps += 1
    chars = steps * trainer.batch * cfg["seq"]
    return dict(wall=chars / elapsed, cpu=chars / (time.process_time() - cpu))


def run_child(job: dict) -> dict:
    threads = str(job["threads"])
    env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the {job['engine']} child failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--configs", nargs="+", default=["a", "b", "c"], choices=["a", "b", "c"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="timed steps per measurement")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(json.loads(args.child))))
        return

    print(f"## rnntui train: NumPy engine against --engine torch, float32, {args.threads} threads a side, "
          f"median of {args.rounds} rounds\n")
    print("| cell | config | NumPy chars/s | torch chars/s | torch / NumPy | the same per CPU-second |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for config in args.configs:
        for cell in args.cells:
            rates = {engine: [] for engine in ENGINES}
            for _ in range(args.rounds):
                for engine in ENGINES:
                    job = dict(engine=engine, cell=cell, config=config, threads=args.threads, seconds=args.seconds)
                    rates[engine].append(run_child(job))
            ratio = {kind: statistics.median(t[kind] / n[kind] for n, t in zip(rates["numpy"], rates["torch"]))
                     for kind in ("wall", "cpu")}
            cfg = CONFIGS[config]
            label = f"({config}) H={cfg['hidden']} L={cfg['layers']} B={cfg['batch']} T={cfg['seq']}"
            wall = {engine: statistics.median(r["wall"] for r in rates[engine]) for engine in ENGINES}
            print(f"| {cell} | {label} | {wall['numpy']:,.0f} | {wall['torch']:,.0f} | {ratio['wall']:.2f}x | "
                  f"{ratio['cpu']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
