"""The evaluate screen of a binary task: ROC and precision-recall curves, each class's scores, and
a threshold moved by keys with the 2x2 confusion matrix and the rates following it at once.

Keys (the view has focus): left/right move the threshold by 0.01, shift+left/right by 0.1;
f jumps to "TPR at FPR = x" for the next x of 0.001, 0.01, 0.05, 0.1, g to "FPR at TPR = y" for
the next y of 0.9, 0.95, 0.99; 0 goes back to the evaluation's own threshold; m shows false
negatives instead of false positives (and back). The counts come from the evaluation's
ThresholdSweep (one sort, then a binary search a step), never a pass over the test set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from kerastui.core.evaluation.threshold import Curve
from kerastui.tui.widgets.evaluation_charts import curve_draw, score_draw
from kerastui.tui.widgets.evaluation_view import EvaluationView
from kerastui.tui.widgets.plotext_chart import PlotextChart
from kerastui.tui.widgets.sample_browser import BrowserItem, SampleBrowser, TestSamples
from kerastui.tui.widgets.threshold_keys import THRESHOLD_BINDINGS, stepped

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluation.binary import BinaryEvaluation
    from kerastui.core.evaluation.threshold import Counts

MAX_MISTAKES_LISTED = 500  # the browser steps one at a time: the worst few hundred are plenty


def rate(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def confusion_table(counts: Counts, names: tuple[str, str]) -> Table:
    """The 2x2 matrix at a threshold: rows true, columns predicted, negatives first."""
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), pad_edge=False)
    table.add_column("true \\ predicted", style="dim")
    table.add_column(names[0], justify="right")
    table.add_column(names[1], justify="right")
    table.add_row(names[0], Text(f"{counts.tn:,}", style="green"), Text(f"{counts.fp:,}", style="red"))
    table.add_row(names[1], Text(f"{counts.fn:,}", style="red"), Text(f"{counts.tp:,}", style="green"))
    return table


def rates_text(counts: Counts) -> Text:
    text = Text()
    for label, value in (("precision", counts.precision), ("recall", counts.recall), ("F1", counts.f1),
                         ("TPR", counts.tpr), ("FPR", counts.fpr), ("accuracy", counts.accuracy)):
        text.append(f"{label:<10}", style="dim")
        text.append(f"{rate(value)}\n", style="bold")
    return text


def operating_points_table(evaluation: BinaryEvaluation) -> Table:
    """The fixed operating points the field reports: TPR at FPR x, FPR at TPR y."""
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), pad_edge=False)
    for header in ("at", "rate", "threshold"):
        table.add_column(header, justify="right")
    for row in evaluation.tpr_at_fpr:
        table.add_row(f"FPR ≤ {row.fpr:g}", f"TPR {rate(row.tpr)}", rate(row.threshold))
    for row in evaluation.fpr_at_tpr:
        table.add_row(f"TPR ≥ {row.tpr:g}", f"FPR {rate(row.fpr)}", rate(row.threshold))
    return table


class BinaryEvaluationView(EvaluationView, can_focus=True):
    """Everything about a binary evaluation, with its threshold under the user's keys."""

    DEFAULT_CSS = """
    BinaryEvaluationView { height: auto; }
    BinaryEvaluationView #binary-charts { height: 14; }
    BinaryEvaluationView #binary-charts PlotextChart { width: 1fr; height: 14; }
    BinaryEvaluationView #binary-numbers { height: auto; margin-top: 1; }
    BinaryEvaluationView #threshold-panel { width: auto; min-width: 36; height: auto; padding: 0 2 0 1; }
    BinaryEvaluationView #operating-points { width: 1fr; height: auto; }
    """

    BINDINGS = [
        *THRESHOLD_BINDINGS,
        Binding("f", "at_fpr", "TPR at FPR"),
        Binding("g", "at_tpr", "FPR at TPR"),
        Binding("m", "toggle_mistakes", "FP/FN"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.evaluation: BinaryEvaluation | None = None
        self.threshold = 0.5
        self.pinned = ""  # what the last f/g jump asked for ("TPR at FPR ≤ 0.05"); "" after a step
        self.showing = "fp"  # the browser lists false positives ("fp") or false negatives ("fn")
        self._fpr_turn = -1
        self._tpr_turn = -1
        self._curves = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="binary-charts"):
            yield PlotextChart(id="roc-chart")
            yield PlotextChart(id="pr-chart")
            yield PlotextChart(id="score-chart")
        with Horizontal(id="binary-numbers"):
            yield Static(id="threshold-panel")
            yield Static(id="operating-points")
        yield SampleBrowser(id="binary-mistakes")

    def fill(self, evaluation: BinaryEvaluation, test: TestSamples) -> None:
        self.evaluation = evaluation
        self.threshold = float(evaluation.threshold)
        self.pinned = ""
        self._fpr_turn = self._tpr_turn = -1
        if evaluation.has_scores:
            sweep = evaluation.sweep
            self._curves = (sweep.roc_points(), sweep.pr_points(), sweep.score_histogram(bins=24))
        else:
            self._curves = None
        self.query_one(SampleBrowser).set_samples(test)
        self.query_one("#operating-points", Static).update(operating_points_table(evaluation))
        self._update()

    # ---- the threshold --------------------------------------------------------------------------

    @property
    def counts(self) -> Counts | None:
        """The confusion and rates at the current threshold."""
        evaluation = self.evaluation
        if evaluation is None:
            return None
        return evaluation.at(self.threshold) if evaluation.has_scores else evaluation.counts

    def set_threshold(self, threshold: float, pinned: str = "") -> None:
        self.threshold = float(min(1.0, max(0.0, threshold)))
        self.pinned = pinned
        self._update()

    def action_move(self, steps: int) -> None:
        if self._can_move():
            self.set_threshold(stepped(self.threshold, steps))

    def action_at_fpr(self) -> None:
        from kerastui.core.evaluation.binary import TPR_AT_FPR_TARGETS

        self._fpr_turn = self._jump(TPR_AT_FPR_TARGETS, self._fpr_turn, "fpr")

    def action_at_tpr(self) -> None:
        from kerastui.core.evaluation.binary import FPR_AT_TPR_TARGETS

        self._tpr_turn = self._jump(FPR_AT_TPR_TARGETS, self._tpr_turn, "tpr")

    def _jump(self, targets: tuple[float, ...], turn: int, rate: str) -> int:
        """To the threshold of the next of `targets` ("TPR at FPR <= x" or "FPR at TPR >= y");
        the turn reached."""
        if not self._can_move():
            return turn
        turn = (turn + 1) % len(targets)
        target = targets[turn]
        sweep = self.evaluation.sweep
        threshold = sweep.threshold_for_fpr(target) if rate == "fpr" else sweep.threshold_for_tpr(target)
        if threshold is None:
            missing = "negatives" if rate == "fpr" else "positives"
            self.notify(f"{rate.upper()} is undefined: the test split has no {missing}", severity="warning")
            return turn
        pinned = f"TPR at FPR ≤ {target:g}" if rate == "fpr" else f"FPR at TPR ≥ {target:g}"
        self.set_threshold(threshold, pinned=pinned)
        return turn

    def action_reset(self) -> None:
        if self.evaluation is not None:
            self.set_threshold(self.evaluation.threshold)

    def action_toggle_mistakes(self) -> None:
        self.showing = "fn" if self.showing == "fp" else "fp"
        self._update_mistakes()

    def step(self, delta: int) -> None:
        browser = self.query_one(SampleBrowser)
        browser.step(delta)
        browser.scroll_visible(animate=False)

    def _can_move(self) -> bool:
        if self.evaluation is None:
            return False
        if not self.evaluation.has_scores:
            self.notify("this evaluation was saved without its scores: the threshold cannot move", severity="warning")
            return False
        return True

    # ---- drawing --------------------------------------------------------------------------------

    def _update(self) -> None:
        evaluation, counts = self.evaluation, self.counts
        if evaluation is None or counts is None:
            return
        self.query_one("#threshold-panel", Static).update(self._panel(evaluation, counts))
        self._draw_charts(evaluation, counts)
        self._update_mistakes()

    def _panel(self, evaluation: BinaryEvaluation, counts: Counts) -> Table:
        grid = Table.grid()
        title = Text.assemble(("threshold ", "bold"), (f"{self.threshold:.4g}", "bold green"))
        if self.pinned:
            title.append(f"  ({self.pinned})", style="cyan")
        grid.add_row(title)
        grid.add_row(Text("←/→ ±0.01, shift ±0.1; f TPR at FPR x,\ng FPR at TPR y; 0 back", style="dim"))
        grid.add_row(confusion_table(counts, evaluation.class_names))
        grid.add_row(rates_text(counts))
        return grid

    def _draw_charts(self, evaluation: BinaryEvaluation, counts: Counts) -> None:
        roc = self.query_one("#roc-chart", PlotextChart)
        pr = self.query_one("#pr-chart", PlotextChart)
        scores = self.query_one("#score-chart", PlotextChart)
        auc = "undefined" if evaluation.roc_auc is None else f"{evaluation.roc_auc:.3f}"
        ap = "undefined" if evaluation.average_precision is None else f"{evaluation.average_precision:.3f}"
        if self._curves is None:
            reason = "scores not kept in evaluation.json"
            empty = Curve(np.zeros(0), np.zeros(0), np.zeros(0))
            roc.plot(curve_draw(f"ROC: TPR  AUC {auc}", empty, None, "FPR", reason))
            pr.plot(curve_draw(f"precision  AP {ap}", empty, None, "recall", reason))
            scores.plot(curve_draw("scores", empty, None, "score", reason))
            return
        roc_curve, pr_curve, histogram = self._curves
        undefined = evaluation.undefined_reason
        roc_point = (counts.fpr, counts.tpr) if counts.fpr is not None and counts.tpr is not None else None
        pr_point = (counts.recall, counts.precision) if counts.tp + counts.fp else None
        roc.plot(curve_draw(f"ROC: TPR  AUC {auc}", roc_curve, roc_point, "FPR", undefined, diagonal=True))
        pr.plot(curve_draw(f"precision-recall  AP {ap}", pr_curve, pr_point, "recall", undefined))
        scores.plot(score_draw(histogram, self.threshold, evaluation.class_names))

    def _update_mistakes(self) -> None:
        evaluation = self.evaluation
        browser = self.query_one(SampleBrowser)
        if evaluation is None:
            return
        negative, positive = evaluation.class_names
        other = "m: false negatives" if self.showing == "fp" else "m: false positives"
        if not evaluation.has_scores:
            browser.set_items("", (), "Mistakes not listed: the scores were not kept in evaluation.json.")
            return
        if self.showing == "fp":
            indices = evaluation.false_positives(self.threshold)
            heading = f"False positives ({negative} called {positive}), highest score first:"
            empty = f"No false positives at threshold {self.threshold:.4g}."
        else:
            indices = evaluation.false_negatives(self.threshold)
            heading = f"False negatives ({positive} called {negative}), lowest score first:"
            empty = f"No false negatives at threshold {self.threshold:.4g}."
        scores, truth = evaluation.scores, evaluation.y_true
        items = [BrowserItem(int(i), _details(truth[i], scores[i], self.threshold, evaluation.class_names))
                 for i in indices[:MAX_MISTAKES_LISTED]]
        total = len(indices)
        if total > MAX_MISTAKES_LISTED:
            heading = heading.replace(":", f" (the {MAX_MISTAKES_LISTED} worst of {total:,}):")
        browser.set_items(heading, items, empty, other, keep_position=True)


def _details(true: int, score: float, threshold: float, names: tuple[str, str]) -> Text:
    called = names[1] if score >= threshold else names[0]
    text = Text()
    text.append("true       ", style="dim")
    text.append(names[int(true)], style="bold green")
    text.append("\ncalled     ", style="dim")
    text.append(called, style="bold red")
    text.append("\nscore      ", style="dim")
    text.append(f"{float(score):.4f}", style="bold")
    text.append(f"  (threshold {threshold:.4g})", style="dim")
    return text
