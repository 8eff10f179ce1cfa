"""Lesson 4, sampling: at test time the model writes, one character at a time, its draws fed back.

A small LSTM is first trained on the bundled `fables` corpus (a few hundred
steps, in the lesson's own run); then the same run draws: softmax over the
scores at a temperature, one character drawn (or the most likely one, greedy),
fed back as the next input. The view shows the distribution the next
character is drawn from as bars, and the text written so far.
"""

from __future__ import annotations

import numpy as np

from rnntui.data.corpus import load_corpus
from rnntui.lessons.base import Lesson, LessonKey, pick
from rnntui.lessons.run import LessonRun
from rnntui.train.config import TrainConfig
from rnntui.train.events import SampleReady
from rnntui.train.sampling import next_distribution
from rnntui.train.trainer import Trainer

# A small LSTM on a short text: measured on 2 busy cores, 300 steps in about 30 s, loss ~1.0 nats.
CORPUS = "fables"
CONFIG = TrainConfig(
    corpus=CORPUS, cell="lstm", hidden=48, embed=16, seq_len=32, batch=16, lr=1e-2, val_frac=0.0,
    steps=10**9, eval_every=10**9, sample_every=10**9,
    forget_bias=1.0,  # as measured above
)
TRAIN_STEPS = 300
PROMPT = "The "
TEMPERATURES = (0.2, 0.5, 0.8, 1.0, 1.5, 2.0)
DRAW_SPEED = 5  # characters a second once it writes on its own
SHOWN = 10  # most likely characters drawn as bars
KEPT = 400  # characters of text kept


class SamplingRun(LessonRun):
    """Trains `train_steps` steps at full speed, then pauses; from then on each step draws one character."""

    def __init__(self, seed: int, train_steps: int | None = None):
        self.trainer = Trainer(CONFIG.with_changes(seed=seed), load_corpus(CORPUS).text)
        self.vocab = self.trainer.vocab
        self.train_steps = TRAIN_STEPS if train_steps is None else train_steps
        self.temperature = 0.8
        self.greedy = False
        self.rng = np.random.default_rng(seed)
        self.text = ""
        self.probs: list[float] = []  # the probability each character of `text` was drawn with
        self.drawn = 0  # characters drawn since training ended
        self.logits = None
        self.state = None
        super().__init__(
            self.trainer.model, self.trainer.optimizer, None, speed=0,
            commands={"restart": lambda _: self.restart()},
        )
        self.paused = False  # training starts by itself

    @property
    def writing(self) -> bool:
        return self.trainer.step >= self.train_steps

    def advance(self):
        if not self.writing:
            self.last = self.trainer.train_step()
            self.step = self.trainer.step
            if self.writing:  # trained: prime the text, slow down, and wait for the learner
                self.restart()
                self.speed = DRAW_SPEED
                self.paused = True
            return self.last
        return self.draw()

    def restart(self) -> None:
        """A new text from the prompt; the model keeps its weights."""
        self.text, self.probs = PROMPT, [1.0] * len(PROMPT)
        primed = self.model.forward(self.vocab.encode(PROMPT)[None, :], logits=True)
        self.logits, self.state = primed.logits[0, -1], primed.state

    def distribution(self) -> np.ndarray:
        """softmax(scores / T): what the next character is drawn from (greedy takes its top instead)."""
        return next_distribution(self.logits, self.temperature)

    def draw(self) -> SampleReady:
        p = self.distribution()
        token = int(np.argmax(p)) if self.greedy else int(self.rng.choice(len(p), p=p))
        char = self.vocab.chars[token]
        self.text = (self.text + char)[-KEPT:]
        self.probs = (self.probs + [float(p[token])])[-KEPT:]
        result = self.model.forward(np.array([[token]]), state=self.state, logits=True)
        self.logits, self.state = result.logits[0, -1], result.state
        self.drawn += 1
        return SampleReady(self.drawn, char, self.temperature, (float(p[token]),))

    def train(self, steps: int) -> None:
        """Headless: `steps` training steps, then a text of a few lines."""
        self.train_steps = steps
        while not self.writing:
            with self.stepping():
                self.advance()
        if self.logits is None:
            self.restart()
        for _ in range(160):
            self.draw()


TEXT = {
    "en": [
        "At test time the language model writes: the scores of the output layer go through softmax,",
        "one character is drawn from that distribution, and it is fed back as the next input.",
        "One character at a time, each draw changes the hidden state and so the next distribution.",
        "Temperature T reshapes the distribution before the draw: softmax(y / T). Low T sharpens it",
        "towards the most likely character, high T flattens it towards uniform.",
        "Greedy decoding always takes the most likely character; it tends to repeat itself.",
        f"The model: a small LSTM trained on the `{CORPUS}` corpus for {TRAIN_STEPS} steps (it trains first, then writes).",
    ],
    "ko": [
        "테스트 시점에 언어 모델은 글을 씁니다. 출력층의 점수가 softmax를 거치고,",
        "그 분포에서 한 글자를 샘플링(sampling)하여 다음 입력으로 다시 넣습니다.",
        "한 번에 한 글자씩: 뽑힌 글자가 은닉 상태를 바꾸고, 그래서 다음 분포도 바뀝니다.",
        "온도(temperature) T는 뽑기 전에 분포의 모양을 바꿉니다: softmax(y / T). T가 낮으면",
        "가장 그럴듯한 글자 쪽으로 뾰족해지고, T가 높으면 고르게 평평해집니다.",
        "탐욕적(greedy) 방식은 늘 가장 확률이 높은 글자를 고르며, 같은 말을 되풀이하기 쉽습니다.",
        f"모델: `{CORPUS}` 말뭉치로 {TRAIN_STEPS} 스텝 학습한 작은 LSTM (먼저 학습하고, 그다음 글을 씁니다).",
    ],
}

