"""The trainer-to-UI bridge: events pile up here on the training thread; the UI takes them in batches.

A step takes a few milliseconds, so forwarding every StepDone would flood the
UI's message queue. The trainer calls the feed (it is a listener); the feed
keeps only the newest StepDone, a smoothed rate, and every rarer event in
order. The app takes a batch on a timer (ten times a second), so the UI hears
from training at that rate however fast it runs, and nothing that arrives just
before a pause is left behind. Each take redraws the header, and every redraw
costs the training thread: the UI and the trainer share one interpreter lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from rnntui.train.events import Event, StepDone

RATE_SMOOTHING = 0.9  # per step: the header's chars/s is steady without lagging seconds behind
POLLS_PER_SECOND = 10  # the step counter still looks live; 20 costs training ~10% more


@dataclass
class Batch:
    """What happened since the UI last looked."""

    last_step: StepDone | None = None  # the newest step, if any step finished
    steps: int = 0  # how many steps finished
    chars_per_sec: float | None = None  # smoothed over steps
    events: list[Event] = field(default_factory=list)  # everything but StepDone, in order

    def __bool__(self) -> bool:
        return self.steps > 0 or bool(self.events)


class EventFeed:
    """A trainer listener that coalesces events until the UI takes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = Batch()
        self._rate: float | None = None

    def __call__(self, event: Event) -> None:  # on the training thread
        with self._lock:
            if isinstance(event, StepDone):
                if not event.skipped:
                    rate = event.chars_per_sec
                    self._rate = rate if self._rate is None else RATE_SMOOTHING * self._rate + (1 - RATE_SMOOTHING) * rate
                self._pending.last_step = event
                self._pending.steps += 1
                self._pending.chars_per_sec = self._rate
            else:
                self._pending.events.append(event)

    def take(self) -> Batch:
        """Everything since the last take (an empty, falsy Batch when nothing happened)."""
        with self._lock:
            batch, self._pending = self._pending, Batch(chars_per_sec=self._rate)
        return batch
