"""Lesson 9, race: an RNN, an LSTM and a GRU of about the same size on one memory task, side by side.

The memory lab's race (lab/race.py), trained live: recall a symbol across L
filler characters. Every sentence under the curves is computed from the
scores on screen: who remembers, who got there first, and where a run goes
against the textbook (an RNN that holds a constant filler's symbol in a fixed
point of its dynamics), the lesson says so.
"""

from __future__ import annotations

from dataclasses import replace

from rnntui.lab.textplot import sparkline
from rnntui.lessons.base import TRAINING_KEYS, Lesson, LessonKey, pick
from rnntui.lessons.races import LESSON_RACE, RaceRun, first_at

SPANS = (5, 10, 20, 40, 80)
REMEMBERS = 0.9  # accuracy at which a cell is said to remember the symbol

TEXT = {
    "en": [
        "The race: a vanilla RNN, an LSTM and a GRU with about the same number of parameters learn one",
        "memory task from the same batches: read a symbol, then L random filler characters, then say the",
        "symbol again. Only that last answer is graded, against chance (guessing among 8 symbols).",
        "The lecture's conclusion: the gated cells handle the long-term dependency the RNN cannot,",
        "and which of LSTM and GRU is better cannot be said in general. Watch it, and change L.",
    ],
    "ko": [
        "경주: 파라미터 수가 거의 같은 기본 RNN, LSTM, GRU가 같은 배치로 하나의 기억 과제를 배웁니다.",
        "기호 하나를 읽고, 무작위 채움 문자 L개를 읽은 뒤, 그 기호를 다시 말해야 합니다.",
        "채점은 마지막 답 하나만 하며, 우연 수준(기호 8개 중 찍기)과 비교합니다.",
        "강의의 결론: 게이트가 있는 셀은 RNN이 못 다루는 장기 의존성을 다루고,",
        "LSTM과 GRU 중 어느 쪽이 더 좋은지는 일반적으로 말할 수 없습니다. 보고, L을 바꿔 보세요.",
    ],
}

TRY_THIS = {
    "en": "Try this: space races (s one step, r start over); [ ] change the span L; f switches the filler (noise/constant).",
    "ko": "해 보기: space 로 경주(s 한 스텝, r 처음부터); [ ] 로 간격 L 변경; f 로 채움 문자(무작위/상수) 전환.",
}

WORDS = {
    "en": {
        "step": "step", "chance": "chance", "params": "params", "first": "≥90% at step", "accuracy": "accuracy",
        "task": "recall a symbol after L={span} {filler} fillers",
        "noise": "random", "constant": "constant ('.')",
        "waiting": "Step {step}: nobody remembers yet (90% on the graded answer); keep training.",
        "both": "Both gated cells remember: LSTM {lstm:.0%}, GRU {gru:.0%}.",
        "one": "The {who} remembers ({acc:.0%}); the {other} does not yet ({other_acc:.0%}).",
        "faster": "Here the {who} got there first (step {a} against {b}): on this task and seed, not everywhere.",
        "tie": "Both reached 90% at the same evaluation (step {a}).",
        "rnn_fails": "The RNN is at {acc:.0%} (chance {chance:.1%}): it has not learned to carry the symbol (lesson 6 shows why).",
        "rnn_ok": "The RNN scores {acc:.0%} too, against the textbook.",
        "rnn_fixed": " With one constant filler it can park the symbol in a fixed point of its own dynamics.",
    },
    "ko": {
        "step": "스텝", "chance": "우연", "params": "파라미터", "first": "90% 도달 스텝", "accuracy": "정확도",
        "task": "채움 문자 {filler} L={span}개 뒤 기호 기억하기",
        "noise": "무작위", "constant": "상수('.')",
        "waiting": "스텝 {step}: 아직 아무도 기억하지 못합니다(채점되는 답 90% 기준). 계속 학습하세요.",
        "both": "게이트가 있는 두 셀 모두 기억합니다: LSTM {lstm:.0%}, GRU {gru:.0%}.",
        "one": "{who}는 기억하고({acc:.0%}), {other}는 아직 못 합니다({other_acc:.0%}).",
        "faster": "여기서는 {who}가 먼저 도달했습니다(스텝 {a} 대 {b}). 이 과제와 시드에서일 뿐, 늘 그렇지는 않습니다.",
        "tie": "둘 다 같은 평가 시점(스텝 {a})에 90%에 도달했습니다.",
        "rnn_fails": "RNN은 {acc:.0%}입니다(우연 {chance:.1%}). 기호를 실어 나르는 법을 배우지 못했습니다(이유는 6강).",
        "rnn_ok": "RNN도 {acc:.0%}를 기록합니다. 교과서와 다른 결과입니다.",
        "rnn_fixed": " 채움 문자가 하나로 일정하면 기호를 자신의 동역학의 고정점에 담아 둘 수 있습니다.",
    },
}

NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def verdict(racers: dict, chance: float, filler: str, step: int, w: dict) -> list[str]:
    """What the scores on screen say, in sentences that are true of them."""
    acc = {cell: r.curve[-1].accuracy for cell, r in racers.items()}
    gated = [c for c in ("lstm", "gru") if acc[c] >= REMEMBERS]
    lines = []
    if not gated and acc["rnn"] < REMEMBERS:
        return [w["waiting"].format(step=step)]
    if len(gated) == 2:
        lines.append(w["both"].format(lstm=acc["lstm"], gru=acc["gru"]))
        a, b = first_at(racers["lstm"].curve, REMEMBERS), first_at(racers["gru"].curve, REMEMBERS)
        if a == b:
            lines.append(w["tie"].format(a=a))
        else:
            who, other = ("LSTM", "GRU") if a < b else ("GRU", "LSTM")
            lines.append(w["faster"].format(who=who, a=min(a, b), b=max(a, b), other=other))
    elif len(gated) == 1:
        other = "gru" if gated[0] == "lstm" else "lstm"
        lines.append(w["one"].format(who=NAMES[gated[0]], acc=acc[gated[0]], other=NAMES[other], other_acc=acc[other]))
    if acc["rnn"] >= REMEMBERS:
        lines.append(w["rnn_ok"].format(acc=acc["rnn"]) + (w["rnn_fixed"] if filler == "constant" else ""))
    else:
        lines.append(w["rnn_fails"].format(acc=acc["rnn"], chance=chance))
    return lines


class RaceLesson(Lesson):
    number = 9
    name = "race"
    title = {"en": "The race: RNN, LSTM and GRU on one memory task", "ko": "경주: 하나의 기억 과제에서 RNN, LSTM, GRU"}
    text = TEXT
    try_this = TRY_THIS
    keys = (
        LessonKey("left_square_bracket", "shorter", {"en": "L shorter", "ko": "L 줄이기"}),
        LessonKey("right_square_bracket", "longer", {"en": "L longer", "ko": "L 늘리기"}),
        LessonKey("f", "filler", {"en": "filler", "ko": "채움 문자"}),
        *TRAINING_KEYS,
    )
    default_steps = 200

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.config = replace(LESSON_RACE, seed=seed)
        self.live = RaceRun(lambda: {"race": self.config})

    @property
    def race(self):
        return self.live.races["race"]

    def press(self, action: str) -> None:
        if action in ("shorter", "longer"):
            at = SPANS.index(self.config.span) if self.config.span in SPANS else 2
            at = max(0, min(len(SPANS) - 1, at + (1 if action == "longer" else -1)))
            self.config = replace(self.config, span=SPANS[at])
        elif action == "filler":
            self.config = replace(self.config, filler="constant" if self.config.filler == "noise" else "noise")
        else:
            return super().press(action)
        self.live.send("rebuild")

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import status

        w = pick(WORDS, lang)
        with self.still():
            line = status(self.live, lang, loss=False)
            race, step = self.race, self.live.step
            racers = {r.cell: r for r in race.racers}
            chance = race.task.chance
            task = w["task"].format(span=race.task.span, filler=w[race.config.filler])
            lines = verdict(racers, chance, race.config.filler, step, w)
            rows = [
                (NAMES[c], r.model.shape.hidden_size, r.params, r.curve[-1].accuracy, [s.accuracy for s in r.curve],
                 first_at(r.curve, REMEMBERS))
                for c, r in racers.items()
            ]
        bar_width = max(10, min(30, width - 90))
        table = Table(box=None, padding=(0, 1), show_edge=False)
        for header in ("", "H", w["params"], w["accuracy"], "", f"{w['step']} 0..{step}", w["first"]):
            table.add_column(header)
        for name, hidden, params, accuracy, curve, first in rows:
            filled = round(accuracy * bar_width)
            mark = round(chance * bar_width)
            bar = Text("█" * filled + " " * (bar_width - filled), style="green" if accuracy >= REMEMBERS else "yellow")
            bar.stylize("on grey23")
            if mark < bar_width:
                bar.stylize("underline", mark, mark + 1)
            table.add_row(name, str(hidden), f"{params:,}", f"{accuracy:6.1%}", bar, sparkline(curve, width=40),
                          "-" if first is None else str(first))
        head = Text(f"{task}   {w['step']} {step}   {w['chance']} {chance:.1%}", style="bold")
        return Group(head, Text(""), table, Text(""), *[Text(sentence) for sentence in lines], line)


LESSON = RaceLesson
