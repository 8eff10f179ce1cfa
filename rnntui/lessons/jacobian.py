"""Why a vanilla RNN's gradient dies, step by step: the factor each step back multiplies it by.

    h_t = tanh(W_ih x_t + b + W_hh h_(t-1))
    dh_t/dh_(t-1) = diag(1 - h_t^2) W_hh
    ||dL/dh_(t-1)|| <= ||diag(1 - h_t^2) W_hh|| * ||dL/dh_t||      (spectral norms)

So d steps back the gradient is at most the product of d such factors. Each
factor is at most W_hh's largest singular value (tanh's slope 1 - h^2 is never
above 1): when that value is below 1 the product must shrink geometrically, and
even above 1, saturated units (h near +-1) pull the factors down. The product
of the norms is only a bound: the norm of the product of the matrices
themselves (`chain`), the real d-step Jacobian, is often far smaller, since a
direction one step stretches the next may shrink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.engine.model import CharRNN


def largest_singular_value(W: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(W, float), 2))


@dataclass(frozen=True)
class StepFactors:
    """For a sequence read by a one-layer vanilla RNN, from its last step back."""

    factors: np.ndarray  # [T-1]: factors[d] = ||dh_(T-1-d)/dh_(T-2-d)||, the (d+1)-th step back
    products: np.ndarray  # [T]: products[d] = factors[0] * ... * factors[d-1]; products[0] = 1
    chain: np.ndarray  # [T]: chain[d] = ||dh_(T-1)/dh_(T-1-d)||, the d-step Jacobian's norm; chain[0] = 1
    sigma_max: float  # W_hh's largest singular value: no factor exceeds it


def step_factors(model: CharRNN, inputs: np.ndarray) -> StepFactors:
    if model.shape.cell != "rnn":
        raise ValueError("the step factor diag(1 - h^2) W_hh is the vanilla RNN's")
    W_hh = model.params["rnn.weight_hh_l0"].astype(float)
    h = model.forward(np.asarray(inputs)[None, :], trace=True).trace[0]["h"][0].astype(float)  # [T, H]
    slopes = 1.0 - h[:0:-1] ** 2  # tanh' at t = T-1 down to 1
    jacobians = [s[:, None] * W_hh for s in slopes]
    factors = np.array([largest_singular_value(J) for J in jacobians])
    products = np.concatenate([[1.0], np.cumprod(factors)])
    chain, M = [1.0], np.eye(W_hh.shape[0])
    for J in jacobians:
        M = M @ J
        chain.append(largest_singular_value(M))
    return StepFactors(factors, products, np.array(chain), largest_singular_value(W_hh))
