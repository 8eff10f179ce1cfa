"""Lesson 2, shapes: one-to-one, one-to-many, many-to-one, many-to-many delayed and synced.

Each shape is drawn as the lecture draws it (input, hidden and output boxes
over time) and shown running on a model of rnntui's: the "hello" RNN (hello.py)
for one-to-one, one-to-many (writing from one start character), many-to-many
delayed (read a prompt, then write) and synced (the language model, an output
at every input); a small RNN on the recall task (data/tasks.py), scored only at
its end, for many-to-one. The recall model is the one that trains live.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.data.tasks import RecallTask
from rnntui.engine.model import CharRNN
from rnntui.engine.optim import make_optimizer
from rnntui.engine.shape import ModelShape
from rnntui.engine.step import chunk_gradient
from rnntui.lessons.base import TRAINING_KEYS, Lesson, LessonKey, pick
from rnntui.lessons.hello import CHARS, WORD, hello_run
from rnntui.lessons.run import LessonRun

HELLO_STEPS = 150  # the "hello" model is trained this far before the lesson opens: it knows the word
RECALL_SPAN, RECALL_HIDDEN, RECALL_LR, RECALL_BATCH = 5, 16, 1e-2, 32
HELD_OUT = 256


@dataclass(frozen=True)
class Shape:
    key: str
    inputs: str  # one mark a timestep: "x" an input arrives, "." none
    outputs: str  # "y" an output is read, "." none


SHAPES = (
    Shape("one-to-one", "x", "y"),
    Shape("one-to-many", "x...", "yyyy"),
    Shape("many-to-one", "xxxx", "...y"),
    Shape("many-to-many-delayed", "xxx..", "...yy"),
    Shape("many-to-many-synced", "xxxx", "yyyy"),
)

NAMES = {
    "en": {"one-to-one": "one to one", "one-to-many": "one to many", "many-to-one": "many to one",
           "many-to-many-delayed": "many to many (delayed)", "many-to-many-synced": "many to many (synced)"},
    "ko": {"one-to-one": "일대일", "one-to-many": "일대다", "many-to-one": "다대일",
           "many-to-many-delayed": "다대다 (지연)", "many-to-many-synced": "다대다 (동기)"},
}

EXAMPLES = {
    "en": {
        "one-to-one": 'One character in, one prediction out: the "hello" model reads h once. No sequence, no memory used.',
        "one-to-many": 'One start character, then a sequence out: the "hello" model writes from h, each output fed back in.',
        "many-to-one": "A whole sequence in, one answer at its end: the recall task, which asks for its first symbol again.",
        "many-to-many-delayed": 'Read everything first, then write (as translation does): the model reads "hel", then writes.',
        "many-to-many-synced": 'An output at every input: the character language model on "hell", predicting each next one.',
    },
    "ko": {
        "one-to-one": '글자 하나를 넣고 예측 하나를 얻습니다. "hello" 모델이 h를 한 번 읽습니다. 시퀀스도, 기억도 없습니다.',
        "one-to-many": '시작 글자 하나로 시퀀스를 씁니다. "hello" 모델이 h에서 시작해 출력을 다시 입력으로 넣습니다.',
        "many-to-one": "시퀀스 전체를 읽고 끝에서 답 하나를 냅니다: 첫 기호를 끝에서 다시 맞히는 기억(recall) 과제.",
        "many-to-many-delayed": '먼저 모두 읽고 나서 씁니다(번역처럼). 모델이 "hel"을 읽은 뒤 씁니다.',
        "many-to-many-synced": '입력마다 출력이 있습니다: "hell" 위의 문자 단위 언어 모델이 매번 다음 글자를 예측합니다.',
    },
}

WORDS = {
    "en": {"scored": "Only that last position is scored.", "accuracy": "held-out accuracy", "chance": "chance",
           "answer": "answer", "fed": "each written character is fed back as the next input",
           "right": "right: the first symbol was {}", "wrong": "wrong: the first symbol was {}"},
    "ko": {"scored": "마지막 위치만 채점합니다.", "accuracy": "검증 정확도", "chance": "찍을 때",
           "answer": "답", "fed": "쓴 글자는 다음 입력으로 다시 들어갑니다",
           "right": "맞음: 첫 기호는 {}", "wrong": "틀림: 첫 기호는 {}"},
}

TEXT = {
    "en": [
        "An RNN takes inputs and gives outputs whatever the sequence's length: its main strength.",
        "How inputs and outputs line up over time gives its shape. Boxes: input x_t red, hidden h_t green,",
        "output y_t blue; → is the hidden state passed to the next step.",
        "one to one: no sequence at all (a plain feed-forward network).   one to many: one input, a sequence out.",
        "many to one: a sequence in, one output at its end (classifying a sentence).",
        "many to many, delayed: read all, then write (translation).   synced: an output at every input.",
        "Below, the chosen shape runs on a model of rnntui's, with the characters it really reads and writes.",
    ],
    "ko": [
        "RNN은 시퀀스의 길이에 상관없이 입력을 받고 출력을 냅니다. 이 유연함이 가장 큰 장점입니다.",
        "시간에 따라 입력과 출력이 놓이는 방식이 모양을 정합니다. 상자: 입력 x_t 빨강, 은닉 h_t 초록,",
        "출력 y_t 파랑. →는 다음 스텝으로 넘어가는 은닉 상태입니다.",
        "일대일: 시퀀스가 없습니다(보통의 순방향 신경망).   일대다: 입력 하나, 시퀀스 출력.",
        "다대일: 시퀀스를 읽고 끝에서 출력 하나(문장 분류).",
        "다대다 지연: 모두 읽고 나서 씁니다(번역).   동기: 입력마다 출력이 있습니다.",
        "아래에서는 고른 모양이 rnntui의 모델 위에서, 실제로 읽고 쓰는 글자와 함께 돌아갑니다.",
    ],
}

TRY_THIS = {
    "en": "Try this: ←/→ choose a shape; on many to one, space trains the recall model (+/− pace, s one step, r start over).",
    "ko": "해 보기: ←/→ 로 모양 선택. 다대일에서 space 로 기억 과제 모델 학습(+/− 속도, s 한 스텝, r 처음부터).",
}


def recall_run(seed: int) -> tuple[LessonRun, RecallTask]:
    task = RecallTask(span=RECALL_SPAN)
    shape = ModelShape("rnn", task.vocab.size, 8, RECALL_HIDDEN, 1)
    model = CharRNN(shape, seed=seed)
    rng = np.random.default_rng([seed, 0])

    def gradient():
        batch = task.batch(rng, RECALL_BATCH)
        return chunk_gradient(model, batch.inputs, batch.targets, mask=batch.mask)()

    def reset() -> None:
        model.flat[...] = CharRNN(shape, seed=seed).flat
        run.optimizer = make_optimizer("adam", model.flat, RECALL_LR)

    run = LessonRun(model, make_optimizer("adam", model.flat, RECALL_LR), gradient, speed=10, reset=reset)
    return run, task


class ShapesLesson(Lesson):
    number = 2
    name = "shapes"
    title = {"en": "The shapes of an RNN", "ko": "RNN의 여러 모양"}
    text = TEXT
    try_this = TRY_THIS
    keys = (
        LessonKey("left", "previous_shape", {"en": "shape ←", "ko": "모양 ←"}),
        LessonKey("right", "next_shape", {"en": "shape →", "ko": "모양 →"}),
        *TRAINING_KEYS,
    )
    default_steps = 200

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        hello = hello_run(seed)
        hello.train(HELLO_STEPS)
        self.hello = hello.model
        self.live, self.task = recall_run(seed)
        self.held_out = self.task.batch(np.random.default_rng([seed, 1]), HELD_OUT)
        self.chosen = 2  # many-to-one first: the one that trains

    def press(self, action: str) -> None:
        if action == "previous_shape":
            self.chosen = (self.chosen - 1) % len(SHAPES)
        elif action == "next_shape":
            self.chosen = (self.chosen + 1) % len(SHAPES)
        else:
            super().press(action)

    # ----- the models at work (numbers from the engine) -----------------------------------

    def hello_outputs(self, text: str, write: int = 0) -> tuple[list[str], list[float], list[str], list[float]]:
        """Read `text` with the hello model: its top guess after each character (and its probability),
        then `write` characters more, each the top guess fed back."""
        ids = np.array([[CHARS.index(c) for c in text]])
        result = self.hello.forward(ids, logits=True)
        read = [softmax(z) for z in result.logits[0]]
        guesses = [CHARS[int(np.argmax(p))] for p in read]
        sure = [float(p.max()) for p in read]
        written, written_p = [], []
        logits, state = result.logits[0, -1], result.state
        for _ in range(write):
            p = softmax(logits)
            token = int(np.argmax(p))
            written.append(CHARS[token])
            written_p.append(float(p[token]))
            step = self.hello.forward(np.array([[token]]), state=state, logits=True)
            logits, state = step.logits[0, -1], step.state
        return guesses, sure, written, written_p

    def recall_example(self) -> tuple[str, str, float, float]:
        """One held-out sequence, the model's answer at its end with its probability, and the held-out accuracy."""
        model, batch = self.live.model, self.held_out
        result = model.forward(batch.inputs, batch.targets, batch.mask, logits=True)
        accuracy = self.task.accuracy(result.logits, batch)
        p = softmax(result.logits[0, -1])
        answer = self.task.vocab.chars[int(self.task.answers[np.argmax(p[self.task.answers])])]
        return self.task.vocab.decode(batch.inputs[0]), answer, float(p[self.task.vocab.index(answer)]), accuracy

    # ----- drawing ----------------------------------------------------------------------

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import status

        names = pick(NAMES, lang)
        words = pick(WORDS, lang)
        gallery = Table.grid(padding=(0, 3))
        for _ in SHAPES:
            gallery.add_column(justify="left", vertical="bottom")
        gallery.add_row(*[boxes(shape) for shape in SHAPES])
        gallery.add_row(*[
            Text(names[shape.key], style="bold reverse" if i == self.chosen else "dim") for i, shape in enumerate(SHAPES)
        ])

        shape = SHAPES[self.chosen]
        example = [Text(names[shape.key], style="bold"), Text(pick(EXAMPLES, lang)[shape.key])]
        with self.still():
            line = status(self.live, lang)
            if shape.key == "many-to-one":
                sequence, answer, p, accuracy = self.recall_example()
                example.append(Text(
                    f"{words['scored']} {words['accuracy']} {accuracy:.0%} ({words['chance']} {self.task.chance:.1%})"
                ))
                steps = len(sequence)
                read_all = Shape(shape.key, "x" * steps, "." * (steps - 1) + "y")
                example.append(boxes(read_all, list(sequence), [""] * (steps - 1) + [answer]))
                verdict = words["right" if answer == sequence[0] else "wrong"].format(sequence[0])
                example.append(Text(f"{words['answer']}: {answer}  p = {p:.3f}   ({verdict})"))
                example.append(Text(""))
                example.append(line)
            elif shape.key == "one-to-one":
                guesses, sure, _, _ = self.hello_outputs("h")
                example.append(boxes(shape, ["h"], guesses))
                example.append(Text(f"h → {guesses[0]}  p = {sure[0]:.3f}"))
            elif shape.key == "one-to-many":
                _, _, written, written_p = self.hello_outputs("h", write=len(WORD) - 1)
                example.append(boxes(Shape(shape.key, "x" + "." * (len(written) - 1), "y" * len(written)), ["h"], written))
                example.append(Text("   ".join(f"{c} p={q:.2f}" for c, q in zip(written, written_p)) + f"   ({words['fed']})"))
            elif shape.key == "many-to-many-delayed":
                _, _, written, written_p = self.hello_outputs("hel", write=2)
                example.append(boxes(shape, list("hel"), ["", "", ""] + written))
                example.append(Text("   ".join(f"{c} p={q:.2f}" for c, q in zip(written, written_p)) + f"   ({words['fed']})"))
            else:
                guesses, sure, _, _ = self.hello_outputs(WORD[:-1])
                example.append(boxes(shape, list(WORD[:-1]), guesses))
                example.append(Text("   ".join(f"{a}→{g} p={q:.2f}" for a, g, q in zip(WORD, guesses, sure))))
        return Group(gallery, Text(""), *example)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def boxes(shape: Shape, inputs: list[str] | None = None, outputs: list[str] | None = None):
    """The lecture's picture of a shape: outputs on top, the hidden chain, inputs below, one column a step.

    With characters, each box holds the one the model read or wrote there.
    """
    from rich.text import Text

    from rnntui.lessons.draw import HIDDEN, INPUT, OUTPUT

    steps = len(shape.inputs)
    inputs = list(inputs or [])
    outputs = list(outputs or [])

    def box(char: str, colour: str) -> tuple[str, str]:
        if char:
            return f" {char} ", f"bold white on {colour}"
        return "███", colour  # an empty box still reads as a box without colours

    top, up_out, hidden, up_in, bottom = (Text() for _ in range(5))
    k_in = 0
    for t in range(steps):
        gap = "  " if t else ""
        for line in (top, up_out, up_in, bottom):
            line.append(gap)
        hidden.append("─→" if t else "", style=HIDDEN)
        if shape.outputs[t] == "y":
            top.append(*box(outputs[t] if t < len(outputs) else "", OUTPUT))
            up_out.append(" ↑ ")
        else:
            top.append("   ")
            up_out.append("   ")
        hidden.append(*box("", HIDDEN))
        if shape.inputs[t] == "x":
            bottom.append(*box(inputs[k_in] if k_in < len(inputs) else "", INPUT))
            k_in += 1
            up_in.append(" ↑ ")
        else:
            bottom.append("   ")
            up_in.append("   ")
    # every line the same width, so centring the picture keeps its columns over each other
    return Text("\n").join([top, up_out, hidden, up_in, bottom])


LESSON = ShapesLesson
