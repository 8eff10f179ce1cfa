"""`rnntui learn`: the lessons, in the terminal UI or printed headless.

    rnntui learn                          the list of lessons (Enter opens one)
    rnntui learn char-lm                  one lesson, by name or number
    rnntui learn --list                   number, name and title, one a line (no terminal UI loaded)
    rnntui learn 3 --print --steps 300    train the lesson's model headless, print its view once

The language comes from --lang, or else from the locale (LC_ALL, LC_MESSAGES,
LANG: Korean when it starts with "ko").
"""

from __future__ import annotations

from typing import Optional

import typer

from rnntui.cli.common import app, error_line, terminal_ui_signals

PRINT_WIDTH = 120  # the width the lessons are laid out for (a 120x40 terminal)


@app.command()
def learn(
    lesson: Optional[str] = typer.Argument(None, help="A lesson's name or number; none opens the list."),
    lang: Optional[str] = typer.Option(None, "--lang", help="en or ko; default from the locale."),
    list_only: bool = typer.Option(False, "--list", help="Print the lessons, one a line, and exit."),
    print_view: bool = typer.Option(False, "--print", help="Train the lesson's model headless and print its view once."),
    steps: Optional[int] = typer.Option(None, "--steps", min=0, help="Training steps before --print (default: the lesson's own)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the lesson's model."),
    width: int = typer.Option(PRINT_WIDTH, "--width", min=40, help="Width --print lays the view out in."),
) -> None:
    """The lecture on recurrent networks, one lesson at a time, on small models training live."""
    from rnntui.lessons import LESSONS, find
    from rnntui.lessons.base import LANGUAGES, default_language, pick

    language = lang or default_language()
    if language not in LANGUAGES:
        error_line(f"--lang is one of {', '.join(LANGUAGES)}, got {language!r}")
        raise typer.Exit(2)
    if list_only:
        for found in LESSONS:
            typer.echo(f"{found.number}  {found.name:<12} {pick(found.title, language)}")
        return
    chosen = find(lesson) if lesson is not None else None
    if lesson is not None and chosen is None:
        names = ", ".join(f"{found.number} {found.name}" for found in LESSONS)
        error_line(f"no lesson {lesson!r}; the lessons are: {names}")
        raise typer.Exit(1)
    if print_view:
        if chosen is None:
            error_line("--print needs a lesson's name or number")
            raise typer.Exit(2)
        print_lesson(chosen(seed), language, chosen.default_steps if steps is None else steps, width)
        return
    terminal_ui_signals()
    from rnntui.tui.lessons.app import run_lessons

    run_lessons(chosen.number if chosen else None, language, seed)


def print_lesson(lesson, lang: str, steps: int, width: int) -> None:
    """The lesson as the screen shows it, as text: title, text, the live view, the "try this" line."""
    from rich.console import Console
    from rich.text import Text

    from rnntui.lessons.base import pick

    lesson.train(steps)
    console = Console(width=width, highlight=False)
    with console.capture() as captured:
        console.print(Text(f"{lesson.number}. {pick(lesson.title, lang)}", style="bold"))
        for line in pick(lesson.text, lang):
            console.print(Text(line))
        console.print()
        console.print(lesson.view(lang, width))
        console.print()
        console.print(Text(pick(lesson.try_this, lang), style="italic"))
    # Tables pad every line to the full width; notes are better without the trailing blanks.
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))
