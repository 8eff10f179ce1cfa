"""Training speed of rnntui against PyTorch and min-char-rnn's algorithm, in characters per second.

    python benchmarks/speed.py [--quick] [--cells lstm gru rnn] [--configs a b c d]
                               [--threads 2] [--rounds 3] [--no-trainer] [--no-cli] [--no-vocab]
                               [--only-trainer] [--workers N]

Every measurement runs in its own child process (two BLAS thread pools in one
process stall each other on a small machine), and the children of one round
run back to back, so a ratio compares two numbers taken under the same load.
Each ratio is taken per round; the table shows the median over the rounds.

A training step is the whole thing a user waits for: embedding -> cell(s) ->
linear -> cross-entropy, backward, clip the global gradient norm to 5, Adam
(lr 2e-3), the hidden state carried to the next chunk (truncated BPTT).
rnntui's is the engine's `train_step` (rnntui/engine/step.py), the one step
every run takes.
The text is tiny-shakespeare (65 characters) walked as B parallel streams;
random tokens over 65 characters where the file is absent.

min-char-rnn is re-written here from its published description (a vanilla
RNN of 100 units on one-hot characters, 25 steps per update, Adagrad with lr
0.1, gradients clipped to +-5, a Python loop over column vectors); rnntui is
measured at the same settings for that comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "a": dict(hidden=128, layers=1, batch=32, seq=64),
    "b": dict(hidden=256, layers=2, batch=32, seq=64),
    "c": dict(hidden=512, layers=2, batch=64, seq=100),
    "d": dict(hidden=100, layers=1, batch=1, seq=25),
}
EMBED = 32  # rnntui's default embedding size, used on both sides
CELLS = ("lstm", "gru", "rnn")
CORPUS = Path(os.environ.get("RNNTUI_BENCH_CORPUS", "/work/shared/data/tinyshakespeare.txt"))
BIG_VOCAB = 3000  # the large-vocabulary case (a Korean corpus has thousands of characters)


# ----- data ------------------------------------------------------------------------------------


def load_tokens(vocab: int | None):
    """Token ids and vocabulary size: tiny-shakespeare, or random tokens when asked or when it is absent."""
    import numpy as np

    if vocab is None and CORPUS.exists():
        text = CORPUS.read_text(encoding="utf-8")
        chars = sorted(set(text))
        index = {c: i for i, c in enumerate(chars)}
        return np.array([index[c] for c in text], dtype=np.int64), len(chars)
    V = vocab or 65
    return np.random.default_rng(0).integers(0, V, 1_000_000), V


def streams(ids, batch: int, seq: int):
    """B contiguous streams cut into chunks of `seq`: (inputs, targets) of chunk j is [B, seq]."""
    length = (len(ids) - 1) // batch
    inputs = ids[: batch * length].reshape(batch, length)
    targets = ids[1: batch * length + 1].reshape(batch, length)
    chunks = length // seq

    def chunk(j):
        span = slice((j % chunks) * seq, (j % chunks + 1) * seq)
        return inputs[:, span], targets[:, span]

    return chunk


def timed_windows(step, chars_per_step: int, seconds: float, windows: int, warmup: int) -> list[float]:
    """Chars/s of `windows` windows of about `seconds` each, after `warmup` steps."""
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    step()
    per_step = max(time.perf_counter() - start, 1e-6)
    n = max(1, int(seconds / per_step))
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(n):
            step()
        rates.append(n * chars_per_step / (time.perf_counter() - start))
    return rates


# ----- the measured loops (each runs in a child) -----------------------------------------------


def rnntui_step(cell, cfg, dtype, vocab=None, optimizer="adam", lr=2e-3, clip=5.0, clip_value=0.0):
    """The engine's one training step (`train_step`, as every run takes it) on chunk after chunk."""
    import numpy as np

    from rnntui.engine.model import CharRNN
    from rnntui.engine.optim import make_optimizer
    from rnntui.engine.shape import ModelShape
    from rnntui.engine.step import chunk_gradient, train_step

    ids, V = load_tokens(vocab)
    chunk = streams(ids, cfg["batch"], cfg["seq"])
    model = CharRNN(ModelShape(cell, V, EMBED, cfg["hidden"], cfg["layers"]), dtype=np.dtype(dtype), seed=0)
    opt = make_optimizer(optimizer, model.flat, lr)
    box = {"state": None, "j": 0}

    def step():
        inputs, targets = chunk(box["j"])
        box["j"] += 1
        outcome = train_step(model, opt, chunk_gradient(model, inputs, targets, box["state"]),
                             clip=clip, clip_value=clip_value)
        box["state"] = outcome.result.state

    return step