TRY_THIS = {
    "en": "Try this: s draws one character, space lets it write (+/− pace); ↑/↓ temperature; g greedy or sampled; r new text.",
    "ko": "해 보기: s 한 글자 뽑기, space 계속 쓰기(+/− 속도); ↑/↓ 온도; g 탐욕적/샘플링 전환; r 새 글.",
}

WORDS = {
    "en": {"training": "training the model first", "written": "written so far", "next": "the next character, after",
           "at": "at temperature", "greedy": "greedy: the top score always wins", "sampled": "sampled",
           "others": "all others", "last": "last draw", "with": "drawn with p =", "space": "space", "newline": "newline",
           "drawn": "characters drawn"},
    "ko": {"training": "먼저 모델을 학습하는 중", "written": "지금까지 쓴 글", "next": "다음 글자, 앞 글자",
           "at": "온도", "greedy": "탐욕적: 늘 최고 점수", "sampled": "샘플링",
           "others": "나머지 전부", "last": "마지막으로 뽑은 글자", "with": "확률 p =", "space": "공백", "newline": "줄바꿈",
           "drawn": "글자를 뽑음"},
}


class SamplingLesson(Lesson):
    number = 4
    name = "sampling"
    title = {"en": "Sampling: writing one character at a time", "ko": "샘플링: 한 글자씩 쓰기"}
    text = TEXT
    try_this = TRY_THIS
    keys = (
        LessonKey("s", "step", {"en": "draw", "ko": "한 글자"}),
        LessonKey("space", "play", {"en": "write", "ko": "쓰기"}),
        LessonKey("up", "hotter", {"en": "T+", "ko": "온도+"}),
        LessonKey("down", "cooler", {"en": "T−", "ko": "온도−"}),
        LessonKey("g", "greedy", {"en": "greedy", "ko": "탐욕적"}),
        LessonKey("plus", "faster", {"en": "faster", "ko": "빠르게"}),
        LessonKey("minus", "slower", {"en": "slower", "ko": "느리게"}),
        LessonKey("r", "restart", {"en": "restart", "ko": "새 글"}),
    )
    default_steps = TRAIN_STEPS

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.live = SamplingRun(seed)

    def press(self, action: str) -> None:
        run = self.live
        # Temperature and greedy are read when a character is drawn, and by the view: plain settings,
        # not steps, so they take effect at once, paused or not.
        if action in ("hotter", "cooler"):
            i = TEMPERATURES.index(run.temperature) if run.temperature in TEMPERATURES else 2
            i = min(i + 1, len(TEMPERATURES) - 1) if action == "hotter" else max(i - 1, 0)
            run.temperature = TEMPERATURES[i]
        elif action == "greedy":
            run.greedy = not run.greedy
        elif action == "restart":
            run.send("restart")
        else:
            super().press(action)

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import INPUT, OUTPUT, TARGET, bar, status

        words = pick(WORDS, lang)
        run = self.live
        with self.still():
            line = status(run, lang, loss=not run.writing, running="writing" if run.writing else "training")
            if not run.writing:
                progress = Text(f"{words['training']}: {run.step}/{run.train_steps}   ")
                progress.append(bar(run.step / max(run.train_steps, 1), 30), style="green")
                return Group(progress, Text(""), line)
            p = run.distribution()
            text, probs = run.text, run.probs
        mode = words["greedy"] if run.greedy else words["sampled"]

        def shown(char: str) -> str:
            return {" ": f"␣ {words['space']}", "\n": f"⏎ {words['newline']}"}.get(char, char)

        written = Text(f"{words['written']}:\n", style="bold")
        tail = text[-(width * 3):]  # about three lines' worth
        for char, prob in zip(tail, probs[-len(tail):]):
            written.append("⏎\n" if char == "\n" else char, style=sureness(prob))
        written.append("▏", style=f"bold {INPUT}")

        last = text[-1]
        heading = Text(f"{words['next']} ", style="bold")
        heading.append(f" {shown(last)} ", style=f"bold white on {INPUT}")
        heading.append(f"   {words['at']} T = {run.temperature:g}   ({mode})")

        order = np.argsort(-p, kind="stable")
        bars = Table.grid(padding=(0, 2))
        bars.add_column(min_width=12)
        bars.add_column(justify="right")
        bars.add_column()
        for token in order[:SHOWN]:
            char = run.vocab.chars[token]
            top = token == order[0]
            bars.add_row(
                Text(shown(char), style=TARGET if top else ""), f"{p[token]:.3f}",
                Text(bar(p[token], 40), style="yellow" if top else OUTPUT),
            )
        bars.add_row(Text(words["others"], style="dim"), f"{p[order[SHOWN:]].sum():.3f}", "")
        last_draw = Text(
            f"{words['last']}: {shown(last)}  {words['with']} {probs[-1]:.3f}   ({run.drawn} {words['drawn']})"
            if run.drawn else "", style="dim",
        )
        return Group(written, Text(""), heading, bars, last_draw, Text(""), line)


def sureness(prob: float) -> str:
    """A drawn character's style: bold when the model was sure of it, dim when it was a long shot."""
    return "bold" if prob >= 0.5 else "" if prob >= 0.1 else "dim"


LESSON = SamplingLesson
