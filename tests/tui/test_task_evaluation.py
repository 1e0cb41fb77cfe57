"""Each task from choosing its data to its evaluate screen, by keys (the scripted trainer: its
evaluation is the real one of the task on made-up scores), and each view's numbers against
scikit-learn's own."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import wait_until
from sklearn.metrics import confusion_matrix, f1_score, mean_absolute_error, roc_curve
from test_evaluate_screen import shown_text
from test_task_choice import choose_dataset_by_keys, ready

from kerastui.core.datasets.base import Dataset
from kerastui.core.pipeline import RunOutcome
from kerastui.core.tasks import TASKS, evaluate_with
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.widgets.binary_evaluation import BinaryEvaluationView
from kerastui.tui.widgets.multiclass_evaluation import MulticlassEvaluationView
from kerastui.tui.widgets.multilabel_evaluation import LabelTable, MultilabelEvaluationView
from kerastui.tui.widgets.plotext_chart import PlotextChart
from kerastui.tui.widgets.regression_evaluation import RegressionEvaluationView
from kerastui.tui.widgets.sample_browser import SampleBrowser
from kerastui.tui.widgets.sample_view import SampleView


async def train_and_evaluate(app, pilot) -> EvaluateScreen:
    """ctrl+r on the build screen, wait for the run, e for its evaluation."""
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished",
                     timeout=30, what="the run")
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                     what="the evaluate screen")
    await pilot.pause(0.2)
    return app.screen


def static_text(screen, selector: str) -> str:
    return shown_text(screen.query_one(selector))


def chart_text(screen, selector: str) -> str:
    chart = screen.query_one(selector, PlotextChart)
    return chart.render().plain


async def test_breast_cancer_binary_by_keys_moves_the_threshold_and_the_2x2_follows(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=True)
        await choose_dataset_by_keys(app, pilot, "breast_cancer")
        screen = await train_and_evaluate(app, pilot)
        view = screen.view
        assert isinstance(view, BinaryEvaluationView) and app.focused is view
        evaluation = view.evaluation
        summary = static_text(screen, "#eval-summary")
        assert "ROC AUC" in summary and "TPR at FPR 0.05" in summary
        y, scores = evaluation.y_true, evaluation.scores

        def matrix_at(threshold: float) -> list[list[int]]:
            return confusion_matrix(y, (scores >= threshold).astype(int), labels=[0, 1]).tolist()

        assert list(map(list, view.counts.confusion)) == matrix_at(0.5)
        await pilot.press("right", "right", "right")
        assert view.threshold == pytest.approx(0.53)
        assert list(map(list, view.counts.confusion)) == matrix_at(0.53)
        panel = static_text(screen, "#threshold-panel")
        assert "0.53" in panel
        await pilot.press("shift+left")
        assert view.threshold == pytest.approx(0.43)
        assert list(map(list, view.counts.confusion)) == matrix_at(0.43)

        # f: TPR at FPR <= 0.001, then 0.01, 0.05: the ROC point with the largest TPR allowed.
        fpr, tpr, thresholds = roc_curve(y, scores)
        for target in (0.001, 0.01, 0.05):
            await pilot.press("f")
            best = np.flatnonzero(fpr <= target + 1e-12)[-1]
            assert view.counts.tpr == pytest.approx(tpr[best])
            assert view.counts.fpr <= target + 1e-12
        assert "TPR at FPR ≤ 0.05" in static_text(screen, "#threshold-panel")
        await pilot.press("g")  # FPR at TPR >= 0.9
        assert view.counts.tpr >= 0.9
        await pilot.press("0")
        assert view.threshold == evaluation.threshold

        # The mistakes at the threshold: false positives by score, m for false negatives.
        browser = screen.query_one(SampleBrowser)
        expected_fp = np.flatnonzero((y == 0) & (scores >= 0.5))
        assert sorted(item.index for item in browser.items) == sorted(expected_fp.tolist())
        assert [scores[item.index] for item in browser.items] == sorted(scores[expected_fp], reverse=True)
        await pilot.press("m")
        expected_fn = np.flatnonzero((y == 1) & (scores < 0.5))
        assert sorted(item.index for item in browser.items) == sorted(expected_fn.tolist())
        await pilot.press("n")
        assert browser.position == (1 if len(expected_fn) > 1 else 0)
        assert browser.query_one(SampleView).drawn_as == "tabular"  # its 30 features as a table row
        assert "ROC" in chart_text(screen, "#roc-chart") and "precision-recall" in chart_text(screen, "#pr-chart")


async def test_diabetes_regression_by_keys_shows_r2_the_charts_and_the_largest_errors(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=True)
        await choose_dataset_by_keys(app, pilot, "diabetes")
        screen = await train_and_evaluate(app, pilot)
        view = screen.view
        assert isinstance(view, RegressionEvaluationView)
        evaluation = view.evaluation
        summary = static_text(screen, "#eval-summary")
        assert "R²" in summary and "MAE" in summary
        assert evaluation.mae == pytest.approx(mean_absolute_error(evaluation.y_true, evaluation.predictions))
        errors = np.abs(evaluation.predictions - evaluation.y_true)[:, 0]
        assert view.worst[0] == int(np.argmax(errors))
        assert view.shown_sample == view.worst[0]
        await pilot.press("n")
        assert view.shown_sample == view.worst[1]
        assert "predicted against true" in chart_text(screen, "#scatter-chart")
        assert "residuals" in chart_text(screen, "#residual-chart")


async def test_a_multiclass_run_keeps_its_confusion_matrix_view(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        screen = await train_and_evaluate(app, pilot)
        assert isinstance(screen.view, MulticlassEvaluationView)


def _multilabel_data() -> Dataset:
    rng = np.random.default_rng(0)
    y_train, y_test = (rng.random((60, 3)) < 0.4).astype(np.int64), (rng.random((40, 3)) < 0.4).astype(np.int64)
    return Dataset(name="stations", x_train=rng.normal(size=(60, 5)).astype(np.float32), y_train=y_train,
                   x_test=rng.normal(size=(40, 5)).astype(np.float32), y_test=y_test,
                   class_names=("north", "east", "south"), input_shape=(5,), kind="tabular", source="test",
                   task="multilabel")


async def test_multilabel_file_by_keys_each_label_moves_its_own_threshold(make_app, tmp_path):
    data = _multilabel_data()
    path = tmp_path / "stations.npz"
    np.savez(path, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("f2")
        field = app.screen.query_one("#dataset-path")
        field.focus()
        await pilot.press(*str(path), "enter")
        await wait_until(pilot, lambda: app.dataset is not None and app.dataset.task == "multilabel", what="the file")
        screen = await train_and_evaluate(app, pilot)
        view = screen.view
        assert isinstance(view, MultilabelEvaluationView)
        assert isinstance(app.focused, LabelTable)
        evaluation = view.evaluation
        y, scores = evaluation.y_true, evaluation.scores
        await pilot.press("down", "right", "right")  # the second label's threshold to 0.52
        assert view.thresholds == pytest.approx((0.5, 0.52, 0.5))
        moved = view.evaluation.per_label[1]
        assert moved.f1 == pytest.approx(f1_score(y[:, 1], (scores[:, 1] >= 0.52).astype(int), zero_division=0))
        assert view.evaluation.per_label[0] == evaluation.per_label[0]  # the others stay
        predicted = (scores >= np.array([0.5, 0.52, 0.5])).astype(int)
        assert view.evaluation.macro_f1 == pytest.approx(f1_score(y, predicted, average="macro", zero_division=0))
        browser = screen.query_one(SampleBrowser)
        wrong = np.flatnonzero(predicted[:, 1] != y[:, 1])
        assert sorted(item.index for item in browser.items) == sorted(wrong.tolist())
        await pilot.press("0")
        assert view.thresholds == pytest.approx((0.5, 0.5, 0.5))


async def test_an_evaluation_without_its_scores_shows_its_numbers_and_says_the_threshold_cannot_move(make_app):
    from dataclasses import replace

    rng = np.random.default_rng(3)
    y = (rng.random(50) < 0.3).astype(np.int64)
    evaluation = evaluate_with(TASKS["binary"], y, rng.random(50), ("no", "yes"), 0.4)
    stripped = replace(evaluation, y_true=None, scores=None)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        app.show_evaluation(RunOutcome(app.runs_root / "r", "finished", None, stripped))
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="evaluate screen")
        await pilot.pause(0.2)
        view = app.screen.view
        assert isinstance(view, BinaryEvaluationView)
        await pilot.press("right")
        assert view.threshold == evaluation.threshold
        assert list(map(list, view.counts.confusion)) == list(map(list, evaluation.confusion))
        assert "not kept" in chart_text(app.screen, "#roc-chart")


async def test_multiclass_mistakes_of_word_numbers_are_drawn_as_words(make_app):
    from fakes import FakeRunExperiment

    from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser

    rng = np.random.default_rng(5)
    words = ("", "?", "the", "market", "fell", "rose", "sharply", "oil", "grain", "today")
    data = Dataset(name="news", x_train=rng.integers(2, 10, size=(30, 6)), y_train=np.arange(30) % 3,
                   x_test=rng.integers(2, 10, size=(30, 6)), y_test=np.arange(30) % 3,
                   class_names=("oil", "grain", "money"), input_shape=(6,), kind="text", source="test",
                   task="multiclass", vocabulary_size=10, index_words=words)
    evaluation = FakeRunExperiment(accuracy=0.5).evaluation(data)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        app.last_outcome = RunOutcome(app.runs_root / "r", "finished", None, evaluation)
        app.switch_to_mode("evaluate", lambda screen: screen.show(app.last_outcome, data))
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="evaluate screen")
        await pilot.pause(0.2)
        browser = app.screen.query_one(MisclassifiedBrowser)
        view = browser.query_one("#browser-kind-sample", SampleView)
        assert view.display and view.drawn_as == "text"
        first = browser.current.index
        assert words[int(data.x_test[first][0])] in str(view.renderable())


async def test_linnerud_three_targets_each_has_its_metrics_and_its_own_largest_errors(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=True)
        await choose_dataset_by_keys(app, pilot, "linnerud")
        screen = await train_and_evaluate(app, pilot)
        view = screen.view
        assert isinstance(view, RegressionEvaluationView) and view.target_name == "Weight"
        evaluation = view.evaluation
        numbers = static_text(screen, "#regression-numbers")
        for row in evaluation.per_target:
            assert row.name in numbers
            k = evaluation.target_names.index(row.name)
            assert row.mae == pytest.approx(mean_absolute_error(evaluation.y_true[:, k], evaluation.predictions[:, k]))
        await pilot.press("right_square_bracket")
        assert view.target_name == "Waist"
        errors = np.abs(evaluation.predictions - evaluation.y_true)[:, 1]
        assert view.worst[0] == int(np.argmax(errors))
        assert "Waist" in chart_text(screen, "#scatter-chart")


async def test_a_sweep_of_a_regression_optimises_val_mae_lowest_first(make_app):
    from textual.widgets import Input, Select

    from kerastui.tui.screens.sweep_form import SweepForm

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, listed=True)
        await choose_dataset_by_keys(app, pilot, "diabetes")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepForm), what="the sweep form")
        form = app.screen
        objective = form.query_one("#sweep-objective", Select)
        assert objective.value == "val_mae"
        assert "val_accuracy" not in [value for _, value in objective._options]
        form.query_one("#sweep-field-0", Select).value = "compile.learning_rate"
        form.query_one("#sweep-values-0", Input).value = "0.001, 0.01"
        form.query_one("#sweep-method", Select).value = "grid"  # tpe, the default, would want a budget
        await pilot.pause(0.1)
        assert "2 trials (grid, best val_mae min)" in str(form.query_one("#sweep-verdict").render())
