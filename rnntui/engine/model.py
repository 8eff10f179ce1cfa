"""The character model: embedding, stacked recurrent cells, a linear head, cross-entropy in nats.

    x_t = E[token_t];  h_t^l = cell_l(h_{t-1}^l, input);  logits_t = W_head h_t^{L-1} + b_head

Parameters live in one flat buffer (and gradients in another), with the named
tensors of the model contract as views into it: the optimizer and gradient
clipping then work on one array, and the names are PyTorch's state-dict keys.

The first layer's input projection is folded into the embedding when the batch
holds more tokens than the vocabulary: `E @ W_ih0^T + b` is a [V, G*H] table
and each timestep's projection is one gathered row, not a GEMM. The backward
pass then sums d by token into the table's gradient and takes dW_ih0 and dE
from it with products over V rows; without the fold it goes back through the
gathered embedding rows (dW_ih0 = d^T X, dE = scatter-add of d W_ih0).

`reference.model_forward` and `reference.model_backward` are this model written
plainly, with no fold and no shared buffers; tests/test_reference.py holds this
one to them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from rnntui.engine.cells import CELL_TYPES, Workspace
from rnntui.engine.shape import ModelShape

State = list  # one tuple per layer: (h,) or (h, c), each [B, H]


@dataclass
class Pass:
    """What one forward pass returns."""

    loss: float  # mean over scored positions, in nats (0.0 when nothing is scored)
    count: int  # scored positions
    state: State  # final state, ready to carry into the next chunk
    logits: np.ndarray | None = None  # [B, T, V], only when asked for
    trace: list[dict[str, np.ndarray]] | None = None  # per layer: quantity -> [B, T, H]


# From this many columns, segment_sum adds each run of rows on its own instead of through reduceat.
WIDE_ROWS = 64


def segment_sum(index: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    """out[v] = sum of rows[n] where index[n] == v: a scatter-add without np.add.at."""
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    first = np.empty(len(index), bool)  # where a run of equal indices starts
    first[0] = True
    np.not_equal(sorted_index[1:], sorted_index[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    out = np.zeros((size, rows.shape[1]), rows.dtype)
    if rows.shape[1] < WIDE_ROWS:
        out[sorted_index[starts]] = np.add.reduceat(np.take(rows, order, axis=0), starts, axis=0)
    else:
        # np.add.reduceat walks wide rows slowly (3.4 ms for 2048 rows of 512, in 65 runs);
        # one sum a run takes 0.33 ms. Each run is gathered on its own, so the sorted rows are
        # never all copied at once: that copy was the size of d, 105 MB at (c) in float64.
        ends = [*starts[1:].tolist(), len(index)]
        for start, end in zip(starts.tolist(), ends):
            run = np.take(rows, order[start:end], axis=0, mode="clip")
            run.sum(axis=0, out=out[sorted_index[start]])
    return out


class CharRNN:
    def __init__(
        self,
        shape: ModelShape,
        dtype=np.float32,
        seed: int = 0,
        forget_bias: float | None = None,
        *,
        buffers: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        """A model with fresh weights, or, given `buffers` (flat weights, flat gradients), one
        that lives in those arrays as they are: processes that share one block of memory then
        share one model, and an update made in one is seen by all."""
        self.shape = shape
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        shapes = shape.param_shapes()
        sizes = [int(np.prod(s)) for s in shapes.values()]
        if buffers is None:
            self.flat = np.zeros(sum(sizes), self.dtype)
            self.grad_flat = np.zeros_like(self.flat)
        else:
            self.flat, self.grad_flat = buffers
            for buffer in buffers:
                if buffer.shape != (sum(sizes),) or buffer.dtype != self.dtype:
                    raise ValueError(f"a buffer of this model holds {sum(sizes)} {self.dtype}, "
                                     f"not {buffer.shape} {buffer.dtype}")
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        offset = 0
        for (name, s), n in zip(shapes.items(), sizes):
            self.params[name] = self.flat[offset:offset + n].reshape(s)
            self.grads[name] = self.grad_flat[offset:offset + n].reshape(s)
            offset += n
        self.cells = [CELL_TYPES[shape.cell](shape.hidden_size) for _ in range(shape.num_layers)]
        self.ws = Workspace()
        self._cache: dict | None = None
        if buffers is None:
            self.initialize(seed, forget_bias)

    # ----- parameters -------------------------------------------------------------------

    def initialize(self, seed: int, forget_bias: float | None = None) -> None:
        """PyTorch's defaults: embedding N(0, 1); cells and head uniform(+-1/sqrt(fan))."""
        rng = np.random.default_rng(seed)
        H = self.shape.hidden_size
        for name, p in self.params.items():
            if name == "embedding.weight":
                p[...] = rng.standard_normal(p.shape)
            else:
                bound = 1.0 / np.sqrt(H)
                p[...] = rng.uniform(-bound, bound, p.shape)
        if forget_bias is not None and self.shape.cell == "lstm":
            for k in range(self.shape.num_layers):
                self.params[f"rnn.bias_ih_l{k}"][H:2 * H] = forget_bias
                self.params[f"rnn.bias_hh_l{k}"][H:2 * H] = 0.0

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        for name, p in self.params.items():
            p[...] = params[name]

    @contextlib.contextmanager
    def weights_held(self):
        """Within: the caller promises the weights do not change, so the copies of them that every
        forward pass makes for its loop are made once, by the first. For many short passes over
        one model (drawing text a character at a time); leaving lets every pass make its own again."""
        for cell in self.cells:
            cell.held = set()
        try:
            yield self
        finally:
            for cell in self.cells:
                cell.held = None

    def zero_state(self, batch: int) -> State:
        return [cell.zero_state(batch, self.dtype) for cell in self.cells]

    def _layer(self, k: int):
        p = self.params
        return p[f"rnn.weight_ih_l{k}"], p[f"rnn.weight_hh_l{k}"], p[f"rnn.bias_ih_l{k}"], p[f"rnn.bias_hh_l{k}"]

    # ----- forward ----------------------------------------------------------------------

    def forward(
        self,
        inputs: np.ndarray,
        targets: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        state: State | None = None,
        *,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
        logits: bool = False,
        trace: bool = False,
    ) -> Pass:
        """Run [B, T] token ids through the model; score `targets` where `mask` is set.

        Keeps what `backward` needs. `dropout` (between layers) needs `rng`.
        """
        inputs = np.asarray(inputs)
        B, T = inputs.shape
        V, H = self.shape.vocab_size, self.shape.hidden_size
        if state is None:
            state = self.zero_state(B)
        tokens = np.ascontiguousarray(inputs.T).reshape(-1)  # time-major: row t*B + b
        fold = T * B > V
        layer_inputs, drop_masks, final_state = [], [], []
        x = None
        for k, cell in enumerate(self.cells):
            W_ih, W_hh, b_ih, b_hh = self._layer(k)
            bias = cell.fold_bias(b_ih, b_hh)
            xg = cell.input_buffer(T, B, self.dtype).reshape(T * B, -1)
            if k == 0:
                # mode="clip" skips the bounds check that makes np.take's default several times slower;
                # the tokens come from the vocabulary, so nothing is ever clipped.
                E = self.params["embedding.weight"]
                x = np.take(E, tokens, axis=0, out=self.ws.get("x0", (T * B, E.shape[1]), self.dtype), mode="clip")
                if fold:
                    table = E @ W_ih.T
                    table += bias
                    np.take(table, tokens, axis=0, out=xg, mode="clip")
                else:
                    np.dot(x, W_ih.T, out=xg)
                    xg += bias
            else:
                np.dot(x, W_ih.T, out=xg)
                xg += bias
            # xg is every gate line's x @ W_i*.T + b_i* (+ b_h* where it folds) of reference.<cell>_step
            layer_inputs.append(x)
            out, last = cell.forward(xg.reshape(T, B, -1), state[k], W_hh, b_hh)
            final_state.append(last)
            x = out.reshape(T * B, H)
            if dropout > 0.0 and k < len(self.cells) - 1:
                keep = (rng.random(x.shape) >= dropout).astype(self.dtype) / (1.0 - dropout)
                drop_masks.append(keep)
                x = x * keep
            else:
                drop_masks.append(None)

        z = x @ self.params["head.weight"].T
        z += self.params["head.bias"]
        self._cache = dict(
            B=B, T=T, tokens=tokens, fold=fold, layer_inputs=layer_inputs,
            drop_masks=drop_masks, top=x, dlogits=None,
        )
        result = Pass(loss=0.0, count=0, state=final_state)
        if targets is not None:
            result.loss, result.count = self._score(z, np.asarray(targets), mask)
        if logits:
            result.logits = z.reshape(T, B, V).transpose(1, 0, 2).copy()
        if trace:
            result.trace = [
                {name: a.transpose(1, 0, 2).copy() for name, a in cell.trace().items()}  # copies: buffers are reused
                for cell in self.cells
            ]
        return result

    def _score(self, z: np.ndarray, targets: np.ndarray, mask: np.ndarray | None) -> tuple[float, int]:
        """Mean cross-entropy over scored positions; keeps dLoss/dlogits for the backward pass."""
        target = np.ascontiguousarray(targets.T).reshape(-1)
        weight = None
        if mask is not None:
            weight = np.ascontiguousarray(np.asarray(mask).T).reshape(-1).astype(self.dtype)
        count = int(weight.sum()) if weight is not None else len(target)
        rows = np.arange(len(target))
        z_max = z.max(axis=1, keepdims=True)
        p = np.subtract(z, z_max)
        np.exp(p, out=p)
        total = p.sum(axis=1)
        # -log softmax(z)[target] = log(sum exp(z - max)) - (z[target] - max)
        nll = np.log(total) - (z[rows, target] - z_max[:, 0])
        if weight is not None:
            nll *= weight
        loss = float(nll.sum() / count) if count else 0.0
        # dLoss/dz = (softmax - onehot) * weight / count
        p /= total[:, None]
        p[rows, target] -= 1.0
        if count == 0:
            p[...] = 0.0
        elif weight is not None:
            p *= (weight / count)[:, None]
        else:
            p /= count
        self._cache["dlogits"] = p
        return loss, count

    # ----- backward ---------------------------------------------------------------------

    def backward(self, dstate: State | None = None, reach: bool | str = False):
        """Gradients of the last forward's loss into `self.grads`.

        `dstate` is dLoss/d(final state) from a later chunk (exact full BPTT in
        pieces); the return value is dLoss/d(initial state), and, with `reach`,
        the norm of dLoss/dh_t for every timestep, per layer. `reach="c"` gives
        the LSTM's dLoss/dc_t instead: after training its memory lives in c.
        """
        if reach == "c" and self.shape.cell != "lstm":
            raise ValueError("only the LSTM has a cell state c to measure the reach through")
        c = self._cache
        if c is None or c["dlogits"] is None:
            raise RuntimeError("backward needs a forward pass with targets first")
        B, T, tokens = c["B"], c["T"], c["tokens"]
        H, V = self.shape.hidden_size, self.shape.vocab_size
        g, p = self.grads, self.params
        dz = c["dlogits"]
        np.dot(dz.T, c["top"], out=g["head.weight"])
        dz.sum(axis=0, out=g["head.bias"])
        dx = (dz @ p["head.weight"]).reshape(T, B, H)
        if dstate is None:
            dstate = [tuple(np.zeros((B, H), self.dtype) for _ in range(cell.state_size)) for cell in self.cells]
        dstate0: State = [None] * len(self.cells)
        reaches = [np.zeros(T) for _ in self.cells] if reach else None
        for k in range(len(self.cells) - 1, -1, -1):
            cell = self.cells[k]
            W_ih, W_hh, _, _ = self._layer(k)
            if c["drop_masks"][k] is not None:
                dx = dx * c["drop_masks"][k].reshape(T, B, H)
            if reach == "c":
                d_in, d_hid, dstate0[k] = cell.backward(dx, dstate[k], W_hh, cell_reach=reaches[k])
            else:
                d_in, d_hid, dstate0[k] = cell.backward(dx, dstate[k], W_hh, reaches[k] if reach else None)
            # reference.sum_grads for all steps at once, then dx = d_in @ W_ih
            same_sum = d_in is d_hid  # RNN and LSTM add both biases at one sum: one gradient for both
            d_in = d_in.reshape(T * B, -1)
            d_hid = d_hid.reshape(T * B, -1)
            np.dot(d_hid.T, cell.hs[:-1].reshape(T * B, H), out=g[f"rnn.weight_hh_l{k}"])
            d_hid.sum(axis=0, out=g[f"rnn.bias_hh_l{k}"])
            if same_sum:
                g[f"rnn.bias_ih_l{k}"][...] = g[f"rnn.bias_hh_l{k}"]
            else:
                d_in.sum(axis=0, out=g[f"rnn.bias_ih_l{k}"])
            if k > 0:
                np.dot(d_in.T, c["layer_inputs"][k], out=g[f"rnn.weight_ih_l{k}"])
                dx = (d_in @ W_ih).reshape(T, B, H)
            elif c["fold"]:
                # The folded table's gradient is d summed by token, [V, G*H]; both weight gradients
                # follow from it through products over V rows instead of over all T*B tokens.
                d_table = segment_sum(tokens, d_in, V)
                np.dot(d_table.T, p["embedding.weight"], out=g["rnn.weight_ih_l0"])
                np.dot(d_table, W_ih, out=g["embedding.weight"])
            else:
                # Back through the gathered embedding rows: the scatter-add moves D columns a token.
                np.dot(d_in.T, c["layer_inputs"][0], out=g["rnn.weight_ih_l0"])
                g["embedding.weight"][...] = segment_sum(tokens, d_in @ W_ih, V)
        return dstate0, reaches
