"""Lessons 5-9 on the lessons screen: each lesson's keys change what the screen shows."""

import pytest
from test_tui_app import screen_text, wait_until

from rnntui.tui.lessons.app import LessonsApp

SIZE = (120, 40)


@pytest.mark.parametrize("name,key,before,after", [
    ("bptt", "right_square_bracket", "k = 5", "k = 10"),
    ("bptt", "left", "from t = T back to t = 20", "from t = T back to t = 19"),
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
