"""Lesson 7, lstm: the LSTM cell drawn as the lecture draws it, with one unit's live numbers in it.

The cell state runs along the top, c_(t-1) through the forget gate, plus the
input gate times the candidate, into c_t; below it tanh(c_t) passes the output
gate into h_t. Under the drawing every gate's equation with its numbers (the
sum split into input part, input bias, recurrent part, recurrent bias), then
f, i, g, o, c_(t-1), c_t and h_t of the unit over the probe text, so
c_t = f * c_(t-1) + i * g can be checked at any step.
"""

from __future__ import annotations

import numpy as np

from rnntui.lessons.base import pick
from rnntui.lessons.cell_lesson import CORPUS, PROBE, Canvas, CellLesson, equation_block, history_table

TEXT = {
    "en": [
        "The LSTM adds a cell state c to the hidden state h. The cell state runs along the top of the cell",
        "almost untouched, a straight line through time: the past can flow on unchanged. Four layers act on it:",
        "  forget gate f decides how much of c_{t-1} flows on;  input gate i times the candidate g is the new",
        "  information kept;  c_t = f * c_{t-1} + i * g;  output gate o: h_t = o * tanh(c_t), to the next step.",
        "Gates are sigmoids (between 0 and 1), the candidate a tanh. Below, one unit of a small LSTM training on",
        f"the `{CORPUS}` corpus, at one character of the probe text; each gate's sum is split into its four parts",
        "(the model's order i, f, g, o), and the unit's values over the whole probe are side by side underneath.",
    ],
    "ko": [
        "LSTM은 은닉 상태 h에 셀 상태(cell state) c를 더합니다. 셀 상태는 셀의 위쪽을 거의 그대로 지나가는",
        "시간 축의 직선입니다. 과거가 바뀌지 않고 흘러갈 수 있습니다. 네 개의 층이 여기에 작용합니다:",
        "  망각 게이트 f는 c_{t-1}을 얼마나 흘려보낼지 정하고, 입력 게이트 i 곱하기 후보 g가 새로 담을 정보이며,",
        "  c_t = f * c_{t-1} + i * g;  출력 게이트 o: h_t = o * tanh(c_t), 다음 스텝으로 전달됩니다.",
        "게이트는 시그모이드(0과 1 사이), 후보는 tanh입니다. 아래는 작은 LSTM이",
        f"`{CORPUS}` 말뭉치로 학습하는 동안 한 유닛의 한 글자 시점 값이며, 각 게이트의 합을 네 부분으로 나눕니다",
        "(모델의 순서 i, f, g, o). 그 아래에 탐침 문장 전체에 걸친 그 유닛의 값들이 나란히 있습니다.",
    ],
}

TRY_THIS = {
    "en": "Try this: ←/→ move along the probe text, ↑/↓ change the unit; space trains (+/− pace, s one step, r start over).",
    "ko": "해 보기: ←/→ 로 문장 위 이동, ↑/↓ 로 유닛 변경; space 로 학습(+/− 속도, s 한 스텝, r 처음부터).",
}

WORDS = {
    "en": {"unit": "unit", "at": "at", "char": "char", "probe": "probe text",
           "keeps": "Over the probe this unit's forget gate averages {f:.2f}: c passes on {f:.0%} of itself a step on average.",
           "highway": "Its c ranges {cl:.2f} to {ch:.2f}; h = o * tanh(c) stays inside (-1, 1): {hl:.2f} to {hh:.2f}.",
           "wide": "c goes beyond what h can show: the cell state carries what h keeps out of sight."},
    "ko": {"unit": "유닛", "at": "시점", "char": "글자", "probe": "탐침 문장",
           "keeps": "탐침 문장 전체에서 이 유닛의 망각 게이트 평균은 {f:.2f}: c는 한 스텝에 평균 {f:.0%}를 넘겨줍니다.",
           "highway": "c는 {cl:.2f}에서 {ch:.2f}까지, h = o * tanh(c)는 (-1, 1) 안: {hl:.2f}에서 {hh:.2f}까지입니다.",
           "wide": "c는 h가 보여 줄 수 있는 범위를 넘습니다. 셀 상태가 h에 드러나지 않는 것을 실어 나릅니다."},
}


