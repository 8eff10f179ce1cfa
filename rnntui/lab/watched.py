"""A race that is watched: after every evaluation it also measures each cell's gradient reach and gate saturation.

The models are not thread-safe, so the measuring happens on the race's own
thread, between steps, and goes to the listeners as one more event right after
the standings it belongs to. A stop asked for mid-measurement is honoured
before the next cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.lab.race import Race, RaceConfig, Standings
from rnntui.lab.reach import Reach, gradient_reach
from rnntui.lab.saturation import GATES, GateSaturation, gate_saturation

PROBES = 4  # sequences the gradient reach is averaged over
SATURATION_ROWS = 64  # held-out sequences the gates are counted over


@dataclass(frozen=True)
class Measurement:
    step: int
    reach: dict[str, Reach]
    gates: dict[str, list[GateSaturation]]  # the gated cells only


class WatchedRace(Race):
    def __init__(self, config: RaceConfig):
        super().__init__(config)
        self.probe = self.task.batch(np.random.default_rng([self.config.seed, 2]), PROBES)

    def emit(self, event) -> None:
        super().emit(event)
        if isinstance(event, Standings):
            measurement = self.measure(event.step)
            if measurement is not None:
                super().emit(measurement)

    def measure(self, step: int) -> Measurement | None:
        """Reach of every cell and saturation of the gated ones, on the live models; None when told to stop."""
        reach, gates = {}, {}
        inputs = self.held_out.inputs[:SATURATION_ROWS]
        for racer in self.racers:
            if self.stopping:
                return None
            reach[racer.cell] = gradient_reach(racer.model, self.probe)
            if GATES[racer.cell]:
                gates[racer.cell] = gate_saturation(racer.model, inputs)
        return Measurement(step, reach, gates)
