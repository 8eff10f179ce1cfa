"""Data parallelism across worker processes: one step's gradient from N shards of the batch.

    parent                                       worker i of N (one BLAS thread)
    the chunk's tokens and the carried state
    into shared memory; (length, dropout key) ─► forward and backward over its rows lo:hi,
                                                 from its rows of the carried state;
                                                 its gradient, scaled to its share of the
                                                 batch mean, into its own gradient block;
    the N gradients summed in worker order,  ◄── its final state into its rows; (loss, count)
    clipped, one optimizer update on the
    shared weights (engine.step.train_step)

Why processes: a NumPy step is many small elementwise calls, each holding the
GIL, so threads overlap only the matrix products; processes run the whole
step side by side. Everything lives in one block of `multiprocessing.shared_memory`:
the weights (the parent's model and optimizer update them in place; every
worker reads them), one gradient block per worker, the chunk's tokens, and the
carried state [layers, parts, B, H], so a step costs two small pipe messages a
worker. The sum runs in a fixed order, so a seed fixes the run for a given
worker count; the result is the one-process gradient to float rounding.

Between steps the workers also read the validation split side by side (each
a run of its groups of stretches, forward only), and the parent sums their
per-chunk terms in the one-process order: the same number as one process,
in about half the time.

Workers start from a fork server (spawn where there is none), never by forking
the parent: the parent may run threads (a progress bar's, a UI's), and a fork
copies whatever lock one of them held. A worker ignores SIGINT and SIGTERM,
which reach the whole process group: the parent turns them into a stop after
the current step, which needs its workers. A worker ends when its pipe closes:
when the pool closes, or the parent exits or dies. A worker that dies is
noticed within the step (its process sentinel wakes the parent's wait).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import shared_memory
from multiprocessing.connection import wait

import numpy as np

from rnntui.engine.cells import CELL_TYPES
from rnntui.engine.model import CharRNN, Pass, State
from rnntui.engine.shape import ModelShape
from rnntui.errors import TrainingError
from rnntui.train.validation import stretch_terms

# A worker's shard holds at least this many streams: below it a step is too small for the
# second core to pay for the messages and the sum (see default_workers).
MIN_SHARD = 8


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform can say which cores this process may use
        return os.cpu_count() or 1


def default_workers(batch: int, cores: int | None = None) -> int:
    """One worker per core, each with at least MIN_SHARD streams; 1 for a batch under 2 * MIN_SHARD.

    It depends on the batch and the core count only, never on a timing, so a seed still
    fixes a run (on any machine with as many cores; pass --workers to fix it everywhere).
    """
    cores = available_cores() if cores is None else cores
    return max(1, min(cores, batch // MIN_SHARD))


@dataclass(frozen=True)
class Layout:
    """Where each array lives in the one shared block; every process builds the same views."""

    shape: ModelShape
    dtype: str
    batch: int
    length: int  # the longest chunk, in steps
    workers: int

    def _parts(self):
        P = self.shape.param_count()
        parts = CELL_TYPES[self.shape.cell].state_size
        dtype = np.dtype(self.dtype)
        return [
            ("weights", (P,), dtype),
            ("grads", (self.workers, P), dtype),
            ("tokens", (2, self.batch, self.length), np.dtype(np.int64)),  # inputs, targets
            ("state", (self.shape.num_layers, parts, self.batch, self.shape.hidden_size), dtype),
        ]

    def _extents(self):
        offset = 0
        for name, shape, dtype in self._parts():
            yield name, shape, dtype, offset
            nbytes = int(np.prod(shape)) * dtype.itemsize
            offset += -(-nbytes // 64) * 64  # each array starts on a cache line of its own

    @property
    def size(self) -> int:
        *_, (_, shape, dtype, offset) = self._extents()
        return offset + int(np.prod(shape)) * dtype.itemsize

    def views(self, buffer) -> dict[str, np.ndarray]:
        return {name: np.ndarray(shape, dtype, buffer=buffer, offset=offset)
                for name, shape, dtype, offset in self._extents()}

    def rows(self, index: int) -> tuple[int, int]:
        """The streams of worker `index`: shards differ in size by one at most."""
        return index * self.batch // self.workers, (index + 1) * self.batch // self.workers


class _Block(shared_memory.SharedMemory):
    """Shared memory whose mapping outlives `close()`: the parent's model keeps its weights in
    the block after the pool has closed. Unmapping it under a live view would crash that view's
    next read, so the mapping goes when the last object using it does; close() frees only the
    file descriptor, which the mapping does not need."""

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


# ----- the worker ------------------------------------------------------------------------------


def _serve(conn, name: str, layout: Layout, index: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # one core each: N workers fill N cores
    block = _Block(name)
    try:
        _steps(conn, layout.views(block.buf), layout, index)
    finally:
        block.close()


def _steps(conn, arrays: dict[str, np.ndarray], layout: Layout, index: int) -> None:
    lo, hi = layout.rows(index)
    model = CharRNN(layout.shape, layout.dtype, buffers=(arrays["weights"], arrays["grads"][index]))
    tokens, state = arrays["tokens"][:, lo:hi], arrays["state"][:, :, lo:hi]
    share = (hi - lo) / layout.batch  # every row scores the same count: this is count_i / count
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the pool closed, or the parent is gone: nothing left to do
            return
        if message[0] == "terms":
            reply = _terms(model, *message[1:])
        else:
            reply = _step(model, tokens, state, share, index, *message[1:])
        try:
            conn.send(reply)
        except OSError:
            return


def _terms(model: CharRNN, ids: np.ndarray, groups: list[list[slice]], k: int) -> tuple:
    """A validation read of some groups of stretches (validation.stretch_terms), forward only."""
    try:
        return ("ok", stretch_terms(model, ids, groups, k))
    except Exception as error:  # as in a step: told to the parent
        return ("error", f"{type(error).__name__}: {error}")


def _step(model: CharRNN, tokens, state, share: float, index: int, length: int, dropout: float, key: int) -> tuple:
    """This worker's shard of one training step: its gradient into its block, its state into its rows."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # the parent reports a non-finite step
            rng = np.random.default_rng([key, index]) if dropout else None
            start = [tuple(layer) for layer in state]  # views: the cells copy them in
            result = model.forward(tokens[0, :, :length], tokens[1, :, :length], state=start,
                                   dropout=dropout, rng=rng)
            model.backward()
            model.grad_flat *= share
            for k, layer in enumerate(result.state):
                for part, values in enumerate(layer):
                    state[k, part] = values
        return ("ok", result.loss, result.count)
    except Exception as error:  # a bug, or memory: told to the parent, which stops the run
        return ("error", f"{type(error).__name__}: {error}")


