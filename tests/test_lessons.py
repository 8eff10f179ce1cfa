"""The lessons headless: `rnntui learn --list` and `--print`, read back as a learner would read them.

The printed numbers are parsed and checked against each other (the softmax
sums to 1, h_t is tanh of its printed sum), so a view that drew the wrong
number, or a model that did not learn, fails here.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from rich.cells import cell_len

from rnntui.lessons import LESSONS, find
from rnntui.lessons.base import LANGUAGES, MAX_TEXT_LINES, SCREEN_KEYS, default_language
from rnntui.lessons.hello import CHARS, hello_run
from rnntui.train.events import StepDone
from tests.cli_helpers import run

NUMBER = r"-?\d+\.\d+"


def printed(name: str, *args: str, lang: str = "en") -> str:
    result = run("learn", name, "--print", "--lang", lang, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


# ----- the list and the registry ----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_list_prints_number_name_and_title_one_a_line(lang):
    result = run("learn", "--list", "--lang", lang)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(LESSONS) >= 4
    for line, lesson in zip(lines, LESSONS):
        number, name, title = line.split(maxsplit=2)
        assert (int(number), name, title) == (lesson.number, lesson.name, lesson.title[lang])
    assert [lesson.name for lesson in LESSONS[:4]] == ["recurrence", "shapes", "char-lm", "sampling"]


@pytest.mark.parametrize(
    "env, lang",
    [({"LANG": "ko_KR.UTF-8"}, "ko"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LC_ALL": "ko_KR", "LANG": "C"}, "ko"), ({}, "en")],
)
def test_the_locale_picks_the_language(monkeypatch, env, lang):
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert default_language() == lang


def test_list_imports_no_textual():
    """A real child process in a Korean locale: the Korean list, and Textual never loaded."""
    probe = (
        "import sys\n"
        "from rnntui.cli import app\n"
        "try:\n    app(['learn', '--list'])\nexcept SystemExit:\n    pass\n"
        "print('textual' in sys.modules, file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=dict(env, LANG="ko_KR.UTF-8"), capture_output=True, text=True, check=True,
    )
    assert find("char-lm").title["ko"] in result.stdout
    assert result.stderr.strip() == "False"


def test_find_by_name_or_number():
    assert find("char-lm") is find(3) is find("3")
    assert find("no-such-lesson") is None


def test_an_unknown_lesson_is_one_line_naming_the_lessons():
    result = run("learn", "no-such-lesson")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert all(lesson.name in result.stderr for lesson in LESSONS)


def test_a_bad_language_is_one_line():
    result = run("learn", "--list", "--lang", "fr")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["rnntui: error: --lang is one of en, ko, got 'fr'"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_every_lesson_has_both_languages_and_at_most_eight_lines(lesson):
    for lang in LANGUAGES:
        assert lesson.title[lang] and lesson.try_this[lang]
        assert 1 <= len(lesson.text[lang]) <= MAX_TEXT_LINES
        # one terminal line each at 120 columns (the screen pads one column a side): Hangul takes two cells
        for line in [lesson.title[lang], lesson.try_this[lang], *lesson.text[lang]]:
            assert cell_len(line) <= 118, line
    for key in lesson.keys:
        assert key.key not in SCREEN_KEYS
        assert set(key.help) == set(LANGUAGES)


# ----- char-lm: the lecture's "hello" -----------------------------------------------------


def char_lm_columns(text: str):
    """From a printed char-lm view: per step, {char: (score, p)}, the target, and the losses."""
    rows = {}
    for line in text.splitlines():
        cells = re.findall(rf"([helo]) +({NUMBER}) +({NUMBER})", line)
        if len(cells) == 4:
            rows[cells[0][0]] = [(float(s), float(p)) for _, s, p in cells]
    targets = re.search(r"(?:target|정답)\s+(\w)\s+(\w)\s+(\w)\s+(\w)", text).groups()
    losses = [float(x) for x in re.search(rf"(?:loss|손실) +({NUMBER}) +({NUMBER}) +({NUMBER}) +({NUMBER})\s*$",
                                           text, re.M).groups()]
    total = re.search(rf"= ({NUMBER})\s*$", text, re.M)
    return rows, targets, losses, float(total.group(1))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_char_lm_learns_hello_and_its_numbers_add_up(lang):
    rows, targets, losses, total = char_lm_columns(printed("char-lm", "--steps", "300", lang=lang))
    assert set(rows) == set(CHARS) and targets == ("e", "l", "l", "o")
    for t in range(4):
        probs = {c: rows[c][t][1] for c in CHARS}
        assert abs(sum(probs.values()) - 1) <= 0.002  # four values printed to 3 places
        assert probs[targets[t]] > 0.9
        # the softmax of the printed scores gives the printed probabilities
        scores = np.array([rows[c][t][0] for c in CHARS])
        soft = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        assert np.allclose(soft, [probs[c] for c in CHARS], atol=0.02)
        assert losses[t] == pytest.approx(-math.log(max(probs[targets[t]], 1e-3)), abs=0.002)
    assert total == pytest.approx(sum(losses), abs=0.002)


def test_char_lm_untrained_is_unsure():
    rows, targets, _, total = char_lm_columns(printed("char-lm", "--steps", "0"))
    assert all(rows[c][t][1] < 0.9 for t, c in enumerate(targets))
    assert total > 2.0


# ----- recurrence: every term of one step -------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_recurrence_prints_h_as_tanh_of_its_sum(lang):
    text = printed("recurrence", "--steps", "20", lang=lang)
    rows = re.findall(
        rf"^\s+(\d)\s+({NUMBER})\s+\+\s+({NUMBER})\s+\+\s+({NUMBER})\s+=\s+({NUMBER})\s+─tanh→\s+({NUMBER})", text, re.M,
    )
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    for _, past, now, b, total, h in rows:
        past, now, b, total, h = map(float, (past, now, b, total, h))
        assert total == pytest.approx(past + now + b, abs=0.016)  # three roundings to 2 places
        assert h == pytest.approx(math.tanh(total), abs=0.01)
    # t = 0: nothing came before, so the recurrent term is zero
    assert all(float(r[1]) == 0.0 for r in rows)


def test_the_embedding_stays_the_identity_while_the_rest_learns():
    live = hello_run(seed=4)
    before = live.model.flat.copy()
    live.train(50)
    assert np.array_equal(live.model.params["embedding.weight"], np.eye(len(CHARS)))
    assert not np.allclose(live.model.params["rnn.weight_hh_l0"], before[16:25].reshape(3, 3))


# ----- the live run: commands from another thread -----------------------------------------


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_lesson_run_steps_once_trains_on_toggle_and_resets():
    live = hello_run(seed=1)
    start = live.model.flat.copy()
    steps = []
    live.listeners.append(lambda e: steps.append(e) if isinstance(e, StepDone) else None)
    thread = threading.Thread(target=live.run)
    thread.start()
    try:
        live.send("step")
        wait_for(lambda: len(steps) == 1)
        assert live.paused and live.step == 1
        live.send("speed", 0)
        live.send("toggle")
        wait_for(lambda: live.step >= 100)
        live.send("toggle")
        wait_for(lambda: live.paused)
        live.send("reset")
        wait_for(lambda: live.step == 0)
        assert np.array_equal(live.model.flat, start)
    finally:
        live.send("stop")
        thread.join(5)
    assert not thread.is_alive()


# ----- shapes and sampling ----------------------------------------------------------------


def test_shapes_recall_learns_its_one_scored_answer():
    before = printed("shapes", "--steps", "0")
    after = printed("shapes", "--steps", "200")
    accuracy = lambda text: int(re.search(r"accuracy (\d+)%", text).group(1))  # noqa: E731
    assert accuracy(before) < 40 and accuracy(after) >= 90
    for shape in ("one to one", "one to many", "many to one", "many to many (delayed)", "many to many (synced)"):
        assert shape in after


def test_sampling_bars_are_a_distribution_and_temperature_reshapes_them():
    text = printed("sampling", "--steps", "5")
    bars = [line for line in text.splitlines() if re.search(r"\s0\.\d{3}  [█▉▊▋▌▍▎▏ ]*$", line) and "others" not in line]
    shown = [float(re.search(r"\s(0\.\d{3})  ", line).group(1)) for line in bars]
    others = float(re.search(rf"all others\s+({NUMBER})", text).group(1))
    assert len(shown) == 10 and shown == sorted(shown, reverse=True)
    assert sum(shown) + others == pytest.approx(1.0, abs=0.006)
    lesson = find("sampling")(seed=0)
    lesson.train(5)
    tops = []
    for action in ("cooler", "cooler", "hotter", "hotter", "hotter"):
        lesson.press(action)
        tops.append(lesson.live.distribution().max())
    assert tops[1] > tops[2] > tops[3] > tops[4]  # the lower T, the more on the top character


def test_greedy_always_draws_the_top_character():
    lesson = find("sampling")(seed=2)
    lesson.train(10)
    lesson.press("greedy")
    for _ in range(20):
        top = int(np.argmax(lesson.live.distribution()))
        event = lesson.live.draw()
        assert event.text == lesson.live.vocab.chars[top]
