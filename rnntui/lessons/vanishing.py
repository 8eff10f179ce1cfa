"""Lesson 6, vanishing: why a vanilla RNN's gradient dies, one factor per step back.

Top: on one recall sequence, the vanilla RNN's factor ||diag(1 - h_t^2) W_hh||
for every step back (a bar), the running product of those factors over the
distance on a log scale, and W_hh's largest singular value, which no factor
exceeds. Bottom: the memory lab's gradient reach of the RNN, the LSTM (through
h and through its cell state c) and the GRU, as it was before training and as
it is now: how much of the graded answer's gradient is left at the symbol.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from rnntui.lab.reach import gradient_reach
from rnntui.lessons.base import TRAINING_KEYS, Lesson, LessonKey, pick
from rnntui.lessons.jacobian import step_factors
from rnntui.lessons.races import LESSON_RACE, RaceRun

PROBES = 4  # held-out sequences the reach is averaged over (geometric mean, as in the lab)
FLOOR = 1e-20  # the left end of the log bars

TEXT = {
    "en": [
        "The vanishing gradient. Going back one step, the backward pass multiplies the gradient by",
        "    dh_t/dh_{t-1} = diag(1 - h_t²) W_hh       so   ||dL/dh_{t-1}|| ≤ ||diag(1 - h_t²) W_hh|| · ||dL/dh_t||",
        "tanh's slope 1 - h² is at most 1, so no factor exceeds σ_max, W_hh's largest singular value.",
        "Factors below 1, multiplied over many steps back, leave almost nothing: the error at the answer",
        "no longer reaches the input it depends on, and a vanilla RNN cannot learn the long-term dependency.",
        "Below, the same measure for an RNN, an LSTM and a GRU of about the same size, before and after",
        "training. The LSTM keeps its memory in the cell state c, so its reach is shown through c and h.",
    ],
    "ko": [
        "기울기 소실(vanishing gradient). 한 스텝 거슬러 갈 때마다 역전파는 기울기에 다음을 곱합니다.",
        "    dh_t/dh_{t-1} = diag(1 - h_t²) W_hh       따라서   ||dL/dh_{t-1}|| ≤ ||diag(1 - h_t²) W_hh|| · ||dL/dh_t||",
        "tanh의 기울기 1 - h²는 1 이하이므로, 어떤 인수도 W_hh의 최대 특이값 σ_max를 넘지 않습니다.",
        "1보다 작은 인수를 여러 스텝 곱하면 거의 아무것도 남지 않습니다. 답의 오차가 그 답이 의존하는",
        "입력까지 닿지 못하니, 기본 RNN은 장기 의존성(long-term dependency)을 배우지 못합니다.",
        "아래는 크기가 거의 같은 RNN, LSTM, GRU의 같은 측정값입니다(학습 전과 후).",
        "LSTM은 기억을 셀 상태(cell state) c에 담으므로, c를 통한 값과 h를 통한 값을 함께 보입니다.",
    ],
}

TRY_THIS = {
    "en": "Try this: ←/→ choose a distance back; space trains all three (s one step, r start over): watch the reach change.",
    "ko": "해 보기: ←/→ 로 거슬러 갈 거리 선택; space 로 셋 모두 학습(s 한 스텝, r 처음부터): 도달 정도의 변화를 보세요.",
}

WORDS = {
    "en": {
        "factor": "factor ||diag(1-h²) W_hh||", "product": "||dh_T/dh_(T-d)|| (log)", "back": "steps back",
        "at": "{d} steps back: factor {f:.3f}; product of factors {p:.1e}; the {d}-step Jacobian's norm {c:.1e};  σ_max(W_hh) = {s:.3f}",
        "loose": "The product of the factors is only a bound: the {d}-step Jacobian itself keeps {c:.1e}, since a direction one step stretches the next shrinks.",
        "below": "σ_max = {s:.3f} < 1: every step back keeps at most {s:.3f} of the gradient; after {d} steps at most {p:.1e}.",
        "above": "σ_max = {s:.3f} ≥ 1 allows growth, but tanh's slopes pull the factors to a mean of {m:.3f}; after {d} steps the bound is {p:.1e}.",
        "reach": "gradient left at the symbol, {d} steps before the graded answer (1 = all of it)",
        "before": "before training", "now": "now, step {step}",
        "c_note": "The LSTM's reach through c ({c:.0e}) is {x:.0f}x its reach through h ({h:.0e}): its memory lives in c.",
        "rnn_note": "The RNN keeps {r:.0e} of its gradient over {d} steps; the GRU {g:.0e}, the LSTM (through c) {c:.0e}.",
    },
    "ko": {
        "factor": "인수 ||diag(1-h²) W_hh||", "product": "||dh_T/dh_(T-d)|| (로그)", "back": "거슬러 간 스텝",
        "at": "{d} 스텝 전: 인수 {f:.3f}; 인수의 곱 {p:.1e}; {d} 스텝 야코비안의 노름 {c:.1e};  σ_max(W_hh) = {s:.3f}",
        "loose": "인수의 곱은 상한일 뿐입니다. {d} 스텝 야코비안 자체는 {c:.1e}만 남깁니다. 한 스텝이 늘린 방향을 다음 스텝이 줄이기 때문입니다.",
        "below": "σ_max = {s:.3f} < 1: 한 스텝마다 기울기의 최대 {s:.3f}만 남습니다. {d} 스텝 뒤에는 최대 {p:.1e}.",
        "above": "σ_max = {s:.3f} ≥ 1이라 커질 수도 있지만, tanh의 기울기가 인수를 평균 {m:.3f}로 낮춥니다. {d} 스텝 뒤 상한은 {p:.1e}.",
        "reach": "채점되는 답보다 {d} 스텝 앞, 기호 위치에 남은 기울기 (1 = 전부)",
        "before": "학습 전", "now": "지금, 스텝 {step}",
        "c_note": "LSTM의 c를 통한 도달({c:.0e})은 h를 통한 도달({h:.0e})의 {x:.0f}배입니다. 기억이 c에 있습니다.",
        "rnn_note": "RNN은 {d} 스텝 동안 기울기의 {r:.0e}만 남깁니다. GRU는 {g:.0e}, LSTM(c 경유)은 {c:.0e}.",
    },
}

ROWS = (("rnn", "h", "RNN"), ("lstm", "h", "LSTM (h)"), ("lstm", "c", "LSTM (c)"), ("gru", "h", "GRU"))


def reach_left(racers: dict, probe) -> dict[str, float]:
    """For each row: the share of the graded answer's gradient left at the symbol (the furthest distance)."""
    out = {}
    for cell, through, label in ROWS:
        reach = gradient_reach(racers[cell].model, probe, through=through)
        out[label] = reach.ratio(int(reach.distances[-1]))
    return out


