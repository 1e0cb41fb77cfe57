"""A run outlives the app that started it: quit and keep it running, then a second app finds it
running on the runs screen (its row updating live) and enter re-attaches to it. Real child
processes (kerastui.core.launcher), tiny model on digits, JAX for a quick start."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fakes import FakePreviewer, tiny_experiment, wait_until

from kerastui.core.events import EpochEnded
from kerastui.core.runs import load_run, read_status, writer_alive
from kerastui.tui.app import KerasTUI
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.screens.runs import RunsScreen


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_quit_keeping_the_run_then_a_new_app_reattaches_to_it_live(tmp_path):
    runs_root = tmp_path / "runs"
    experiment = replace(tiny_experiment(epochs=60), backend="jax")
    experiment = replace(experiment, fit=replace(experiment.fit, batch_size=16))

    first = KerasTUI(experiment=experiment, runs_root=runs_root, previewer=FakePreviewer())
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: first.dataset is not None, what="digits")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(first.screen, RunMonitor) and first.screen.phase == "training",
                         timeout=120, what="training in its own process")
        run_dir = first.screen.run_dir
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: type(first.screen).__name__ == "QuitWhileTrainingScreen", what="the question")
        await pilot.press("k")  # keep it running
        await wait_until(pilot, lambda: not first.is_running, what="the first app to quit")
    assert read_status(run_dir) == "running" and writer_alive(run_dir), "the run goes on without its app"

    reads = []  # each read of the whole runs folder passes through the Slurm refresh

    def counted(records):
        reads.append(len(records))
        return records

    second = KerasTUI(experiment=experiment, runs_root=runs_root, previewer=FakePreviewer(),
                      slurm_client=SlurmClient(refresh_runs=counted))
    async with second.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(second.screen, RunsScreen) and second.screen.listed, what="runs")
        runs = second.screen
        row = next(r for r in runs.all_records if r.path == run_dir)
        assert row.status == "running"
        epochs_then = row.epochs_done
        # The row follows the live run incrementally (no re-read of the whole runs folder).
        await wait_until(pilot, lambda: next(r for r in runs.all_records if r.path == run_dir).epochs_done > epochs_then,
                         timeout=60, what="the row to update")
        assert len(reads) == 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(second.screen, RunMonitor), what="the monitor")
        monitor = second.screen
        await wait_until(pilot, lambda: monitor.phase == "finished", timeout=180, what="the run to finish, followed live")
        on_disk = [e for e in load_run(run_dir).events if isinstance(e, EpochEnded)]
        assert len(on_disk) == 60
        assert monitor.loss_chart.series("loss") == [e.metrics["loss"] for e in on_disk]  # every epoch, once
        assert monitor.has_evaluation


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_u_on_the_runs_screen_resumes_a_stopped_run_to_one_continuous_curve(tmp_path):
    from kerastui.core.data import load_dataset
    from kerastui.core.pipeline import run_experiment
    from kerastui.core.train import StopRequest

    runs_root = tmp_path / "runs"
    # The test process's own backend (TensorFlow): it trains the first part in-process, and Keras
    # keeps one backend per process.
    experiment = tiny_experiment(epochs=4)
    stop = StopRequest()

    def after_second_epoch(event) -> None:
        if isinstance(event, EpochEnded) and event.epoch == 1:
            stop.request("stopped for the test")

    outcome = run_experiment(experiment, load_dataset("digits", seed=experiment.seed), runs_root=runs_root,
                             listeners=[after_second_epoch], stop_event=stop)
    assert outcome.status == "stopped"
    app = KerasTUI(experiment=experiment, runs_root=runs_root, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.run_dir == outcome.run_dir,
                         what="the monitor of the resumed run")
        monitor = app.screen
        await wait_until(pilot, lambda: monitor.phase == "finished", timeout=180, what="the resumed run to finish")
        epochs = [e.epoch for e in load_run(outcome.run_dir).events if isinstance(e, EpochEnded)]
        assert epochs == [0, 1, 2, 3]
        assert len(monitor.loss_chart.series("loss")) == 4  # one curve over the global epoch
        assert any(line.startswith("resumed at epoch 3") for line in monitor.epoch_lines)
