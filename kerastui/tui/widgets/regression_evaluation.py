"""The evaluate screen of a regression task: predicted against true, the residuals, the metrics per
target, and the largest errors listed with their input drawn.

Keys: ] shows the next target (with several), n/p or up/down step through the largest errors
(the table's highlighted row is the sample drawn beside it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from kerastui.tui.widgets.evaluation_charts import residual_draw, scatter_draw
from kerastui.tui.widgets.evaluation_view import EvaluationView
from kerastui.tui.widgets.plotext_chart import PlotextChart
from kerastui.tui.widgets.sample_view import SampleView

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluation.regression import RegressionEvaluation
    from kerastui.tui.widgets.sample_browser import TestSamples

WORST_LISTED = 50


def value_text(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"


def targets_table(evaluation: RegressionEvaluation) -> Table:
    """MAE, RMSE and R² overall and per target (where there are several)."""
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), pad_edge=False)
    for header in ("target", "MAE", "RMSE", "R²"):
        table.add_column(header, justify="right" if header != "target" else "left")
    table.add_row("all" if evaluation.per_target else evaluation.target_names[0], value_text(evaluation.mae),
                  value_text(evaluation.rmse), value_text(evaluation.r2))
    for row in evaluation.per_target:
        table.add_row(row.name, value_text(row.mae), value_text(row.rmse), value_text(row.r2))
    return table


class RegressionEvaluationView(EvaluationView):
    DEFAULT_CSS = """
    RegressionEvaluationView { height: auto; }
    RegressionEvaluationView #regression-charts { height: 14; }
    RegressionEvaluationView #regression-charts PlotextChart { width: 1fr; height: 14; }
    RegressionEvaluationView #regression-numbers { height: auto; margin: 1 0 0 1; }
    RegressionEvaluationView #worst-row { height: auto; border-top: solid $primary 50%; padding: 0 1; }
    RegressionEvaluationView #worst-table { width: auto; max-width: 60; height: auto; max-height: 14; margin-right: 2; }
    RegressionEvaluationView #worst-sample { width: 1fr; height: auto; }
    """

    # Not t: everywhere else t opens the train screen.
    BINDINGS = [Binding("right_square_bracket", "next_target", "Next target")]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.evaluation: RegressionEvaluation | None = None
        self.target = 0  # the target the charts and the list show
        self.worst: np.ndarray = np.zeros(0, dtype=np.int64)
        self.test: TestSamples | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="regression-charts"):
            yield PlotextChart(id="scatter-chart")
            yield PlotextChart(id="residual-chart")
        yield Static(id="regression-numbers")
        yield Static(id="worst-title", classes="pane-title")
        with Horizontal(id="worst-row"):
            yield DataTable(id="worst-table", cursor_type="row", zebra_stripes=True)
            yield SampleView(id="worst-sample")

    def fill(self, evaluation: RegressionEvaluation, test: TestSamples) -> None:
        self.evaluation, self.test, self.target = evaluation, test, 0
        self.query_one(SampleView).configure(test.kind, test.feature_names, test.index_words)
        self.query_one("#regression-numbers", Static).update(targets_table(evaluation))
        self._draw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_target":
            return self.evaluation is not None and len(self.evaluation.target_names) > 1
        return True

    def action_next_target(self) -> None:
        if self.evaluation is not None and len(self.evaluation.target_names) > 1:
            self.target = (self.target + 1) % len(self.evaluation.target_names)
            self._draw()
            self.refresh_bindings()

    @property
    def target_name(self) -> str:
        return self.evaluation.target_names[self.target] if self.evaluation is not None else ""

    def _draw(self) -> None:
        evaluation = self.evaluation
        if evaluation is None:
            return
        table = self.query_one("#worst-table", DataTable)
        table.clear(columns=True)
        title = self.query_one("#worst-title", Static)
        several = len(evaluation.target_names) > 1
        if not evaluation.has_values:
            title.update("Predictions not kept in evaluation.json: no charts or list of errors.")
            self.worst = np.zeros(0, dtype=np.int64)
            return
        name, k = self.target_name, self.target
        true, predicted = evaluation.y_true[:, k], evaluation.predictions[:, k]
        self.query_one("#scatter-chart", PlotextChart).plot(scatter_draw(true, predicted, name))
        self.query_one("#residual-chart", PlotextChart).plot(residual_draw(predicted - true, name))
        self.worst = evaluation.worst(WORST_LISTED, target=k)
        title.update(Text.assemble(f"Largest errors of {name}", ("   ]: next target" if several else "", "dim"),
                                   ("   ↑/↓ or n/p: the sample drawn", "dim")))
        table.add_columns("#", "sample", "true", "predicted", "error")
        for rank, index in enumerate(self.worst, start=1):
            error = float(predicted[index] - true[index])
            table.add_row(str(rank), str(int(index)), f"{true[index]:.4g}", f"{predicted[index]:.4g}",
                          Text(f"{error:+.4g}", style="red" if abs(error) > 0 else ""), key=str(int(index)))
        self._show_sample(0)

    @on(DataTable.RowHighlighted, "#worst-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_sample(event.cursor_row)

    def step(self, delta: int) -> None:
        table = self.query_one("#worst-table", DataTable)
        if table.row_count:
            table.move_cursor(row=(table.cursor_row + delta) % table.row_count)

    def focus_first(self) -> None:
        self.query_one("#worst-table", DataTable).focus()

    @property
    def shown_sample(self) -> int | None:
        """The test sample drawn beside the list (None: none)."""
        table = self.query_one("#worst-table", DataTable)
        if not len(self.worst) or not table.row_count:
            return None
        return int(self.worst[min(table.cursor_row, len(self.worst) - 1)])

    def _show_sample(self, row: int) -> None:
        view = self.query_one(SampleView)
        if not len(self.worst) or self.test is None or self.test.samples is None:
            view.show(None, "(sample not drawn: the app holds other data now)" if len(self.worst) else "")
            return
        index = int(self.worst[min(max(row, 0), len(self.worst) - 1)])
        view.show(np.asarray(self.test.samples[index]), f"test sample #{index}")
