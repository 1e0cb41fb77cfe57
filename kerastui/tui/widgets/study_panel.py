"""One view of a sweep's study at a time, under its leaderboard: the optimisation history, the
parameter importances, the objective against one parameter, or (several objectives) the Pareto
front. The views come computed (kerastui.core.study_views, in the screen's thread worker); this
widget only picks what to draw, with the drawings of kerastui.tui.widgets.study_charts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from kerastui.tui.widgets.plotext_chart import PlotextChart
from kerastui.tui.widgets.study_charts import (
    VIEWS,
    history_draw,
    importance_text,
    parameter_draw,
    pareto_draw,
    pareto_table,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.study_views import StudyViews


class StudyPanel(Vertical):
    """Shows `view` ("history", "importances", "parameter", "pareto") of the last views given."""

    DEFAULT_CSS = """
    StudyPanel { height: 1fr; min-height: 8; border-top: solid $primary-darken-2; }
    StudyPanel #study-heading { height: 1; padding: 0 1; color: $text-muted; }
    StudyPanel #study-chart { height: 1fr; }
    StudyPanel #study-text { height: auto; max-height: 100%; padding: 0 1; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.views: StudyViews | None = None
        self.view = "history"
        self.parameter_index = 0
        self.message = "reading the study…"

    def compose(self) -> ComposeResult:
        yield Static(id="study-heading")
        yield PlotextChart(id="study-chart")
        yield Static(id="study-text")

    def on_mount(self) -> None:
        self._redraw()

    def available(self) -> list[str]:
        """The views that say something for this study: the front only with several objectives."""
        multi = self.views is not None and self.views.multi_objective
        return [name for name in VIEWS if name != "pareto" or multi]

    def show_views(self, views: StudyViews | None, message: str = "") -> None:
        """New views (None with a message: there is no study to show, and why)."""
        self.views, self.message = views, message
        if self.view not in self.available():
            self.view = "history"
        self._redraw()

    def next_view(self) -> str:
        names = self.available()
        self.view = names[(names.index(self.view) + 1) % len(names)] if self.view in names else names[0]
        self._redraw()
        return self.view

    def next_parameter(self) -> str | None:
        """The next parameter in the parameter view (switching to it); None when there is none."""
        if self.views is None or not self.views.parameters:
            return None
        if self.view == "parameter":
            self.parameter_index = (self.parameter_index + 1) % len(self.views.parameters)
        self.view = "parameter"
        self._redraw()
        return self.views.parameters[self.parameter_index].name

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        heading, chart, text = (self.query_one("#study-heading", Static), self.query_one(PlotextChart),
                                self.query_one("#study-text", Static))
        views = self.views
        if views is None:
            heading.update(Text("study"))
            self._show(chart, text, Text(self.message, style="dim"))
            return
        where = VIEWS[self.view]
        if self.view == "parameter" and views.parameters:
            self.parameter_index %= len(views.parameters)
            where += f" {self.parameter_index + 1}/{len(views.parameters)}"
        heading.update(Text(f"{where} · {views.counts_text()} · {views.best_text()}"))  # keys: in the footer
        if self.view == "history":
            chart.plot(history_draw(views))
            self._show(chart, text, None)
        elif self.view == "parameter":
            if views.parameters:
                chart.plot(parameter_draw(views, views.parameters[self.parameter_index]))
                self._show(chart, text, None)
            else:
                self._show(chart, text, Text("no parameter has been set yet", style="dim"))
        elif self.view == "importances":
            self._show(chart, text, importance_text(views.importances, max(40, self.size.width - 2)))
        else:  # pareto
            chart.plot(pareto_draw(views))
            self._show(chart, text, Group(pareto_table(views)))

    @staticmethod
    def _show(chart: PlotextChart, text: Static, content: object) -> None:
        # The chart and the text share the panel: the front shows both, the others one of them.
        chart.display = not isinstance(content, Text)
        text.display = content is not None
        if content is not None:
            text.update(content)
