"""Runs screen by keys: list, sort, filter, select and compare, open, clone, delete; and its pure helpers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakePreviewer, tiny_experiment, wait_until
from run_dirs import make_run

from kerastui.core.data import load_dataset
from kerastui.core.runs import list_runs, load_run
from kerastui.core.spec import CompileSettings
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.build import BuildScreen
from kerastui.tui.screens.compare import CompareScreen
from kerastui.tui.screens.confirm import ConfirmScreen
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.screens.runs import RunsScreen
from kerastui.tui.widgets.hyperparameter_diff import HyperparameterDiff, differing_parameters
from kerastui.tui.widgets.run_compare_chart import RunCompareChart, smooth
from kerastui.tui.widgets.runs_table import filter_records, sort_records


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture
def three_runs(tmp_path, digits) -> dict[str, Path]:
    """Three finished runs that differ in learning rate, epochs and results, plus one failed run."""
    root = tmp_path / "runs"
    slow = make_run(root, "slow-lr", epochs=3, shift=0.0, dataset=digits)
    fast = make_run(root, "fast-lr", epochs=4, shift=0.1, dataset=digits,
                    compile=CompileSettings(learning_rate=0.01))
    wide = make_run(root, "wide", epochs=2, shift=0.05, dataset=digits, seed=7)
    failed = make_run(root, "broken", epochs=2, final="failed")
    return {"slow": slow, "fast": fast, "wide": wide, "failed": failed}


def make_app(tmp_path: Path, **options) -> KerasTUI:
    return KerasTUI(experiment=tiny_experiment(), runs_root=tmp_path / "runs", previewer=FakePreviewer(), **options)


async def open_runs(app: KerasTUI, pilot) -> RunsScreen:
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs screen")
    return app.screen


def shown_names(screen: RunsScreen) -> list[str]:
    return [record.name.split("-", 2)[-1] for record in screen.table.records]


# ---- pure helpers -------------------------------------------------------------------------------


def test_smoothing_is_a_debiased_moving_average():
    assert smooth([1.0, 2.0, 3.0], 0.0) == [1.0, 2.0, 3.0]
    smoothed = smooth([1.0, 0.0, 0.0], 0.5)
    assert smoothed[0] == pytest.approx(1.0)          # debiased: the first point is not pulled to zero
    assert smoothed[1] == pytest.approx(0.25 / 0.75)
    assert smoothed[2] == pytest.approx(0.125 / 0.875)
    with pytest.raises(ValueError):
        smooth([1.0], 1.0)


def test_sort_and_filter(three_runs):
    records = list_runs(three_runs["slow"].parent)
    by_accuracy = sort_records(records, "test_accuracy")
    names = [r.name.split("-", 2)[-1] for r in by_accuracy]
    assert names[:3] == ["fast-lr", "wide", "slow-lr"]      # best first
    assert names[-1] == "broken"                             # no evaluation: last either way
    reversed_names = [r.name.split("-", 2)[-1] for r in sort_records(records, "test_accuracy", reverse=True)]
    assert reversed_names == ["slow-lr", "wide", "fast-lr", "broken"]
    assert [r.name.split("-", 2)[-1] for r in filter_records(records, "failed")] == ["broken"]
    assert {r.name.split("-", 2)[-1] for r in filter_records(records, "finished !fast")} == {"slow-lr", "wide"}


def test_hyperparameter_differences(three_runs):
    records = [load_run(three_runs[name]) for name in ("slow", "fast", "wide")]
    differing = differing_parameters(records)
    assert set(differing) == {"learning_rate", "epochs", "seed"}
    assert differing_parameters(records[:1]) == []


# ---- Pilot ------------------------------------------------------------------------------------


async def test_runs_screen_lists_sorts_and_filters(tmp_path, three_runs):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(app, pilot)
        assert len(screen.table.records) == 4
        assert set(shown_names(screen)) == {"slow-lr", "fast-lr", "wide", "broken"}
        fast = next(r for r in screen.table.records if r.name.endswith("fast-lr"))
        row = [str(cell) for cell in screen.table.get_row(str(fast.path))]
        assert row[2] == "finished" and row[3] == "digits" and row[5] == "4/4"
        assert row[7] == f"{fast.test_accuracy:.4f}" and row[6] == f"{fast.best_val_accuracy:.4f}" and row[10] == "local" and row[9] == "-"  # no resource samples in a scripted run

        # s cycles the sort column: created -> name -> status -> dataset -> epochs -> best val
        for _ in range(5):
            await pilot.press("s")
        assert screen.sort_key == "best_val_accuracy"
        best = {name: load_run(three_runs[key]).best_val_accuracy for key, name in
                (("slow", "slow-lr"), ("fast", "fast-lr"), ("wide", "wide"), ("failed", "broken"))}
        expected = sorted(best, key=best.get, reverse=True)
        assert shown_names(screen) == expected
        await pilot.press("S")
        assert shown_names(screen) == expected[::-1]
        assert "sorted by best val" in str(screen.query_one("#runs-header").render())

        await pilot.press("slash")
        await pilot.press(*"lr")
        assert set(shown_names(screen)) == {"slow-lr", "fast-lr"}
        await pilot.press("enter")   # keeps the filter, back to the table
        assert screen.table.has_focus and screen.filter_text == "lr"
        assert "2 of 4 runs" in str(screen.query_one("#runs-header").render())
        await pilot.press("escape")  # clears it
        assert len(screen.table.records) == 4


async def test_select_two_runs_compare_overlays_and_diff(tmp_path, three_runs):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(app, pilot)
        await pilot.press("s")   # by name: broken, fast-lr, slow-lr, wide
        assert shown_names(screen) == ["broken", "fast-lr", "slow-lr", "wide"]
        await pilot.press("c")
        await pilot.pause(0.05)
        assert not isinstance(app.screen, CompareScreen)   # nothing selected yet
        await pilot.press("down", "space", "space")          # selects fast-lr and slow-lr
        assert {r.name.split("-", 2)[-1] for r in screen.table.selected_records} == {"fast-lr", "slow-lr"}
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare screen")
        compare = app.screen
        loss_chart = compare.query_one("#compare-loss", RunCompareChart)
        fast, slow = (load_run(three_runs[name]) for name in ("fast", "slow"))
        curves = {c.label.split("-", 2)[-1]: list(c.values) for c in loss_chart.curves}
        assert curves == {"fast-lr": fast.metrics_history["val_loss"], "slow-lr": slow.metrics_history["val_loss"]}

        await pilot.press("m")
        assert loss_chart.smoothing == 0.6
        curve = loss_chart.curves[0]
        assert loss_chart.drawn(curve) == smooth(list(curve.values), 0.6) != list(curve.values)
        await pilot.press("v")
        assert loss_chart.metric == "loss"

        diff = compare.query_one(HyperparameterDiff)
        from kerastui.tui.widgets.hyperparameter_diff import parameter_rows

        rows = {name: (values, differs) for name, values, differs in parameter_rows(diff.records)}
        assert rows["learning_rate"][1] and sorted(rows["learning_rate"][0]) == ["0.001", "0.01"]
        assert not rows["optimizer"][1]
        from rich.console import Console

        from kerastui.tui.widgets.hyperparameter_diff import diff_table

        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        console.print(diff_table(diff.records))
        lines = console.export_text().splitlines()
        assert any("≠" in line and "learning_rate" in line for line in lines)
        assert not any("≠" in line and "optimizer" in line for line in lines)
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert app.screen is screen and screen.smoothing == 0.6


async def test_open_a_run_shows_its_charts_and_evaluation(tmp_path, three_runs):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(app, pilot)
        await pilot.press("s")   # by name
        await pilot.press("down", "enter")   # fast-lr
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished",
                         what="run replayed")
        view = app.screen
        record = load_run(three_runs["fast"])
        assert view.accuracy_chart.series("val_accuracy") == record.metrics_history["val_accuracy"]
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         what="evaluate screen")
        assert app.screen.evaluation.test_accuracy == record.test_accuracy
        assert app.screen.outcome.run_dir == record.path


async def test_clone_loads_the_experiment_into_the_build_screen(tmp_path, three_runs):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(app, pilot)
        await pilot.press("s")              # by name
        await pilot.press("down", "l")      # fast-lr: learning rate 0.01
        await wait_until(pilot, lambda: isinstance(app.screen, BuildScreen), what="build screen")
        assert app.experiment == load_run(three_runs["fast"]).experiment
        assert app.experiment.compile.learning_rate == 0.01


async def test_delete_asks_first(tmp_path, three_runs):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(app, pilot)
        await pilot.press("s")          # by name: broken first
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("n")
        await pilot.pause(0.05)
        assert three_runs["failed"].exists()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(screen.table.records) == 3, what="list without the deleted run")
        assert not three_runs["failed"].exists() and three_runs["slow"].exists()
        assert "broken" not in shown_names(screen)


async def test_running_run_is_not_deleted_and_empty_root_says_what_to_do(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(app, pilot)
        assert "No runs in" in str(screen.query_one("#runs-header").render())
        from kerastui.core.runs import RunWriter

        writer = RunWriter.create(replace(tiny_experiment(), name="live"), root=tmp_path / "runs")
        await pilot.press("r")
        await wait_until(pilot, lambda: len(screen.table.records) == 1, what="refreshed list")
        await pilot.press("d")
        await pilot.pause(0.05)
        assert not isinstance(app.screen, ConfirmScreen) and writer.path.exists()


async def test_every_column_of_a_slurm_run_fits_a_120_column_screen(tmp_path, digits):
    # The full headers and whole run names made the table 124-135 columns wide at 120: 'where'
    # (the Slurm job) and then the test accuracy and duration were cut off the right edge.
    import json

    path = make_run(tmp_path / "runs", "lr-sweep-3", dataset=digits, job_id="1234567")
    info = json.loads((path / "info.json").read_text())
    (path / "info.json").write_text(json.dumps({**info, "duration": 3725.0}))
    make_run(tmp_path / "runs", "a-rather-long-run-name-from-a-script", dataset=digits)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(app, pilot)
        table = screen.table
        needed = sum(column.get_render_width(table) for column in table.columns.values())
        assert needed <= table.size.width - 2, needed  # room left for a vertical scrollbar
        record = next(r for r in table.records if r.path == path)
        row = [str(cell) for cell in table.get_row(str(path))]
        assert row[1] == f"{path.name[4:6]}-{path.name[6:8]} {path.name[9:11]}:{path.name[11:13]} lr-sweep-3"
        assert row[7] == f"{record.test_accuracy:.4g}" and row[8] == "1h02m" and row[10] == "slurm 1234567"


def test_compare_chart_epoch_axis_has_whole_epoch_ticks():
    # plotext's own ticks over xlim(0.8, n + 0.2) read 0.8, 22.2, 43.5, 64.9, 86.2.
    from kerastui.tui.widgets.run_compare_chart import epoch_ticks

    assert epoch_ticks(1) == [1] and epoch_ticks(3) == [1, 2, 3]
    assert epoch_ticks(86) == [1, 20, 40, 60, 80]
    assert epoch_ticks(400) == [1, 100, 200, 300, 400]
    for longest in range(1, 2000, 7):
        ticks = epoch_ticks(longest)
        assert ticks[0] == 1 and ticks[-1] <= longest and len(ticks) <= 6
        assert all(isinstance(t, int) for t in ticks) and ticks == sorted(set(ticks))


async def test_runs_screen_settles_slurm_runs_through_the_refresh_in_its_worker(tmp_path):
    # A job cancelled outside kerastui: the screen's loader asks Slurm (here a fake) off the UI thread.
    import threading

    from kerastui.core.runs import RunWriter
    from kerastui.tui.slurm_client import SlurmClient

    writer = RunWriter.create(replace(tiny_experiment(), name="queued"), root=tmp_path / "runs")
    writer.set_status("submitted")
    writer.update_info(slurm_job_id="55")
    seen: list = []

    def refresh(records):
        seen.append((threading.current_thread() is threading.main_thread(), [r.slurm_job_id for r in records]))
        for record in records:
            record.status = "cancelled"
        return records

    app = make_app(tmp_path, slurm_client=SlurmClient(refresh_runs=refresh))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runs(app, pilot)
        assert seen and seen[0] == (False, ["55"])
        assert [r.status for r in screen.table.records] == ["cancelled"]
