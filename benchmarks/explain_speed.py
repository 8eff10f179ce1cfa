"""Speed of `rnntui explain` against PyTorch autograd computing the same values position by position.

    python benchmarks/explain_speed.py [--chars 500] [--hidden 256] [--layers 2] [--cell lstm]
                                       [--rounds 3] [--threads 1]

The work is the issue's: a text of 500 characters, every position, a 2-layer,
256-unit LSTM in float32: for each position n the next-character distribution
and ||d log p(x_n | x_<n) / d x_t|| for every t < n, through full BPTT.

- rnntui: `train.explain.explain`, one forward and one backward carrying every
  position's seed as a batch row.
- PyTorch, two ways, and the faster is the reference: (a) one forward with the
  embedding output as a leaf, then one `autograd.grad` per position on the
  retained graph (each walks back through the whole text); (b) per position, a
  forward over only text[:n] and its backward (the triangle, at the price of a
  forward each).

Both run in this one process, each side's BLAS limited to --threads, in
alternation, so a round's ratio compares the two under the same load. The
table gives every round, in wall and CPU seconds, and the median ratios
(PyTorch's seconds over rnntui's: above 1, rnntui is faster). The first round's
values are checked against each other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

CORPUS = Path(os.environ.get("RNNTUI_BENCH_CORPUS", "/work/shared/data/tinyshakespeare.txt"))
EMBED = 32  # rnntui's default embedding size


def text_and_vocab(chars: int):
    """A stretch of tiny-shakespeare (or of random letters where it is absent) and its corpus's vocabulary."""
    from rnntui.data.vocab import Vocabulary

    if CORPUS.exists():
        corpus = CORPUS.read_text(encoding="utf-8")
        return corpus[10_000:10_000 + chars], Vocabulary.from_text(corpus)
    letters = "abcdefghijklmnopqrstuvwxyz ,.\n"
    rng = np.random.default_rng(0)
    return "".join(rng.choice(list(letters), chars)), Vocabulary.from_text(letters)


def torch_module(model):
    import torch

    from rnntui.engine.shape import ModelShape

    s: ModelShape = model.shape
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[s.cell]
    module = torch.nn.ModuleDict({
        "embedding": torch.nn.Embedding(s.vocab_size, s.embedding_dim),
        "rnn": rnn(s.embedding_dim, s.hidden_size, s.num_layers, batch_first=True),
        "head": torch.nn.Linear(s.hidden_size, s.vocab_size),
    })
    module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.params.items()})
    return module


def torch_retained_graph(module, ids):
    """(a): one forward; per position, autograd.grad of its log-probability on the retained graph."""
    import torch

    x = module["embedding"](ids[:-1])[None].detach().requires_grad_(True)
    log_p = torch.log_softmax(module["head"](module["rnn"](x)[0])[0], dim=-1)
    probs = log_p.detach().exp()
    rows = []
    for n in range(1, len(ids)):
        (grad,) = torch.autograd.grad(log_p[n - 1, ids[n]], x, retain_graph=True)
        rows.append(grad[0, :n].norm(dim=1))
    return probs, rows


def torch_prefix(module, ids):
    """(b): per position, a forward over the text up to it and one backward."""
    import torch

    probs, rows = [], []
    for n in range(1, len(ids)):
        x = module["embedding"](ids[:n])[None].detach().requires_grad_(True)
        log_p = torch.log_softmax(module["head"](module["rnn"](x)[0][:, -1])[0], dim=-1)
        (grad,) = torch.autograd.grad(log_p[ids[n]], x)
        probs.append(log_p.detach().exp())
        rows.append(grad[0].norm(dim=1))
    return torch.stack(probs), rows


def timed(work):
    """(result, wall seconds, CPU seconds of this process): on a shared machine the CPU time is the steadier."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def agreement(found, ids, probs, rows) -> str:
    """How far PyTorch's values are from rnntui's (in float32, about 1e-6 is rounding)."""
    saliency = max(float(np.max(np.abs(p.saliency - r.numpy())) / r.numpy().max()) for p, r in zip(found.predictions, rows))
    prob = max(abs(p.prob - float(probs[p.position - 1][ids[p.position]])) for p in found.predictions)
    return f"saliency within {saliency:.1e} of each row's largest, probabilities within {prob:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=500)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--cell", default="lstm", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for each side")
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    from rnntui.engine.model import CharRNN
    from rnntui.engine.shape import ModelShape
    from rnntui.train import explain as explaining

    threadpool_limits(args.threads)
    explaining.BLAS_THREADS = args.threads  # the same number of threads on both sides
    torch.set_num_threads(args.threads)
    text, vocab = text_and_vocab(args.chars)
    model = CharRNN(ModelShape(args.cell, vocab.size, EMBED, args.hidden, args.layers), dtype=np.float32, seed=0)
    module = torch_module(model)
    ids = torch.from_numpy(vocab.encode(text))
    print(f"{len(text)} characters, every position; {args.layers}-layer {args.hidden}-unit {args.cell}, float32, "
          f"{args.threads} BLAS thread(s) a side; torch {torch.__version__}, numpy {np.__version__}")
    print("seconds per side, wall / CPU; the ratio is PyTorch's faster way over rnntui")
    print(f"{'round':>5} {'rnntui':>13} {'torch (a)':>13} {'torch (b)':>13} {'wall ratio':>10} {'CPU ratio':>9}")
    wall_ratios, cpu_ratios = [], []
    for r in range(args.rounds):
        found, ours, ours_cpu = timed(lambda: explaining.explain(model, vocab, text))
        a, retained, retained_cpu = timed(lambda: torch_retained_graph(module, ids))
        b, prefix, prefix_cpu = timed(lambda: torch_prefix(module, ids))
        wall_ratios.append(min(retained, prefix) / ours)
        cpu_ratios.append(min(retained_cpu, prefix_cpu) / ours_cpu)
        print(f"{r + 1:>5} {ours:>6.1f} / {ours_cpu:<4.1f} {retained:>6.1f} / {retained_cpu:<4.1f} "
              f"{prefix:>6.1f} / {prefix_cpu:<4.1f} {wall_ratios[-1]:>9.2f}x {cpu_ratios[-1]:>8.2f}x")
        if r == 0:
            checks = [agreement(found, ids, *a), agreement(found, ids, *b)]
    print(f"values agree: (a) {checks[0]}; (b) {checks[1]}")
    print(f"median: rnntui is {statistics.median(wall_ratios):.2f}x as fast as PyTorch's faster way "
          f"({statistics.median(cpu_ratios):.2f}x in CPU time)")


if __name__ == "__main__":
    main()
