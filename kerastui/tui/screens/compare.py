"""Several runs side by side: their curves overlaid per metric, and their settings with the differences marked."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from kerastui.core.runs import RunRecord
from kerastui.tui.widgets.chart_scale import next_level
from kerastui.tui.widgets.hyperparameter_diff import HyperparameterDiff, differing_parameters
from kerastui.tui.widgets.run_compare_chart import SMOOTHING_LEVELS, RunCompareChart


def task_metric(records: list[RunRecord]) -> str:
    """The metric the second chart compares: the runs' task's (accuracy, auc, mae); accuracy when
    the runs' tasks differ or are unknown."""
    from kerastui.core.tasks import TASKS

    tasks = {record.task for record in records} - {""}
    if len(tasks) == 1 and (task := next(iter(tasks))) in TASKS:
        return TASKS[task].chart_metric
    return "accuracy"


class CompareScreen(Screen):
    """Loss and the task's metric of the selected runs on shared axes; v: validation/training, m: smoothing."""

    CSS_PATH = "runs.tcss"
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("m", "cycle_smoothing", "Smoothing"),
        Binding("v", "toggle_validation", "Val/train"),
        Binding("x", "toggle_only_differences", "Only differences"),
    ]

    def __init__(self, records: list[RunRecord], smoothing: float = 0.0) -> None:
        super().__init__()
        self.records = list(records)
        self.smoothing = smoothing
        self.validation = True  # compare val_* curves first: they are what tells runs apart
        self.metric = task_metric(self.records)

    def compose(self) -> ComposeResult:
        yield Static(id="compare-title")
        with Horizontal(id="compare-charts"):
            yield RunCompareChart(self._metric("loss"), id="compare-loss")
            yield RunCompareChart(self._metric(self.metric), id="compare-accuracy")
        with VerticalScroll(id="compare-diff-pane"):
            yield HyperparameterDiff(id="compare-diff")
        yield Footer()

    def on_mount(self) -> None:
        self._refresh()

    def _metric(self, base: str) -> str:
        return f"val_{base}" if self.validation else base

    @property
    def charts(self) -> tuple[RunCompareChart, RunCompareChart]:
        return self.query_one("#compare-loss", RunCompareChart), self.query_one("#compare-accuracy", RunCompareChart)

    def _refresh(self) -> None:
        loss, accuracy = self.charts
        for chart, base in ((loss, "loss"), (accuracy, self.metric)):
            chart.smoothing = self.smoothing
            chart.set_runs(self.records, self._metric(base))
        self.query_one(HyperparameterDiff).show(self.records)
        differs = differing_parameters(self.records)
        names = ", ".join(r.name for r in self.records)
        smoothing = f"smoothing {self.smoothing:g}" if self.smoothing else "no smoothing"
        what = f"differ in: {', '.join(differs)}" if differs else "same settings"
        self.query_one("#compare-title", Static).update(
            f"Comparing {len(self.records)} runs ({names}) · {'validation' if self.validation else 'training'} curves · "
            f"{smoothing} · {what}"
        )

    def action_cycle_smoothing(self) -> None:
        self.smoothing = next_level(SMOOTHING_LEVELS, self.smoothing)
        self._refresh()
        self.notify(f"smoothing {self.smoothing:g}" if self.smoothing else "smoothing off", timeout=2)

    def action_toggle_validation(self) -> None:
        self.validation = not self.validation
        self._refresh()

    def action_toggle_only_differences(self) -> None:
        diff = self.query_one(HyperparameterDiff)
        diff.set_only_differences(not diff.only_differences)

    def action_close(self) -> None:
        self.dismiss(self.smoothing)
