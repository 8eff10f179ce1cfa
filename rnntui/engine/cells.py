"""The three recurrent cells, each as a time loop over precomputed input projections.

Every cell works time-major on fused gates, the way cuDNN does: the caller has
already computed `xg[t] = W_ih x_t + b` for all timesteps in one GEMM, so the
loop here does only the recurrent product `h @ W_hh^T` and the elementwise
gate maths. The backward loop returns the gradients at the two pre-activation
sums (input side and hidden side); the caller turns them into weight
gradients with one GEMM each, after the loop.

Inside a time loop every NumPy call costs a few microseconds whatever its size,
and at small batches those calls, not the arithmetic, are the time. So:
- all gates go through one transcendental call: the GRU's through `tanh`
  (sigma(x) = (1 + tanh(x/2)) / 2), the LSTM's through `exp`, which NumPy
  runs in half the time of `tanh` on float32 here (see LSTMCell);
- the backward pass first computes every derivative factor that does not
  depend on the incoming gradient (s' = s(1-s), tanh' = 1 - tanh^2, and their
  products with saved activations), in a few calls over many steps; the loop
  then only multiplies the running gradients by them. The LSTM and the GRU
  make them a cache-sized block of steps at a time, just before the loop
  reaches them;
- W_hh^T is copied contiguous once per pass: h @ W_hh^T then runs as a plain
  (untransposed) GEMM, measurably faster than through a transposed view; past
  a size, one GEMM a gate (see `_recurrent_product`);
- the per-step views into the cell's buffers (acts[t], its gate blocks, ...)
  are built once per shape and kept: making a view costs about as much as a
  small multiply, and the buffers they look into are reused anyway.

Shapes: T timesteps, B sequences, H units, G gates (1, 4 or 3).
    xg      [T, B, G*H]   input projections, biases included (see `fold_bias`)
    state   tuple of [B, H] arrays: (h,) or (h, c) for the LSTM
Gate activations are kept as [T, B, G, H], so `a[:, k]` is gate k of one step.
Buffers are owned by the cell and reused from call to call with the same shape;
the caller writes xg into the one `input_buffer` names, which for the LSTM and
the GRU is a buffer they need anyway, so the projections take no memory of their own.

The same cells written one gate a line, forward and backward, are in
`reference.py`; each block below says which of its lines it computes
(`# reference.lstm_step: c = f * c_prev + i * g`), and tests/test_reference.py
holds every output, traced gate and gradient here to them in float64.
"""

from __future__ import annotations

import numpy as np

from rnntui.engine.shape import GATE_NAMES

# The LSTM's and GRU's backward factors are made this many bytes of gates at a time (see _block_steps).
FACTOR_BLOCK_BYTES = 256 << 10
# From this many multiply-adds a step, h @ W_hh^T is taken one gate at a time (see _recurrent_product).
PER_GATE_PRODUCT_MIN = 1 << 20


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid through tanh: one transcendental, and no overflow warnings."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def sigmoid_grad(s: np.ndarray) -> np.ndarray:
    """d sigma / dx, from s = sigma(x)."""
    return s * (1.0 - s)


def tanh_grad(y: np.ndarray) -> np.ndarray:
    """d tanh / dx, from y = tanh(x)."""
    return 1.0 - y * y


class Workspace:
    """Arrays allocated once per (name, shape, dtype) and handed out again on the next call."""

    def __init__(self) -> None:
        self._arrays: dict[tuple, np.ndarray] = {}
        self._views: dict[tuple, list] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        key = (name, shape, np.dtype(dtype))
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = np.empty(shape, dtype)
        return array

    def views(self, key: tuple, build) -> list:
        """What `build()` returns, made once per key: views into this workspace's own arrays,
        which stay valid because the arrays are handed out again for the same shapes."""
        views = self._views.get(key)
        if views is None:
            views = self._views[key] = build()
        return views


