"""The lessons screen, driven with keys as a learner would, checked by what the screen shows.

Every lesson's model is real and trains in the screen's worker; nothing waits
a fixed time: each check polls the screen until what it expects is there.
"""

from __future__ import annotations

import re
import time

import pytest
from rich.cells import cell_len

from rnntui.lessons import LESSONS
from rnntui.tui.lessons.app import LessonsApp
from rnntui.tui.lessons.feed import LessonTick
from rnntui.tui.lessons.lesson_screen import LessonScreen
from rnntui.tui.lessons.list_screen import LessonListScreen


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for_text(pilot, pattern: str, timeout: float = 20.0) -> str:
    """Poll the screen until `pattern` (a regex) shows; the screen's text then."""
    deadline = time.monotonic() + timeout
    while True:
        text = screen_text(pilot.app)
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {pattern!r} on:\n{text}")
        await pilot.pause(0.05)


async def tap(pilot, *keys: str) -> None:
    """Keys as a terminal sends them, without pilot.press's wait for an idle process (a run trains)."""
    for key in keys:
        pilot.app.simulate_key(key)
        await pilot.pause(0.02)


@pytest.fixture
def quick_sampling(monkeypatch):
    """The sampling lesson's model trained 8 steps instead of its few hundred: the screen is the same."""
    monkeypatch.setattr("rnntui.lessons.sampling.TRAIN_STEPS", 8)


async def test_the_list_opens_each_lesson_and_esc_comes_back():
    app = LessonsApp("en")
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for_text(pilot, "sampling")
        for lesson in LESSONS:
            assert f"{lesson.number}. {lesson.name}" in text
        await pilot.press("enter")
        await wait_for_text(pilot, r"1\. Recurrence")
        assert isinstance(app.screen, LessonScreen)
        await tap(pilot, "n")
        await wait_for_text(pilot, r"2\. The shapes of an RNN")
        await tap(pilot, "p")
        await wait_for_text(pilot, r"1\. Recurrence")
        await tap(pilot, "escape")
        await wait_for_text(pilot, "rnntui lessons")
        assert isinstance(app.screen, LessonListScreen)
        await pilot.press("down", "down", "enter")
        await wait_for_text(pilot, r"3\. The character-level language model")
        await tap(pilot, "escape", "escape")
        await pilot.pause(0.1)
    assert app.return_code == 0


async def test_recurrence_walks_through_time_and_steps():
    app = LessonsApp("en", lesson="recurrence")
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for_text(pilot, r"x_0 = h")
        assert "(zero: nothing came before)" in text
        await tap(pilot, "right", "right")
        text = await wait_for_text(pilot, r"x_2 = l")
        assert "nothing came before" not in text
        await tap(pilot, "left")
        text = await wait_for_text(pilot, r"x_1 = e")
        before = re.search(r"─tanh→\s+(-?\d\.\d\d)", text).group(1)
        await tap(pilot, "s")
        await wait_for_text(pilot, r"step 1 .*paused")
        await tap(pilot, "plus", "plus", "plus", "space")  # 2 -> 5 -> 10 -> 20 steps a second
        text = await wait_for_text(pilot, r"step [1-9]\d+ .*20 steps/s\s+training")
        await tap(pilot, "space")
        await wait_for_text(pilot, r"paused")
        await tap(pilot, "r")
        text = await wait_for_text(pilot, r"step 0 ")
        assert re.search(r"─tanh→\s+(-?\d\.\d\d)", text).group(1) == before  # the same seed again


async def test_char_lm_learns_while_the_learner_watches():
    app = LessonsApp("en", lesson="char-lm")
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for_text(pilot, r"sum of losses")
        start = float(re.search(r"= (\d+\.\d+)\s*$", text, re.M).group(1))
        await tap(pilot, "s", "s", "s")
        await wait_for_text(pilot, r"step 3 ")
        for _ in range(6):
            await tap(pilot, "plus")
        await tap(pilot, "space")  # full speed
        text = await wait_for_text(pilot, r"(?m)= 0\.[0-2]\d\d\s*$")
        assert float(re.search(r"= (\d+\.\d+)\s*$", text, re.M).group(1)) < start / 10


async def test_shapes_choose_a_shape_and_train_recall():
    app = LessonsApp("en", lesson="shapes")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_text(pilot, r"A whole sequence in")
        await tap(pilot, "right")
        await wait_for_text(pilot, r"Read everything first")
        await tap(pilot, "right")
        text = await wait_for_text(pilot, r"An output at every input")
        assert re.search(r"h→e p=\d\.\d\d\s+e→l p=\d\.\d\d\s+l→l p=\d\.\d\d\s+l→o", text)
        await tap(pilot, "right", "right")
        await wait_for_text(pilot, r"One start character")
        await tap(pilot, "right")  # back to many to one
        await wait_for_text(pilot, r"accuracy \d+%")
        await tap(pilot, "plus", "plus", "plus", "space")
        await wait_for_text(pilot, r"accuracy (9\d|100)%", timeout=60)


