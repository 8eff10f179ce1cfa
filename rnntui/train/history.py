"""Loss history that stays small however long training runs.

Training losses are smoothed (an exponential moving average, debiased like
Adam's moments so the first steps are not pulled toward zero). When a series
outgrows its budget, every other point is dropped: memory stays flat over
hours, and the curve keeps its shape.
"""

from __future__ import annotations

SMOOTHING = 0.98
MAX_POINTS = 2000


class History:
    def __init__(self) -> None:
        self.train: list[tuple[int, float]] = []  # (step, smoothed loss)
        self.val: list[tuple[int, float]] = []
        self._average = 0.0
        self._weight = 0.0

    @property
    def smoothed(self) -> float:
        return self._average / self._weight if self._weight else float("nan")

    def add_train(self, step: int, loss: float) -> None:
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * loss
        self._weight = SMOOTHING * self._weight + (1 - SMOOTHING)
        self.train.append((step, self.smoothed))
        if len(self.train) > MAX_POINTS:
            self.train = thin(self.train)

    def add_val(self, step: int, loss: float) -> None:
        self.val.append((step, loss))
        if len(self.val) > MAX_POINTS:
            self.val = thin(self.val)

    def to_json(self) -> dict:
        return {"train": self.train, "val": self.val, "average": self._average, "weight": self._weight}

    @classmethod
    def from_json(cls, data: dict) -> History:
        history = cls()
        history.train = [tuple(p) for p in data.get("train", [])]
        history.val = [tuple(p) for p in data.get("val", [])]
        history._average = data.get("average", 0.0)
        history._weight = data.get("weight", 0.0)
        return history


def thin(points: list) -> list:
    """Every other point, always keeping the newest."""
    return points[-1::-2][::-1]
