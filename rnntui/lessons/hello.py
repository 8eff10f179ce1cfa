"""The lecture's example: a vanilla RNN reading "hello" over the vocabulary [h, e, l, o].

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)        y_t = W_hy h_t + b_y

rnntui's model begins with an embedding; here it has as many columns as the
vocabulary has characters, is set to the identity and never trains, so each
x_t is a one-hot row and the first layer's W_ih is the lecture's W_xh. The
model keeps two biases (b_ih and b_hh, as the model contract names them); the
lecture has one, their sum b. `unroll` reads every number of the four steps
out of the engine, for the recurrence and char-lm lessons to show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.engine.model import CharRNN, Pass
from rnntui.engine.optim import make_optimizer
from rnntui.engine.shape import ModelShape
from rnntui.engine.step import chunk_gradient
from rnntui.lessons.run import LessonRun

CHARS = ("h", "e", "l", "o")
WORD = "hello"
INPUTS = np.array([[CHARS.index(c) for c in WORD[:-1]]])  # h e l l
TARGETS = np.array([[CHARS.index(c) for c in WORD[1:]]])  # e l l o
HIDDEN = 3  # as in the lecture's figure
LEARNING_RATE = 0.02  # Adam; measured on seeds 0-9: every target above 0.9 after 61 to 120 steps


@dataclass(frozen=True)
class Step:
    """Everything that happens at timestep t, as numbers from the model."""

    t: int
    char: str  # the input character x_t
    target: str  # the character that should come next
    x: np.ndarray  # one-hot [V]
    h_prev: np.ndarray  # h_{t-1} [H]
    from_input: np.ndarray  # W_xh x_t [H]
    from_past: np.ndarray  # W_hh h_{t-1} [H]
    b: np.ndarray  # b_ih + b_hh [H]
    total: np.ndarray  # their sum, before tanh [H]
    h: np.ndarray  # h_t, from the engine's forward pass [H]
    scores: np.ndarray  # y_t = W_hy h_t + b_y [V], the engine's logits
    probs: np.ndarray  # softmax(y_t) [V]
    loss: float  # -log probs[target]

    @property
    def target_prob(self) -> float:
        return float(self.probs[CHARS.index(self.target)])


def new_model(seed: int) -> CharRNN:
    """A 4-character, 3-unit vanilla RNN in float64 whose embedding is the identity."""
    model = CharRNN(ModelShape("rnn", len(CHARS), len(CHARS), HIDDEN, 1), dtype=np.float64, seed=seed)
    model.params["embedding.weight"][...] = np.eye(len(CHARS))
    return model


def frozen_embedding_gradient(model: CharRNN):
    """The gradient of the "hello" loss with the embedding's part zeroed: the one-hot inputs stay one-hot."""
    gradient = chunk_gradient(model, INPUTS, TARGETS)

    def frozen() -> Pass:
        result = gradient()
        model.grads["embedding.weight"][...] = 0.0  # Adam moves nothing whose gradient was always 0
        return result

    return frozen


def hello_run(seed: int) -> LessonRun:
    """The tiny model, trained live on "hello"; `reset` starts it again from the same seed."""
    model = new_model(seed)

    def reset() -> None:
        model.flat[...] = new_model(seed).flat
        run.optimizer = make_optimizer("adam", model.flat, LEARNING_RATE)

    run = LessonRun(
        model, make_optimizer("adam", model.flat, LEARNING_RATE), frozen_embedding_gradient(model), reset=reset,
    )
    return run


def unroll(model: CharRNN) -> list[Step]:
    """The four steps of "hello", every number read from the engine's forward pass and the weights."""
    result = model.forward(INPUTS, TARGETS, trace=True, logits=True)
    hs = result.trace[0]["h"][0]  # [T, H]
    logits = result.logits[0]  # [T, V]
    p = model.params
    W_xh, W_hh, b = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"]
    E = p["embedding.weight"]
    steps = []
    h_prev = np.zeros(HIDDEN)
    for t in range(INPUTS.shape[1]):
        x = E[INPUTS[0, t]]
        from_input, from_past = W_xh @ x, W_hh @ h_prev
        z = logits[t] - logits[t].max()
        probs = np.exp(z) / np.exp(z).sum()
        target = int(TARGETS[0, t])
        steps.append(Step(
            t=t, char=CHARS[INPUTS[0, t]], target=CHARS[target], x=x.copy(), h_prev=h_prev,
            from_input=from_input, from_past=from_past, b=b.copy(), total=from_input + from_past + b,
            h=hs[t].copy(), scores=logits[t].copy(), probs=probs, loss=float(-np.log(probs[target])),
        ))
        h_prev = hs[t].copy()
    return steps