def log_bar(value: float, width: int) -> str:
    if not value > 0:
        return ""
    share = (math.log10(max(value, FLOOR)) - math.log10(FLOOR)) / -math.log10(FLOOR)
    return "█" * max(1, round(min(share, 1.0) * width))


class VanishingLesson(Lesson):
    number = 6
    name = "vanishing"
    title = {"en": "The vanishing gradient", "ko": "기울기 소실 (vanishing gradient)"}
    text = TEXT
    try_this = TRY_THIS
    keys = (
        LessonKey("left", "nearer", {"en": "nearer", "ko": "가까이"}),
        LessonKey("right", "further", {"en": "further back", "ko": "더 멀리"}),
        *TRAINING_KEYS,
    )
    default_steps = 150

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.config = replace(LESSON_RACE, seed=seed)
        self.distance = self.config.span  # the cursor: steps back from the graded answer
        self.before: dict[str, float] = {}
        self.live = RaceRun(lambda: {"race": self.config}, speed=0, built=self._measure_untrained)

    @property
    def race(self):
        return self.live.races["race"]

    def press(self, action: str) -> None:
        if action == "nearer":
            self.distance = max(1, self.distance - 1)
        elif action == "further":
            self.distance = min(self.config.span, self.distance + 1)
        else:
            super().press(action)

    def _probe(self, race):
        return race.task.batch(np.random.default_rng([self.seed, 7]), PROBES)

    def _measure_untrained(self, races) -> None:
        race = races["race"]
        self.before = reach_left({r.cell: r for r in race.racers}, self._probe(race))

    def measure(self):
        """Everything the view shows, from the live models (hold them still around it)."""
        race = self.race
        racers = {r.cell: r for r in race.racers}
        probe = self._probe(race)
        now = reach_left(racers, probe) if self.live.step else self.before
        factors = step_factors(racers["rnn"].model, probe.inputs[0])
        return factors, now, self.live.step

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import status

        w = pick(WORDS, lang)
        with self.still():
            sf, now, step = self.measure()
            line = status(self.live, lang, loss=False)
        before = self.before
        span = len(sf.factors)
        d = min(self.distance, span)
        # One column per step back: the factor as a bar (0..σ_max), the running product on a log scale.
        factor_row, product_row, axis = Text(), Text(), Text()
        low = min(math.log10(max(sf.chain[-1], FLOOR)), -1.0)
        for back in range(1, span + 1):
            style = "bold reverse" if back == d else ""
            f = sf.factors[back - 1]
            factor_row.append("▁▂▃▄▅▆▇█"[min(7, int(f / max(sf.sigma_max, 1e-12) * 7.999))] * 2 + " ", style=style)
            share = (math.log10(max(sf.chain[back], FLOOR)) - low) / -low
            product_row.append("▁▂▃▄▅▆▇█"[min(7, max(0, int(share * 7.999)))] * 2 + " ", style=style)
            axis.append(f"{back:<3}" if back % 5 == 0 or back == 1 else "   ", style="dim")
        top = Table.grid(padding=(0, 2))
        top.add_column(min_width=28)
        top.add_column()
        top.add_row(Text(w["factor"]), factor_row)
        top.add_row(Text(w["product"]), product_row)
        top.add_row(Text(w["back"], style="dim"), axis)
        mean = float(np.mean(sf.factors))
        bound = [w["below" if sf.sigma_max < 1 else "above"].format(s=sf.sigma_max, m=mean, d=span, p=sf.products[-1])]
        if sf.chain[-1] < 0.1 * sf.products[-1]:
            bound.append(w["loose"].format(d=span, c=sf.chain[-1]))

        bar_width = max(10, min(30, (width - 30) // 2))
        reach = Table(box=None, padding=(0, 1), show_edge=False)
        reach.add_column("")
        reach.add_column(w["before"], min_width=bar_width + 8)
        reach.add_column(w["now"].format(step=step), min_width=bar_width + 8)
        for label in now:
            reach.add_row(label, f"{before[label]:8.1e} {log_bar(before[label], bar_width)}",
                          f"{now[label]:8.1e} {log_bar(now[label], bar_width)}")
        notes = [w["rnn_note"].format(d=span, r=now["RNN"], g=now["GRU"], c=now["LSTM (c)"])]
        if now["LSTM (c)"] > 10 * now["LSTM (h)"]:
            notes.append(w["c_note"].format(c=now["LSTM (c)"], h=now["LSTM (h)"], x=now["LSTM (c)"] / now["LSTM (h)"]))
        return Group(
            top, Text(w["at"].format(d=d, f=sf.factors[d - 1], p=sf.products[d], c=sf.chain[d], s=sf.sigma_max), style="bold"),
            *[Text(b) for b in bound], Text(""), Text(w["reach"].format(d=span), style="bold"), reach, Text(""),
            *[Text(n) for n in notes], line,
        )


LESSON = VanishingLesson
