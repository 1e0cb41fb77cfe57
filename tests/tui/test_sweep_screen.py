"""A sweep in the app: the runs screen shows it as one row; enter opens its leaderboard (best
trial first by the objective, the varied fields as columns, the mean objective per value); c
overlays the top trials; enter opens a trial in the run monitor. The sweep form builds a [sweep]
(method, budget, pruner) and starts its workers."""

from __future__ import annotations

from pathlib import Path

from fakes import FakePreviewer, tiny_experiment, wait_until
from sweep_trials import asked_trials, scripted_trial
from textual.widgets import DataTable

from kerastui.core.sweep import loads_sweep
from kerastui.core.sweep_runs import SweepRecord, create_sweep_dir
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.compare import CompareScreen
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.screens.runs import RunsScreen
from kerastui.tui.screens.sweep import SweepScreen

SWEEP = """
name = "lr-sweep"
dataset = "digits"
[[layers]]
type = "Flatten"
[[layers]]
type = "Dense"
units = 8
[[layers]]
type = "Dense"
units = 10
activation = "softmax"
[fit]
epochs = 2
[sweep]
method = "grid"
[sweep.parameters]
"compile.learning_rate" = [0.001, 0.01, 0.1]
"""


def swept(root: Path) -> tuple[Path, list[Path]]:
    """A sweep of three trials: two finished (the 0.01 one best), one asked but not started."""
    base, sweep = loads_sweep(SWEEP)
    sweep_dir = create_sweep_dir(base, sweep, root)
    return sweep_dir, asked_trials(sweep_dir, [[0.6, 0.7], [0.7, 0.8], []])


async def test_a_sweep_is_one_row_that_opens_as_its_leaderboard(tmp_path):
    root = tmp_path / "runs"
    sweep_dir, trials = swept(root)
    app = KerasTUI(experiment=tiny_experiment(), runs_root=root, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs")
        runs = app.screen
        (row,) = runs.all_records
        assert isinstance(row, SweepRecord) and row.path == sweep_dir and len(row.trials) == 3
        assert row.status == "prepared" and row.epochs_done == 2 and row.epochs_planned == 3  # trials

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen) and app.screen.rows, what="leaderboard")
        board = app.screen
        table = board.query_one(DataTable)
        headers = [str(column.label) for column in table.columns.values()]
        assert headers[:4] == ["rank", "trial", "status", "compile.learning_rate"] and "val_accuracy" in headers
        assert [r.params["compile.learning_rate"] for r in board.rows] == [0.01, 0.001, 0.1]  # best first, unstarted last
        assert board.rows[0].objective > board.rows[1].objective and board.rows[2].objective is None
        means = str(board.query_one("#sweep-means").render())
        assert "mean val_accuracy by compile.learning_rate:" in means and "0.01" in means

        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="the overlay")
        assert {r.path for r in app.screen.records} == {board.rows[0].record.path, board.rows[1].record.path}
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen), what="back to the leaderboard")

        await pilot.press("enter")  # the best trial, like any run
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor), what="the trial's monitor")
        assert app.screen.run_dir == board.rows[0].record.path


async def test_the_sweep_form_counts_the_trials_refuses_bad_values_and_starts_the_sweep(make_app, tmp_path, monkeypatch):
    import threading

    from textual.widgets import Input, Select

    from kerastui.core.sweep_worker import SweepWorker
    from kerastui.tui.screens import sweep_form
    from kerastui.tui.screens.sweep_form import SweepForm

    started: list[tuple[Path, int]] = []

    def scripted_workers(sweep_dir: Path, count: int) -> None:  # the worker processes, as threads
        started.append((sweep_dir, count))
        for _ in range(count):
            worker = SweepWorker(sweep_dir, run_trial=scripted_trial(lambda e: [0.5, 0.6 + e.compile.learning_rate]))
            threading.Thread(target=worker.run, daemon=True).start()

    monkeypatch.setattr(sweep_form, "start_sweep_workers", scripted_workers)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dataset is not None, what="the dataset")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepForm), what="the sweep form")
        form = app.screen
        verdict = lambda: str(form.query_one("#sweep-verdict").render())  # noqa: E731
        assert "sweep.parameters" in verdict()  # nothing chosen yet: says what is missing

        form.query_one("#sweep-field-0", Select).value = "compile.learning_rate"
        form.query_one("#sweep-values-0", Input).value = "0.001, 0.01"
        form.query_one("#sweep-field-1", Select).value = "layers[1].units"
        form.query_one("#sweep-values-1", Input).value = "8, -4"
        await pilot.pause(0.1)
        assert "layers[1].units" in verdict() and form.sweep is None  # -4 units: refused at once
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert isinstance(app.screen, SweepForm) and started == []

        form.query_one("#sweep-values-1", Input).value = "8, 16"
        await pilot.pause(0.1)
        assert "sweep.trials" in verdict() and "needs a budget" in verdict()  # tpe, the default: how many?
        form.query_one("#sweep-method", Select).value = "grid"
        form.query_one("#sweep-pruner", Select).value = "median"
        await pilot.pause(0.1)
        assert "4 trials (grid, best val_accuracy max, median pruner), 4 workers" in verdict()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen) and len(app.screen.rows) == 4,
                         what="the sweep's leaderboard")
        ((sweep_dir, workers),) = started
        assert workers == 4 and (sweep_dir / "study.journal").is_file()
        assert "[sweep.pruner]" in (sweep_dir / "sweep.toml").read_text()
        await wait_until(pilot, lambda: all(row.status == "finished" for row in app.screen.rows), timeout=30,
                         what="the trials to finish, live on the leaderboard")
        assert sorted((r.params["compile.learning_rate"], r.params["layers[1].units"]) for r in app.screen.rows) == [
            (0.001, 8), (0.001, 16), (0.01, 8), (0.01, 16)]
