"""Backward of many seeds through one forward: how much each input character moved each prediction.

A *seed* is a gradient at the logits of one step of one sequence (for saliency,
d log p(x_n) / d logits at step n-1). Its answer is the norm of the gradient at
the first layer's input x_t (the embedding vector) for every earlier step t,
through full backpropagation through time.

One backward pass per seed would repeat the same walk over the same cached
activations once per seed. Here the seeds are a batch dimension instead: the
forward runs once (B sequences, usually one), and the backward walks time once,
from the last seeded step down to 0, carrying every seed's gradient at once.
Two things keep that cheap:
- the walk goes step by step through all layers (top to bottom at each step),
  so the only state is each seed's dh (and dc) per layer, [S, H]: memory does not
  grow with S x T x H, and no seed needs blocking;
- a seed at step p has nothing to carry above p. With the seeds sorted by step,
  the seeds alive at step t are a suffix of the rows, so each step multiplies
  only those (a view, no copy): the work is a triangle, not the S x T square.

The cell derivatives here are the model contract's equations (spec/model.md)
taken backward one step; `input_gradient_norms_plain` gets the same numbers from
the cells' own backward pass, one seed at a time, and is the reference the tests
hold this against.
"""

from __future__ import annotations

import numpy as np

from rnntui.engine.model import CharRNN


def input_gradient_norms(
    model: CharRNN, trace: list[dict[str, np.ndarray]], rows: np.ndarray, steps: np.ndarray, dlogits: np.ndarray
) -> np.ndarray:
    """[S, T]: ||d seed_s / d x_t|| for every seed s and step t (0 for t after the seed's step).

    `trace` is `model.forward(inputs, trace=True).trace` of a forward from a zero
    state over [B, T] inputs; seed s sits at the logits of step `steps[s]` of
    sequence `rows[s]`, with the gradient `dlogits[s]` ([V]).
    """
    rows, steps = np.asarray(rows), np.asarray(steps)
    dtype = model.dtype
    T = trace[0]["h"].shape[1]
    order = np.argsort(steps, kind="stable")
    rows, steps = rows[order], steps[order]
    # alive[t]: the first seed whose step is t or later; the seeds alive at step t are rows alive[t]:.
    alive = np.searchsorted(steps, np.arange(T + 1), side="left")
    layers = [_LAYER_TYPES[model.shape.cell](model, k, len(steps), layer_trace) for k, layer_trace in enumerate(trace)]
    dtop = dlogits[order].astype(dtype, copy=False) @ model.params["head.weight"]  # [S, H] at the top layer's h
    norms = np.zeros((len(steps), T), dtype)
    last = int(steps[-1]) if len(steps) else -1
    for t in range(last, -1, -1):
        a = alive[t]
        starting = slice(a, alive[t + 1])  # the seeds whose step is t
        layers[-1].dh[starting] += dtop[starting]
        for k in range(len(layers) - 1, -1, -1):
            d_input = layers[k].step_back(t, a, rows[a:])  # [S_alive, G*H] at the input-side sums
            dx = d_input @ layers[k].W_ih  # at this layer's input, step t
            if k > 0:
                layers[k - 1].dh[a:] += dx
            else:
                norms[a:, t] = np.sqrt(np.einsum("ij,ij->i", dx, dx))
    out = np.empty_like(norms)
    out[order] = norms
    return out


def input_gradient_norms_plain(model: CharRNN, inputs: np.ndarray, step: int, dlogit: np.ndarray) -> np.ndarray:
    """[step + 1]: the same for one seed of one sequence, by an ordinary forward and backward pass.

    The sequence is cut after the seeded step; each layer goes back through the
    cell's own (training) backward, and its input gradient feeds the layer below.
    """
    inputs = np.asarray(inputs)[None, : step + 1]
    model.forward(inputs)
    n, H = step + 1, model.shape.hidden_size
    dx = np.zeros((n, 1, H), model.dtype)
    dx[step, 0] = dlogit.astype(model.dtype) @ model.params["head.weight"]
    for k in range(len(model.cells) - 1, -1, -1):
        cell = model.cells[k]
        zero = cell.zero_state(1, model.dtype)
        d_input, _, _ = cell.backward(dx, zero, model.params[f"rnn.weight_hh_l{k}"])
        dx = (d_input.reshape(n, -1) @ model.params[f"rnn.weight_ih_l{k}"]).reshape(n, 1, -1)
    return np.linalg.norm(dx[:, 0], axis=1)


