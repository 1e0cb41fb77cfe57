"""The evaluate screen: test loss and accuracy, confusion matrix, per-class report, mistakes.

Choosing a confusion-matrix cell (arrows, enter) narrows the misclassified browser to that
(true, predicted) pair; enter on the diagonal or escape shows all mistakes again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from kerastui.tui.host import host
from kerastui.tui.widgets.class_report import ClassReportTable
from kerastui.tui.widgets.confusion_table import ConfusionTable
from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset
    from kerastui.core.evaluate import Evaluation
    from kerastui.core.pipeline import RunOutcome

NARROW_WIDTH = 110  # below this the confusion matrix and class report stack vertically


class EvaluateScreen(Screen):
    """Everything about how a trained model did on the held-out test set."""

    CSS_PATH = "evaluate.tcss"
    BINDINGS = [
        Binding("n", "next_sample", "Next mistake"),
        Binding("p", "previous_sample", "Previous"),
        Binding("escape", "clear_filter", "All mistakes"),
        # Opened from a run's follow view: escape (once no filter is left to clear) goes back there.
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.outcome: RunOutcome | None = None
        self.dataset: Dataset | None = None
        self.back_to: str | None = None  # the mode escape returns to (None: escape only clears the filter)

    def compose(self) -> ComposeResult:
        yield Static(id="eval-summary")
        with VerticalScroll(id="eval-body"):
            with Horizontal(id="eval-top"):
                with Vertical(id="confusion-pane"):
                    yield Label("Confusion matrix (rows true, columns predicted)", classes="pane-title")
                    yield ConfusionTable(id="confusion-table")
                with Vertical(id="report-pane"):
                    yield Label("Per-class report", classes="pane-title")
                    yield ClassReportTable(id="class-report")
            yield MisclassifiedBrowser(id="misclassified")
        yield Footer()

    def on_mount(self) -> None:
        self._fill()

    def on_screen_resume(self) -> None:
        # Opened with the global key after a newer run finished: show that run.
        latest = host(self.app).last_outcome
        if latest is not None and latest is not self.outcome and latest.evaluation is not None:
            self.show(latest, host(self.app).session.dataset)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    def show(self, outcome: RunOutcome, dataset: Dataset | None, back_to: str | None = None) -> None:
        """Fill the screen from a RunOutcome (its Evaluation) and the Dataset it was tested on;
        `back_to` is the mode escape returns to (the runs mode, where the run's follow view is)."""
        self.outcome, self.dataset = outcome, dataset
        self.back_to = back_to
        self.refresh_bindings()
        if self.is_mounted:
            self._fill()

    @property
    def evaluation(self) -> Evaluation | None:
        return self.outcome.evaluation if self.outcome is not None else None

    def _fill(self) -> None:
        self.query_one("#eval-summary", Static).update(self.summary_text())
        evaluation = self.evaluation
        table = self.query_one(ConfusionTable)
        browser = self.query_one(MisclassifiedBrowser)
        if evaluation is None:
            table.set_matrix((), ())
            self.query_one(ClassReportTable).show(())
            browser.set_items((), (), None, "image")
            return
        table.set_matrix(evaluation.confusion, evaluation.class_names)
        self.query_one(ClassReportTable).show(evaluation.per_class)
        dataset = self.dataset
        samples = dataset.x_test if dataset is not None else None
        if dataset is not None and (
            len(dataset.x_test) != len(evaluation.predictions) or tuple(dataset.class_names) != tuple(evaluation.class_names)
        ):
            samples = None  # the app has since loaded another dataset: no wrong pictures
        browser.feature_names = tuple(dataset.feature_names) if dataset is not None else ()
        browser.set_items(evaluation.misclassified, evaluation.class_names, samples, dataset.kind if dataset is not None else "image")
        table.focus()

    def summary_text(self) -> Text:
        evaluation = self.evaluation
        if evaluation is None:
            if self.outcome is not None:
                return Text(f"This run {self.outcome.status} without an evaluation: {self.outcome.reason}", style="bold red")
            return Text("No evaluation yet: train a model first (b to build, t to train).")
        text = Text()
        if self.outcome is not None:
            text.append(self.outcome.run_dir.name, style="bold")
            text.append(f" ({self.outcome.status})  ")
        text.append("test loss ")
        text.append(f"{evaluation.test_loss:.4f}", style="bold")
        text.append("   test accuracy ")
        text.append(f"{evaluation.test_accuracy:.2%}", style="bold green")
        text.append(f"   {len(evaluation.predictions)} test samples, {len(evaluation.misclassified)} misclassified")
        return text

    # ---- keys -----------------------------------------------------------------------------------

    @on(ConfusionTable.CellChosen)
    def _filter_by_cell(self, message: ConfusionTable.CellChosen) -> None:
        browser = self.query_one(MisclassifiedBrowser)
        if message.true == message.predicted:
            browser.set_filter(None)
        else:
            browser.set_filter((message.true, message.predicted))
        self.refresh_bindings()  # escape now clears the filter (before it meant "back")
        # On a short terminal the browser sits below the fold: bring the answer into view.
        browser.scroll_visible(animate=False)

    def action_next_sample(self) -> None:
        browser = self.query_one(MisclassifiedBrowser)
        browser.action_next()
        browser.scroll_visible(animate=False)

    def action_previous_sample(self) -> None:
        browser = self.query_one(MisclassifiedBrowser)
        browser.action_previous()
        browser.scroll_visible(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.back_to is not None
        if action == "clear_filter" and self.back_to is not None:
            # Nothing to clear: let escape mean "back" (the next binding for the key).
            return self.is_mounted and self.query_one(MisclassifiedBrowser).filter is not None
        return True

    def action_back(self) -> None:
        if self.back_to is not None:
            self.app.switch_mode(self.back_to)

    def action_clear_filter(self) -> None:
        self.query_one(MisclassifiedBrowser).set_filter(None)
        self.refresh_bindings()
        table = self.query_one(ConfusionTable)
        table.chosen = None