def torch_step(cell, cfg, dtype, vocab=None, threads=2):
    import torch

    torch.set_num_threads(threads)
    ids, V = load_tokens(vocab)
    chunk = streams(ids, cfg["batch"], cfg["seq"])
    torch.manual_seed(0)
    dt = getattr(torch, dtype)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(V, EMBED)
            rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
            self.rnn = rnn(EMBED, cfg["hidden"], cfg["layers"], batch_first=True)
            self.head = torch.nn.Linear(cfg["hidden"], V)

        def forward(self, x, state):
            out, state = self.rnn(self.embedding(x), state)
            return self.head(out), state

    model = Model().to(dt)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    box = {"state": None, "j": 0}

    def step():
        inputs, targets = chunk(box["j"])
        box["j"] += 1
        x, y = torch.from_numpy(inputs), torch.from_numpy(targets)
        logits, state = model(x, box["state"])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        box["state"] = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    return step


def minchar_step(dtype):
    """min-char-rnn's training loop, written from its description: column vectors, one step at a time."""
    import numpy as np

    ids, V = load_tokens(None)
    H, T, lr = 100, 25, 0.1
    dt = np.dtype(dtype)
    rng = np.random.default_rng(0)
    Wxh = (rng.standard_normal((H, V)) * 0.01).astype(dt)
    Whh = (rng.standard_normal((H, H)) * 0.01).astype(dt)
    Why = (rng.standard_normal((V, H)) * 0.01).astype(dt)
    bh, by = np.zeros((H, 1), dt), np.zeros((V, 1), dt)
    params = [Wxh, Whh, Why, bh, by]
    memory = [np.zeros_like(p) for p in params]
    box = {"p": 0, "h": np.zeros((H, 1), dt)}

    def loss_and_grads(inputs, targets, hprev):
        xs, hs, ps = {}, {-1: hprev}, {}
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = np.zeros((V, 1), dt)
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
            y = Why @ hs[t] + by
            ps[t] = np.exp(y - y.max()) / np.sum(np.exp(y - y.max()))
            loss += -np.log(ps[t][targets[t], 0])
        grads = [np.zeros_like(p) for p in params]
        dWxh, dWhh, dWhy, dbh, dby = grads
        dhnext = np.zeros_like(hprev)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = Whh.T @ dhraw
        for g in grads:
            np.clip(g, -5, 5, out=g)
        return loss, grads, hs[len(inputs) - 1]

    def step():
        p = box["p"]
        if p + T + 1 >= len(ids):
            p, box["h"] = 0, np.zeros((H, 1), dt)
        _, grads, box["h"] = loss_and_grads(ids[p:p + T], ids[p + 1:p + T + 1], box["h"])
        for param, g, mem in zip(params, grads, memory):
            mem += g * g
            param += -lr * g / np.sqrt(mem + 1e-8)
        box["p"] = p + T

    return step


def trainer_triple(cell, cfg, dtype, seconds, windows):
    """Chars/s of the engine alone, of `Trainer.train_step`, and of `Trainer.run` with a JSON Lines log
    listening (events, commands and logging included), on the same config, windows interleaved."""
    import numpy as np

    from rnntui.cli.progress import JsonLog
    from rnntui.train.config import TrainConfig
    from rnntui.train.trainer import Trainer

    engine = rnntui_step(cell, cfg, dtype)
    text = CORPUS.read_text(encoding="utf-8") if CORPUS.exists() else "".join(
        chr(33 + i) for i in np.random.default_rng(0).integers(0, 65, 1_000_000))
    config = TrainConfig(
        corpus=str(CORPUS), cell=cell, hidden=cfg["hidden"], layers=cfg["layers"], embed=EMBED,
        seq_len=cfg["seq"], batch=cfg["batch"], dtype=dtype, eval_every=10**9, sample_every=10**9,
        val_frac=0.0,  # no validation split: each run() below would end by reading all of it
    )
    trainer = Trainer(config, text)
    chars = cfg["batch"] * cfg["seq"]
    with tempfile.TemporaryDirectory() as tmp:
        log = JsonLog(Path(tmp) / "log.jsonl")
        trainer.listeners.append(log)
        run_steps = {"n": 1}

        def run():
            trainer.config = trainer.config.with_changes(steps=trainer.step + run_steps["n"])
            trainer.run()

        # One call of run() is run_steps["n"] training steps: size it like the other windows.
        timed_windows(trainer.train_step, chars, 0.0, 1, 1)
        start = time.perf_counter()
        trainer.train_step()
        run_steps["n"] = max(1, int(seconds / max(time.perf_counter() - start, 1e-6)))
        triples = []
        for _ in range(windows):
            e = timed_windows(engine, chars, seconds, 1, 1)[0]
            t = timed_windows(trainer.train_step, chars, seconds, 1, 1)[0]
            start = time.perf_counter()
            run()
            r = run_steps["n"] * chars / (time.perf_counter() - start)
            triples.append((e, t, r))
        log.close()
    return triples


