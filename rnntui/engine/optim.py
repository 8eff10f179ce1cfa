"""Optimizers and gradient clipping, each working in place on the model's one flat buffer.

The update rules are PyTorch's (SGD with momentum, Adagrad, Adam), so a model
trained here and one trained there take the same steps. Each optimizer's state
is a few named arrays (`slots`) plus a step count: exactly what a checkpoint
must store for a resume to continue bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

OPTIMIZERS = ("adam", "sgd", "adagrad")


class Optimizer:
    slot_names: tuple[str, ...] = ()

    def __init__(self, params: np.ndarray, lr: float):
        self.params = params
        self.lr = lr
        self.steps = 0
        self.slots = {name: np.zeros_like(params) for name in self.slot_names}
        self._scratch = np.empty_like(params)

    def step(self, grad: np.ndarray) -> None:
        self.steps += 1
        self._update(grad)

    def _update(self, grad: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """v = momentum * v + g;  p -= lr * v"""

    slot_names = ("momentum",)

    def __init__(self, params, lr, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = momentum

    def _update(self, grad):
        if self.momentum == 0.0:
            np.multiply(grad, self.lr, out=self._scratch)
        else:
            v = self.slots["momentum"]
            v *= self.momentum
            v += grad
            np.multiply(v, self.lr, out=self._scratch)
        self.params -= self._scratch


class Adagrad(Optimizer):
    """s += g^2;  p -= lr * g / (sqrt(s) + eps)"""

    slot_names = ("sum_sq",)

    def __init__(self, params, lr, eps: float = 1e-10):
        super().__init__(params, lr)
        self.eps = eps

    def _update(self, grad):
        s, tmp = self.slots["sum_sq"], self._scratch
        np.multiply(grad, grad, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(grad, tmp, out=tmp)
        tmp *= self.lr
        self.params -= tmp


class Adam(Optimizer):
    """m, v: running means of g and g^2;  p -= lr * m_hat / (sqrt(v_hat) + eps)"""

    slot_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps

    def _update(self, grad):
        # Every pass over the flat buffer counts when the model is small, so each line is one
        # in-place pass and nothing is allocated.
        m, v, tmp = self.slots["exp_avg"], self.slots["exp_avg_sq"], self._scratch
        b1, b2 = self.beta1, self.beta2
        np.subtract(grad, m, out=tmp)  # m = b1 m + (1 - b1) g, written as m += (1 - b1)(g - m)
        tmp *= 1 - b1
        m += tmp
        v *= b2  # v = b2 v + (1 - b2) g^2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - b2
        v += tmp
        correction1 = 1 - b1 ** self.steps
        correction2 = 1 - b2 ** self.steps
        # p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps), with sqrt(c2) moved to the numerator: one pass fewer.
        # The scalars stay Python floats (math.sqrt): a NumPy float64 would make NumPy run a float32
        # model's pass in float64 through casting buffers, at twice the cost.
        np.sqrt(v, out=tmp)
        tmp += self.eps * math.sqrt(correction2)
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr * math.sqrt(correction2) / correction1
        self.params -= tmp


def make_optimizer(name: str, params: np.ndarray, lr: float, momentum: float = 0.0) -> Optimizer:
    if name == "sgd":
        return SGD(params, lr, momentum)
    if name == "adagrad":
        return Adagrad(params, lr)
    if name == "adam":
        return Adam(params, lr)
    raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")


def all_finite(values: np.ndarray) -> bool:
    """Whether every entry is finite, usually in one BLAS pass: a NaN or an infinity makes the
    sum of squares non-finite, and only when that sum overflows does an entry-by-entry check
    decide. Half the cost of np.isfinite(values).all(), which counts at small models."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow here is an answer, not a warning
        sum_sq = float(np.dot(values, values))
    return math.isfinite(sum_sq) or bool(np.isfinite(values).all())


def clip_by_norm(grad: np.ndarray, max_norm: float) -> float:
    """Scale the whole gradient down to `max_norm` if it is longer; return the norm before."""
    norm = float(np.sqrt(np.dot(grad, grad)))
    if max_norm > 0 and norm > max_norm:
        grad *= max_norm / (norm + 1e-6)
    return norm


def clip_by_value(grad: np.ndarray, limit: float) -> None:
    np.clip(grad, -limit, limit, out=grad)
