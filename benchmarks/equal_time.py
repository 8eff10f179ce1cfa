"""Equal wall-clock time, equal held-out loss? `rnntui train --minutes M` against a PyTorch loop.

    python benchmarks/equal_time.py [--minutes 2] [--corpus PATH] [--threads 2] [--cell lstm]
                                    [--workers N] [--rounds 1]

What a user compares: the same model trained for the same minutes on the same
text, then scored on text neither has seen. Both sides: LSTM (or --cell), 256
units, embedding 64, 32 streams, truncated BPTT over 64 characters, Adam 2e-3,
gradient norm clipped to 5, the first 90% of the text to train on and the rest
held out, vocabulary = the sorted characters of the whole text.

rnntui runs as a user runs it (`rnntui train --minutes M` in a child process,
its defaults otherwise: evaluations, samples and checkpoints included; --workers
left to its default unless given). PyTorch runs the plain loop a user would
write, with `--threads` threads, for the same minutes, in its own child. Both
finished models are then scored by one evaluator (rnntui's engine; a PyTorch
state dict loads into it unchanged) on the whole held-out split, read as 16
streams with the state carried. The two trainings run one after the other, so
the machine must be quiet for the comparison to mean anything: the load
average is printed before each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HIDDEN, EMBED, BATCH, SEQ, LR, CLIP, VAL_FRAC = 256, 64, 32, 64, 2e-3, 5.0, 0.1
CORPUS = Path("/work/shared/data/tinyshakespeare.txt")


def text_ids(path: Path):
    import numpy as np

    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    cut = len(ids) - int(len(ids) * VAL_FRAC)
    return ids[:cut], ids[cut:], len(chars)


def held_out_loss(params: dict, cell: str, val, vocab: int) -> float:
    """Mean loss in nats over the whole held-out split, 16 streams, state carried."""
    import numpy as np

    from rnntui.engine.model import CharRNN
    from rnntui.engine.shape import ModelShape
    from rnntui.engine.walk import mean_loss

    model = CharRNN(ModelShape(cell, vocab, EMBED, HIDDEN, 1), np.float32)
    model.load_params({k: np.asarray(v, np.float32) for k, v in params.items()})
    streams = 16
    length = (len(val) - 1) // streams
    inputs = val[: streams * length].reshape(streams, length)
    targets = val[1: streams * length + 1].reshape(streams, length)
    return mean_loss(model, inputs, targets, k=256)[0]


def torch_child(corpus: Path, cell: str, seconds: float, threads: int, out: Path) -> None:
    """The loop a user would write in PyTorch, for `seconds` of wall-clock time; saves the state dict."""
    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    train, _, V = text_ids(corpus)

    class CharRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(V, EMBED)
            self.rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
                EMBED, HIDDEN, 1, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, V)

        def forward(self, x, state):
            out, state = self.rnn(self.embedding(x), state)
            return self.head(out), state

    model = CharRNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    length = (len(train) - 1) // BATCH
    inputs = torch.from_numpy(train[: BATCH * length].reshape(BATCH, length))
    targets = torch.from_numpy(train[1: BATCH * length + 1].reshape(BATCH, length))
    chunks = length // SEQ
    start, steps, state = time.monotonic(), 0, None
    while time.monotonic() - start < seconds:
        j = steps % chunks
        if j == 0:
            state = None  # each epoch starts from a zero state, as rnntui's does
        x, y = inputs[:, j * SEQ:(j + 1) * SEQ], targets[:, j * SEQ:(j + 1) * SEQ]
        logits, state = model(x, state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        steps += 1
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out), metadata={"steps": str(steps)})


def run_rnntui(corpus: Path, cell: str, minutes: float, threads: int, workers: int | None, tmp: Path):
    out = tmp / "rnntui.safetensors"
    args = [sys.executable, "-m", "rnntui", "train", "--corpus", str(corpus), "--cell", cell,
            "--hidden", str(HIDDEN), "--embed", str(EMBED), "--batch", str(BATCH), "--seq-len", str(SEQ),
            "--lr", str(LR), "--clip", str(CLIP), "--val-frac", str(VAL_FRAC), "--minutes", str(minutes),
            "--steps", str(10**9), "--out", str(out), "--quiet"]
    if workers:
        args += ["--workers", str(workers)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    started = time.monotonic()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"rnntui train failed:\n{proc.stderr}")
    from rnntui.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(out)
    return ckpt.params, ckpt.train_state["step"], ckpt.train_state.get("workers", 1), wall


def run_torch(corpus: Path, cell: str, minutes: float, threads: int, tmp: Path):
    from safetensors import safe_open

    out = tmp / "torch.safetensors"
    job = json.dumps(dict(corpus=str(corpus), cell=cell, seconds=minutes * 60, threads=threads, out=str(out)))
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, __file__, "--child", job], env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"the PyTorch loop failed:\n{proc.stderr}")
    with safe_open(str(out), framework="numpy") as f:
        params = {k: f.get_tensor(k) for k in f.keys()}
        steps = int(f.metadata()["steps"])
    return params, steps, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--cell", default="lstm", choices=("lstm", "gru", "rnn"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, help="rnntui's --workers (default: its own default)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        job = json.loads(args.child)
        torch_child(Path(job["corpus"]), job["cell"], job["seconds"], job["threads"], Path(job["out"]))
        return

    _, val, V = text_ids(args.corpus)
    print(f"# {args.corpus.name}: {len(val):,} held-out characters, V={V}; {args.cell} H={HIDDEN} D={EMBED} "
          f"B={BATCH} T={SEQ}; {args.minutes} min each; {args.threads} threads; {os.cpu_count()} cpus\n")
    print("| round | load before | rnntui steps (workers) | rnntui held-out | PyTorch steps | PyTorch held-out "
          "| rnntui - PyTorch |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            loads = [os.getloadavg()[0]]
            ours, steps, workers, _ = run_rnntui(args.corpus, args.cell, args.minutes, args.threads, args.workers,
                                                 Path(tmp))
            loads.append(os.getloadavg()[0])
            theirs, torch_steps, _ = run_torch(args.corpus, args.cell, args.minutes, args.threads, Path(tmp))
            a, b = held_out_loss(ours, args.cell, val, V), held_out_loss(theirs, args.cell, val, V)
            print(f"| {r + 1} | {loads[0]:.1f}, {loads[1]:.1f} | {steps} ({workers}) | {a:.3f} | {torch_steps} "
                  f"| {b:.3f} | {a - b:+.3f} |", flush=True)


if __name__ == "__main__":
    main()
