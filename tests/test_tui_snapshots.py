"""SVG snapshots of the main screen and the help screen, on a seeded model.

Nothing here depends on time: the model takes a fixed number of steps before
the app starts (no training thread runs), the sample comes from a prompt whose
randomness is seeded by the step, and the screenshot waits for every worker.
Regenerate after a deliberate change with `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from rnntui.tui.app import PlaygroundApp
from rnntui.tui.playground.runner import PLAYGROUND_CONFIG, new_trainer

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


async def prompt_and_wait(pilot) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.press("p", *"The fox ", "enter")
    await app.workers.wait_for_complete()
    await pilot.press("escape")  # back on the heatmap: no blinking cursor in the picture
    await app.workers.wait_for_complete()
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
