"""The RNN, LSTM and GRU written the way the equations read: the oracle the fast cells are tested against.

Nothing here is fast, and nothing is meant to be. Each cell is a step function
written one gate a line, in the contract's notation (spec/model.md), and its
backward step is the chain rule taken back through those lines one at a time,
in reverse order. `sequence_forward` and `sequence_backward` loop over time,
carrying h (and the LSTM's c) forward and dh (and dc) back; `model_forward`
and `model_backward` put the embedding, the layers, the head and the mean
cross-entropy around them. The tests hold `cells.py` and `model.py` to these
numbers in float64 to rounding, so whatever the fast code does to go fast, it
computes what is written here.

Reading it beside the lecture's diagrams:
- the LSTM block's four interacting layers are the four gate lines of
  `lstm_step` (i, f, g, o, in the order their weights are stacked); the
  straight line through the top of the block is `c = f * c_prev + i * g`, and
  the way out through tanh and the output gate is `h = o * np.tanh(c)`;
- in `lstm_step_backward` the same straight line carries the gradient back:
  `dc_prev = dc * f`, with nothing else in the way, which is why the LSTM
  remembers;
- the GRU's reset gate r scales what the previous state offers to the
  candidate n; its update gate z keeps the past, h = (1 - z) * n + z * h_prev,
  which is PyTorch's convention (the lecture's z weighs the present instead);
- backpropagation through time is `sequence_backward`: one step back at a
  time, dh arriving from the layer's output at t and from step t+1. Truncated
  BPTT is that loop started from a zero `dstate`; full BPTT in chunks hands it
  the dstate the later chunk returned.

Conventions: arrays are float64; a batch is rows, so the equations' `W x`
is `x @ W.T`; sequences are time-major, `xs[t]` is [B, in]; weights use
PyTorch's layout, W_ih [G*H, in] and W_hh [G*H, H] with the gates stacked in
the order i, f, g, o (LSTM) or r, z, n (GRU), and `np.split` names each
gate's block. A state is a tuple, (h,) or (h, c) for the LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Weights(NamedTuple):
    """One layer's parameters, or their gradients: PyTorch's weight_ih, weight_hh, bias_ih, bias_hh."""

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sum_grads(d_in, d_hid, x, h_prev) -> Weights:
    """The weights' gradients from the gradients at the gate sums `x @ W_ih.T + b_ih` and `h @ W_hh.T + b_hh`."""
    return Weights(d_in.T @ x, d_hid.T @ h_prev, d_in.sum(axis=0), d_hid.sum(axis=0))


# ----- RNN --------------------------------------------------------------------------------------


def rnn_step(w: Weights, x, state):
    """One step from `state` on input x [B, in]: (the new state, what the backward step needs)."""
    (h_prev,) = state
    h = np.tanh(x @ w.W_ih.T + w.b_ih + h_prev @ w.W_hh.T + w.b_hh)
    return (h,), dict(x=x, h_prev=h_prev, h=h)


def rnn_step_backward(w: Weights, saved, dstate):
    """From dLoss/d(h) to dLoss/d(x), dLoss/d(h_prev) and the weights' gradients of this step."""
    (dh,) = dstate
    x, h_prev, h = saved["x"], saved["h_prev"], saved["h"]
    d_sum = dh * (1 - h**2)  # h = tanh(sum)
    dx = d_sum @ w.W_ih
    dh_prev = d_sum @ w.W_hh
    return dx, (dh_prev,), sum_grads(d_sum, d_sum, x, h_prev)


# ----- LSTM -------------------------------------------------------------------------------------


def lstm_step(w: Weights, x, state):
    """One step from `state` = (h_prev, c_prev): ((h, c), the gates and what the backward step needs)."""
    h_prev, c_prev = state
    W_ii, W_if, W_ig, W_io = np.split(w.W_ih, 4)
    W_hi, W_hf, W_hg, W_ho = np.split(w.W_hh, 4)
    b_ii, b_if, b_ig, b_io = np.split(w.b_ih, 4)
    b_hi, b_hf, b_hg, b_ho = np.split(w.b_hh, 4)
    i = sigmoid(x @ W_ii.T + b_ii + h_prev @ W_hi.T + b_hi)
    f = sigmoid(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)
    g = np.tanh(x @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)
    o = sigmoid(x @ W_io.T + b_io + h_prev @ W_ho.T + b_ho)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return (h, c), dict(x=x, h_prev=h_prev, c_prev=c_prev, i=i, f=f, g=g, o=o, c=c, h=h)