async def test_sampling_draws_and_temperature_reshapes_the_bars(quick_sampling):
    app = LessonsApp("en", lesson="sampling")
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for_text(pilot, r"the next character, after")
        top = float(re.search(r"^ \S+\s+(0\.\d{3})", text.split("(sampled)")[1].lstrip("\n"), re.M).group(1))
        await tap(pilot, "down", "down")  # T = 0.8 -> 0.5 -> 0.2
        text = await wait_for_text(pilot, r"T = 0\.2")
        sharper = float(re.search(r"^ \S+\s+(0\.\d{3})", text.split("(sampled)")[1].lstrip("\n"), re.M).group(1))
        assert sharper > top
        await tap(pilot, "s")
        await wait_for_text(pilot, r"\(1 characters drawn\)")
        await tap(pilot, "g")
        await wait_for_text(pilot, r"\(greedy")
        await tap(pilot, "space")
        await wait_for_text(pilot, r"\((\d\d+) characters drawn\)")
        await tap(pilot, "space", "r")
        await wait_for_text(pilot, r"written so far:\s+The ▏")


async def test_korean_lesson_keeps_hangul_columns_aligned():
    app = LessonsApp("ko", lesson="char-lm")
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for_text(pilot, "손실의 합")
        assert "문자 단위 언어 모델" in text and "다음" in text  # the title and the footer in Korean
        lines = text.splitlines()
        header = next(line for line in lines if "t=0" in line)
        inputs = next(line for line in lines if "입력 x_t" in line)
        # each step's column starts at the same cell in the header and in the row that begins with Hangul
        starts = [cell_len(header[: header.index(f"t={t}")]) for t in range(4)]
        blocks = [m.start() for m in re.finditer(r"[01] [01] [01] [01]", inputs)]
        assert [cell_len(inputs[:b]) for b in blocks] == starts


SNAPSHOT_WAIT = {1: "x_0 = h", 2: "A whole sequence in", 3: "sum of losses", 4: "the next character, after"}


@pytest.mark.parametrize("lesson", LESSONS[:4], ids=lambda lesson: lesson.name)
def test_lesson_snapshot(snap_compare, quick_sampling, lesson):
    async def opened(pilot) -> None:
        await wait_for_text(pilot, SNAPSHOT_WAIT[lesson.number])
        await pilot.pause(0.1)

    assert snap_compare(LessonsApp("en", lesson=lesson.name, seed=0), terminal_size=(120, 40), run_before=opened)


def test_the_feed_posts_one_tick_at_a_time_and_keeps_what_came_meanwhile():
    from rnntui.tui.lessons.feed import RunFeed
    from rnntui.train.events import Finished, StepDone

    posted = []
    run = object()
    feed = RunFeed(run, posted.append)
    step = StepDone(1, 0.5, 1.0, 0, 0.1, 0.01)
    feed(step)
    feed(step)
    feed(step)
    assert len(posted) == 1 and posted[0].run is run  # the first tick is in flight: no more posted
    assert feed.release() is True  # two steps came meanwhile: redraw again, still held
    assert feed.release() is False  # nothing since: free
    feed(Finished(3, "stopped"))
    assert len(posted) == 2  # free again: the next event posts at once


async def test_a_tick_from_another_run_is_dropped():
    app = LessonsApp("en", lesson="recurrence")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_text(pilot, r"step 0 ")
        screen = app.screen
        live = screen.lesson.live
        for _ in range(3):
            with live.stepping():
                live.advance()  # the model moves, but no listener hears of it
        screen.post_message(LessonTick(object()))
        await pilot.pause(0.1)
        assert "step 0 " in screen_text(app)  # the stranger's tick drew nothing
        screen.post_message(LessonTick(screen.run_))
        await wait_for_text(pilot, r"step 3 ")


async def test_the_list_opens_over_another_app_and_esc_returns_to_it():
    """How the playground opens the lessons: push the list; Esc comes back to what was there."""
    from textual.app import App
    from textual.widgets import Static

    from rnntui.tui.lessons.list_screen import lesson_list

    class Host(App):
        def compose(self):
            yield Static("the host screen")

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(lesson_list("ko"))
        await wait_for_text(pilot, "rnntui 강의")
        await pilot.press("enter")
        await wait_for_text(pilot, r"1\. 순환 구조")
        await tap(pilot, "escape")
        await wait_for_text(pilot, "rnntui 강의")
        await tap(pilot, "escape")
        await wait_for_text(pilot, "the host screen")
