"""The runs screen and the compare screen speak each run's task: sorting by the task's metric in its
own direction (the lowest MAE first), the details naming the task's test metrics, the compare chart
drawing the task's metric and the diff listing every test metric of the runs' tasks."""

from __future__ import annotations

import io
from pathlib import Path

from fakes import FakePreviewer, tiny_experiment, wait_until
from rich.console import Console
from run_dirs import make_task_run

from kerastui.core.runs import list_runs
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.compare import CompareScreen
from kerastui.tui.screens.runs import RunsScreen
from kerastui.tui.widgets.hyperparameter_diff import diff_table, evaluation_rows
from kerastui.tui.widgets.run_compare_chart import RunCompareChart
from kerastui.tui.widgets.runs_table import sort_records


def label(record) -> str:
    return record.name.split("-", 2)[-1]


def mixed_runs(root: Path) -> None:
    make_task_run(root, "mae-2", "regression", [3.0, 2.0, 2.5], seed=1)
    make_task_run(root, "mae-1", "regression", [3.0, 1.0, 1.5], seed=2)
    make_task_run(root, "auc-8", "binary", [0.6, 0.8], seed=3)
    make_task_run(root, "auc-9", "binary", [0.7, 0.9, 0.85], seed=4)


def test_sorting_by_the_task_metric_puts_the_best_first_in_its_direction_task_by_task(tmp_path):
    mixed_runs(tmp_path)
    # Accuracies between the AUCs: sorted by value alone, the two tasks' runs would interleave.
    make_task_run(tmp_path, "acc-95", "multiclass", [0.5, 0.95], seed=5)
    make_task_run(tmp_path, "acc-85", "multiclass", [0.5, 0.85], seed=6)
    records = list_runs(tmp_path)
    ordered = [label(r) for r in sort_records(records, "best_val_accuracy")]
    assert abs(ordered.index("acc-95") - ordered.index("acc-85")) == 1
    # Each task's runs together; the lowest MAE first, the highest AUC first.
    assert ordered.index("mae-1") < ordered.index("mae-2") and ordered.index("auc-9") < ordered.index("auc-8")
    assert abs(ordered.index("mae-1") - ordered.index("mae-2")) == 1
    assert abs(ordered.index("auc-9") - ordered.index("auc-8")) == 1
    reversed_order = [label(r) for r in sort_records(records, "best_val_accuracy", reverse=True)]
    assert reversed_order.index("mae-2") < reversed_order.index("mae-1")
    by_test = [label(r) for r in sort_records(records, "test_accuracy")]
    regressions = [r for r in records if r.task == "regression"]
    best_r2 = label(max(regressions, key=lambda r: r.headline[1]))
    assert by_test.index(best_r2) < by_test.index(({"mae-1", "mae-2"} - {best_r2}).pop())


def test_the_diff_lists_every_test_metric_of_the_runs_tasks(tmp_path):
    mixed_runs(tmp_path)
    records = sorted(list_runs(tmp_path), key=label)  # auc-8, auc-9, mae-1, mae-2
    rows = dict(evaluation_rows(records))
    assert {"ROC AUC", "PR AUC", "R²", "MAE", "RMSE"} <= set(rows)
    assert rows["MAE"][:2] == ["-", "-"] and rows["ROC AUC"][2:] == ["-", "-"]  # not a metric of that task
    assert rows["R²"][2] == f"{records[2].evaluation.r2:.4g}"
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(diff_table(records))
    text = console.export_text()
    assert "test MAE" in text and "test ROC AUC" in text
    assert any("task" in line and "binary" in line and "regression" in line for line in text.splitlines())


async def test_compare_two_regressions_charts_mae_and_lists_their_metrics(tmp_path):
    root = tmp_path / "runs"
    make_task_run(root, "mae-2", "regression", [3.0, 2.0, 2.5], seed=1)
    make_task_run(root, "mae-1", "regression", [3.0, 1.0, 1.5], seed=2)
    app = KerasTUI(experiment=tiny_experiment(), runs_root=root, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs screen")
        screen = app.screen
        headers = [str(column.label) for column in screen.table.columns.values()]
        assert "val MAE" in headers and "test R²" in headers  # one task: the metric named once
        assert "regression test: R² " in str(screen.query_one("#run-details").render())
        screen.sort_key = "best_val_accuracy"
        screen._show()
        assert [label(r) for r in screen.table.records] == ["mae-1", "mae-2"]  # the lowest MAE first
        await pilot.press("space", "down", "space", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare screen")
        compare = app.screen
        chart = compare.query_one("#compare-accuracy", RunCompareChart)
        assert chart.metric == "val_mae"
        assert {label_: list(values) for label_, values in ((c.label.split("-", 2)[-1], c.values) for c in chart.curves)} \
            == {"mae-1": [3.0, 1.0, 1.5], "mae-2": [3.0, 2.0, 2.5]}
        await pilot.press("v")
        assert chart.metric == "mae"  # the training curve of the same metric
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(diff_table(compare.records))
        text = console.export_text()
        assert "test R²" in text and "test MAE" in text and "MAE 1.0000" in text
