"""Options that take one of a few words, as Typer choices: listed in --help and completed by the shell.

Each is made from the tuple the engine or the data already names, so a new
cell or optimizer becomes a choice without touching the CLI.
"""

from __future__ import annotations

from enum import Enum

from rnntui.data.tasks import FILLERS, TASKS
from rnntui.engine.optim import OPTIMIZERS
from rnntui.engine.shape import CELLS
from rnntui.train.config import DEVICES, ENGINES


def choice(name: str, words: tuple[str, ...]) -> type[Enum]:
    return Enum(name, {word: word for word in words}, type=str)


Cell = choice("Cell", CELLS)
CellOrAll = choice("CellOrAll", (*CELLS, "all"))
Optimizer = choice("Optimizer", OPTIMIZERS)
Dtype = choice("Dtype", ("float32", "float64"))
Engine = choice("Engine", ENGINES)
Device = choice("Device", DEVICES)
Bptt = choice("Bptt", ("truncated", "full"))
Task = choice("Task", TASKS)
Filler = choice("Filler", FILLERS)

# The panels `rnntui train --help` groups its options in.
MODEL, DATA, TRAINING, OUTPUT = "Model", "Data", "Training", "Output"