class Cell:
    """Shared bookkeeping. Subclasses write `forward` and `backward` as the equations."""

    kind = ""
    state_size = 1  # arrays in the state: h, or h and c

    def __init__(self, hidden_size: int) -> None:
        self.H = hidden_size
        self.G = len(GATE_NAMES[self.kind])
        self.ws = Workspace()
        # The loop's copies of W_hh made while the model's weights are held (CharRNN.weights_held),
        # by name; None when they are not held, and every pass makes its own.
        self.held: set[str] | None = None

    def fold_bias(self, b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
        """The bias added to the input projection. All cells but the GRU can add both biases there."""
        return b_ih + b_hh

    def input_buffer(self, T: int, B: int, dtype) -> np.ndarray:
        """Where the caller writes xg, the [T, B, G*H] input projections, before `forward`."""
        return self.ws.get("xg", (T, B, self.G * self.H), dtype)

    def zero_state(self, batch: int, dtype) -> tuple[np.ndarray, ...]:
        return tuple(np.zeros((batch, self.H), dtype) for _ in range(self.state_size))

    def _hidden_history(self, T: int, B: int, dtype, h0: np.ndarray) -> np.ndarray:
        """hs[0] is the initial state, hs[t+1] the output at step t."""
        hs = self.ws.get("h", (T + 1, B, self.H), dtype)
        hs[0] = h0
        return hs

    def _loop_weights(self, name: str, shape: tuple[int, ...], dtype, fill) -> np.ndarray:
        """The workspace array `name`, made from W_hh by `fill(array)` for the forward loop: at
        every pass, or once while the weights are held. A sampler's passes are one step each, and
        this copy of the weights cost more than the step (120 of 230 us a character at H=128)."""
        W = self.ws.get(name, shape, dtype)
        if self.held is None or name not in self.held:
            fill(W)
            if self.held is not None:
                self.held.add(name)
        return W

    def _transposed(self, W_hh: np.ndarray) -> np.ndarray:
        """A contiguous copy of W_hh^T, for the forward loop's h @ W_hh^T."""
        return self._loop_weights("W_hhT", W_hh.shape[::-1], W_hh.dtype, lambda W: np.copyto(W, W_hh.T))

    def _block_steps(self, B: int, dtype) -> int:
        """Steps whose gates fill about FACTOR_BLOCK_BYTES: the backward factors of such a block are
        made and used while still in cache. At batch 1 that is the whole sequence, in a few calls."""
        return max(1, FACTOR_BLOCK_BYTES // (B * self.G * self.H * np.dtype(dtype).itemsize))

    def _recurrent_product(self, W_hh: np.ndarray, B: int, gate_scale=(1.0, 1.0, 1.0, 1.0)):
        """How the forward loop takes h @ W_hh^T (each gate's rows times its gate_scale).

        Returns (product, W, out, out_gates): `product(h, W, out=out)`, after which
        `out_gates` is the result as [B, G, H], shaped like a step of the gates.
        Past about 2^20 multiply-adds OpenBLAS runs the one [B, H] @ [H, G*H] product far
        below its speed on G products [B, H] @ [H, H], one a gate (13-28% at B=32-64,
        H=128-512; up to 5x at a few rows), while below it the one call is the cheaper.
        """
        G, H, dtype = self.G, self.H, W_hh.dtype
        scale = np.array(gate_scale[:G], dtype)
        if B * G * H * H < PER_GATE_PRODUCT_MIN:
            W = self._loop_weights("W_hhT", (H, G * H), dtype, lambda W: np.multiply(
                W_hh.T.reshape(H, G, H), scale[:, None], out=W.reshape(H, G, H)))
            out = self.ws.get("hW", (B, G * H), dtype)
            return np.dot, W, out, out.reshape(B, G, H)
        W = self._loop_weights("W_hhT_gates", (G, H, H), dtype, lambda W: np.multiply(
            W_hh.reshape(G, H, H).transpose(0, 2, 1), scale[:, None, None], out=W))
        out = self.ws.get("hW_gates", (G, B, H), dtype)
        return np.matmul, W, out, out.transpose(1, 0, 2)


class RNNCell(Cell):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"""

    kind = "rnn"

    def forward(self, xg, state, W_hh, b_hh):
        T, B, _ = xg.shape
        hs = self._hidden_history(T, B, xg.dtype, state[0])
        W_hhT = self._transposed(W_hh)
        steps = self.ws.views(("forward", T, B, xg.dtype), lambda: list(zip(hs[:-1], hs[1:])))
        for t, (h_prev, h) in enumerate(steps):
            # reference.rnn_step: h = tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh), the x side being xg[t]
            np.dot(h_prev, W_hhT, out=h)
            h += xg[t]
            np.tanh(h, out=h)
        self.hs = hs
        return hs[1:], (hs[T].copy(),)

    def backward(self, dh_out, dstate, W_hh, reach=None):
        hs = self.hs
        T, B, H = dh_out.shape
        dpre = self.ws.get("dpre", hs[1:].shape, hs.dtype)
        np.subtract(1.0, np.square(hs[1:], out=dpre), out=dpre)  # tanh' at every step, filled in below
        dh = self.ws.get("dh", (B, H), hs.dtype)
        dh[...] = dstate[0]
        steps = self.ws.views(("backward", T, B, hs.dtype), lambda: list(dpre))
        for t in range(T - 1, -1, -1):
            # reference.sequence_backward: dh arrives from the output at t and from step t+1
            dh += dh_out[t]
            if reach is not None:
                reach[t] = np.linalg.norm(dh)
            d = steps[t]
            d *= dh  # reference.rnn_step_backward: d_sum = dh * (1 - h**2)
            np.dot(d, W_hh, out=dh)  # reference.rnn_step_backward: dh_prev = d_sum @ W_hh
        # The sum's gradient on both sides (the caller's GEMMs make reference.sum_grads and dx = d_sum @ W_ih).
        return dpre, dpre, (dh.copy(),)

    def trace(self):
        return {"h": self.hs[1:]}


class LSTMCell(Cell):
    """i, f, o = s(.), g = tanh(.);  c' = f*c + i*g;  h' = o*tanh(c')"""

    kind = "lstm"
    state_size = 2
    # a * scale -> exp -> + 1 -> num / . -> - shift gives s(x) = 1 / (1 + e^-x) on i, f, o and
    # tanh(x) = 2 / (1 + e^-2x) - 1 on g: four gates through one exp. On CPUs without AVX-512
    # NumPy's float32 tanh and exp are both scalar loops, exp the faster by 2x ([16, 512]: 11 against
    # 22 us), which pays for the one pass more: the LSTM's forward loop 5.2 -> 4.7 ms at (a), batch 16.
    # An overflow of e^-x is exact here: 1 / (1 + inf) = 0.
    GATE_SCALE = (-1.0, -1.0, -2.0, -1.0)
    GATE_NUM = (1.0, 1.0, 2.0, 1.0)
    GATE_SHIFT = (0.0, 0.0, 1.0, 0.0)

    def _gate_scale(self, B: int, dtype):
        """GATE_SCALE, GATE_SHIFT and GATE_NUM spelt out to the full [B, 4H] of a step: a same-shape
        multiply is cheaper than a broadcast one."""
        scale = self.ws.get("scale", (B, 4, self.H), dtype)
        shift = self.ws.get("shift", (B, 4, self.H), dtype)
        num = self.ws.get("num", (B, 4, self.H), dtype)
        scale[...] = np.array(self.GATE_SCALE)[:, None]
        shift[...] = np.array(self.GATE_SHIFT)[:, None]
        num[...] = np.array(self.GATE_NUM)[:, None]
        return scale.reshape(B, -1), shift.reshape(B, -1), num.reshape(B, -1)

    def input_buffer(self, T, B, dtype):
        # The gate buffer itself: forward scales the projections in place and completes each step
        # there, so the input side needs no [T, B, 4H] array of its own.
        return self.ws.get("acts", (T, B, 4, self.H), dtype).reshape(T, B, 4 * self.H)

    def forward(self, xg, state, W_hh, b_hh):
        T, B, GH = xg.shape
        H, dtype = self.H, xg.dtype
        hs = self._hidden_history(T, B, dtype, state[0])
        cs = self.ws.get("c", (T + 1, B, H), dtype)
        cs[0] = state[1]
        acts = self.ws.get("acts", (T, B, 4, H), dtype)  # i, f, g, o after their nonlinearities
        tanh_c = self.ws.get("tanh_c", (T, B, H), dtype)
        ig = self.ws.get("ig", (B, H), dtype)
        scale, shift, num = self._gate_scale(B, dtype)
        # The pre-scale of the exp trick, (xg + h W_hh^T) * scale, applied once per pass and not
        # once per step: to the whole input side (into acts, where xg usually is already; each step
        # then completes its gates in place) and to the W_hh^T copy. Powers of two, so exact.
        # reference.lstm_step: the x @ W_i*.T + b_i* + b_h* part of all four gate lines, every step at once
        np.multiply(xg, scale, out=acts.reshape(T, B, GH))
        product, W, hW, hW_gates = self._recurrent_product(W_hh, B, self.GATE_SCALE)
        steps = self.ws.views(("forward", T, B, dtype), lambda: [
            (acts[t], acts[t].reshape(B, GH), *acts[t].transpose(1, 0, 2), cs[t], cs[t + 1], tanh_c[t], hs[t], hs[t + 1])
            for t in range(T)
        ])
        with np.errstate(over="ignore", under="ignore"):  # e^-x of a saturated gate: exact, not a problem
            for gates, a, i, f, g, o, c_prev, c, tanh_c_t, h_prev, h in steps:
                # reference.lstm_step: the h_prev @ W_h*.T part of the four gate lines, added to their x part
                product(h_prev, W, out=hW)
                gates += hW_gates  # (W_ih x + b + W_hh h) * scale
                # reference.lstm_step: i = sigmoid(...), f = sigmoid(...), g = tanh(...), o = sigmoid(...),
                # all four in one exp (the views i, f, g, o are those gates' blocks of a)
                np.exp(a, out=a)
                a += 1.0
                np.divide(num, a, out=a)
                a -= shift
                # reference.lstm_step: c = f * c_prev + i * g
                np.multiply(f, c_prev, out=c)
                c += np.multiply(i, g, out=ig)
                # reference.lstm_step: h = o * tanh(c)
                np.tanh(c, out=tanh_c_t)
                np.multiply(o, tanh_c_t, out=h)
        self.hs, self.cs, self.acts, self.tanh_c = hs, cs, acts, tanh_c
        return hs[1:], (hs[T].copy(), cs[T].copy())

    def backward(self, dh_out, dstate, W_hh, reach=None, cell_reach=None):
        """`cell_reach`, when given, gets ||dLoss/dc_t|| for every t: where the LSTM keeps its memory."""
        T, B, H = dh_out.shape
        dtype = dh_out.dtype
        f = self.acts[:, :, 1]
        dgates = self.ws.get("dgates", (T, B, 4, H), dtype)
        # The chain rule's factors that need no incoming gradient (see _factors), made a block of
        # steps at a time just before the loop reaches them, so that they are still in cache.
        K = min(T, self._block_steps(B, dtype))
        dc_from_dh = self.ws.get("dc_from_dh", (K, B, H), dtype)
        do_from_dh = self.ws.get("do_from_dh", (K, B, H), dtype)
        ifg_from_dc = self.ws.get("ifg_from_dc", (K, B, 3, H), dtype)
        factors = self.ws.views(("factors", K, B, dtype), lambda: list(zip(dc_from_dh, do_from_dh, ifg_from_dc)))
        steps = self.ws.views(("backward", T, B, dtype), lambda: [
            (dgates[t].reshape(B, 4 * H), dgates[t, :, :3], dgates[t, :, 3], f[t]) for t in range(T)
        ])
        scratch = self.ws.get("scratch", (B, H), dtype)
        dh = self.ws.get("dh", (B, H), dtype)
        dc = self.ws.get("dc", (B, H), dtype)
        dh[...], dc[...] = dstate
        dc_rows = dc[:, None, :]
        for end in range(T, 0, -K):
            start = max(end - K, 0)
            self._factors(start, end, dgates, dc_from_dh, do_from_dh, ifg_from_dc)
            for t in range(end - 1, start - 1, -1):
                d, d_ifg, d_o, f_t = steps[t]  # d: the four gates' d_sum; d_ifg: i, f, g's blocks of it
                dc_from_dh_t, do_from_dh_t, ifg_from_dc_t = factors[t - start]
                # reference.sequence_backward: dh arrives from the output at t and from step t+1
                dh += dh_out[t]
                if reach is not None:
                    reach[t] = np.linalg.norm(dh)
                # reference.lstm_step_backward: dc = dc + dh * o * (1 - tanh(c)**2)
                dc += np.multiply(dh, dc_from_dh_t, out=scratch)
                if cell_reach is not None:
                    cell_reach[t] = np.linalg.norm(dc)  # dLoss/dc_t whole: from c_{t+1} and from h_t
                # reference.lstm_step_backward: di = dc * g, df = dc * c_prev, dg = dc * i,
                # each times its nonlinearity's derivative: d_sum_i, d_sum_f, d_sum_g
                np.multiply(dc_rows, ifg_from_dc_t, out=d_ifg)
                # reference.lstm_step_backward: do = dh * tanh(c), d_sum_o = do * o * (1 - o)
                np.multiply(dh, do_from_dh_t, out=d_o)
                dc *= f_t  # reference.lstm_step_backward: dc_prev = dc * f
                np.dot(d, W_hh, out=dh)  # reference.lstm_step_backward: dh_prev = d_sum @ W_hh
        # d_sum on both sides (the caller's GEMMs make reference.sum_grads and dx = d_sum @ W_ih).
        dgates = dgates.reshape(T, B, 4 * H)
        return dgates, dgates, (dh.copy(), dc.copy())

    def _factors(self, start, end, dgates, dc_from_dh, do_from_dh, ifg_from_dc):
        """For steps start..end-1, into the first rows of the factor buffers:
            dc += dh * o * tanh'(c')            (through h' = o*tanh(c'))
            do  = dh * tanh(c') * s'(o)
            di, df, dg = dc * (g * s'(i),  c * s'(f),  i * tanh'(g))
        which are reference.lstm_step_backward's lines with dh and dc left out.
        """
        n = end - start
        acts, tanh_c, c_prev = self.acts[start:end], self.tanh_c[start:end], self.cs[start:end]
        i, g, o = acts[:, :, 0], acts[:, :, 2], acts[:, :, 3]
        # s' = s(1-s) of i, f and o in one pass over whole contiguous rows (the g column is not
        # used); it borrows the block's dgates, which the loop fills only after this is consumed.
        s_grad = np.subtract(1.0, acts, out=dgates[start:end])
        s_grad *= acts
        ds_i, ds_f, ds_o = s_grad[:, :, 0], s_grad[:, :, 1], s_grad[:, :, 3]  # i * (1 - i), ...
        # for reference.lstm_step_backward: dc = dc + dh * o * (1 - tanh(c)**2)
        dc_dh = np.multiply(tanh_c, tanh_c, out=dc_from_dh[:n])
        np.subtract(1.0, dc_dh, out=dc_dh)
        dc_dh *= o
        # for reference.lstm_step_backward: do = dh * tanh(c), d_sum_o = do * o * (1 - o)
        np.multiply(tanh_c, ds_o, out=do_from_dh[:n])
        # for reference.lstm_step_backward: d_sum_i = (dc * g) * i * (1 - i), d_sum_f = (dc * c_prev) * f * (1 - f),
        # d_sum_g = (dc * i) * (1 - g**2)
        ifg = ifg_from_dc[:n]
        np.multiply(g, ds_i, out=ifg[:, :, 0])
        np.multiply(c_prev, ds_f, out=ifg[:, :, 1])
        dg = np.multiply(g, g, out=ifg[:, :, 2])
        np.subtract(1.0, dg, out=dg)
        dg *= i

    def trace(self):
        a = self.acts
        return {
            "i": a[:, :, 0], "f": a[:, :, 1], "g": a[:, :, 2], "o": a[:, :, 3],
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

    def input_buffer(self, T, B, dtype):
        # The buffer backward fills with the input side's gradient: forward has spent the
        # projections by then, so the two share one [T, B, 3H] array.
        return self.ws.get("dx", (T, B, 3, self.H), dtype).reshape(T, B, 3 * self.H)

    def forward(self, xg, state, W_hh, b_hh):
        T, B, GH = xg.shape
        H, dtype = self.H, xg.dtype
        hs = self._hidden_history(T, B, dtype, state[0])
        acts = self.ws.get("acts", (T, B, 3, H), dtype)  # r, z, n after their nonlinearities
        # W_hh h + (0, 0, b_hn) of every step; its n block W_hn h + b_hn is needed by the backward pass.
        hh = self.ws.get("hh", (T, B, 3, H), dtype)
        b_n = self.ws.get("b_n", (3, H), dtype)
        b_n[:2], b_n[2] = 0.0, b_hh[2 * H:]
        product, W, hW, hW_gates = self._recurrent_product(W_hh, B)
        steps = self.ws.views(("forward", T, B, dtype), lambda: [
            (hh[t], hh[t].reshape(B, GH), hh[t, :, 2], acts[t].reshape(B, GH), *acts[t].transpose(1, 0, 2),
             hs[t], hs[t + 1])
            for t in range(T)
        ])
        for t, (hh_gates, hh_t, hn, a, r, z, n, h_prev, h) in enumerate(steps):
            # Whole-row operations where the maths allows: NumPy runs a contiguous [B, 3H] array
            # several times faster than a [B, H] column block of it.
            # reference.gru_step: the h_prev side of the three gate lines, and on n's block the whole
            # of (h_prev @ W_hn.T + b_hn), which the reset gate scales (b_hr, b_hz are folded into xg)
            product(h_prev, W, out=hW)
            np.add(hW_gates, b_n, out=hh_gates)
            # reference.gru_step: r = sigmoid(...), z = sigmoid(...)
            np.add(xg[t], hh_t, out=a)
            sigmoid(a, out=a)  # (the n block is overwritten next)
            # reference.gru_step: n = tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))
            np.multiply(r, hn, out=n)
            n += xg[t, :, 2 * H:]
            np.tanh(n, out=n)
            # reference.gru_step: h = (1 - z) * n + z * h_prev, taken as n + z * (h_prev - n)
            np.subtract(h_prev, n, out=h)
            h *= z
            h += n
        self.hs, self.acts, self.hh = hs, acts, hh
        return hs[1:], (hs[T].copy(),)

    def backward(self, dh_out, dstate, W_hh, reach=None):
        T, B, H = dh_out.shape
        dtype = dh_out.dtype
        z = self.acts[:, :, 1]
        dx = self.ws.get("dx", (T, B, 3, H), dtype)  # gradient at the input-side sums
        dhh = self.ws.get("dhh", (T, B, 3, H), dtype)  # gradient at the hidden-side sums
        # The chain rule's factors that need no incoming gradient (see _factors), made a block of
        # steps at a time just before the loop reaches them, so that they are still in cache.
        K = min(T, self._block_steps(B, dtype))
        zn_from_dh = self.ws.get("zn_from_dh", (K, B, 2, H), dtype)
        r_from_dn = self.ws.get("r_from_dn", (K, B, H), dtype)
        hidden_side = self.ws.get("hidden_side", (K, B, 3, H), dtype)
        hidden_side[:, :, :2] = 1.0
        factors = self.ws.views(("factors", K, B, dtype), lambda: list(zip(zn_from_dh, r_from_dn, hidden_side)))
        steps = self.ws.views(("backward", T, B, dtype), lambda: [
            (dx[t], dx[t, :, 1:], dx[t, :, 0], dx[t, :, 2], dhh[t], dhh[t].reshape(B, 3 * H), z[t])
            for t in range(T)
        ])
        scratch = self.ws.get("scratch", (B, H), dtype)
        dh = self.ws.get("dh", (B, H), dtype)
        dh[...] = dstate[0]
        dh_rows = dh[:, None, :]
        for end in range(T, 0, -K):
            start = max(end - K, 0)
            self._factors(start, end, zn_from_dh, r_from_dn, hidden_side)
            for t in range(end - 1, start - 1, -1):
                d, d_zn, d_r, d_n, dhh_t, dhh_rows, z_t = steps[t]  # d: reference's d_in; dhh: its d_hid
                zn_from_dh_t, r_from_dn_t, hidden_side_t = factors[t - start]
                # reference.sequence_backward: dh arrives from the output at t and from step t+1
                dh += dh_out[t]
                if reach is not None:
                    reach[t] = np.linalg.norm(dh)
                # reference.gru_step_backward: dz = dh * (h_prev - n), d_sum_z = dz * z * (1 - z);
                # dn = dh * (1 - z), d_sum_n = dn * (1 - n**2)
                np.multiply(dh_rows, zn_from_dh_t, out=d_zn)
                # reference.gru_step_backward: dr = d_sum_n * hn, d_sum_r = dr * r * (1 - r)
                np.multiply(d_n, r_from_dn_t, out=d_r)
                # reference.gru_step_backward: d_hid = (d_sum_r, d_sum_z, d_hn = d_sum_n * r)
                np.multiply(d, hidden_side_t, out=dhh_t)
                # reference.gru_step_backward: dh_prev = dh * z + d_hid @ W_hh
                dh *= z_t
                dh += np.dot(dhh_rows, W_hh, out=scratch)
        # The caller's GEMMs make reference.sum_grads(d_in, d_hid, ...) and dx = d_in @ W_ih.
        return dx.reshape(T, B, 3 * H), dhh.reshape(T, B, 3 * H), (dh.copy(),)

    def _factors(self, start, end, zn_from_dh, r_from_dn, hidden_side):
        """For steps start..end-1, into the first rows of the factor buffers:
            dz, dn = dh * ((h - n) * s'(z),  (1 - z) * tanh'(n))     (through h' = n + z*(h - n))
            dr     = dn * (W_hn h + b_hn) * s'(r)
        and the hidden side's sums see (dr, dz, dn * r): the input side's times (1, 1, r).
        These are reference.gru_step_backward's lines with dh left out.
        """
        k = end - start
        acts, h, hn = self.acts[start:end], self.hs[start:end], self.hh[start:end, :, 2]
        r, z, n = acts[:, :, 0], acts[:, :, 1], acts[:, :, 2]
        np.multiply(h - n, sigmoid_grad(z), out=zn_from_dh[:k, :, 0])
        np.multiply(1.0 - z, tanh_grad(n), out=zn_from_dh[:k, :, 1])
        np.multiply(hn, sigmoid_grad(r), out=r_from_dn[:k])
        hidden_side[:k, :, 2] = r

    def trace(self):
        a = self.acts
        return {"r": a[:, :, 0], "z": a[:, :, 1], "n": a[:, :, 2], "h": self.hs[1:]}


CELL_TYPES = {cls.kind: cls for cls in (RNNCell, LSTMCell, GRUCell)}
