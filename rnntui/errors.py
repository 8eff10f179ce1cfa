"""Errors a user can cause. Each carries one clear line; front ends print it and exit non-zero."""


class RnntuiError(Exception):
    """Base of every error that is the user's input, not a bug in rnntui."""


class CorpusError(RnntuiError):
    """A corpus that cannot be used: missing, empty, binary, not UTF-8, too short, not downloadable."""


class UnknownCharacterError(RnntuiError):
    """A character outside the model's vocabulary."""

    def __init__(self, char: str, position: int | None = None):
        self.char = char
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(
            f"character {char!r} (U+{ord(char):04X}){where} is not in the model's vocabulary"
        )


class CheckpointError(RnntuiError):
    """A checkpoint file that is missing, corrupt, foreign or inconsistent."""


class TrainingError(RnntuiError):
    """Training that cannot go on: a non-finite loss or gradient, a bad option."""


class TorchMissing(TrainingError):
    """A run asked to train on PyTorch where PyTorch is not installed."""


class OutputError(RnntuiError):
    """An output that cannot or must not be written: a special file, an input, a missing folder, a full disk."""
