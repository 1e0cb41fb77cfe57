"""The evaluate screen of a multi-label task: a table of the labels, each with its own threshold,
TPR, FPR, precision, F1, ROC AUC and support; macro and micro F1 over them; and the highlighted
label's wrong calls, most confident first, with their input drawn.

Keys (the table has focus): up/down choose a label, left/right move its threshold by 0.01,
shift+left/right by 0.1, 0 puts it back. Each step recounts one label (a binary search in its
sorted scores), never the whole test set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from kerastui.tui.widgets.evaluation_view import EvaluationView
from kerastui.tui.widgets.sample_browser import BrowserItem, SampleBrowser, TestSamples
from kerastui.tui.widgets.threshold_keys import THRESHOLD_BINDINGS, stepped

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluation.multilabel import MultilabelEvaluation

MAX_MISTAKES_LISTED = 500
COLUMNS = ("label", "threshold", "TPR", "FPR", "precision", "F1", "ROC AUC", "support")


def _rate(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


class LabelTable(DataTable):
    """The labels; left/right move the highlighted label's threshold."""

    BINDINGS = THRESHOLD_BINDINGS

    def action_move(self, steps: int) -> None:
        view = next((a for a in self.ancestors if isinstance(a, MultilabelEvaluationView)), None)
        if view is not None:
            view.move_threshold(self.cursor_row, steps)

    def action_reset(self) -> None:
        view = next((a for a in self.ancestors if isinstance(a, MultilabelEvaluationView)), None)
        if view is not None:
            view.reset_threshold(self.cursor_row)


class MultilabelEvaluationView(EvaluationView):
    DEFAULT_CSS = """
    MultilabelEvaluationView { height: auto; }
    MultilabelEvaluationView #label-summary { height: auto; padding: 0 1; }
    MultilabelEvaluationView #label-table { height: auto; max-height: 16; margin: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.original: MultilabelEvaluation | None = None
        self.evaluation: MultilabelEvaluation | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="label-summary")
        yield LabelTable(id="label-table", cursor_type="row", zebra_stripes=True)
        yield SampleBrowser(id="label-mistakes")

    def fill(self, evaluation: MultilabelEvaluation, test: TestSamples) -> None:
        self.original = self.evaluation = evaluation
        table = self.query_one(LabelTable)
        table.clear(columns=True)
        for header in COLUMNS:
            table.add_column(header, key=header)
        for report in evaluation.per_label:
            table.add_row(*self._cells(report), key=report.name)
        self.query_one(SampleBrowser).set_samples(test)
        self._update_summary()
        self._update_mistakes()

    @property
    def thresholds(self) -> tuple[float, ...]:
        return self.evaluation.thresholds if self.evaluation is not None else ()

    def move_threshold(self, label: int, steps: int) -> None:
        evaluation = self.evaluation
        if evaluation is None or not 0 <= label < len(evaluation.label_names):
            return
        if not evaluation.has_scores:
            self.notify("this evaluation was saved without its scores: thresholds cannot move", severity="warning")
            return
        self.set_threshold(label, stepped(evaluation.thresholds[label], steps))

    def reset_threshold(self, label: int) -> None:
        if self.original is not None and 0 <= label < len(self.original.label_names):
            self.set_threshold(label, self.original.thresholds[label])

    def set_threshold(self, label: int, threshold: float) -> None:
        assert self.evaluation is not None
        self.evaluation = self.evaluation.with_threshold(label, threshold)
        report = self.evaluation.per_label[label]
        table = self.query_one(LabelTable)
        for column, value in zip(COLUMNS, self._cells(report)):
            table.update_cell(report.name, column, value)
        self._update_summary()
        self._update_mistakes()

    def _cells(self, report) -> tuple:
        changed = self.original is not None and report.threshold != self._original_threshold(report.name)
        threshold = Text(f"{report.threshold:.2f}", style="bold yellow" if changed else "bold")
        return (report.name, threshold, _rate(report.tpr), _rate(report.fpr), _rate(report.precision),
                _rate(report.f1), _rate(report.roc_auc), f"{report.support:,}")

    def _original_threshold(self, name: str) -> float:
        assert self.original is not None
        return self.original.thresholds[self.original.label_names.index(name)]

    def _update_summary(self) -> None:
        evaluation = self.evaluation
        if evaluation is None:
            return
        text = Text()
        text.append("macro F1 ", style="dim")
        text.append(f"{evaluation.macro_f1:.3f}", style="bold")
        text.append("   micro F1 ", style="dim")
        text.append(f"{evaluation.micro_f1:.3f}", style="bold")
        text.append(f"   {len(evaluation.label_names)} labels, {evaluation.samples:,} test samples", style="dim")
        text.append("\n↑/↓ a label   ←/→ its threshold ±0.01 (shift ±0.1)   0 back", style="dim")
        self.query_one("#label-summary", Static).update(text)

    @on(DataTable.RowHighlighted, "#label-table")
    def _label_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_mistakes()

    @property
    def label(self) -> int:
        table = self.query_one(LabelTable)
        return min(table.cursor_row, max(0, len(self.thresholds) - 1))

    def _update_mistakes(self) -> None:
        evaluation = self.evaluation
        browser = self.query_one(SampleBrowser)
        if evaluation is None:
            return
        if not evaluation.has_scores:
            browser.set_items("", (), "Mistakes not listed: the scores were not kept in evaluation.json.")
            return
        label = self.label
        name = evaluation.label_names[label]
        indices = evaluation.mistakes(label)
        threshold = evaluation.thresholds[label]
        items = [BrowserItem(int(i), _details(evaluation, int(i), label)) for i in indices[:MAX_MISTAKES_LISTED]]
        browser.set_items(f"Wrong calls of {name} (at {threshold:.2f}), most confident first:", items,
                          f"No wrong calls of {name} at threshold {threshold:.2f}.", keep_position=True)

    def step(self, delta: int) -> None:
        self.query_one(SampleBrowser).step(delta)

    def focus_first(self) -> None:
        self.query_one(LabelTable).focus()


def _details(evaluation: MultilabelEvaluation, index: int, label: int) -> Text:
    """The sample's every label: true, score, and a mark where the call is wrong."""
    scores, truth = evaluation.scores[index], evaluation.y_true[index]
    thresholds = np.asarray(evaluation.thresholds)
    text = Text()
    text.append(f"{'label':<14}{'true':>5}{'score':>8}\n", style="dim")
    for i, name in enumerate(evaluation.label_names):
        wrong = int(scores[i] >= thresholds[i]) != int(truth[i])
        style = "bold red" if wrong else ""
        marker = "◀" if i == label else " "
        text.append(f"{name[:13]:<14}{int(truth[i]):>5}{float(scores[i]):>8.3f} {marker}\n", style=style)
    return text