# ----- the parent ------------------------------------------------------------------------------


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # NumPy and the engine imported once, in the server
        return context
    return multiprocessing.get_context("spawn")


class ShardPool:
    """N worker processes, each computing the gradient of its shard of every batch."""

    def __init__(self, shape: ModelShape, dtype, batch: int, length: int, workers: int):
        if not 2 <= workers <= batch:
            raise TrainingError(f"--workers {workers} cannot split a batch of {batch} streams "
                                f"(each worker needs one stream at least)")
        self.layout = Layout(shape, np.dtype(dtype).name, batch, length, workers)
        try:
            self.block = _Block(create=True, size=self.layout.size)
        except OSError as error:
            raise TrainingError(f"cannot set aside {self.layout.size / 2**20:.1f} MiB of shared memory for "
                                f"{workers} workers ({error.strerror or error}); use --workers 1") from None
        self.arrays = self.layout.views(self.block.buf)
        self.processes: list = []
        self.conns: list = []
        self.closed = False
        from threadpoolctl import ThreadpoolController

        self._blas = ThreadpoolController().select(user_api="blas")
        try:
            context = _context()
            for index in range(workers):
                here, there = context.Pipe()
                process = context.Process(target=_serve, args=(there, self.block.name, self.layout, index),
                                          name=f"rnntui-worker-{index + 1}", daemon=True)
                process.start()
                there.close()  # the worker holds the only other end: its death closes the pipe
                self.processes.append(process)
                self.conns.append(here)
            self._gather("while starting")
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return self.layout.workers

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    @contextlib.contextmanager
    def one_blas_thread(self):
        """Around a step in the parent: its BLAS calls (the gradient's norm, the finiteness check)
        run on one thread, so no BLAS thread of the parent spins on a core a worker needs."""
        with self._blas.limit(limits=1):
            yield

    def adopt(self, model: CharRNN) -> CharRNN:
        """The same model with its weights moved into the shared block: update it, and the workers see it."""
        self.arrays["weights"][...] = model.flat
        return CharRNN(model.shape, model.dtype, buffers=(self.arrays["weights"], np.zeros_like(model.flat)))

    def gradient(self, model: CharRNN, inputs, targets, state: State, *, dropout: float = 0.0,
                 rng: np.random.Generator | None = None) -> Callable[[], Pass]:
        """What `engine.step.chunk_gradient` computes, with the batch's rows split over the workers.

        `model` is the adopted one. With dropout, each shard draws its masks from a generator
        seeded by (a number drawn from `rng`, the shard), so `rng`'s state fixes them all.
        """
        def compute() -> Pass:
            if not np.shares_memory(model.flat, self.arrays["weights"]):
                raise ValueError("the model's weights are not the pool's: use pool.adopt(model)")
            length = inputs.shape[1]
            tokens, carried = self.arrays["tokens"], self.arrays["state"]
            tokens[0, :, :length] = inputs
            tokens[1, :, :length] = targets
            for k, layer in enumerate(state):
                for part, values in enumerate(layer):
                    carried[k, part] = values
            key = int(rng.integers(2**63)) if dropout else 0
            self._send(("step", length, dropout, key))
            replies = self._gather("during a step")
            grads = self.arrays["grads"]
            np.copyto(model.grad_flat, grads[0])
            for grad in grads[1:]:  # always in worker order: the same sum, to the last bit, every run
                model.grad_flat += grad
            count = sum(count for _, _, count in replies)
            loss = sum(loss * count for _, loss, count in replies) / count if count else 0.0
            return Pass(loss=loss, count=count, state=[tuple(p.copy() for p in layer) for layer in carried])
        return compute

    def terms(self, ids: np.ndarray, groups: list[list[slice]], k: int) -> list[tuple[float, int]]:
        """validation.stretch_terms over the workers: each reads a run of the groups, forward only,
        and the terms come back in the groups' order, so their sum is the one-process sum."""
        share = -(-len(groups) // self.workers)
        for index, conn in enumerate(self.conns):
            try:
                conn.send(("terms", ids, groups[index * share:(index + 1) * share], k))
            except OSError:
                raise self._lost(index, "during an evaluation") from None
        return [term for reply in self._gather("during an evaluation") for term in reply[1]]

    # ----- messages -----------------------------------------------------------------------

    def _send(self, message) -> None:
        for index, conn in enumerate(self.conns):
            try:
                conn.send(message)
            except OSError:  # a broken pipe: the worker has gone
                raise self._lost(index, "during a step") from None

    def _gather(self, when: str) -> list[tuple]:
        """Each worker's reply, in worker order; a worker that dies or fails ends the pool."""
        replies: list = [None] * self.workers
        waiting = {conn: index for index, conn in enumerate(self.conns)}
        sentinels = {process.sentinel: index for index, process in enumerate(self.processes)}
        while waiting:
            for ready in wait([*waiting, *sentinels]):
                if ready in sentinels:
                    raise self._lost(sentinels[ready], when)
                index = waiting.pop(ready)
                try:
                    replies[index] = ready.recv()
                except (EOFError, OSError):
                    raise self._lost(index, when) from None
                if replies[index][0] == "error":
                    self.close()
                    raise TrainingError(f"worker {index + 1} of {self.workers} failed {when}: {replies[index][1]}")
        return replies

    def _lost(self, index: int, when: str) -> TrainingError:
        process = self.processes[index]
        process.join(timeout=5)
        code = process.exitcode
        if code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"ended (exit status {code})" if code is not None else "stopped answering"
        self.close()
        return TrainingError(f"worker {index + 1} of {self.workers} (pid {process.pid}) {how} {when}")

    def close(self) -> None:
        """End every worker and free the shared block's name; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for conn in self.conns:
            conn.close()  # the worker reads the end of its pipe and returns
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        with contextlib.suppress(FileNotFoundError):
            self.block.unlink()
        self.block.close()
