"""One run, one worker, one way to talk: a run's events as Textual messages, batched and stamped.

Every screen that trains something (the playground, the memory lab, a lesson)
holds a RunWorker and gives it a run:

    worker = RunWorker(audience=[pane, ...])   # mounted once; it draws nothing
    worker.start(run)                          # run.run() in one thread worker; the old run is stopped
    worker.run.send("pause")                   # commands go straight to the run (thread-safe)

On the run's thread a listener only collects events. At most RATE times a
second the worker, on the UI thread, turns what was collected into messages:
one `Steps` for all the steps since the last delivery (the newest StepDone,
how many, a smoothed rate), then one message per other event, in order
(`Evaluated`, `Sampled`, `RunFailed`, `RunFinished`, or the message class
another module declared for its own event type). Each message goes to every
widget in the audience and bubbles from there as usual. A delivery collected
from a run that is no longer the worker's run is dropped here, the one place
that knows which run is current, so no pane ever checks.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual import on, work
from textual.message import Message
from textual.message_pump import MessagePump
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from rnntui.train.events import EvalDone, Event, Failed, Finished, SampleReady, StepDone
from rnntui.train.run import Run

RATE = 10  # deliveries a second, at most: the step counter looks live; each costs the training thread (one GIL)
RATE_SMOOTHING = 0.9  # per step: the header's chars/s is steady without lagging seconds behind
STOP_TIMEOUT = 1.0  # seconds; a paused run notices a stop within 50 ms, a running one after its step


class RunMessage(Message):
    """Something a run did; `run` is the run it came from (always the worker's current run)."""

    bubble = False  # each widget of the audience gets its own copy
    event_type: ClassVar[type | None] = None  # the run event this message carries, if one
    by_event: ClassVar[dict[type, type[RunMessage]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.event_type is not None:
            RunMessage.by_event[cls.event_type] = cls

    def __init__(self, run: Run, event=None) -> None:
        super().__init__()
        self.run = run
        self.event = event


class Steps(RunMessage):
    """Steps finished since the last delivery: `event` is the newest StepDone."""

    def __init__(self, run: Run, event: StepDone, count: int, chars_per_sec: float | None) -> None:
        super().__init__(run, event)
        self.count = count
        self.chars_per_sec = chars_per_sec


class Evaluated(RunMessage):
    event_type = EvalDone


class Sampled(RunMessage):
    event_type = SampleReady


class RunFailed(RunMessage):
    """The run stopped on an error (`event` is a Failed, also for an exception the run did not catch)."""

    event_type = Failed


class RunFinished(RunMessage):
    event_type = Finished


class OtherEvent(RunMessage):
    """An event no message class was declared for."""


class Collector:
    """The run's listener: on the run's thread it only piles events up for the next delivery."""

    def __init__(self, run: Run, wake) -> None:
        self.run = run
        self._wake = wake  # thread-safe: asks the UI thread for a delivery
        self._lock = threading.Lock()
        self._last: StepDone | None = None
        self._count = 0
        self._events: list[Event] = []
        self._rate: float | None = None
        self._asked = False

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, StepDone):
                if not event.skipped:
                    rate = event.chars_per_sec
                    self._rate = rate if self._rate is None else RATE_SMOOTHING * self._rate + (1 - RATE_SMOOTHING) * rate
                self._last, self._count = event, self._count + 1
            else:
                self._events.append(event)
            if self._asked:
                return
            self._asked = True
        self._wake(self)

    @property
    def waiting(self) -> bool:
        return self._asked

    def take(self) -> list[RunMessage]:
        """Everything since the last take, as messages (on the UI thread)."""
        with self._lock:
            last, count, events = self._last, self._count, self._events
            self._last, self._count, self._events, self._asked = None, 0, [], False
            rate = self._rate
        messages: list[RunMessage] = [Steps(self.run, last, count, rate)] if count else []
        for event in events:
            messages.append(RunMessage.by_event.get(type(event), OtherEvent)(self.run, event))
        return messages


class RunWorker(Widget):
    """Holds the current run, trains it in one thread worker and delivers its messages."""

    DEFAULT_CSS = "RunWorker { display: none; }"

    class Wake(Message):
        """From the run's thread: something was collected (sent once per delivery)."""

        def __init__(self, collector: Collector) -> None:
            super().__init__()
            self.collector = collector

    def __init__(self, audience: list[MessagePump] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.audience: list[MessagePump] = list(audience or [])
        self.run: Run | None = None
        self.worker: Worker | None = None
        self._collector: Collector | None = None
        self._ended = threading.Event()
        self._ended.set()
        self._delivered = 0.0

    @property
    def pending(self) -> bool:
        """Whether the current run said something not yet delivered."""
        return self._collector is not None and self._collector.waiting

    @property
    def alive(self) -> bool:
        """Whether the current run's loop is running (paused counts)."""
        return not self._ended.is_set()

    def start(self, run: Run) -> None:
        """Make `run` current and run it; the previous run is stopped and its late events dropped."""
        if run is not self.run:
            self.stop()
            self.run = run
        elif self.alive:
            return
        self._collector = Collector(run, lambda collector: self.post_message(self.Wake(collector)))
        self._ended.clear()
        self.worker = self._drive(run, self._collector, self._ended)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run")
    def _drive(self, run: Run, collector: Collector, ended: threading.Event) -> None:
        run.listeners.append(collector)
        try:
            run.run()
        finally:
            run.listeners.remove(collector)
            ended.set()

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """End the current run's loop; True when it ended within `timeout` seconds."""
        if self.run is None:
            return True
        self.run.request_stop()
        self.run.send("stop")
        return self._ended.wait(timeout)

    # ----- on the UI thread ----------------------------------------------------------------

    @on(Wake)
    def _wake(self, message: Wake) -> None:
        wait = self._delivered + 1 / RATE - time.monotonic()
        if wait > 0:
            self.set_timer(wait, lambda: self._deliver(message.collector))
        else:
            self._deliver(message.collector)

    def _deliver(self, collector: Collector) -> None:
        messages = collector.take()
        if collector is not self._collector or not self.is_attached:
            return  # from a run that was replaced, or the screen is closing: nobody wants it
        self._delivered = time.monotonic()
        for message in messages:
            self.tell(message)

    def tell(self, message: RunMessage) -> None:
        """Send one message to every widget in the audience (a fresh copy each: handlers may stop it)."""
        for target in self.audience:
            if isinstance(target, Widget) and not target.is_attached:
                continue
            copy = type(message).__new__(type(message))
            copy.__dict__.update(message.__dict__)
            Message.__init__(copy)
            target.post_message(copy)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # exit_on_error=False: an exception the run did not turn into Failed ends up here, as one.
        if event.worker is self.worker and event.state == WorkerState.ERROR and self.run is not None:
            step = getattr(self.run, "step", 0)
            self.tell(RunFailed(self.run, Failed(step, str(event.worker.error))))
