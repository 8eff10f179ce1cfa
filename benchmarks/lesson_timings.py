"""How long lessons 5-9 take to show their point, run as the lessons screen runs them.

Each lesson's run trains on its own thread at the pace the screen starts it
with (space pressed once), while this thread asks, every few tenths of a
second, whether the numbers on screen already say what the lesson is about:

    bptt       full BPTT has learned the recall (>= 90%) and the truncated copy has not yet
    vanishing  the LSTM and the GRU have learned it, so the "after" reach is a trained model's
    lstm/gru   200 steps at the screen's pace (the gates of a model that has started to write)
    race       both gated cells remember (>= 90%)

It also times one `view()` call of each (what a redraw costs). Run on a busy
machine the seconds grow: say what else was running when you quote them.

    python benchmarks/lesson_timings.py [--limit SECONDS] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from threadpoolctl import threadpool_limits

from rnntui.lessons import find


def accuracy(racer) -> float:
    return racer.curve[-1].accuracy


def bptt_point(lesson) -> bool:
    return accuracy(lesson.live.races["full"].racers[0]) >= 0.9


def gated_learned(lesson) -> bool:
    racers = {r.cell: r for r in lesson.race.racers}
    return accuracy(racers["lstm"]) >= 0.9 and accuracy(racers["gru"]) >= 0.9


def two_hundred_steps(lesson) -> bool:
    return lesson.live.step >= 200


def detail(name: str, lesson) -> str:
    """What the screen says at that moment, in numbers."""
    if name == "bptt":
        full, cut = (lesson.live.races[k].racers[0] for k in ("full", "cut"))
        return f"full BPTT {accuracy(full):.0%}, k={lesson.k} {accuracy(cut):.0%}"
    if name in ("vanishing", "race"):
        return ", ".join(f"{r.cell} {accuracy(r):.0%}" for r in lesson.race.racers)
    return f"loss {lesson.live.last.loss:.2f} nats"


POINTS = {"bptt": bptt_point, "vanishing": gated_learned, "lstm": two_hundred_steps, "gru": two_hundred_steps,
          "race": gated_learned}


def measure(name: str, limit: float) -> None:
    lesson = find(name)(seed=0)
    start = time.perf_counter()
    lesson.view("en", 118)
    first_view = time.perf_counter() - start
    run = lesson.live
    thread = threading.Thread(target=run.run, daemon=True)
    thread.start()
    start = time.perf_counter()
    lesson.press("play")
    reached, said = None, ""
    while time.perf_counter() - start < limit:
        time.sleep(0.2)
        with lesson.still():
            if POINTS[name](lesson):
                reached = time.perf_counter() - start
                said = detail(name, lesson)
                break
    steps = run.step
    run.send("stop")
    thread.join()
    start = time.perf_counter()
    lesson.view("en", 118)
    view = time.perf_counter() - start
    shown = f"{reached:6.1f} s at step {steps}" if reached is not None else f"not within {limit:.0f} s (step {steps})"
    print(f"{name:<10} point shown: {shown:<28} {said:<28} first view {first_view * 1000:4.0f} ms, "
          f"trained view {view * 1000:4.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=300.0, help="Give up on a lesson after this many seconds.")
    parser.add_argument("--only", nargs="*", default=list(POINTS), help="Lessons to time.")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start")
    with threadpool_limits(limits=1, user_api="blas"):  # as `rnntui learn` runs: one BLAS thread
        for name in args.only:
            measure(name, args.limit)


if __name__ == "__main__":
    main()
