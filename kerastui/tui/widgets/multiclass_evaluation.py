"""The evaluate screen of a multiclass task: the confusion matrix beside the per-class report, and
the misclassified browser under them.

Choosing a confusion-matrix cell (arrows, enter) narrows the browser to that (true, predicted)
pair; enter on the diagonal, or the screen's escape, shows all mistakes again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from kerastui.tui.widgets.class_report import ClassReportTable
from kerastui.tui.widgets.confusion_table import ConfusionTable
from kerastui.tui.widgets.evaluation_view import EvaluationView
from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluate import Evaluation
    from kerastui.tui.widgets.sample_browser import TestSamples


class MulticlassEvaluationView(EvaluationView):
    DEFAULT_CSS = """
    MulticlassEvaluationView { height: auto; }
    MulticlassEvaluationView #eval-top { height: auto; }
    MulticlassEvaluationView #confusion-pane, MulticlassEvaluationView #report-pane {
        width: auto; height: auto; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="eval-top"):
            with Vertical(id="confusion-pane"):
                yield Label("Confusion matrix (rows true, columns predicted)", classes="pane-title")
                yield ConfusionTable(id="confusion-table")
            with Vertical(id="report-pane"):
                yield Label("Per-class report", classes="pane-title")
                yield ClassReportTable(id="class-report")
        yield MisclassifiedBrowser(id="misclassified")

    def fill(self, evaluation: Evaluation | None, test: TestSamples) -> None:
        table = self.query_one(ConfusionTable)
        browser = self.query_one(MisclassifiedBrowser)
        if evaluation is None:
            table.set_matrix((), ())
            self.query_one(ClassReportTable).show(())
            browser.set_items((), (), None, "image")
            return
        table.set_matrix(evaluation.confusion, evaluation.class_names)
        self.query_one(ClassReportTable).show(evaluation.per_class)
        browser.feature_names, browser.index_words = test.feature_names, test.index_words
        browser.set_items(evaluation.misclassified, evaluation.class_names, test.samples, test.kind)

    @property
    def filter(self) -> tuple[int, int] | None:
        return self.query_one(MisclassifiedBrowser).filter

    @on(ConfusionTable.CellChosen)
    def _filter_by_cell(self, message: ConfusionTable.CellChosen) -> None:
        browser = self.query_one(MisclassifiedBrowser)
        browser.set_filter(None if message.true == message.predicted else (message.true, message.predicted))
        self.screen.refresh_bindings()  # escape now clears the filter (before it meant "back")
        # On a short terminal the browser sits below the fold: bring the answer into view.
        browser.scroll_visible(animate=False)

    def clear_filter(self) -> None:
        self.query_one(MisclassifiedBrowser).set_filter(None)
        self.query_one(ConfusionTable).chosen = None

    def step(self, delta: int) -> None:
        browser = self.query_one(MisclassifiedBrowser)
        browser.action_next() if delta > 0 else browser.action_previous()
        browser.scroll_visible(animate=False)

    def focus_first(self) -> None:
        self.query_one(ConfusionTable).focus()