def child(job: dict) -> dict:
    """Run one measurement (in this process, which the parent started for it alone)."""
    kind, seconds, windows = job["kind"], job["seconds"], job["windows"]
    cfg = CONFIGS.get(job.get("config"), None)
    warmup = 3 if cfg and cfg["batch"] * cfg["seq"] > 1000 else 30
    if kind == "trainer":
        triples = trainer_triple(job["cell"], cfg, job["dtype"], seconds, windows)
        out = dict(engine=[e for e, _, _ in triples], trainer=[t for _, t, _ in triples],
                   run=[r for _, _, r in triples])
    else:
        if kind == "rnntui":
            step = rnntui_step(job["cell"], cfg, job["dtype"], job.get("vocab"))
        elif kind == "rnntui-minchar":  # min-char-rnn's settings
            step = rnntui_step("rnn", CONFIGS["d"] | dict(hidden=100), job["dtype"], optimizer="adagrad",
                               lr=0.1, clip=0.0, clip_value=5.0)
            cfg = CONFIGS["d"]
        elif kind == "torch":
            step = torch_step(job["cell"], cfg, job["dtype"], job.get("vocab"), job["threads"])
        elif kind == "minchar":
            step = minchar_step(job["dtype"])
            cfg = CONFIGS["d"]
        else:
            raise ValueError(kind)
        out = dict(rates=timed_windows(step, cfg["batch"] * cfg["seq"], seconds, windows, warmup))
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# ----- the parent ------------------------------------------------------------------------------


def run_child(job: dict, threads: int) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child {job} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cli(cell: str, cfg: dict, steps: int, threads: int, workers: int | None = None) -> float:
    """`rnntui train` as a user runs it: the median chars_per_sec of its JSON log."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        args = [
            sys.executable, "-m", "rnntui", "train", "--corpus", str(CORPUS), "--cell", cell,
            "--hidden", str(cfg["hidden"]), "--layers", str(cfg["layers"]), "--embed", str(EMBED),
            "--batch", str(cfg["batch"]), "--seq-len", str(cfg["seq"]), "--steps", str(steps),
            "--eval-every", str(10**6), "--sample-every", str(10**6), "--out", str(Path(tmp) / "m.safetensors"),
            "--log", str(log), "--quiet", *(["--workers", str(workers)] if workers else []),
        ]
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        proc = subprocess.run(args, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"rnntui train failed:\n{proc.stderr}")
        rates = [r["chars_per_sec"] for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "step"]
    return statistics.median(rates[len(rates) // 5:])  # the first steps warm up


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def blas_info() -> str:
    """numpy's BLAS and the kernel it runs here (threadpoolctl when installed, else OpenBLAS itself)."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"][0]
        return f"numpy {np.__version__}, {info['internal_api']} {info['version']} ({info.get('architecture')})"
    except Exception:
        pass
    try:
        import ctypes
        import glob

        lib = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))[0])
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                fn = getattr(lib, f"{prefix}get_corename{suffix}", None)
                config = getattr(lib, f"{prefix}get_config{suffix}", None)
                if fn and config:
                    fn.restype = config.restype = ctypes.c_char_p
                    return f"numpy {np.__version__}, {config().decode()} (kernel {fn().decode()})"
    except Exception:
        pass
    return f"numpy {np.__version__}"


def num(value: float, unit: str = "") -> str:
    """A table cell: thousands for rates, two decimals for ratios, '-' for what was not measured."""
    if value != value:  # nan
        return "-"
    return f"{value:.2f}{unit}" if unit else f"{value:,.0f}"


def med(values):
    return statistics.median(values) if values else float("nan")


