"""Lesson 8, gru: the GRU cell with one unit's live numbers: r, z, n and h' = (1 - z) * n + z * h.

The GRU has two gates and no separate cell state: the LSTM's c is folded into
h. The view follows rnntui's convention (the model contract's), where z keeps the past:
h' = (1 - z) * n + z * h. The lecture writes z as the weight of the present;
the view says which it uses.
"""

from __future__ import annotations

import numpy as np

from rnntui.lessons.base import pick
from rnntui.lessons.cell_lesson import CORPUS, PROBE, Canvas, CellLesson, equation_block, history_table

TEXT = {
    "en": [
        "The GRU has two gates, reset r and update z, and one state: the LSTM's cell state and hidden state merged.",
        "  r = σ(...): how much of the previous state h the candidate may use;  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
        "  z = σ(...): the share of the past against the present, doing the LSTM's input and forget gates' work.",
        "This view uses rnntui's convention, h_t = (1 - z) * n + z * h_{t-1}: here z KEEPS the past.",
        "(The lecture writes it the other way round, with z weighing the present: z there is 1 - z here.)",
        f"Below: one unit of a small GRU training on the `{CORPUS}` corpus, at one character of the probe text,",
        "each gate's sum split into its parts (the model's order r, z, n), and the unit over the whole probe.",
    ],
    "ko": [
        "GRU는 리셋 게이트 r과 업데이트 게이트 z 두 개만 가지며, LSTM의 셀 상태와 은닉 상태가 하나로 합쳐져 있습니다.",
        "  r = σ(...): 후보가 이전 상태 h를 얼마나 쓸지;  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
        "  z = σ(...): 과거와 현재의 비율. LSTM의 입력 게이트와 망각 게이트의 역할을 합니다.",
        "이 화면은 rnntui의 관례 h_t = (1 - z) * n + z * h_{t-1}을 따릅니다. 여기서 z는 과거를 '유지'합니다.",
        "(강의는 반대로 z가 현재 정보의 비중입니다. 강의의 z는 여기의 1 - z입니다.)",
        f"아래: `{CORPUS}` 말뭉치로 학습 중인 작은 GRU의 한 유닛, 탐침 문장의 한 글자 시점에서의 값,",
        "각 게이트의 합을 부분으로 나눈 식(모델의 순서 r, z, n), 그리고 문장 전체에 걸친 그 유닛.",
    ],
}

TRY_THIS = {
    "en": "Try this: ←/→ move along the probe text, ↑/↓ change the unit; space trains (+/− pace, s one step, r start over).",
    "ko": "해 보기: ←/→ 로 문장 위 이동, ↑/↓ 로 유닛 변경; space 로 학습(+/− 속도, s 한 스텝, r 처음부터).",
}

WORDS = {
    "en": {"unit": "unit", "at": "at", "char": "char", "probe": "probe text",
           "convention": "convention: h_t = (1 - z) * n + z * h_{t-1}  (z keeps the past)",
           "here": "Here z = {z:.2f}: the unit keeps {z:.0%} of its old state and takes {nz:.0%} of the new candidate n.",
           "mean": "Over the whole probe this unit keeps on average {m:.0%} of its old state a step (z from {lo:.2f} to {hi:.2f})."},
    "ko": {"unit": "유닛", "at": "시점", "char": "글자", "probe": "탐침 문장",
           "convention": "관례: h_t = (1 - z) * n + z * h_{t-1}  (z가 과거를 유지)",
           "here": "여기서 z = {z:.2f}: 이 유닛은 이전 상태의 {z:.0%}를 유지하고 새 후보 n의 {nz:.0%}를 받습니다.",
           "mean": "문장 전체에서 이 유닛은 한 스텝에 평균 {m:.0%}의 이전 상태를 유지합니다(z는 {lo:.2f}에서 {hi:.2f})."},
}


def cell_drawing(step):
    """The GRU block: the old state kept through z, the candidate n made through r, mixed into h_t.

        h_{t-1} ──┬──────────▶( × )─────────────────────▶( + )──▶ h_t
                  │             ▲ z                         ▲
                  └──▶ W_hn h + b_hn ──▶( × ) r ──▶ tanh ──▶ n ──▶( × ) 1 - z
    """
    from rnntui.lessons.gate_parts import factor

    g = {line.gate: line.value for line in step.gates}
    H, G, X = "bold green", "bold cyan", "bold red"
    d = Canvas()
    col = d.put(0, 0, "h_{t-1} ", H)
    col = d.put(0, col, f"{step.h_prev:7.3f}", H)
    col = d.put(0, col, " ──")
    split = col
    # The bottom row first: its second × fixes where the top row's + must sit.
    col = d.put(2, split, "└──▶ W_hn h + b_hn ──▶( ")
    col = d.put(2, col, "× ) r ")
    col = d.put(2, col, f"{g['r']:.3f}", G)
    col = d.put(2, col, " ──▶ tanh ──▶ n ")
    col = d.put(2, col, f"{g['n']:.3f}", G)
    col = d.put(2, col, " ──▶( ")
    add = col
    col = d.put(2, col, "× ) 1 - z = ")
    d.put(2, col, f"{1 - g['z']:.3f}", G)
    keep = split + 14  # the column of the × that keeps z of the old state
    col = d.put(0, split, "┬" + "─" * (keep - split - 4) + "▶( ")
    col = d.put(0, col, "× )" + "─" * (add - col - 6) + "▶( ")
    col = d.put(0, col, "+ )────▶ ")
    col = d.put(0, col, "h_t ", H)
    d.put(0, col, f"{step.h:7.3f}", H)
    d.put(1, split, "│")
    d.put(1, keep, "▲ z ")
    d.put(1, keep + 4, f"{g['z']:.3f}", G)
    d.put(1, add, "▲")
    col = d.put(3, 3, "x_t ")
    col = d.put(3, col, repr(step.char), X)
    col = d.put(3, col, "  into r, z, n;   h_t = ")
    for text, style in ((factor(1 - g["z"]), G), (" * ", ""), (factor(g["n"]), G), (" + ", ""), (factor(g["z"]), G),
                        (" * ", ""), (factor(step.h_prev), H), (" = ", ""), (f"{step.h:.3f}", H)):
        col = d.put(3, col, text, style)
    return d.render()


class GRULesson(CellLesson):
    number = 8
    name = "gru"
    cell = "gru"
    title = {"en": "The GRU cell, with its numbers", "ko": "GRU 셀과 그 숫자들"}
    text = TEXT
    try_this = TRY_THIS

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.text import Text

        from rnntui.lessons.draw import status

        w = pick(WORDS, lang)
        step, history = self.read()
        with self.still():
            line = status(self.live, lang)
        z = history.values["z"]
        here = step.gate("z").value
        head = Text(f"{w['unit']} {step.unit}   {w['at']} t={step.t} {step.char!r}   {w['probe']}: {PROBE!r}", style="bold")
        notes = [w["here"].format(z=here, nz=1 - here), w["mean"].format(m=float(np.mean(z)), lo=z.min(), hi=z.max())]
        names = [("r", "r"), ("z", "z"), ("n", "n"), ("h_prev", "h_{t-1}"), ("h", "h_t")]
        return Group(
            head, Text(w["convention"], style="italic"), cell_drawing(step), equation_block(step), Text(""),
            history_table(history, names, step.t, w["char"]), *[Text(n, style="dim") for n in notes], line,
        )


LESSON = GRULesson
