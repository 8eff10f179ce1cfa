"""Loss history that stays small however long training runs, and keeps its shape.

Training losses are smoothed (an exponential moving average, debiased like
Adam's moments so the first steps are not pulled toward zero). Each series
keeps its points in buckets of equal width in steps: a bucket holds the mean,
the minimum and the maximum of the values that fell in it. When a series
outgrows its budget, neighbouring buckets merge in pairs and the width
doubles, so memory stays flat over hours while every region of the run, the
first steps as much as the last, is drawn at the same density.

    history.train, history.val     [(step, mean)]: each bucket's mean at its last step
    history.train_bands, .val_bands  [(step, low, high)]: each bucket's range, for a chart that draws it
"""

from __future__ import annotations

SMOOTHING = 0.98
MAX_POINTS = 1000  # buckets per series; between half and all of them are in use


class Series:
    """Values against step in equal-width buckets: [last step, sum, min, max, weight] each."""

    def __init__(self, budget: int = MAX_POINTS) -> None:
        self.budget = budget
        self.width = 1  # steps per bucket
        self.buckets: list[list] = []

    def _index(self, step: int) -> int:
        return (step - 1) // self.width  # bucket i holds steps i*w + 1 .. (i+1)*w

    def add(self, step: int, value: float, weight: float = 1.0) -> None:
        last = self.buckets[-1] if self.buckets else None
        if last is not None and self._index(last[0]) == self._index(step):
            last[0] = step
            last[1] += value * weight
            last[2] = min(last[2], value)
            last[3] = max(last[3], value)
            last[4] += weight
        else:
            self.buckets.append([step, value * weight, value, value, weight])
        if len(self.buckets) > self.budget:
            self._merge()

    def _merge(self) -> None:
        """Double the width, merging neighbouring buckets, until the series fits its budget again.

        Points sparser than the width (an evaluation every 100 steps) merge only once the width passes their spacing.
        """
        while len(self.buckets) > self.budget:
            self._double()

    def _double(self) -> None:
        self.width *= 2
        merged: list[list] = []
        for bucket in self.buckets:
            if merged and self._index(merged[-1][0]) == self._index(bucket[0]):
                into = merged[-1]
                into[0] = bucket[0]
                into[1] += bucket[1]
                into[2] = min(into[2], bucket[2])
                into[3] = max(into[3], bucket[3])
                into[4] += bucket[4]
            else:
                merged.append(list(bucket))
        self.buckets = merged

    @property
    def points(self) -> list[tuple[int, float]]:
        return [(b[0], b[1] / b[4]) for b in self.buckets]

    @property
    def bands(self) -> list[tuple[int, float, float]]:
        return [(b[0], b[2], b[3]) for b in self.buckets]

    def to_json(self) -> dict:
        return {"width": self.width, "buckets": self.buckets}

    @classmethod
    def from_json(cls, data) -> Series:
        series = cls()
        if isinstance(data, list):
            # Written before buckets: thinned (step, value) points. Each stands for the steps since the
            # point before it, which is how much of a bucket's mean it is given.
            previous = 0
            for step, value in data:
                series.add(int(step), float(value), weight=max(int(step) - previous, 1))
                previous = int(step)
            return series
        series.width = int(data.get("width", 1))
        series.buckets = [list(b) for b in data.get("buckets", [])]
        series._merge()
        return series


class History:
    def __init__(self) -> None:
        self.train_series = Series()  # smoothed training loss
        self.val_series = Series()
        self._average = 0.0
        self._weight = 0.0

    @property
    def smoothed(self) -> float:
        return self._average / self._weight if self._weight else float("nan")

    @property
    def train(self) -> list[tuple[int, float]]:
        return self.train_series.points

    @property
    def val(self) -> list[tuple[int, float]]:
        return self.val_series.points

    @property
    def train_bands(self) -> list[tuple[int, float, float]]:
        return self.train_series.bands

    @property
    def val_bands(self) -> list[tuple[int, float, float]]:
        return self.val_series.bands

    def add_train(self, step: int, loss: float) -> None:
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * loss
        self._weight = SMOOTHING * self._weight + (1 - SMOOTHING)
        self.train_series.add(step, self.smoothed)

    def add_val(self, step: int, loss: float) -> None:
        self.val_series.add(step, loss)

    def to_json(self) -> dict:
        return {
            "train": self.train_series.to_json(), "val": self.val_series.to_json(),
            "average": self._average, "weight": self._weight,
        }

    @classmethod
    def from_json(cls, data: dict) -> History:
        """Either form: buckets, or the (step, value) lists that checkpoints held before them."""
        history = cls()
        history.train_series = Series.from_json(data.get("train", []))
        history.val_series = Series.from_json(data.get("val", []))
        history._average = data.get("average", 0.0)
        history._weight = data.get("weight", 0.0)
        return history