def workers_table(args, base: dict) -> None:
    """`rnntui train --workers N` (and --workers 1) against PyTorch, all three in each round, back to back.

    The CLI's rate is its log's median chars_per_sec: each step's own timer, the messages to
    the workers and the sum of their gradients included, evaluations and samples not.
    """
    rounds = args.rounds or 3
    ratios: dict[tuple, list] = {}
    print(f"\n## `rnntui train --workers {args.workers}` against PyTorch ({args.threads} threads), float32\n")
    configs = [config for config in args.configs if CONFIGS[config]["batch"] >= args.workers]
    for config in sorted(set(args.configs) - set(configs)):
        print(f"({config}) skipped: its batch of {CONFIGS[config]['batch']} cannot be split over {args.workers} workers")
    for r in range(rounds):
        for config in configs:
            c = CONFIGS[config]
            steps = 30 if args.quick else min(400, max(20, int(3 * 60_000 / (c["batch"] * c["seq"]))))
            for cell in args.cells:
                torch = med(run_child(dict(base, kind="torch", config=config, cell=cell, dtype="float32"),
                                      args.threads)["rates"])
                many = run_cli(cell, c, steps, args.threads, workers=args.workers)
                one = run_cli(cell, c, steps, args.threads, workers=1)
                ratios.setdefault((config, cell), []).append((many / torch, one / torch, many))
                print(f"round {r + 1} ({config}, {cell}): torch {torch:,.0f}, workers {many:,.0f}, one process "
                      f"{one:,.0f}: {many / torch:.2f}x, {one / torch:.2f}x", flush=True)
    print(f"\n| config | cell | workers={args.workers} chars/s | / PyTorch (per round) | one process / PyTorch |")
    print("| --- | --- | ---: | --- | ---: |")
    for (config, cell), rows in ratios.items():
        each = ", ".join(f"{m:.2f}" for m, _, _ in rows)
        print(f"| ({config}) | {cell} | {med([x for _, _, x in rows]):,.0f} | {med([m for m, _, _ in rows]):.2f}x "
              f"({each}) | {med([o for _, o, _ in rows]):.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short windows, one round")
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--no-float64", action="store_true")
    parser.add_argument("--no-trainer", action="store_true")
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--no-vocab", action="store_true")
    parser.add_argument("--only-trainer", action="store_true", help="just the trainer table")
    parser.add_argument("--workers", type=int, help="only `rnntui train --workers N` against PyTorch")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    rounds = args.rounds or (1 if args.quick else 3)
    seconds, windows = (0.4, 3) if args.quick else (1.0, 3)
    has_torch = torch_available()
    base = dict(seconds=seconds, windows=windows, threads=args.threads)
    print(f"# {blas_info()}; torch {'installed' if has_torch else 'absent'}; threads {args.threads}; "
          f"{os.cpu_count()} cpus; {rounds} round(s)", flush=True)

    if args.workers:
        if not has_torch or not CORPUS.exists():
            raise SystemExit("--workers compares with PyTorch on tiny-shakespeare: both must be present")
        workers_table(args, base)
        return

    # results[(name, config, cell)] -> list over rounds of median chars/s
    results: dict[tuple, list] = {}
    rss: dict[tuple, float] = {}

    def measure(name, job):
        out = run_child(dict(base, **job), args.threads)
        results.setdefault((name, job.get("config"), job.get("cell")), []).append(med(out["rates"]))
        rss[(name, job.get("config"), job.get("cell"))] = out["peak_rss_mib"]

    for r in range(0 if args.only_trainer else rounds):
        for config in args.configs:
            for cell in args.cells:
                jobs = [("rnntui", dict(kind="rnntui", config=config, cell=cell, dtype="float32"))]
                if not args.no_float64:
                    jobs.append(("rnntui64", dict(kind="rnntui", config=config, cell=cell, dtype="float64")))
                if has_torch:
                    jobs.append(("torch", dict(kind="torch", config=config, cell=cell, dtype="float32")))
                for name, job in jobs if r % 2 == 0 else jobs[::-1]:
                    measure(name, job)
                print(f"round {r + 1} ({config}, {cell}): " + ", ".join(
                    f"{name} {results[(name, config, cell)][-1]:,.0f}" for name, _ in jobs), flush=True)
        if "d" in args.configs and "rnn" in args.cells:
            for dtype in ("float64", "float32"):
                jobs = [(f"minchar-{dtype}", dict(kind="minchar", config="d", dtype=dtype)),
                        (f"rnntui-minchar-{dtype}", dict(kind="rnntui-minchar", config="d", dtype=dtype))]
                for name, job in jobs if r % 2 == 0 else jobs[::-1]:
                    measure(name, job)
        if not args.no_vocab and "a" in args.configs:
            for cell in args.cells:
                jobs = [("rnntui-V3000", dict(kind="rnntui", config="a", cell=cell, dtype="float32", vocab=BIG_VOCAB))]
                if has_torch:
                    jobs.append(("torch-V3000", dict(kind="torch", config="a", cell=cell, dtype="float32", vocab=BIG_VOCAB)))
                for name, job in jobs if r % 2 == 0 else jobs[::-1]:
                    measure(name, job)

    def ratio(a, b, config, cell):
        x, y = results.get((a, config, cell)), results.get((b, config, cell))
        return med([p / q for p, q in zip(x, y)]) if x and y else float("nan")

    if results:
        print("\n## rnntui vs PyTorch, float32, chars/s (median over rounds; ratio = median of per-round ratios)\n")
        print("| config | cell | rnntui | PyTorch | rnntui / PyTorch | rnntui float64 | float32 / float64 |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for config in args.configs:
            c = CONFIGS[config]
            label = f"({config}) H={c['hidden']} L={c['layers']} B={c['batch']} T={c['seq']}"
            for cell in args.cells:
                ours = med(results[("rnntui", config, cell)])
                theirs = med(results.get(("torch", config, cell), []))
                f64 = med(results.get(("rnntui64", config, cell), []))
                print(f"| {label} | {cell} | {ours:,.0f} | {num(theirs)} "
                      f"| {num(ratio('rnntui', 'torch', config, cell), 'x')} "
                      f"| {num(f64)} | {num(ratio('rnntui', 'rnntui64', config, cell), 'x')} |")

    if ("minchar-float64", "d", None) in results:
        print("\n## vanilla RNN at min-char-rnn's settings (H=100, T=25, Adagrad 0.1, clip +-5)\n")
        print("| dtype | min-char-rnn | rnntui | rnntui / min-char-rnn |")
        print("| --- | ---: | ---: | ---: |")
        for dtype in ("float64", "float32"):
            a, b = f"rnntui-minchar-{dtype}", f"minchar-{dtype}"
            print(f"| {dtype} | {med(results[(b, 'd', None)]):,.0f} | {med(results[(a, 'd', None)]):,.0f} "
                  f"| {ratio(a, b, 'd', None):.2f}x |")

    if ("rnntui-V3000", "a", args.cells[0]) in results:
        print(f"\n## large vocabulary: V={BIG_VOCAB} random tokens at config (a), float32\n")
        print("| cell | rnntui | PyTorch | rnntui / PyTorch |")
        print("| --- | ---: | ---: | ---: |")
        for cell in args.cells:
            print(f"| {cell} | {med(results[('rnntui-V3000', 'a', cell)]):,.0f} "
                  f"| {med(results.get(('torch-V3000', 'a', cell), [])):,.0f} "
                  f"| {ratio('rnntui-V3000', 'torch-V3000', 'a', cell):.2f}x |")

    if "c" in args.configs and rss:
        print("\n## peak memory (RSS of the whole child process) at config (c)\n")
        print("| cell | rnntui float32 | rnntui float64 | PyTorch |")
        print("| --- | ---: | ---: | ---: |")
        for cell in args.cells:
            cols = [rss.get((n, "c", cell)) for n in ("rnntui", "rnntui64", "torch")]
            print(f"| {cell} | " + " | ".join(f"{v:,.0f} MiB" if v else "-" for v in cols) + " |")

    if not args.no_trainer and CORPUS.exists():
        print("\n## the same training through the trainer and through `rnntui train`, float32\n")
        print("Trainer.run: the trainer's loop with a JSON Lines log listening (events, commands, logging); "
              "`rnntui train`: a child process, the median chars_per_sec of its log (train_step's own timer).\n")
        print("| config | cell | engine alone | Trainer.train_step | Trainer.run + log | run / engine "
              "| `rnntui train` | cli / engine |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for config in args.configs:
            c = CONFIGS[config]
            steps = min(4000, max(20, int(2 * 60_000 / (c["batch"] * c["seq"])))) if not args.quick else 20
            for cell in args.cells:
                step_ratios, run_ratios, cli_ratios, engines, clis = [], [], [], [], []
                for _ in range(rounds):
                    out = run_child(dict(base, kind="trainer", config=config, cell=cell, dtype="float32"), args.threads)
                    step_ratios += [t / e for e, t in zip(out["engine"], out["trainer"])]
                    run_ratios += [r / e for e, r in zip(out["engine"], out["run"])]
                    engines.append(med(out["engine"]))
                    if not args.no_cli:
                        clis.append(run_cli(cell, c, steps, args.threads))
                        cli_ratios.append(clis[-1] / engines[-1])
                e = med(engines)
                print(f"| ({config}) | {cell} | {e:,.0f} | {e * med(step_ratios):,.0f} | {e * med(run_ratios):,.0f} "
                      f"| {med(run_ratios):.2f}x | "
                      + (f"{med(clis):,.0f} | {med(cli_ratios):.2f}x |" if clis else "- | - |"), flush=True)


if __name__ == "__main__":
    main()
