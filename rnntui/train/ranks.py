"""`--engine torch --workers N`: N processes share each step, rank 0 the command itself.

    rnntui train ... (rank 0)  ──starts──►  python -m rnntui.train.ranks JOB RANK  (ranks 1..N-1)
         │  the trainer, its events, log, progress and checkpoints      │  the same trainer, silent
         └──────────── torch.distributed (gloo on 127.0.0.1) ───────────┘

Every rank builds the same trainer from the same job (a fresh configuration, or
a checkpoint and the changes to it) and takes the same steps on its share of
the streams (torch_engine.py); only rank 0 evaluates, samples, logs and saves.
A follower ignores SIGINT and SIGTERM, which reach the whole process group:
rank 0 turns them into a stop that every rank agrees on. It ends when the run
does, when rank 0 is lost (its all-reduce fails), or when its standard input
closes: rank 0 holds the other end, so no follower outlives it.

Started by `torchrun` instead (which sets RANK, WORLD_SIZE and rank 0's address
in the environment), every rank is `rnntui train` itself: rank 0 runs the
command as ever, the others follow as above, minus the pipe (torchrun watches them).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

from rnntui.errors import RnntuiError

# How long rank 0 waits for a follower to end after the run, before it ends it.
END_SECONDS = 30


def free_address() -> str:
    """An unused port on the loopback interface for rank 0 to listen on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def build(job: dict, ranks: tuple[int, int, str]):
    """The trainer a job describes: {"config": ...} starts a run, {"resume": path, "changes": ...} goes on."""
    from rnntui.train.config import TrainConfig
    from rnntui.train.trainer import Trainer

    on = dict(engine="torch", device=job["device"], workers=ranks[1], ranks=ranks)
    if "resume" in job:
        return Trainer.resume(job["resume"], **on, **job["changes"])
    return Trainer.from_config(TrainConfig.from_json(job["config"]), **on)


class Followers:
    """Ranks 1..N-1 as child processes; closing ends any that are still running."""

    def __init__(self, job: dict, world: int, address: str):
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "rnntui.train.ranks", json.dumps(job), str(rank), str(world),
                              address], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for rank in range(1, world)
        ]

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin:
                proc.stdin.close()  # a follower still waiting ends at once
            try:
                proc.wait(timeout=END_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _end_with_parent() -> None:
    """Exit when rank 0 closes our standard input, or dies."""
    sys.stdin.read()
    os._exit(1)


def launched_ranks() -> tuple[int, int, str] | None:
    """(rank, world, "env://") in a process torchrun started for more than one rank; None otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return (int(os.environ["RANK"]), world, "env://") if world > 1 and "RANK" in os.environ else None


def run_follower(job: dict, ranks: tuple[int, int, str]) -> int:
    """A rank above 0: the same trainer as rank 0's, silent; its exit status."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    try:
        trainer = build(job, ranks)
    except RnntuiError:
        return 1  # rank 0 builds the same trainer and says why
    try:
        return 0 if trainer.run().reason != "failed" else 1
    finally:
        trainer.close()


def follow(job: str, rank: str, world: str, address: str) -> int:
    """A rank that rank 0 started (Followers)."""
    threading.Thread(target=_end_with_parent, daemon=True).start()
    return run_follower(json.loads(job), (int(rank), int(world), address))


if __name__ == "__main__":
    sys.exit(follow(*sys.argv[1:5]))
