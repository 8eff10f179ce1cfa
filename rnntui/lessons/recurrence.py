"""Lesson 1, recurrence: one cell, applied at every step, its hidden state fed back to itself.

The lecture's vanilla cell on its "hello" example (hello.py), with every term
of h_t = tanh(W_hh h_{t-1} + W_xh x_t + b) laid out for the step under the
cursor: x_t, h_{t-1}, the two products, b, their sum and h_t, as numbers on
coloured cells. The model trains live, so the learner sees the same sums
change as the weights learn.
"""

from __future__ import annotations

from rnntui.lessons.base import TRAINING_KEYS, Lesson, LessonKey, pick
from rnntui.lessons.hello import CHARS, HIDDEN, WORD, hello_run, unroll

TEXT = {
    "en": [
        "A recurrent network reads a sequence one element at a time and keeps a hidden state h_t.",
        "Each step computes the new hidden state from the input x_t and from its own previous state:",
        "the hidden node is connected to itself, a cycle. The same weights are used at every step.",
        "    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)        y_t = W_hy h_t",
        'Here: 3 hidden units, the vocabulary h, e, l, o, reading "hello"; x_t is one-hot.',
        "rnntui's cell keeps two biases, b_ih (input side) and b_hh (hidden side); b below is their sum.",
        "Unrolled over time the one cell becomes a chain: x_t in (red), h_t (green), y_t out (blue).",
    ],
    "ko": [
        "순환 신경망(RNN)은 시퀀스를 한 원소씩 읽으면서 은닉 상태(hidden state) h_t를 간직합니다.",
        "매 스텝의 새 은닉 상태는 입력 x_t와 자기 자신의 이전 상태로부터 계산됩니다.",
        "은닉 노드가 자기 자신과 연결된 순환 구조입니다. 모든 스텝에서 같은 가중치를 씁니다.",
        "    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)        y_t = W_hy h_t",
        '여기서는 은닉 유닛 3개, 어휘 h, e, l, o로 "hello"를 읽습니다. x_t는 원-핫 벡터입니다.',
        "rnntui의 셀은 편향을 b_ih(입력 쪽)와 b_hh(은닉 쪽) 두 개 가집니다. 아래의 b는 그 합입니다.",
        "시간 축으로 펼치면 하나의 셀이 사슬이 됩니다: 입력 x_t(빨강), h_t(초록), 출력 y_t(파랑).",
    ],
}

TRY_THIS = {
    "en": "Try this: ←/→ walk through time; space trains (+/− pace, s one step, r start over): watch the sums move.",
    "ko": "해 보기: ←/→ 로 시간 이동, space 로 학습(+/− 속도, s 한 스텝, r 처음부터): 합이 어떻게 바뀌는지 보세요.",
}

WORDS = {
    "en": {"time": "time", "unit": "unit", "sum": "sum", "x": "x_t (one-hot over h e l o)",
           "prev": "h_{t-1} (the state carried in)", "first": "(zero: nothing came before)",
           "tells": "h_t goes to the next step and to the output y_t."},
    "ko": {"time": "시간", "unit": "유닛", "sum": "합", "x": "x_t (h e l o 위의 원-핫)",
           "prev": "h_{t-1} (앞에서 넘어온 상태)", "first": "(0: 앞선 입력이 없음)",
           "tells": "h_t는 다음 스텝과 출력 y_t로 전달됩니다."},
}


class RecurrenceLesson(Lesson):
    number = 1
    name = "recurrence"
    title = {"en": "Recurrence: one cell, fed its own state", "ko": "순환 구조: 자기 상태를 다시 받는 하나의 셀"}
    text = TEXT
    try_this = TRY_THIS
    keys = (
        LessonKey("left", "earlier", {"en": "earlier", "ko": "이전 시간"}),
        LessonKey("right", "later", {"en": "later", "ko": "다음 시간"}),
        *TRAINING_KEYS,
    )
    default_steps = 0  # the untrained cell is already worth reading

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.live = hello_run(seed)
        self.t = 0  # the timestep under the cursor

    def press(self, action: str) -> None:
        if action == "earlier":
            self.t = max(self.t - 1, 0)
        elif action == "later":
            self.t = min(self.t + 1, len(WORD) - 2)
        else:
            super().press(action)

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import HIDDEN as GREEN
        from rnntui.lessons.draw import INPUT, number, one_hot, status, vector

        words = pick(WORDS, lang)
        with self.still():
            steps = unroll(self.live.model)
            line = status(self.live, lang)
        now = steps[self.t]

        chain = Table.grid(padding=(0, 3))
        chain.add_column(style="bold")
        for s in steps:
            chain.add_column(justify="center")
        chain.add_row(Text(words["time"]), *[
            Text(f"t={s.t}", style="bold reverse" if s.t == self.t else "dim") for s in steps
        ])
        chain.add_row(Text("h_t", style=GREEN), *[vector(s.h, 5, 2) for s in steps])
        chain.add_row(Text("x_t", style=INPUT), *[
            Text(f" {s.char} ", style=f"bold white on {INPUT}" if s.t == self.t else INPUT) for s in steps
        ])

        inputs = Table.grid(padding=(0, 2))
        inputs.add_column(min_width=34)
        inputs.add_column()
        inputs.add_row(Text(f"x_{now.t} = {now.char}   " + words["x"]), one_hot(CHARS.index(now.char), len(CHARS)))
        carried = vector(now.h_prev, 6, 2)
        if now.t == 0:
            carried.append("  " + words["first"], style="dim")
        inputs.add_row(Text(words["prev"]), carried)

        sums = Table(box=None, padding=(0, 1), show_edge=False)
        sums.add_column(words["unit"], justify="right")
        for header in ("W_hh h_{t-1}", "+", "W_xh x_t", "+", "b", "=", words["sum"], "", "h_t"):
            sums.add_column(header, justify="center" if header in ("+", "=", "") else "right")
        for i in range(HIDDEN):
            sums.add_row(
                str(i + 1), number(now.from_past[i]), "+", number(now.from_input[i]), "+", number(now.b[i]), "=",
                number(now.total[i], scale=2.0), "─tanh→", number(now.h[i]),
            )
        return Group(chain, Text(""), inputs, Text(""), sums, Text(words["tells"], style="dim"), Text(""), line)


LESSON = RecurrenceLesson
