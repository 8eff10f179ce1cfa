"""Lesson 5, bptt: forward through the whole sequence, then the gradient walking back; then truncated BPTT.

Two copies of one cell learn the recall task from the same start and the same
batches: one with full BPTT, one with the gradient cut every k steps (the
state still carried across the cut). The view shows, on one held-out
sequence: every step's loss and their sum, the norm ||dL/dh_t|| of the graded
answer's gradient as the backward pass walks from the last step to the first
(a key per step), with and without the cut, and both copies' accuracy. The
sentence under them is computed from those numbers.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from rnntui.lessons.backward_walk import gradient_walk, step_losses
from rnntui.lessons.base import TRAINING_KEYS, Lesson, LessonKey, pick
from rnntui.lessons.races import LESSON_RACE, RaceRun, first_at

CELLS = ("lstm", "gru", "rnn")
# The recall sequence is SPAN + 1 = 20 steps: every k here divides it, so the graded last step always
# ends a whole chunk of k steps (with 21 steps, k=5 and k=10 would both leave it a chunk of its own),
# and k = 20 is one chunk: full BPTT.
SPAN = 19
KS = (2, 4, 5, 10, 20)
LEARNED = 0.9

TEXT = {
    "en": [
        "Backpropagation through time (BPTT): run forward through the whole sequence to get the loss, the errors",
        "of all steps summed, L = L_0 + ... + L_T; then backward through the whole sequence: the error at the",
        "current step reaches the hidden states of earlier steps, ||dL/dh_t|| below, walked from T back to 0.",
        "Truncated BPTT cuts the cost: chunks of k steps, the hidden state carried forward across a chunk",
        "boundary, the gradient only within a chunk. That is what is used in practice. The task here (recall):",
        "remember a symbol across L fillers; only the last step is graded. With k < L the graded answer's",
        "gradient never reaches the symbol. Two copies of one cell learn it, full BPTT against k.",
    ],
    "ko": [
        "시간에 따른 역전파(BPTT): 시퀀스 전체를 순방향으로 지나 손실(모든 스텝의 오차의 합,",
        "L = L_0 + ... + L_T)을 구하고, 다시 시퀀스 전체를 역방향으로 지납니다. 현재 스텝의 오차가",
        "이전 스텝들의 은닉 상태까지 전해집니다. 아래의 ||dL/dh_t||를 T에서 0까지 거슬러 따라가 보세요.",
        "생략된 BPTT(truncated BPTT)는 계산을 줄입니다. k 스텝씩 나눈 조각마다, 은닉 상태는 경계를 넘어",
        "앞으로 전달하지만 기울기는 조각 안에서만 흐릅니다. 실제로 쓰는 방식입니다. 과제(recall):",
        "채움 문자 L개 너머의 기호를 기억하기. 마지막 스텝만 채점합니다. k < L이면 채점되는 답의 기울기는",
        "기호까지 닿지 못합니다. 같은 셀 두 개가 배웁니다: 전체 BPTT 대 k.",
    ],
}

TRY_THIS = {
    "en": "Try this: ← walks the gradient back (→ forward); [ ] change k; c the cell; space trains (s one step, r start over).",
    "ko": "해 보기: ← 기울기를 한 스텝 거슬러(→ 앞으로); [ ] k 변경; c 셀 변경; space 학습(s 한 스텝, r 처음부터).",
}

WORDS = {
    "en": {
        "task": "recall a symbol after L={span} random fillers ({n} symbols, chance {c:.1%});  {cell}, k = {k}",
        "seq": "sequence", "loss": "L_t", "forward": "forward", "backward": "backward, k={k}", "sum": "L = Σ L_t over the graded steps = L_T = {g:.3f}   (this task grades only its last step)",
        "full": "full BPTT", "cut": "k = {k}", "grad": "||dL_T/dh_t||, from t = T back to t = {t}",
        "at": "t = {t}: full {a:.1e}, k={k} {b}",
        "zero": "0 (cut)", "acc": "accuracy on the graded answer, step {step}: full BPTT {a:.0%}, k={k} {b:.0%} (chance {c:.1%})",
        "cut_note": "With k={k} the graded answer's gradient stops at t={start}: the symbol at t=0 gets none of it.",
        "reaches": "With k={k} ≥ the distance, the gradient still reaches the symbol at t=0.",
        "wait": "Step {step}: neither copy has learned the task yet (90%); keep training.",
        "costs": "So far the cut costs: full BPTT {a:.0%} at step {step}, the truncated copy {b:.0%}.",
        "anyway": "The truncated copy learned anyway ({b:.0%}; full BPTT reached 90% at step {fa}, k={k} at step {fb}): "
                  "no gradient crossed a cut, but the carried state still held the symbol, and the last chunk learned to read it.",
        "neither": "Neither copy has learned it after {step} steps: full {a:.0%}, k={k} {b:.0%}.",
        "no_cut": "k={k} covers the whole sequence: no cut, the same training as full BPTT ({a:.0%} and {b:.0%}).",
        "ahead": "At step {step} the truncated copy is ahead ({b:.0%} against {a:.0%}): its carried state holds the symbol "
                 "although no gradient crossed a cut.",
    },
    "ko": {
        "task": "무작위 채움 문자 L={span}개 뒤 기호 기억하기 (기호 {n}개, 우연 {c:.1%});  {cell}, k = {k}",
        "seq": "시퀀스", "loss": "L_t", "forward": "순방향", "backward": "역방향, k={k}", "sum": "L = 채점되는 스텝들의 L_t의 합 = L_T = {g:.3f}   (이 과제는 마지막 스텝만 채점합니다)",
        "full": "전체 BPTT", "cut": "k = {k}", "grad": "||dL_T/dh_t||, t = T에서 t = {t}까지 거슬러",
        "at": "t = {t}: 전체 {a:.1e}, k={k} {b}",
        "zero": "0 (잘림)", "acc": "채점되는 답의 정확도, 스텝 {step}: 전체 BPTT {a:.0%}, k={k} {b:.0%} (우연 {c:.1%})",
        "cut_note": "k={k}이면 채점되는 답의 기울기는 t={start}에서 멈춥니다. t=0의 기호에는 전혀 닿지 않습니다.",
        "reaches": "k={k}가 거리 이상이므로 기울기가 t=0의 기호까지 닿습니다.",
        "wait": "스텝 {step}: 아직 어느 쪽도 과제를 배우지 못했습니다(90% 기준). 계속 학습하세요.",
        "costs": "지금까지는 잘림의 대가가 보입니다: 스텝 {step}에서 전체 BPTT {a:.0%}, 잘린 쪽 {b:.0%}.",
        "anyway": "잘린 쪽도 결국 배웠습니다({b:.0%}; 90% 도달: 전체 BPTT 스텝 {fa}, k={k} 스텝 {fb}). "
                  "기울기는 경계를 넘지 못했지만, 전달된 상태가 기호를 담고 있었고 마지막 조각이 그것을 읽는 법을 배웠습니다.",
        "neither": "{step} 스텝 뒤에도 둘 다 배우지 못했습니다: 전체 {a:.0%}, k={k} {b:.0%}.",
        "no_cut": "k={k}가 시퀀스 전체를 덮습니다. 잘림이 없어 전체 BPTT와 같은 학습입니다({a:.0%}, {b:.0%}).",
        "ahead": "스텝 {step}에서 잘린 쪽이 앞섭니다({b:.0%} 대 {a:.0%}). 기울기는 경계를 넘지 못했지만 "
                 "전달된 상태가 기호를 담고 있습니다.",
    },
}

SPARKS = "▁▂▃▄▅▆▇█"


def log_column(value: float, low: float, high: float) -> str:
    if not value > 0:
        return "·"
    share = (math.log10(value) - low) / max(high - low, 1e-12)
    return SPARKS[min(7, max(0, int(share * 7.999)))]


class BPTTLesson(Lesson):
    number = 5
    name = "bptt"
    title = {"en": "Backpropagation through time, and its truncation", "ko": "시간에 따른 역전파(BPTT)와 생략된 BPTT"}
    text = TEXT
    try_this = TRY_THIS
    keys = (
        LessonKey("left", "back", {"en": "walk back", "ko": "거슬러"}),
        LessonKey("right", "forward", {"en": "forward", "ko": "앞으로"}),
        LessonKey("left_square_bracket", "k_down", {"en": "k-", "ko": "k-"}),
        LessonKey("right_square_bracket", "k_up", {"en": "k+", "ko": "k+"}),
        LessonKey("c", "cell", {"en": "cell", "ko": "셀"}),
        *TRAINING_KEYS,
    )
    default_steps = 150

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.cell, self.k = "lstm", 5
        self.live = RaceRun(self.configs, speed=0)
        self.t: int | None = None  # how far the backward walk has come; None: at the last step

    def configs(self):
        base = replace(LESSON_RACE, span=SPAN, cells=(self.cell,), seed=self.seed)
        return {"full": replace(base, bptt=0), "cut": replace(base, bptt=self.k)}

    def press(self, action: str) -> None:
        T = self.live.races["full"].task.span + 1
        t = T - 1 if self.t is None else self.t
        if action == "back":
            self.t = max(0, t - 1)
        elif action == "forward":
            self.t = min(T - 1, t + 1)
        elif action in ("k_down", "k_up"):
            at = KS.index(self.k) + (1 if action == "k_up" else -1)
            self.k = KS[max(0, min(len(KS) - 1, at))]
            self.live.send("rebuild")
        elif action == "cell":
            self.cell = CELLS[(CELLS.index(self.cell) + 1) % len(CELLS)]
            self.live.send("rebuild")
        else:
            super().press(action)

    def view(self, lang: str, width: int):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from rnntui.lessons.draw import status

        w = pick(WORDS, lang)
        with self.still():
            races = self.live.races
            full, cut = races["full"].racers[0], races["cut"].racers[0]
            task, k = races["full"].task, races["cut"].config.bptt
            probe = task.batch(np.random.default_rng([self.seed, 5]), 1)
            inputs, targets, mask = probe.inputs[0], probe.targets[0], probe.mask[0]
            losses = step_losses(full.model, inputs, targets)
            walk_full = gradient_walk(full.model, inputs, targets, mask, k=0)
            walk_cut = gradient_walk(cut.model, inputs, targets, mask, k=k)
            acc_full, acc_cut = full.curve[-1].accuracy, cut.curve[-1].accuracy
            first_full, first_cut = first_at(full.curve, LEARNED), first_at(cut.curve, LEARNED)
            step, line = self.live.step, status(self.live, lang)
        T = len(inputs)
        t = T - 1 if self.t is None else min(self.t, T - 1)
        chars = task.vocab.decode(inputs)
        positive = np.concatenate([walk_full[walk_full > 0], walk_cut[walk_cut > 0]])
        high = math.log10(positive.max()) if positive.size else 0.0
        low = min(math.log10(positive.min()) if positive.size else -1.0, high - 1)

        def cells(render, style_of=lambda s: "", between=" ", cut="┃"):
            out = Text()
            for s in range(T):
                if s and s % k == 0:
                    out.append(cut, style="bold red")  # a chunk boundary of the truncated copy
                elif s:
                    out.append(between, style="dim")
                out.append(render(s), style=("bold reverse " if s == t else "") + style_of(s))
            return out

        grid = Table.grid(padding=(0, 1))
        grid.add_column(min_width=12)
        grid.add_column()
        grid.add_row(Text(f"{w['seq']} (t)"), cells(lambda s: chars[s], lambda s: "bold" if s in (0, T - 1) else "dim"))
        # The lecture's picture: the state goes forward across every cut, the gradient back only inside a chunk.
        grid.add_row(Text(w["forward"]), cells(lambda s: "h", lambda s: "green", between="→", cut="→"))
        grid.add_row(Text(w["backward"].format(k=k)), cells(lambda s: "∂", lambda s: "yellow", between="←", cut="╳"))
        # Only graded steps count in this task's loss; the others are shown as a dot.
        grid.add_row(Text(w["loss"]), cells(lambda s: f"{losses[s]:.2f}"[:4] if mask[s] else "·"))
        shown = lambda walk: lambda s: log_column(walk[s], low, high) if s >= t else " "  # noqa: E731
        grid.add_row(Text(w["full"]), cells(shown(walk_full), lambda s: "green"))
        grid.add_row(Text(w["cut"].format(k=k)), cells(shown(walk_cut), lambda s: "yellow"))
        at_cut = f"{walk_cut[t]:.1e}" if walk_cut[t] > 0 else w["zero"]
        start = (T - 1) // k * k
        notes = [w["cut_note"].format(k=k, start=start) if start > 0 else w["reaches"].format(k=k)]
        chance = task.chance
        if start == 0:
            notes.append(w["no_cut"].format(k=k, a=acc_full, b=acc_cut))
        elif acc_full < LEARNED and acc_cut < LEARNED:
            notes.append(w["wait"].format(step=step) if step < 400 else w["neither"].format(step=step, a=acc_full, k=k, b=acc_cut))
        elif acc_cut < LEARNED:
            notes.append(w["costs"].format(a=acc_full, b=acc_cut, step=step))
        elif acc_full < LEARNED:
            notes.append(w["ahead"].format(a=acc_full, b=acc_cut, k=k, step=step))
        else:
            notes.append(w["anyway"].format(b=acc_cut, fa=first_full, k=k, fb=first_cut))
        return Group(
            Text(w["task"].format(span=task.span, n=len(task.answers), c=task.chance, cell=full.cell.upper(), k=k), style="bold"),
            grid,
            Text(w["sum"].format(g=float(losses[mask > 0].sum()))),
            Text(w["grad"].format(t=t) + "   " + w["at"].format(t=t, a=walk_full[t], k=k, b=at_cut)),
            Text(""),
            Text(w["acc"].format(step=step, a=acc_full, k=k, b=acc_cut, c=chance), style="bold"),
            *[Text(n) for n in notes],
            line,
        )


LESSON = BPTTLesson
