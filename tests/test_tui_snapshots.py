"""SVG snapshots of the main screen and the help screen, on a seeded model.

Nothing here depends on time: the model takes a fixed number of steps before
the app starts (its run stays paused), the sample comes from a prompt whose
randomness is seeded by the step, and the screenshot waits until the run has
answered everything it was asked (the trace, the continuation).
Regenerate after a deliberate change with `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import time

from rnntui.tui.app import PlaygroundApp
from rnntui.tui.playground.shared_trainer import PLAYGROUND_CONFIG, new_trainer

SEEDED = PLAYGROUND_CONFIG.with_changes(
    corpus="fables", layers=2, hidden=24, embed=8, batch=4, seq_len=32, eval_every=20, eval_chars=400, seed=7,
)


def seeded_app(steps: int = 60) -> PlaygroundApp:
    trainer = new_trainer(SEEDED)
    for _ in range(steps):
        trainer.train_step()
        if trainer.step % SEEDED.eval_every == 0:
            trainer.evaluate_now()
    return PlaygroundApp(trainer)


async def answered(pilot, timeout: float = 30.0) -> None:
    """Wait until the run has answered every request (trace, sample, continuation) and it is shown."""
    deadline = time.monotonic() + timeout
    while not pilot.app.quiet:
        assert time.monotonic() < deadline, "the run never answered"
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def prompt_and_wait(pilot) -> None:
    await answered(pilot)
    await pilot.press("p", *"The fox ", "enter")
    await answered(pilot)
    await pilot.press("escape")  # back on the heatmap: no blinking cursor in the picture
    await answered(pilot)
    await pilot.pause(0.2)


def test_main_screen(snap_compare):
    assert snap_compare(seeded_app(), terminal_size=(120, 40), run_before=prompt_and_wait)


def test_main_screen_at_80x24(snap_compare):
    assert snap_compare(seeded_app(), terminal_size=(80, 24), run_before=prompt_and_wait)


def test_help_screen(snap_compare):
    async def open_help(pilot) -> None:
        await prompt_and_wait(pilot)
        await pilot.press("g", "question_mark")  # the forget gate is marked in the help
        await pilot.pause(0.2)

    assert snap_compare(seeded_app(), terminal_size=(120, 40), run_before=open_help)
