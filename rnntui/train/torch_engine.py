"""Training steps on PyTorch: the engine's `train_step`, computed by nn.RNN, nn.LSTM and nn.GRU.

    embedding -> cells -> linear -> cross-entropy (mean)   forward, from the carried state
    backward to the chunk's start                         the carried state is detached
    clip the global norm (and each value)                 the norm is measured before clipping
    if loss and norm are finite: the optimizer's update   PyTorch's Adam, Adagrad or SGD

This is the only module of rnntui that imports torch, and only a run asked to
train on PyTorch imports it (trainer.load_torch_engine). The NumPy model stays
the run's record: the trainer evaluates, samples and saves from it, and `sync`
copies the weights and the optimizer's slots back into it when the trainer is
about to read them, not at every step. So the checkpoint is the NumPy engine's,
and a run goes on in either engine from it.

The parameters are one flat tensor in the NumPy model's layout, with the named
tensors as views into it (torch.func.functional_call runs the modules on them):
the gradient is then one flat tensor too, clipping and the optimizer work on it
as the NumPy engine's work on its flat buffer, and each optimizer slot is the
NumPy optimizer's slot of the same name, element for element.

Each layer is its own one-layer module, so that dropout between layers can take
its masks from the run's NumPy RNG with the very draws the NumPy engine makes:
a seed fixes a run whichever engine takes its steps.

Across processes (`Ranks`, torch.distributed: gloo on CPU, NCCL on GPUs) every
rank runs the same trainer on the same data walk and draws the same dropout
masks, but reads only its share of the batch's streams (rows lo:hi, shards
differing by one at most). Its loss is scaled to its share of the batch mean, so
the sum over ranks is the one-process gradient; one all-reduce adds the
gradients, the scaled losses and the final states (each rank's rows, zeros
elsewhere), and every rank then clips and updates alike. Rank 0 decides when
the run ends (`agree`), so that no rank waits for a step the others never take.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call
from torch.nn import functional as F

from rnntui.engine.model import CharRNN, Pass, State
from rnntui.engine.optim import Optimizer
from rnntui.engine.step import Outcome
from rnntui.errors import TrainingError
from rnntui.train.config import DEVICES

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
# The NumPy optimizer's slot -> PyTorch's name for the same state.
SLOT_NAMES = {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "sum_sq": "sum", "momentum": "momentum_buffer"}


def torch_device(name: str) -> torch.device:
    """`auto` is the GPU when PyTorch sees one; `cuda` without one is refused in one line."""
    if name not in DEVICES:
        raise TrainingError(f"--device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: PyTorch sees no CUDA device here; use --device cpu")
    return torch.device(name)


def torch_optimizer(numpy_optimizer: Optimizer, flat: torch.Tensor) -> torch.optim.Optimizer:
    """PyTorch's optimizer with the NumPy one's settings (its defaults are the NumPy engine's)."""
    kind = type(numpy_optimizer).__name__
    if kind == "Adam":
        betas = (numpy_optimizer.beta1, numpy_optimizer.beta2)
        return torch.optim.Adam([flat], lr=numpy_optimizer.lr, betas=betas, eps=numpy_optimizer.eps)
    if kind == "Adagrad":
        return torch.optim.Adagrad([flat], lr=numpy_optimizer.lr, eps=numpy_optimizer.eps)
    if kind == "SGD":
        return torch.optim.SGD([flat], lr=numpy_optimizer.lr, momentum=numpy_optimizer.momentum)
    raise ValueError(f"no PyTorch optimizer for {kind}")


@dataclass(frozen=True)
class Ranks:
    """This process's place among the processes that share each step."""

    rank: int
    world: int
    address: str  # where rank 0 listens, e.g. tcp://127.0.0.1:29500

    def rows(self, batch: int) -> tuple[int, int]:
        return self.rank * batch // self.world, (self.rank + 1) * batch // self.world


LOST = "a training process (another rank) was lost"
# How long a rank waits for the others to start, and for a step's all-reduce: a rank that died is noticed.
JOIN_SECONDS = 120


def join(ranks: Ranks, device: torch.device) -> None:
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(
            "nccl" if device.type == "cuda" else "gloo", init_method=ranks.address, rank=ranks.rank,
            world_size=ranks.world, timeout=datetime.timedelta(seconds=JOIN_SECONDS),
        )


def leave() -> None:
    if torch.distributed.is_initialized():
        # Every rank leaves together. A follower that tore its group down and exited while rank 0
        # still evaluated and saved died at exit on busy cores ("terminate called without an active
        # exception", SIGABRT, about one run in four under load): a thread of its group still
        # waited on rank 0. A lost rank 0 makes the barrier fail at once, and the group goes anyway.
        with contextlib.suppress(RuntimeError):
            torch.distributed.barrier()
        torch.distributed.destroy_process_group()


class TorchSteps:
    """Takes a run's training steps on PyTorch, reading and writing the run's NumPy model and optimizer."""

    def __init__(self, model: CharRNN, optimizer: Optimizer, device: str = "auto", ranks: Ranks | None = None):
        self.model, self.numpy_optimizer = model, optimizer
        self.device = torch_device(device)
        self.ranks = ranks
        if ranks is not None and ranks.world > 1:
            if self.device.type == "cuda":
                torch.cuda.set_device(ranks.rank % torch.cuda.device_count())
            join(ranks, self.device)
        self.dtype = DTYPES[model.dtype]
        shape = model.shape
        self.flat = torch.tensor(model.flat, device=self.device, requires_grad=True)
        self.params: dict[str, torch.Tensor] = {}
        offset = 0
        for name, array in model.params.items():
            self.params[name] = self.flat[offset:offset + array.size].view(array.shape)
            offset += array.size
        # Modules without storage of their own: functional_call runs each on views of the flat tensor.
        self.layers = [
            MODULES[shape.cell](shape.embedding_dim if k == 0 else shape.hidden_size, shape.hidden_size,
                                device="meta", dtype=self.dtype)
            for k in range(shape.num_layers)
        ]
        self.optimizer = torch_optimizer(optimizer, self.flat)
        slots = self.optimizer.state[self.flat]
        for name, array in optimizer.slots.items():
            if name != "momentum" or optimizer.momentum:
                slots[SLOT_NAMES[name]] = torch.tensor(array, device=self.device)
        if "exp_avg" in slots or "sum" in slots:
            slots["step"] = torch.tensor(float(optimizer.steps))
        self.steps = optimizer.steps
        self.stale = False  # the NumPy model lags behind: sync() copies

    def _layer_params(self, k: int) -> dict[str, torch.Tensor]:
        return {f"{part}_l0": self.params[f"rnn.{part}_l{k}"]
                for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    @property
    def shared(self) -> bool:
        return self.ranks is not None and self.ranks.world > 1

    def forward(self, inputs: np.ndarray, state: State, dropout: float, rng,
                rows: tuple[int, int]) -> tuple[torch.Tensor, list[tuple[torch.Tensor, ...]]]:
        """Logits [T*b, V] of the streams `rows` (b of them), time-major as the NumPy model's rows
        are, and their final state (detached). Dropout masks are drawn for the whole batch."""
        B, T = inputs.shape
        lo, hi = rows
        b, H = hi - lo, self.model.shape.hidden_size
        tokens = self._to_device(inputs[lo:hi].T.astype(np.int64))
        x = F.embedding(tokens, self.params["embedding.weight"])
        final = []
        for k, layer in enumerate(self.layers):
            start = tuple(self._to_device(part[lo:hi])[None] for part in state[k])  # [1, b, H]: one layer
            x, last = functional_call(layer, self._layer_params(k), (x, start if len(start) == 2 else start[0]))
            final.append(tuple(part[0].detach() for part in (last if isinstance(last, tuple) else (last,))))
            if dropout > 0.0 and k < len(self.layers) - 1:
                # The NumPy model's draw, shape and order: rows time-major, one draw per layer.
                keep = (rng.random((T * B, H)) >= dropout).astype(self.model.dtype) / (1.0 - dropout)
                x = x * self._to_device(keep.reshape(T, B, H)[:, lo:hi])
        logits = F.linear(x.reshape(T * b, H), self.params["head.weight"], self.params["head.bias"])
        return logits, final

    def step(self, inputs, targets, state: State, *, clip: float = 0.0, clip_value: float = 0.0,
             dropout: float = 0.0, rng=None) -> Outcome:
        """One training step on the chunk `inputs` -> `targets` ([B, T]) from the carried `state`."""
        self.flat.grad = None
        batch = len(inputs)
        rows = self.ranks.rows(batch) if self.shared else (0, batch)
        logits, final = self.forward(inputs, state, dropout, rng, rows)
        lo, hi = rows
        loss = F.cross_entropy(logits, self._to_device(targets[lo:hi].T.astype(np.int64)).reshape(-1))
        if self.shared:
            loss = loss * ((hi - lo) / batch)  # this rank's share of the batch mean: the ranks' sum is the mean
        loss.backward()
        grad = self.flat.grad
        with torch.no_grad():
            if self.shared:
                loss, final = self._all_reduce(grad, loss, final, batch, rows)
            loss_value = loss.item()
            norm = torch.linalg.vector_norm(grad).item()
            if clip > 0 and norm > clip:
                grad.mul_(clip / (norm + 1e-6))  # clip_by_norm's scale, to the last bit
            if clip_value:
                grad.clamp_(-clip_value, clip_value)
            applied = math.isfinite(loss_value) and math.isfinite(norm)
            weights_finite = True
            if applied:
                self.optimizer.param_groups[0]["lr"] = self.numpy_optimizer.lr  # the trainer's 'lr' command sets it there
                self.optimizer.step()
                self.steps += 1
                self.stale = True
                weights_finite = bool(torch.isfinite(self.flat).all())
        final = [tuple(part.cpu().numpy() for part in layer) for layer in final]
        return Outcome(Pass(loss_value, int(np.size(targets)), final), norm, applied, weights_finite)

    def _all_reduce(self, grad, loss, final, batch: int, rows: tuple[int, int]):
        """Sum the ranks' gradients, scaled losses and final states (each its own rows) in one all-reduce."""
        parts = [len(layer) for layer in final]
        H, lo, hi = self.model.shape.hidden_size, *rows
        states = torch.zeros(sum(parts), batch, H, dtype=self.dtype, device=self.device)
        for i, part in enumerate(p for layer in final for p in layer):
            states[i, lo:hi] = part
        packed = torch.cat([grad, loss.detach().view(1), states.view(-1)])
        try:
            torch.distributed.all_reduce(packed)
        except RuntimeError:  # a rank that died or stopped answering; PyTorch's message is pages long
            raise TrainingError(LOST) from None
        grad.copy_(packed[:grad.numel()])
        states = packed[grad.numel() + 1:].view(sum(parts), batch, H)
        layers, i = [], 0
        for n in parts:
            layers.append(tuple(states[i + j] for j in range(n)))
            i += n
        return packed[grad.numel()], layers

    def agree(self, reason: str | None) -> str | None:
        """Rank 0's decision to stop or go on, for every rank: no rank waits for a step the others skip."""
        if not self.shared:
            return reason
        decision = [reason]
        try:
            torch.distributed.broadcast_object_list(decision, src=0)
        except RuntimeError:
            raise TrainingError(LOST) from None
        return decision[0]

    def close(self) -> None:
        if self.shared:
            leave()

    def sync(self) -> None:
        """Copy the weights, the optimizer's slots and its step count into the NumPy model and optimizer."""
        if not self.stale:
            return
        with torch.no_grad():
            self.model.flat[...] = self.flat.detach().cpu().numpy()
            slots = self.optimizer.state[self.flat]
            for name, array in self.numpy_optimizer.slots.items():
                if SLOT_NAMES[name] in slots:
                    array[...] = slots[SLOT_NAMES[name]].cpu().numpy()
        self.numpy_optimizer.steps = self.steps
        self.stale = False