class _Layer:
    """One layer's backward, one step at a time, for a batch of seeds.

    `factors` holds the chain rule's factors that need no incoming gradient, for
    every step and sequence ([T, B, F, H]: made in a few calls over all steps, as
    the cells' own backward does); a step reads the rows of its alive seeds.
    `dh` (and the LSTM's `dc`) is each seed's gradient at this layer's state,
    zero until the seed comes alive; `step_back` leaves it at the previous step's.
    """

    def __init__(self, model: CharRNN, k: int, seeds: int, factors: list[np.ndarray]):
        self.W_ih = model.params[f"rnn.weight_ih_l{k}"]
        self.W_hh = model.params[f"rnn.weight_hh_l{k}"]
        self.factors = np.ascontiguousarray(np.stack(factors, axis=2).transpose(1, 0, 2, 3))  # [T, B, F, H]
        H, G = model.shape.hidden_size, self.W_hh.shape[0] // model.shape.hidden_size
        self.dh = np.zeros((seeds, H), model.dtype)
        self.gates = np.zeros((seeds, G, H), model.dtype)  # the gradient at each gate's input-side sum

    def _factors_at(self, t: int, rows: np.ndarray) -> np.ndarray:
        """[S_alive, F, H], or [1, F, H] to broadcast when there is one sequence."""
        at_t = self.factors[t]
        return at_t if len(at_t) == 1 else np.take(at_t, rows, axis=0)


class _RNNLayer(_Layer):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"""

    def __init__(self, model, k, seeds, trace):
        h = trace["h"]
        super().__init__(model, k, seeds, [1.0 - h * h])  # tanh'

    def step_back(self, t, a, rows):
        tanh_grad = self._factors_at(t, rows)[:, 0]
        dh, d = self.dh[a:], self.gates[a:, 0]
        np.multiply(dh, tanh_grad, out=d)
        np.dot(d, self.W_hh, out=dh)
        return d


class _LSTMLayer(_Layer):
    """i, f, o = s(.), g = tanh(.);  c' = f*c + i*g;  h' = o*tanh(c')"""

    def __init__(self, model, k, seeds, trace):
        i, f, g, o, c = (trace[name] for name in "ifgoc")
        tanh_c = np.tanh(c)
        super().__init__(model, k, seeds, [
            o * (1.0 - tanh_c * tanh_c),  # dc from dh, through h' = o*tanh(c')
            tanh_c * o * (1.0 - o),  # do from dh
            g * i * (1.0 - i),  # di from dc, through c' = f*c + i*g
            _previous(c) * f * (1.0 - f),  # df from dc
            i * (1.0 - g * g),  # dg from dc
            f,  # dc at the previous step, from dc
        ])
        self.dc = np.zeros_like(self.dh)

    def step_back(self, t, a, rows):
        factors = self._factors_at(t, rows)
        dh, dc, gates = self.dh[a:], self.dc[a:], self.gates[a:]
        dc += dh * factors[:, 0]
        np.multiply(dh, factors[:, 1], out=gates[:, 3])  # do
        np.multiply(dc[:, None, :], factors[:, 2:5], out=gates[:, :3])  # di, df, dg
        dc *= factors[:, 5]
        d = gates.reshape(len(gates), -1)
        np.dot(d, self.W_hh, out=dh)
        return d


class _GRULayer(_Layer):
    """r, z = s(.);  n = tanh(W_in x + b_in + r*(W_hn h + b_hn));  h' = (1-z)*n + z*h"""

    def __init__(self, model, k, seeds, trace):
        r, z, n, h = (trace[name] for name in "rznh")
        H = model.shape.hidden_size
        h_prev = _previous(h)
        b_hh = model.params[f"rnn.bias_hh_l{k}"]
        hn = h_prev @ model.params[f"rnn.weight_hh_l{k}"][2 * H:].T + b_hh[2 * H:]  # W_hn h + b_hn
        super().__init__(model, k, seeds, [
            (h_prev - n) * z * (1.0 - z),  # dz from dh, through h' = n + z*(h - n)
            (1.0 - z) * (1.0 - n * n),  # dn from dh
            hn * r * (1.0 - r),  # dr from dn
            r,  # the hidden side's n sum is r * (W_hn h + b_hn)
            z,  # dh at the previous step, from dh (the z*h term)
        ])
        self.hidden = np.zeros_like(self.gates)  # the gradient at each gate's hidden-side sum

    def step_back(self, t, a, rows):
        factors = self._factors_at(t, rows)
        dh, gates, hidden = self.dh[a:], self.gates[a:], self.hidden[a:]
        np.multiply(dh[:, None, :], factors[:, 0:2], out=gates[:, 1:])  # dz, dn
        np.multiply(gates[:, 2], factors[:, 2], out=gates[:, 0])  # dr
        hidden[:, :2] = gates[:, :2]
        np.multiply(gates[:, 2], factors[:, 3], out=hidden[:, 2])  # dn * r
        dh *= factors[:, 4]
        dh += hidden.reshape(len(hidden), -1) @ self.W_hh
        return gates.reshape(len(gates), -1)


_LAYER_TYPES = {"rnn": _RNNLayer, "lstm": _LSTMLayer, "gru": _GRULayer}


def _previous(a: np.ndarray) -> np.ndarray:
    """[B, T, H] -> the value one step earlier, zero before the first step (the zero initial state)."""
    out = np.zeros_like(a)
    out[:, 1:] = a[:, :-1]
    return out
