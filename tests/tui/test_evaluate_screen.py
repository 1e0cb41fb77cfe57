"""Evaluate screen: confusion numbers equal scikit-learn's, choosing a cell filters the mistakes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fakes import (
    FakeLauncher,
    FakeRunExperiment,
    FakePreviewer,
    made_up_probabilities,
    tiny_experiment,
    wait_until,
)
from rich.console import Console
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from kerastui.core.data import load_dataset
from kerastui.core.pipeline import RunOutcome
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.widgets.class_report import ClassReportTable
from kerastui.tui.widgets.confusion_table import ConfusionTable
from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser


async def open_evaluation(tmp_path: Path, pilot, app: KerasTUI, accuracy: float = 0.8) -> tuple[EvaluateScreen, RunOutcome]:
    await wait_until(pilot, lambda: app.dataset is not None, what="dataset")
    evaluation = FakeRunExperiment(accuracy=accuracy).evaluation(app.dataset)
    outcome = RunOutcome(run_dir=tmp_path / "runs" / "20260101-000000-tiny", status="finished", result=None, evaluation=evaluation)
    app.show_evaluation(outcome)
    await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is outcome, what="evaluate screen")
    await pilot.pause()
    return app.screen, outcome


def shown_text(widget) -> str:
    """The plain text a Static shows (rich renderables printed as a terminal would)."""
    console = Console(width=120, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def make_app(tmp_path: Path, dataset: str = "digits", **experiment) -> KerasTUI:
    return KerasTUI(
        experiment=tiny_experiment(dataset=dataset, **experiment),
        runs_root=tmp_path / "runs",
        launcher=FakeLauncher(FakeRunExperiment(), tmp_path / 'runs'),
        previewer=FakePreviewer(),
    )


def sklearn_confusion(dataset, accuracy: float = 0.8, seed: int = 0) -> np.ndarray:
    """Recompute the fake's predictions independently and let scikit-learn count them."""
    probabilities = made_up_probabilities(dataset.y_test, dataset.num_classes, accuracy, seed)
    return confusion_matrix(dataset.y_test, probabilities.argmax(axis=1), labels=range(dataset.num_classes))


