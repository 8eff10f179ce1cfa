"""How the playground holds up while training at full speed.

Two figures, both measured in this process on the same model:

- key latency: while training runs, press t / T (temperature down / up) and
  time each press until the header line is drawn with the new temperature;
  the p95 must stay under 100 ms.
- throughput: characters trained per second inside the app (space pressed,
  wall clock, evaluations included) against `Trainer.train_step` called in a
  plain loop; the app must keep at least 70% of it.

    python benchmarks/tui_responsiveness.py [--seconds 10] [--presses 60]

Textual runs headless (App.run_test) at 120x40, as the tests do.
"""

from __future__ import annotations

import os

# One BLAS thread: the UI thread needs the other core. Must precede numpy's import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from textual import events  # noqa: E402

from rnntui.tui.app import PlaygroundApp  # noqa: E402
from rnntui.tui.playground.shared_trainer import PLAYGROUND_CONFIG, new_trainer  # noqa: E402
from rnntui.tui.playground.status import StatusLine  # noqa: E402


def headless_chars_per_sec(config, seconds: float) -> float:
    trainer = new_trainer(config)
    for _ in range(3):
        trainer.train_step()  # buffers allocated, caches warm
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.train_step()
        steps += 1
    return steps * trainer.batch * config.seq_len / (time.perf_counter() - start)


class DrawnTemperature:
    """Records when the header line is drawn, and what temperature it shows."""

    def __init__(self) -> None:
        self.drawn: list[tuple[float, str]] = []
        original = StatusLine.render_lines

        def render_lines(widget, crop):
            strips = original(widget, crop)
            self.drawn.append((time.perf_counter(), "".join(s.text for s in strips)))
            return strips

        StatusLine.render_lines = render_lines

    async def wait_for(self, text: str, since: float, timeout: float = 5.0) -> float:
        while time.perf_counter() - since < timeout:
            for when, shown in reversed(self.drawn):
                if when >= since and text in shown:
                    return when - since
            await asyncio.sleep(0.001)
        raise TimeoutError(f"the header never showed {text!r}")


async def in_app(config, seconds: float, presses: int) -> tuple[float, list[float]]:
    drawn = DrawnTemperature()
    app = PlaygroundApp(new_trainer(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("space")
        await pilot.pause(1.0)  # past the first steps, the first sample and trace
        trainer = app.trainer
        step0, start = trainer.step, time.perf_counter()
        await asyncio.sleep(seconds)
        rate = (trainer.step - step0) * trainer.batch * config.seq_len / (time.perf_counter() - start)

        latencies = []
        for i in range(presses):
            key = "t" if i % 2 == 0 else "T"
            expected = round(app.temperature + (-0.1 if key == "t" else 0.1), 2)
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, key))  # what the terminal driver does with a key
            latencies.append(await drawn.wait_for(f"T {expected:.2f}", sent))
            await asyncio.sleep(0.05 + (i % 7) * 0.013)  # presses at irregular moments of the step cycle
        assert app.training and trainer.step > step0, "training did not run during the measurement"
        await pilot.press("space")
    return rate, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="training time measured each way")
    parser.add_argument("--presses", type=int, default=60, help="key presses timed")
    parser.add_argument("--corpus", default="python")
    args = parser.parse_args()
    os.environ.setdefault("RNNTUI_CACHE_DIR", tempfile.mkdtemp(prefix="rnntui-bench-"))
    config = PLAYGROUND_CONFIG.with_changes(corpus=args.corpus)

    headless = headless_chars_per_sec(config, args.seconds)
    inside, latencies = asyncio.run(in_app(config, args.seconds, args.presses))
    latencies_ms = sorted(1000 * x for x in latencies)
    p95 = latencies_ms[min(len(latencies_ms) - 1, int(round(0.95 * (len(latencies_ms) - 1))))]
    print(f"model: {config.cell} {config.layers}x{config.hidden}, batch {config.batch}, seq-len {config.seq_len}, "
          f"corpus {config.corpus}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"headless train_step: {headless:,.0f} chars/s")
    print(f"inside the app:      {inside:,.0f} chars/s  ratio {inside / headless:.2f}  (target >= 0.70)")
    print(f"key to screen while training: median {statistics.median(latencies_ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {latencies_ms[-1]:.1f} ms over {len(latencies_ms)} presses  (target p95 < 100 ms)")


if __name__ == "__main__":
    main()
