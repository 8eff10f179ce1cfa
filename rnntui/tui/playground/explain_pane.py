"""The Explain pane: the probe text explained (guesses and saliency at the cursor), and the memory span chart.

It takes the place of the Gates pane when the person presses e, and is fed
the same way: the app asks the run for an explanation of the probe text, and
the run's answer arrives as an `Explained` message. Each new answer keeps the
cursor where it is, so the tints can be watched spreading back as training
goes on, and the span chart below shows how far back the model looks on
held-out text.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget

from rnntui.plot.memory import memory_span_chart
from rnntui.tui.playground.probe import ProbeExplanation
from rnntui.tui.widgets.chart_view import ChartView
from rnntui.tui.widgets.explain_view import ExplainView
from rnntui.tui.widgets.run_worker import RunMessage


class Explained(RunMessage):
    event_type = ProbeExplanation


class ExplainPane(Widget):
    DEFAULT_CSS = """
    ExplainPane {
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        height: 1fr;
    }
    ExplainPane:focus-within {
        border: round $accent;
    }
    ExplainPane > ExplainView {
        height: 1fr;
    }
    ExplainPane > #memory-span {
        height: 8;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Explain"
        self.border_subtitle = "← → a character · e gates"

    def compose(self) -> ComposeResult:
        yield ExplainView()
        yield ChartView(lambda width, height: memory_span_chart(None, width, height), id="memory-span")

    @property
    def view(self) -> ExplainView:
        return self.query_one(ExplainView)

    def on_explained(self, message: Explained) -> None:
        answer = message.event
        self.view.show(answer.explanation)
        self.query_one("#memory-span", ChartView).show(lambda width, height: memory_span_chart(answer.span, width, height))
        self.border_title = f"Explain · {answer.cell.upper()} · step {answer.step}"
