"""The evaluate screen: a summary line of the task's own metrics over the view of its task.

Each task has its view (kerastui.tui.widgets.<task>_evaluation): multiclass the confusion matrix,
per-class report and misclassified browser; binary the ROC and precision-recall curves, the score
distributions and a threshold moved by keys; multi-label a table of labels with a threshold each;
regression predicted against true, the residuals and the largest errors. n/p step through the
view's mistakes; escape clears a filter, else goes back where the screen was opened from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from kerastui.tui.host import host
from kerastui.tui.widgets.binary_evaluation import BinaryEvaluationView
from kerastui.tui.widgets.evaluation_view import EvaluationView
from kerastui.tui.widgets.multiclass_evaluation import MulticlassEvaluationView
from kerastui.tui.widgets.multilabel_evaluation import MultilabelEvaluationView
from kerastui.tui.widgets.regression_evaluation import RegressionEvaluationView
from kerastui.tui.widgets.sample_browser import TestSamples

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.data import Dataset
    from kerastui.core.evaluation.common import TaskEvaluation
    from kerastui.core.pipeline import RunOutcome

NARROW_WIDTH = 110  # below this the confusion matrix and class report stack vertically
VIEWS: dict[str, type[EvaluationView]] = {
    "multiclass": MulticlassEvaluationView,
    "binary": BinaryEvaluationView,
    "multilabel": MultilabelEvaluationView,
    "regression": RegressionEvaluationView,
}


def test_samples(evaluation: TaskEvaluation, dataset: Dataset | None) -> TestSamples:
    """The dataset's test inputs when they are the ones evaluated (same count and outputs), so a
    mistake is never drawn with another data set's picture."""
    if dataset is None:
        return TestSamples(None)
    same = (len(dataset.x_test) == evaluation.sample_count
            and tuple(dataset.class_names) == tuple(evaluation.output_names))
    return TestSamples(dataset.x_test if same else None, dataset.kind, tuple(dataset.feature_names),
                       tuple(dataset.index_words))


class EvaluateScreen(Screen):
    """Everything about how a trained model did on the held-out test set."""

    CSS_PATH = "evaluate.tcss"
    BINDINGS = [
        Binding("n", "next_sample", "Next mistake"),
        Binding("p", "previous_sample", "Previous"),
        Binding("x", "export", "Export", tooltip="Write the run as a plain Keras script, notebook or submission"),
        Binding("escape", "clear_filter", "All mistakes"),
        # Opened from a run's follow view: escape (once no filter is left to clear) goes back there.
        Binding("escape", "back", "Back"),
    ]

    def action_export(self) -> None:
        from kerastui.tui.screens.export_dialog import ExportDialog

        if self.outcome is None:
            self.notify("No run evaluated yet: nothing to export.")
            return
        self.app.push_screen(ExportDialog(self.outcome.run_dir))

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.outcome: RunOutcome | None = None
        self.dataset: Dataset | None = None
        self.back_to: str | None = None  # the mode escape returns to (None: escape only clears the filter)
        self._view: EvaluationView = MulticlassEvaluationView(id="multiclass-view", classes="eval-view")

    def compose(self) -> ComposeResult:
        yield Static(id="eval-summary")
        with VerticalScroll(id="eval-body"):
            yield self._view
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
        """Fill the screen from a RunOutcome (its evaluation, of any task) and the Dataset it was
        tested on; `back_to` is the mode escape returns to (the runs mode, where the run's follow
        view is)."""
        self.outcome, self.dataset = outcome, dataset
        self.back_to = back_to
        self.refresh_bindings()
        if self.is_mounted:
            self._fill()

    @property
    def evaluation(self) -> TaskEvaluation | None:
        return self.outcome.evaluation if self.outcome is not None else None

    @property
    def view(self) -> EvaluationView:
        """The view of the task shown."""
        return self._view

    def _fill(self) -> None:
        self.query_one("#eval-summary", Static).update(self.summary_text())
        evaluation = self.evaluation
        task = evaluation.task if evaluation is not None else "multiclass"
        view = self._view_for(task)
        if evaluation is None:
            if isinstance(view, MulticlassEvaluationView):
                view.show(None, TestSamples(None))
            return
        view.show(evaluation, test_samples(evaluation, self.dataset))
        if view.is_mounted:
            view.focus_first()
        self.refresh_bindings()

    def _view_for(self, task: str) -> EvaluationView:
        """The view of `task`, mounted in place of another task's (it shows what it is given once
        it is mounted)."""
        wanted = VIEWS.get(task, MulticlassEvaluationView)
        if type(self._view) is wanted:
            return self._view
        self._view.remove()
        self._view = wanted(id=f"{task}-view", classes="eval-view")
        self.query_one("#eval-body", VerticalScroll).mount(self._view)
        return self._view

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
        if evaluation.task == "multiclass":
            text.append("test loss ")
            text.append(f"{evaluation.test_loss:.4f}", style="bold")
            text.append("   test accuracy ")
            text.append(f"{evaluation.test_accuracy:.2%}", style="bold green")
            text.append(f"   {len(evaluation.predictions)} test samples, {len(evaluation.misclassified)} misclassified")
            return text
        text.append(f"{evaluation.task}  ", style="cyan")
        for index, (name, value) in enumerate(evaluation.summary_metrics()):
            text.append(f"{evaluation.metric_label(name)} ")
            text.append("undefined" if value is None else f"{value:.4g}", style="bold green" if index == 0 else "bold")
            text.append("   ")
        text.append("test loss ")
        text.append(f"{evaluation.test_loss:.4g}", style="bold")
        text.append(f"   {evaluation.sample_count:,} test samples")
        if evaluation.undefined_reason:
            text.append(f"\n{evaluation.undefined_reason}", style="yellow")
        return text

    # ---- keys -----------------------------------------------------------------------------------

    def action_next_sample(self) -> None:
        self.view.step(1)

    def action_previous_sample(self) -> None:
        self.view.step(-1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.back_to is not None
        if action == "clear_filter":
            if not self.is_mounted or not isinstance(self.view, MulticlassEvaluationView):
                return False  # only the confusion matrix filters the mistakes
            if self.back_to is not None:
                # Nothing to clear: let escape mean "back" (the next binding for the key).
                return self.view.filter is not None
        return True

    def action_back(self) -> None:
        if self.back_to is not None:
            self.app.switch_mode(self.back_to)

    def action_clear_filter(self) -> None:
        if isinstance(self.view, MulticlassEvaluationView):
            self.view.clear_filter()
        self.refresh_bindings()
