"""A regression sweep in the app: its leaderboard ranks the lowest val_mae first and its test
column is the task's R²; the runs screen's row of it says MAE; its top trials compare on MAE."""

from __future__ import annotations

from fakes import FakePreviewer, tiny_experiment, wait_until
from run_dirs import make_regression_sweep
from textual.widgets import DataTable

from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.compare import CompareScreen
from kerastui.tui.screens.runs import RunsScreen
from kerastui.tui.screens.sweep import SweepScreen
from kerastui.tui.widgets.run_compare_chart import RunCompareChart


async def test_a_regression_sweeps_leaderboard_ranks_the_lowest_mae_first(tmp_path):
    root = tmp_path / "runs"
    make_regression_sweep(root, [[3.0, 2.0], [2.5, 1.0, 1.2]])  # the third trial is still queued
    app = KerasTUI(experiment=tiny_experiment(), runs_root=root, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs")
        (row,) = app.screen.all_records
        assert row.best_val_metric == ("val_mae", 1.0) and row.headline[0] == "R²"
        cells = [str(cell) for cell in app.screen.table.get_row(str(row.path))]
        assert cells[6] == "1.0000" and cells[7] == f"{row.headline[1]:.4f}"  # val MAE, test R² (named above)
        headers = [str(column.label) for column in app.screen.table.columns.values()]
        assert headers[6:8] == ["val MAE", "test R²"]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.rows, what="leaderboard")
        board = app.screen
        assert [r.objective for r in board.rows] == [1.0, 2.0, None]  # lowest MAE first, unstarted last
        assert [r.params["compile.learning_rate"] for r in board.rows] == [0.01, 0.1, 0.001]
        table = board.query_one(DataTable)
        headers = [str(column.label) for column in table.columns.values()]
        assert "val_mae" in headers and "test" in headers
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[headers.index("test")].startswith("R² ") and first[headers.index("val_mae")] == "1.0000"
        assert "mean val_mae by compile.learning_rate:" in str(board.query_one("#sweep-means").render())
        await pilot.press("c")  # the top trials overlaid: on their task's metric
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="the overlay")
        assert app.screen.query_one("#compare-accuracy", RunCompareChart).metric == "val_mae"
