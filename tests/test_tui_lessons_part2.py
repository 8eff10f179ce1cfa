"""Lessons 5-9 on the lessons screen: each lesson's keys change what the screen shows."""

import pytest
from test_tui_app import screen_text, wait_until

from rnntui.lessons import find
from rnntui.tui.lessons.app import LessonsApp
from rnntui.tui.lessons.lesson_screen import lesson_screen

SIZE = (120, 40)


@pytest.mark.parametrize("name,key,before,after", [
    ("bptt", "right_square_bracket", "k = 5", "k = 10"),
    ("bptt", "left", "from t = T back to t = 19", "from t = T back to t = 18"),
    ("vanishing", "left", "20 steps back: factor", "19 steps back: factor"),
    ("lstm", "down", "unit 0 ", "unit 1 "),
    ("lstm", "right", "at t=4 'k'", "at t=5 'e'"),
    ("gru", "up", "unit 0 ", "unit 31 "),
    ("race", "left_square_bracket", "L=20", "L=10"),
    ("race", "f", "random fillers", "constant ('.') fillers"),
])
async def test_a_lesson_key_changes_the_screen(name, key, before, after):
    app = LessonsApp(lang="en", lesson=name)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: before in screen_text(app), what=before)
        await pilot.press(key)
        await wait_until(pilot, lambda: after in screen_text(app), what=after)


async def test_the_gates_lessons_train_live_and_their_step_climbs():
    app = LessonsApp(lang="ko", lesson="lstm")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "스텝 0" in screen_text(app), what="step 0")
        await pilot.press("s")
        await wait_until(pilot, lambda: "스텝 1 " in screen_text(app), what="step 1")
        assert "망각 게이트" in screen_text(app)


# ----- snapshots ------------------------------------------------------------------------------

# Steps each lesson's model takes before the picture: enough for its view to have something to say,
# few enough to keep the suite fast. Trained headless, before the screen opens, so nothing depends on time.
SNAPSHOT_STEPS = {"bptt": 40, "vanishing": 20, "lstm": 40, "gru": 40, "race": 20}


class TrainedLessonApp(LessonsApp):
    """The lessons app opened on one lesson whose model has already taken `steps` steps."""

    def __init__(self, name: str, steps: int, lang: str = "en", keys: tuple[str, ...] = ()):
        super().__init__(lang=lang)
        self.name_, self.steps, self.keys_ = name, steps, keys

    def on_mount(self, event) -> None:
        event.prevent_default()  # not the list beneath: the lesson alone, as `rnntui learn NAME` opens it
        screen = lesson_screen(find(self.name_), self.lang, 0)
        screen.lesson.train(self.steps)
        for action in self.keys_:
            screen.lesson.press(action)
        self.push_screen(screen)


@pytest.mark.parametrize("name", list(SNAPSHOT_STEPS))
def test_lesson_snapshot(snap_compare, name):
    async def shown(pilot) -> None:
        await wait_until(pilot, lambda: f"step {SNAPSHOT_STEPS[name]} " in screen_text(pilot.app), what="the view")
        await pilot.pause(0.1)

    keys = ("back", "back", "back") if name == "bptt" else ()  # the gradient walked three steps back
    app = TrainedLessonApp(name, SNAPSHOT_STEPS[name], keys=keys)
    assert snap_compare(app, terminal_size=SIZE, run_before=shown)


def test_lstm_snapshot_in_korean(snap_compare):
    async def shown(pilot) -> None:
        await wait_until(pilot, lambda: "스텝 40 " in screen_text(pilot.app), what="the view")
        await pilot.pause(0.1)

    assert snap_compare(TrainedLessonApp("lstm", 40, lang="ko"), terminal_size=SIZE, run_before=shown)


async def test_changing_k_starts_both_copies_again():
    app = LessonsApp(lang="en", lesson="bptt")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "step 0 " in screen_text(app), what="step 0")
        for _ in range(3):
            await pilot.press("s")
        await wait_until(pilot, lambda: "step 3 " in screen_text(app), what="step 3")
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: "k = 10" in screen_text(app) and "step 0 " in screen_text(app), what="k=10 from 0")