async def test_confusion_table_numbers_equal_sklearn(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, outcome = await open_evaluation(tmp_path, pilot, app)
        table = screen.query_one(ConfusionTable)
        expected = sklearn_confusion(app.dataset)
        assert table.displayed_counts() == expected.tolist()
        rows, cols = table.displayed_totals()
        assert rows == expected.sum(axis=1).tolist()
        assert cols == expected.sum(axis=0).tolist()
        assert list(table.class_names) == [str(d) for d in range(10)]
        summary = str(screen.query_one("#eval-summary").render())
        assert f"{outcome.evaluation.test_accuracy:.2%}" in summary
        assert f"{outcome.evaluation.test_loss:.4f}" in summary


async def test_class_report_equals_sklearn(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, _ = await open_evaluation(tmp_path, pilot, app)
        probabilities = made_up_probabilities(app.dataset.y_test, 10, 0.8, 0)
        precision, recall, f1, support = precision_recall_fscore_support(
            app.dataset.y_test, probabilities.argmax(axis=1), labels=range(10), zero_division=0
        )
        report = screen.query_one(ClassReportTable)
        table = report.build_table()
        shown = [[str(cell) for cell in column._cells[:10]] for column in table.columns]
        assert shown[1] == [f"{v:.3f}" for v in precision]
        assert shown[2] == [f"{v:.3f}" for v in recall]
        assert shown[3] == [f"{v:.3f}" for v in f1]
        assert shown[4] == [str(v) for v in support]


async def test_choosing_a_cell_filters_the_browser_and_n_p_move(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, _ = await open_evaluation(tmp_path, pilot, app)
        expected = sklearn_confusion(app.dataset)
        off_diagonal = expected - np.diag(np.diag(expected))
        true, predicted = map(int, np.unravel_index(off_diagonal.argmax(), expected.shape))
        count = int(expected[true, predicted])
        assert count >= 2
        browser = screen.query_one(MisclassifiedBrowser)
        assert len(browser.filtered) == int(off_diagonal.sum())

        table = screen.query_one(ConfusionTable)
        assert table.has_focus
        await pilot.press(*(["down"] * true), *(["right"] * predicted))
        assert table.cursor == (true, predicted)
        await pilot.press("enter")
        await pilot.pause()
        assert browser.filter == (true, predicted)
        assert len(browser.filtered) == count
        assert all(m.true == true and m.predicted == predicted for m in browser.filtered)
        title = str(screen.query_one("#browser-title").render())
        assert f"1 of {count}" in title

        first = browser.current
        await pilot.press("n")
        assert browser.current is not first and f"2 of {count}" in str(screen.query_one("#browser-title").render())
        await pilot.press("p")
        assert browser.current is first
        await pilot.press("p")  # wraps to the last
        assert browser.position == count - 1

        await pilot.press("escape")
        assert browser.filter is None and len(browser.filtered) == int(off_diagonal.sum())

        # Enter on a diagonal cell also shows every mistake again.
        await pilot.press("enter")  # filter again on the same cell
        assert browser.filter == (true, predicted)
        await pilot.press(*(["left"] * predicted), *(["right"] * true))
        await pilot.press("enter")
        assert table.cursor == (true, true) and browser.filter is None


async def test_browser_draws_the_image_with_labels_and_confidence(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, outcome = await open_evaluation(tmp_path, pilot, app)
        browser = screen.query_one(MisclassifiedBrowser)
        item = browser.current
        assert item == outcome.evaluation.misclassified[0]  # most confident mistake first
        details = str(screen.query_one("#browser-details").render())
        assert f"true       {item.true}" in details
        assert f"predicted  {item.predicted}" in details
        assert f"{item.confidence:.1%}" in details
        sample = shown_text(screen.query_one("#browser-sample"))
        assert "▀" in sample  # half blocks
        assert len(sample.rstrip("\n").splitlines()) == 8  # 8x8 digit drawn 16 wide -> 16 pixel rows / 2
        await pilot.press("right")  # the table has focus: right moves its cursor, not the browser
        assert browser.current == item
        await pilot.press("n")
        assert browser.current == outcome.evaluation.misclassified[1]


async def test_tabular_dataset_shows_feature_values(tmp_path):
    app = make_app(tmp_path, dataset="iris", num_classes=3, input_shape=(4,))
    async with app.run_test(size=(120, 40)) as pilot:
        screen, _ = await open_evaluation(tmp_path, pilot, app, accuracy=0.6)
        browser = screen.query_one(MisclassifiedBrowser)
        assert browser.current is not None
        sample = shown_text(screen.query_one("#browser-sample"))
        # iris's own column names label the values (f0, f1, ... only when the data has none)
        assert "sepal length (cm)" in sample and "petal width (cm)" in sample and "▀" not in sample
        value = app.dataset.x_test[browser.current.index][0]
        assert f"{value:+.2f}" in sample
        assert screen.query_one(ConfusionTable).displayed_counts() == sklearn_confusion(app.dataset, 0.6).tolist()


def test_confusion_table_fits_80_columns_for_ten_long_class_names():
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    matrix = np.full((10, 10), 12) + np.diag([950] * 10)
    table = ConfusionTable()
    table.set_matrix(matrix.tolist(), names)
    console = Console(width=80, record=True, color_system=None)
    console.print(table.build_table())
    lines = console.export_text().splitlines()
    assert len(lines) == 12  # header, 10 classes, totals: no row wrapped
    assert max(len(line) for line in lines) <= 80
    assert lines[1].startswith("T-shirt/to") and "Trou" in lines[0]
    assert table.displayed_counts() == matrix.tolist()


async def test_evaluate_screen_without_a_run_says_what_to_do(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="evaluate screen")
        assert "No evaluation yet" in str(app.screen.query_one("#eval-summary").render())
        await pilot.press("n", "escape", "down", "enter")  # nothing to browse: no error


async def test_app_renders_train_and_evaluate_at_80x24(tmp_path):
    fake = FakeRunExperiment(steps=3)
    app = KerasTUI(experiment=tiny_experiment(epochs=2), runs_root=tmp_path / "runs", launcher=FakeLauncher(fake, tmp_path / 'runs'), previewer=FakePreviewer())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="ready")
        app.start_training()
        await wait_until(pilot, lambda: getattr(app.screen, "phase", "") == "finished", what="run to finish")
        await pilot.pause(0.2)
        train_svg = app.export_screenshot()
        assert "Finished" in train_svg and "loss" in train_svg
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="evaluate screen")
        await pilot.pause()
        table = app.screen.query_one(ConfusionTable)
        assert table.region.width <= 80 and table.region.right <= 80
        assert "total" in app.export_screenshot()


async def test_global_e_after_a_run_shows_that_run(tmp_path):
    fake = FakeRunExperiment(steps=2)
    app = KerasTUI(experiment=tiny_experiment(epochs=1), runs_root=tmp_path / "runs", launcher=FakeLauncher(fake, tmp_path / 'runs'), previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="ready")
        app.start_training()
        await wait_until(pilot, lambda: getattr(app.screen, "phase", "") == "finished", what="run to finish")
        await pilot.press("b")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "BuildScreen", what="build screen")
        app.action_switch_to("evaluate")  # the global evaluate key, whichever widget has focus
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="evaluate screen")
        await pilot.pause()
        assert app.screen.outcome.evaluation.test_accuracy == fake.outcome.evaluation.test_accuracy
        assert app.screen.query_one(ConfusionTable).displayed_counts() == sklearn_confusion(app.dataset).tolist()


async def test_samples_of_another_dataset_are_not_shown(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen, outcome = await open_evaluation(tmp_path, pilot, app)
        screen.show(outcome, load_dataset("iris"))  # the app has moved on to another dataset
        await pilot.pause()
        assert "not available" in shown_text(screen.query_one("#browser-sample"))
