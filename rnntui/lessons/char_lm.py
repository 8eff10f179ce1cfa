"""Lesson 3, char-lm: the lecture's character-level language model, "hello" over [h, e, l, o].

The four steps unrolled as the lecture draws them, bottom to top: the input
one-hot, the hidden layer (3 units), the output scores and their softmax,
the target highlighted with its probability; each step's loss and their sum.
The model trains slowly (a few steps a second) or one step per key, so the
targets' probabilities can be watched climbing towards 1. The second "l" is
the point: only the hidden state can tell it from the first.
"""

from __future__ import annotations

import numpy as np

from rnntui.lessons.base import TRAINING_KEYS, Lesson, pick
from rnntui.lessons.hello import CHARS, hello_run, unroll

TEXT = {
    "en": [
        "A character-level language model reads text one character at a time and predicts the next one.",
        'The lecture\'s example: vocabulary [h, e, l, o], training sequence "hello": inputs h e l l, targets e l l o.',
        "Each step, bottom to top: the input one-hot, the hidden layer (3 units), the output layer's scores y_t,",
        "and softmax(y_t): the probability of each next character. The loss of a step is -log p(target); summed over steps.",
        "Training pushes every target's probability towards 1, and so the summed loss towards 0.",
        'The second "l" needs memory: "l" is followed once by "l" and once by "o", so a model that sees only',
        "the current character must fail on one of them. The RNN does not: its hidden state remembers",
        'what came before, so the two "l"s reach different hidden states (the last line).',
    ],
    "ko": [
        "문자 단위 언어 모델은 텍스트를 한 글자씩 읽으며 다음 글자를 예측합니다.",
        '강의의 예: 어휘 [h, e, l, o], 학습 시퀀스 "hello". 입력은 h e l l, 정답(target)은 e l l o입니다.',
        "각 스텝을 아래에서 위로: 입력 원-핫, 은닉층(유닛 3개), 출력층의 점수 y_t,",
        "그리고 softmax(y_t): 다음 글자마다의 확률. 한 스텝의 손실은 -log p(정답)이며, 모든 스텝에 걸쳐 더합니다.",
        "학습은 모든 정답의 확률을 1 쪽으로 올리고, 그만큼 손실의 합을 0 쪽으로 내립니다.",
        '두 번째 "l"에는 기억이 필요합니다. "l" 다음에는 한 번은 "l", 한 번은 "o"가 오므로, 현재 글자만 보는',
        "모델은 둘 중 하나를 반드시 틀립니다. RNN은 그렇지 않습니다. 은닉 상태가 앞의 내용을 기억하므로",
        '두 "l"은 서로 다른 은닉 상태에 도달합니다(마지막 줄).',
    ],
}

TRY_THIS = {
    "en": "Try this: space trains slowly (+/− pace), s one step, r start over: watch each target's probability climb to 1.",
    "ko": "해 보기: space 로 천천히 학습(+/− 속도), s 한 스텝, r 처음부터: 정답 확률이 1까지 오르는 것을 보세요.",
}

WORDS = {
    "en": {"target": "target", "output": "output", "softmax": "y_t  p", "hidden": "hidden h_t",
           "input": "input x_t", "loss": "loss", "sum": "sum of losses", "twins": 'the two "l"s',
           "apart": "apart by", "same": "the input is the same; only the state carried in differs",
           "memoryless": 'without memory the best is p = 0.5 on each "l" step: a loss of at least {:.3f} on the two;',
           "this": "this model: {:.3f}"},
    "ko": {"target": "정답", "output": "출력", "softmax": "y_t  p", "hidden": "은닉 h_t",
           "input": "입력 x_t", "loss": "손실", "sum": "손실의 합", "twins": '두 "l"',
           "apart": "거리", "same": "입력은 같고, 넘어온 상태만 다릅니다",
           "memoryless": '기억이 없으면 두 "l" 스텝에서 각각 p = 0.5가 최선이라 손실이 적어도 {:.3f}입니다.',
           "this": "이 모델: {:.3f}"},
}

BAR = 8  # cells of a probability bar


class CharLMLesson(Lesson):
    number = 3
    name = "char-lm"
    title = {"en": 'The character-level language model: "hello"', "ko": '문자 단위 언어 모델: "hello"'}
    text = TEXT
    try_this = TRY_THIS
    keys = TRAINING_KEYS
    default_steps = 300

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.live = hello_run(seed)

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import HIDDEN, INPUT, OUTPUT, TARGET, bar, number, one_hot, status, vector

        words = pick(WORDS, lang)
        with self.still():
            steps = unroll(self.live.model)
            line = status(self.live, lang, loss=False)

        grid = Table(box=None, padding=(0, 2), show_edge=False, show_header=True)
        grid.add_column("", style="bold", no_wrap=True)
        for s in steps:
            grid.add_column(f"t={s.t}", justify="left", no_wrap=True)
        grid.add_row(Text(words["target"], style=TARGET), *[Text(f" {s.target} ", style="bold black on yellow") for s in steps])
        for row, char in enumerate(CHARS):
            label = Text(words["output"], style=OUTPUT) if row == 0 else Text(words["softmax"], style="dim") if row == 1 else ""
            cells = []
            for s in steps:
                cell = Text(f"{char} ")
                cell.append_text(number(s.scores[row], 5, 2, scale=3.0))
                is_target = char == s.target
                cell.append(f" {s.probs[row]:.3f} ", style=TARGET if is_target else "")
                cell.append(bar(s.probs[row], BAR), style="yellow" if is_target else OUTPUT)
                cells.append(cell)
            grid.add_row(label, *cells)
        grid.add_row(Text(words["hidden"], style=HIDDEN), *[vector(s.h, 5, 2) for s in steps])
        grid.add_row(Text(words["input"], style=INPUT), *[
            Text.assemble(one_hot(CHARS.index(s.char), len(CHARS)), "  ", (f" {s.char} ", f"bold white on {INPUT}"))
            for s in steps
        ])
        grid.add_row(Text(words["loss"]), *[Text(f"{s.loss:.3f}") for s in steps])

        total = sum(s.loss for s in steps)
        summary = Text(f"{words['sum']}: " + " + ".join(f"{s.loss:.3f}" for s in steps) + f" = {total:.3f}")
        first_l, second_l = steps[2], steps[3]
        twins = Text(f"{words['twins']}:  h_2 = ")
        twins.append_text(vector(first_l.h, 5, 2))
        twins.append("   h_3 = ")
        twins.append_text(vector(second_l.h, 5, 2))
        twins.append(f"   {words['apart']} {np.linalg.norm(first_l.h - second_l.h):.2f}")
        # A model that sees only the current "l" must give "l" and "o" one probability each time: at
        # best half and half, so -log(0.5) on each of the two steps, whatever it learns.
        memoryless = Text(words["memoryless"].format(2 * np.log(2)) + " ")
        memoryless.append(words["this"].format(first_l.loss + second_l.loss), style="bold")
        return Group(
            grid, Text(""), summary, twins, Text(f"({words['same']})", style="dim"), memoryless, Text(""), line,
        )


LESSON = CharLMLesson
