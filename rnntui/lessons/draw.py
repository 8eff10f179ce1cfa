"""Small drawing pieces the lesson views share: numbers as coloured cells, probabilities as bars.

Rich only, imported by a lesson's `view` (never by its module at import time,
so `rnntui learn --list` stays light). Colours: negative blue, positive red,
their strength the size of the value against `scale`; the lecture's boxes are
red for inputs, green for hidden states, blue for outputs.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style
from rich.text import Text

INPUT, HIDDEN, OUTPUT = "red", "green", "blue"  # the lecture's x_t, h_t and y_t boxes
TARGET = "bold yellow"
BAR_CHARS = " ▏▎▍▌▋▊▉█"


def heat(value: float, scale: float = 1.0) -> Style:
    """A background for `value`: white text on blue (negative) or red (positive), darker when near 0."""
    strength = min(abs(float(value)) / scale, 1.0) if scale > 0 else 0.0
    base = (40, 40, 40)
    far = (200, 40, 40) if value > 0 else (40, 80, 210)
    rgb = tuple(int(b + (f - b) * strength) for b, f in zip(base, far))
    return Style(color="white", bgcolor=Color.from_rgb(*rgb))


def number(value: float, width: int = 6, precision: int = 2, scale: float = 1.0) -> Text:
    """`value` printed to `precision`, right-aligned in `width` cells, on its heat colour."""
    value = float(value)
    if round(value, precision) == 0:
        value = 0.0  # never "-0.00"
    return Text(f"{value:>{width}.{precision}f}", style=heat(value, scale))


def vector(values, width: int = 6, precision: int = 2, scale: float = 1.0, sep: str = " ") -> Text:
    """A row of coloured numbers."""
    out = Text()
    for i, v in enumerate(values):
        if i:
            out.append(sep)
        out.append_text(number(v, width, precision, scale))
    return out


def bar(fraction: float, width: int) -> str:
    """A horizontal bar `fraction` (0..1) of `width` cells, in eighths of a cell."""
    eighths = int(round(max(0.0, min(1.0, float(fraction))) * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + (BAR_CHARS[part] if part else "")).ljust(width)


def one_hot(index: int, size: int) -> Text:
    """x_t as the lecture draws it: 1 at the character's place, 0 elsewhere."""
    out = Text()
    for i in range(size):
        if i:
            out.append(" ")
        out.append("1" if i == index else "0", style=f"bold white on {INPUT}" if i == index else "dim")
    return out


def status(run, lang: str, loss: bool = True, running: str = "training") -> Text:
    """The live model's line: its step, its loss (the last step's mean), the pace, and whether it runs.

    `running` names what it does when it runs: "training", or "writing" for a model that samples.
    """
    words = STATUS_WORDS[lang] if lang in STATUS_WORDS else STATUS_WORDS["en"]
    pace = words["full"] if run.speed == 0 else words["pace"].format(run.speed)
    state = words[running] if not run.paused and not run.finished else words["paused"]
    line = Text(f"{words['step']} {run.step}   ", style="dim")
    if loss:
        line.append(f"{words['loss']} {run.last.loss:.3f}   " if run.last is not None else "", style="dim")
    line.append(f"{pace}   ", style="dim")
    line.append(state, style="bold" if state == words["paused"] else "bold green")
    return line


STATUS_WORDS = {
    "en": {"step": "step", "loss": "loss", "pace": "{:g} steps/s", "full": "full speed",
           "training": "training", "writing": "writing", "paused": "paused"},
    "ko": {"step": "스텝", "loss": "손실", "pace": "초당 {:g} 스텝", "full": "최고 속도",
           "training": "학습 중", "writing": "쓰는 중", "paused": "멈춤"},
}