def cell_drawing(step):
    """The lecture's LSTM block: the cell state's straight line on top, the hidden state's below.

        c_{t-1} ──▶( × )──────────▶( + )──────────┬──▶ c_t
                     ▲ f            ▲ i * g        │ tanh(c_t)
                                         o ──▶( × )
        h_{t-1}, x_t into i, f, g, o ─────────────┴──▶ h_t
    """
    from rnntui.lessons.gate_parts import factor

    g = {line.gate: line.value for line in step.gates}
    C, H, G, X = "bold yellow", "bold green", "bold cyan", "bold red"
    d = Canvas()
    col = d.put(0, 0, "c_{t-1} ", C)
    col = d.put(0, col, f"{step.c_prev:7.3f}", C)
    col = d.put(0, col, " ───▶( ")
    forget = col  # the column of the forget gate's ×
    col = d.put(0, col, "× )──────────────▶( ")
    add = col  # the column of the + where i * g comes in
    col = d.put(0, col, "+ )" + "─" * 36)
    down = col  # where tanh(c_t) leaves the cell state's line
    col = d.put(0, col, "┬────▶ ")
    col = d.put(0, col, "c_t ", C)
    d.put(0, col, f"{step.c:7.3f}", C)
    d.put(1, forget, "▲")
    d.put(1, add, "▲")
    d.put(1, down, "│")
    d.put(2, forget - 2, "f ")
    d.put(2, forget, f"{g['f']:.3f}", G)
    col = d.put(2, add - 2, "i * g = ")
    col = d.put(2, col, factor(g["i"]), G)
    col = d.put(2, col, " * ")
    col = d.put(2, col, factor(g["g"]), G)
    col = d.put(2, col, " = ")
    d.put(2, col, f"{g['i'] * g['g']:.3f}", G)
    d.put(2, down, "│")
    d.put(3, down, "│ tanh(c_t) = ")
    d.put(3, down + 13, f"{np.tanh(step.c):.3f}", C)
    label = f"o {g['o']:.3f} ──▶("
    d.put(4, down - 1 - len(label), label[:2])
    d.put(4, down - 1 - len(label) + 2, label[2:7], G)
    d.put(4, down - 1 - len(label) + 7, label[7:] + "×)")
    d.put(5, down, "│")
    col = d.put(6, 0, "h_{t-1} ", H)
    col = d.put(6, col, f"{step.h_prev:7.3f}", H)
    col = d.put(6, col, " ── with x_t ")
    col = d.put(6, col, repr(step.char), X)
    col = d.put(6, col, " into i, f, g, o ")
    col = d.put(6, col, "─" * max(1, down - col) + "┴────▶ ")
    col = d.put(6, col, "h_t ", H)
    d.put(6, col, f"{step.h:7.3f}", H)
    return d.render()


class LSTMLesson(CellLesson):
    number = 7
    name = "lstm"
    cell = "lstm"
    title = {"en": "The LSTM cell, with its numbers", "ko": "LSTM 셀과 그 숫자들"}
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
        v = history.values
        head = Text(f"{w['unit']} {step.unit}   {w['at']} t={step.t} {step.char!r}   {w['probe']}: {PROBE!r}", style="bold")
        notes = [
            w["keeps"].format(f=float(np.mean(v["f"]))),
            w["highway"].format(cl=v["c"].min(), ch=v["c"].max(), hl=v["h"].min(), hh=v["h"].max()),
        ]
        if np.abs(v["c"]).max() > 1.0:
            notes.append(w["wide"])
        names = [("f", "f"), ("i", "i"), ("g", "g"), ("o", "o"), ("c_prev", "c_{t-1}"), ("c", "c_t"), ("h", "h_t")]
        return Group(
            head, cell_drawing(step), equation_block(step), Text(""),
            history_table(history, names, step.t, w["char"]), *[Text(n, style="dim") for n in notes], line,
        )


LESSON = LSTMLesson