def lstm_step_backward(w: Weights, saved, dstate):
    """From dLoss/d(h, c) to dLoss/d(x), dLoss/d(h_prev, c_prev) and the weights' gradients of this step."""
    dh, dc = dstate
    x, h_prev, c_prev = saved["x"], saved["h_prev"], saved["c_prev"]
    i, f, g, o, c = saved["i"], saved["f"], saved["g"], saved["o"], saved["c"]
    # h = o * tanh(c)
    do = dh * np.tanh(c)
    dc = dc + dh * o * (1 - np.tanh(c) ** 2)
    # c = f * c_prev + i * g
    df = dc * c_prev
    di = dc * g
    dg = dc * i
    dc_prev = dc * f
    # each gate's line, back through its nonlinearity to its sum: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
    d_sum_i = di * i * (1 - i)
    d_sum_f = df * f * (1 - f)
    d_sum_g = dg * (1 - g**2)
    d_sum_o = do * o * (1 - o)
    d_sum = np.concatenate([d_sum_i, d_sum_f, d_sum_g, d_sum_o], axis=1)  # stacked as the weights are
    dx = d_sum @ w.W_ih
    dh_prev = d_sum @ w.W_hh
    return dx, (dh_prev, dc_prev), sum_grads(d_sum, d_sum, x, h_prev)


# ----- GRU --------------------------------------------------------------------------------------


def gru_step(w: Weights, x, state):
    """One step from `state` = (h_prev,): ((h,), the gates and what the backward step needs)."""
    (h_prev,) = state
    W_ir, W_iz, W_in = np.split(w.W_ih, 3)
    W_hr, W_hz, W_hn = np.split(w.W_hh, 3)
    b_ir, b_iz, b_in = np.split(w.b_ih, 3)
    b_hr, b_hz, b_hn = np.split(w.b_hh, 3)
    r = sigmoid(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)
    z = sigmoid(x @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)
    n = np.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))
    h = (1 - z) * n + z * h_prev
    return (h,), dict(x=x, h_prev=h_prev, r=r, z=z, n=n, h=h)


def gru_step_backward(w: Weights, saved, dstate):
    """From dLoss/d(h) to dLoss/d(x), dLoss/d(h_prev) and the weights' gradients of this step."""
    (dh,) = dstate
    x, h_prev, r, z, n = saved["x"], saved["h_prev"], saved["r"], saved["z"], saved["n"]
    _, _, W_hn = np.split(w.W_hh, 3)
    _, _, b_hn = np.split(w.b_hh, 3)
    hn = h_prev @ W_hn.T + b_hn  # what the reset gate scales in n's line
    # h = (1 - z) * n + z * h_prev
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    # n = tanh(W_in x + b_in + r * hn)
    d_sum_n = dn * (1 - n**2)
    dr = d_sum_n * hn
    d_hn = d_sum_n * r
    # r = sigmoid(...), z = sigmoid(...)
    d_sum_r = dr * r * (1 - r)
    d_sum_z = dz * z * (1 - z)
    # The input side's sums are (r, z, n)'s; on the hidden side n's sum is hn, inside the reset gate.
    d_in = np.concatenate([d_sum_r, d_sum_z, d_sum_n], axis=1)
    d_hid = np.concatenate([d_sum_r, d_sum_z, d_hn], axis=1)
    dx = d_in @ w.W_ih
    dh_prev = dh_prev + d_hid @ w.W_hh
    return dx, (dh_prev,), sum_grads(d_in, d_hid, x, h_prev)


STEPS = {"rnn": (rnn_step, rnn_step_backward), "lstm": (lstm_step, lstm_step_backward),
         "gru": (gru_step, gru_step_backward)}
STATE = {"rnn": ("h",), "lstm": ("h", "c"), "gru": ("h",)}

# What a forward pass shows of each step, per cell: its gates, then its state (the Gates pane's rows).
TRACED = {"rnn": ("h",), "lstm": ("i", "f", "g", "o", "c", "h"), "gru": ("r", "z", "n", "h")}


# ----- a sequence -------------------------------------------------------------------------------


def sequence_forward(cell: str, w: Weights, xs, state):
    """Run xs [T, B, in] from `state`. Returns (hs [T, B, H], final state, what each step saved)."""
    step = STEPS[cell][0]
    hs, saved = [], []
    for x in xs:
        state, kept = step(w, x, state)
        hs.append(state[0])
        saved.append(kept)
    return np.array(hs), state, saved


def trace(cell: str, saved) -> dict[str, np.ndarray]:
    """Each traced quantity over the sequence, [T, B, H]."""
    return {name: np.array([kept[name] for kept in saved]) for name in TRACED[cell]}


@dataclass
class SequenceGrads:
    xs: np.ndarray  # dLoss/d(xs), [T, B, in]
    state: tuple  # dLoss/d(initial state)
    weights: Weights  # summed over the steps
    hs: np.ndarray  # dLoss/d(h_t), [T, B, H]: from the output at t and from step t+1 (the gradient's reach)


