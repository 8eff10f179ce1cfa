"""The three recurrent cells, each as a time loop over precomputed input projections.

Every cell works time-major on fused gates, the way cuDNN does: the caller has
already computed `xg[t] = W_ih x_t + b` for all timesteps in one GEMM, so the
loop here does only the recurrent product `h @ W_hh^T` and the elementwise
gate maths. The backward loop returns the gradients at the two pre-activation
sums (input side and hidden side); the caller turns them into weight
gradients with one GEMM each, after the loop.

Shapes: T timesteps, B sequences, H units, G gates (1, 4 or 3).
    xg      [T, B, G*H]   input projections, biases included (see `fold_bias`)
    state   tuple of [B, H] arrays: (h,) or (h, c) for the LSTM
Buffers are owned by the cell and reused from call to call with the same shape.
"""

from __future__ import annotations

import numpy as np

from rnntui.engine.shape import GATE_NAMES


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid through tanh: one transcendental, and no overflow warnings."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


class Workspace:
    """Arrays allocated once per (name, shape, dtype) and handed out again on the next call."""

    def __init__(self) -> None:
        self._arrays: dict[tuple, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        key = (name, shape, np.dtype(dtype))
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = np.empty(shape, dtype)
        return array


class Cell:
    """Shared bookkeeping. Subclasses write `forward` and `backward` as the equations."""

    kind = ""
    state_size = 1  # arrays in the state: h, or h and c

    def __init__(self, hidden_size: int) -> None:
        self.H = hidden_size
        self.G = len(GATE_NAMES[self.kind])
        self.ws = Workspace()

    def fold_bias(self, b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
        """The bias added to the input projection. All cells but the GRU can add both biases there."""
        return b_ih + b_hh

    def zero_state(self, batch: int, dtype) -> tuple[np.ndarray, ...]:
        return tuple(np.zeros((batch, self.H), dtype) for _ in range(self.state_size))

    def _hidden_history(self, T: int, B: int, dtype, h0: np.ndarray) -> np.ndarray:
        """hs[0] is the initial state, hs[t+1] the output at step t."""
        hs = self.ws.get("h", (T + 1, B, self.H), dtype)
        hs[0] = h0
        return hs


class RNNCell(Cell):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"""

    kind = "rnn"

    def forward(self, xg, state, W_hh, b_hh):
        T, B, _ = xg.shape
        hs = self._hidden_history(T, B, xg.dtype, state[0])
        W_hhT = W_hh.T
        for t in range(T):
            h = hs[t + 1]
            np.dot(hs[t], W_hhT, out=h)
            h += xg[t]
            np.tanh(h, out=h)
        self.hs = hs
        return hs[1:], (hs[T].copy(),)

    def backward(self, dh_out, dstate, W_hh, reach=None):
        hs = self.hs
        T = dh_out.shape[0]
        dpre = self.ws.get("dpre", hs[1:].shape, hs.dtype)
        dh = dstate[0].copy()
        for t in range(T - 1, -1, -1):
            dh += dh_out[t]
            if reach is not None:
                reach[t] = np.linalg.norm(dh)
            h = hs[t + 1]
            d = dpre[t]
            np.multiply(h, h, out=d)  # dtanh = 1 - h^2
            np.subtract(1.0, d, out=d)
            d *= dh
            np.dot(d, W_hh, out=dh)
        return dpre, dpre, (dh,)

    def trace(self):
        return {"h": self.hs[1:]}


class LSTMCell(Cell):
    """i, f, o = s(.), g = tanh(.);  c' = f*c + i*g;  h' = o*tanh(c')"""

    kind = "lstm"
    state_size = 2

    def forward(self, xg, state, W_hh, b_hh):
        T, B, GH = xg.shape
        H, dtype = self.H, xg.dtype
        hs = self._hidden_history(T, B, dtype, state[0])
        cs = self.ws.get("c", (T + 1, B, H), dtype)
        cs[0] = state[1]
        acts = self.ws.get("acts", (T, B, GH), dtype)
        tanh_c = self.ws.get("tanh_c", (T, B, H), dtype)
        W_hhT = W_hh.T
        for t in range(T):
            a = acts[t]
            np.dot(hs[t], W_hhT, out=a)
            a += xg[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            sigmoid(a[:, :2 * H], out=a[:, :2 * H])
            np.tanh(g, out=g)
            sigmoid(o, out=o)
            c = cs[t + 1]
            np.multiply(f, cs[t], out=c)
            c += i * g
            np.tanh(c, out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])
        self.hs, self.cs, self.acts, self.tanh_c = hs, cs, acts, tanh_c
        return hs[1:], (hs[T].copy(), cs[T].copy())

    def backward(self, dh_out, dstate, W_hh, reach=None):
        H = self.H
        hs, cs, acts, tanh_c = self.hs, self.cs, self.acts, self.tanh_c
        T = dh_out.shape[0]
        dgates = self.ws.get("dgates", acts.shape, acts.dtype)
        dh = dstate[0].copy()
        dc = dstate[1].copy()
        for t in range(T - 1, -1, -1):
            dh += dh_out[t]
            if reach is not None:
                reach[t] = np.linalg.norm(dh)
            a, d = acts[t], dgates[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            di, df, dg, do = d[:, :H], d[:, H:2 * H], d[:, 2 * H:3 * H], d[:, 3 * H:]
            tc = tanh_c[t]
            np.multiply(dh, tc, out=do)
            dc += dh * o * (1.0 - tc * tc)
            np.multiply(dc, g, out=di)
            np.multiply(dc, cs[t], out=df)
            np.multiply(dc, i, out=dg)
            dc *= f
            # Through the nonlinearities: s' = s(1-s), tanh' = 1-tanh^2.
            di *= i * (1.0 - i)
            df *= f * (1.0 - f)
            dg *= 1.0 - g * g
            do *= o * (1.0 - o)
            np.dot(d, W_hh, out=dh)
        return dgates, dgates, (dh, dc)

    def trace(self):
        H, a = self.H, self.acts
        return {
            "i": a[:, :, :H], "f": a[:, :, H:2 * H], "g": a[:, :, 2 * H:3 * H], "o": a[:, :, 3 * H:],
            "c": self.cs[1:], "h": self.hs[1:],
        }


class GRUCell(Cell):
    """r, z = s(.);  n = tanh(W_in x + b_in + r*(W_hn h + b_hn));  h' = (1-z)*n + z*h"""

    kind = "gru"

    def fold_bias(self, b_ih, b_hh):
        # b_hn sits inside r * (...), so it cannot be folded into the input side.
        bias = b_ih.copy()
        bias[: 2 * self.H] += b_hh[: 2 * self.H]
        return bias

    def forward(self, xg, state, W_hh, b_hh):
        T, B, GH = xg.shape
        H, dtype = self.H, xg.dtype
        hs = self._hidden_history(T, B, dtype, state[0])
        acts = self.ws.get("acts", (T, B, GH), dtype)  # r, z, n after their nonlinearities
        hn = self.ws.get("hn", (T, B, H), dtype)  # W_hn h + b_hn, needed by the backward pass
        hh = self.ws.get("hh", (B, GH), dtype)
        W_hhT, b_hn = W_hh.T, b_hh[2 * H:]
        for t in range(T):
            np.dot(hs[t], W_hhT, out=hh)
            a = acts[t]
            rz, n = a[:, :2 * H], a[:, 2 * H:]
            np.add(xg[t, :, :2 * H], hh[:, :2 * H], out=rz)
            sigmoid(rz, out=rz)
            np.add(hh[:, 2 * H:], b_hn, out=hn[t])
            np.multiply(a[:, :H], hn[t], out=n)
            n += xg[t, :, 2 * H:]
            np.tanh(n, out=n)
            z = a[:, H:2 * H]
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)  # h' = n + z * (h - n)
            h *= z
            h += n
        self.hs, self.acts, self.hn = hs, acts, hn
        return hs[1:], (hs[T].copy(),)

    def backward(self, dh_out, dstate, W_hh, reach=None):
        H = self.H
        hs, acts, hn = self.hs, self.acts, self.hn
        T = dh_out.shape[0]
        dx = self.ws.get("dx", acts.shape, acts.dtype)  # gradient at the input-side sums
        dhh = self.ws.get("dhh", acts.shape, acts.dtype)  # gradient at the hidden-side sums
        dh = dstate[0].copy()
        for t in range(T - 1, -1, -1):
            dh += dh_out[t]
            if reach is not None:
                reach[t] = np.linalg.norm(dh)
            a = acts[t]
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            dr, dz, dn = dx[t, :, :H], dx[t, :, H:2 * H], dx[t, :, 2 * H:]
            np.subtract(hs[t], n, out=dz)
            dz *= dh
            dz *= z * (1.0 - z)
            np.subtract(1.0, z, out=dn)
            dn *= dh
            dn *= 1.0 - n * n
            np.multiply(dn, hn[t], out=dr)
            dr *= r * (1.0 - r)
            dhh[t, :, :2 * H] = dx[t, :, :2 * H]
            np.multiply(dn, r, out=dhh[t, :, 2 * H:])
            dh *= z
            dh += np.dot(dhh[t], W_hh)
        return dx, dhh, (dh,)

    def trace(self):
        H, a = self.H, self.acts
        return {"r": a[:, :, :H], "z": a[:, :, H:2 * H], "n": a[:, :, 2 * H:], "h": self.hs[1:]}


CELL_TYPES = {cls.kind: cls for cls in (RNNCell, LSTMCell, GRUCell)}