def sequence_backward(cell: str, w: Weights, saved, dhs, dstate) -> SequenceGrads:
    """Back through time: dhs [T, B, H] is dLoss/d(outputs), `dstate` dLoss/d(final state) (zeros: truncated)."""
    step_backward = STEPS[cell][1]
    dxs, dh_total = [None] * len(saved), [None] * len(saved)
    total = Weights(*(np.zeros_like(p) for p in w))
    for t in range(len(saved) - 1, -1, -1):
        dstate = (dstate[0] + dhs[t], *dstate[1:])  # h_t goes both to the output and to step t+1
        dh_total[t] = dstate[0]
        dxs[t], dstate, grads = step_backward(w, saved[t], dstate)
        total = Weights(*(a + b for a, b in zip(total, grads)))
    return SequenceGrads(np.array(dxs), dstate, total, np.array(dh_total))


# ----- the whole model --------------------------------------------------------------------------


LAYER_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # a layer's state-dict names, in Weights' order


def layer_weights(params: dict, k: int) -> Weights:
    return Weights(*(params[f"rnn.{name}_l{k}"] for name in LAYER_TENSORS))


def num_layers(params: dict) -> int:
    return sum(name.startswith("rnn.weight_ih_l") for name in params)


@dataclass
class ModelRun:
    """What `model_forward` returns; `model_backward` reads it. Batch-first, as the model's callers see it."""

    loss: float  # mean cross-entropy over scored positions, nats
    logits: np.ndarray  # [B, T, V]
    state: list  # final state per layer
    trace: list  # per layer: name -> [B, T, H]
    saved: dict  # what backward needs


def model_forward(cell: str, params: dict, inputs, targets, mask=None, state=None) -> ModelRun:
    """x_t = E[token_t]; each layer's cell over time; logits_t = h_t W_head^T + b_head; mean -log softmax."""
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    B, T = inputs.shape
    weight = np.ones((B, T)) if mask is None else np.asarray(mask, float)
    H = params["rnn.weight_hh_l0"].shape[1]
    if state is None:
        state = [tuple(np.zeros((B, H)) for _ in STATE[cell]) for _ in range(num_layers(params))]
    xs = params["embedding.weight"][inputs.T]  # [T, B, D]
    layer_saved, final, traces = [], [], []
    for k in range(num_layers(params)):
        xs, last, saved = sequence_forward(cell, layer_weights(params, k), xs, state[k])
        layer_saved.append(saved)
        final.append(last)
        traces.append({name: a.transpose(1, 0, 2) for name, a in trace(cell, saved).items()})
    logits = xs @ params["head.weight"].T + params["head.bias"]  # [T, B, V]
    log_probs = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    nll = -np.take_along_axis(log_probs, targets.T[:, :, None], axis=2)[:, :, 0]
    count = weight.sum()
    loss = float((nll * weight.T).sum() / count) if count else 0.0
    saved = dict(inputs=inputs, targets=targets, weight=weight, count=count, layer_saved=layer_saved,
                 top=xs, log_probs=log_probs)
    return ModelRun(loss, logits.transpose(1, 0, 2), final, traces, saved)


def model_backward(cell: str, params: dict, run: ModelRun, dstate=None):
    """Gradients of run.loss: (grads by parameter name, dLoss/d(initial state) per layer, reach per layer [T]).

    `dstate` is dLoss/d(final state) per layer from a later chunk; None cuts the gradient there.
    """
    s = run.saved
    T, B, V = s["log_probs"].shape
    grads = {}
    # loss = sum of weight * -log softmax(logits)[target] / count
    onehot = np.eye(V)[s["targets"].T]
    scale = s["weight"].T / s["count"] if s["count"] else np.zeros((T, B))
    d_logits = (np.exp(s["log_probs"]) - onehot) * scale[:, :, None]
    grads["head.weight"] = np.einsum("tbv,tbh->vh", d_logits, s["top"])
    grads["head.bias"] = d_logits.sum(axis=(0, 1))
    dxs = d_logits @ params["head.weight"]
    L = num_layers(params)
    if dstate is None:
        dstate = [tuple(np.zeros_like(a) for a in layer) for layer in run.state]
    dstate0, reach = [None] * L, [None] * L
    for k in range(L - 1, -1, -1):
        back = sequence_backward(cell, layer_weights(params, k), s["layer_saved"][k], dxs, dstate[k])
        for name, g in zip(LAYER_TENSORS, back.weights):
            grads[f"rnn.{name}_l{k}"] = g
        dstate0[k] = back.state
        reach[k] = np.linalg.norm(back.hs, axis=(1, 2))
        dxs = back.xs
    dE = np.zeros_like(params["embedding.weight"])
    np.add.at(dE, s["inputs"].T, dxs)  # x_t = E[token_t]: each row's gradient is the sum over its tokens
    grads["embedding.weight"] = dE
    return grads, dstate0, reach
