"""A run outlives the app that started it: quit and keep it running, then a second app finds it
running on the runs screen (its row updating live) and enter re-attaches to it. The queue outlives
the app too (its runner, kerastui.core.queue_runner): runs still waiting when the app quits with
keep train afterwards; a killed runner's run is settled and the next app says so. Real child
processes (kerastui.core.launcher), tiny model on digits, JAX for a quick start."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import pytest
from fakes import FakePreviewer, tiny_experiment, wait_until

from kerastui.core.events import EpochEnded
from kerastui.core.launcher import LocalLauncher
from kerastui.core.runs import RESUMABLE_STATUSES, has_saved_state, load_run, read_info, read_status, writer_alive
from kerastui.tui.app import KerasTUI
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.screens.build import BuildScreen
from kerastui.tui.screens.runs import RunsScreen


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_quit_keeping_the_run_then_a_new_app_reattaches_to_it_live(tmp_path):
    runs_root = tmp_path / "runs"
    # Long enough (about 8 s of training on an idle 2 cores) that the run is still live when the second
    # app lists it: 60 epochs could end while the first app quit and the second started.
    epochs = 150
    experiment = replace(tiny_experiment(epochs=epochs), backend="jax")
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
        assert len(on_disk) == epochs
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


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
        time.sleep(0.1)


def _jax(epochs: int):
    experiment = replace(tiny_experiment(epochs=epochs), backend="jax")
    return replace(experiment, fit=replace(experiment.fit, batch_size=64))


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_two_runs_queued_with_one_slot_finish_after_the_app_quits_with_keep(tmp_path):
    runs_root = tmp_path / "runs"
    launcher = LocalLauncher(runs_root=runs_root, slots=1, keep_warm=False)
    first = KerasTUI(experiment=_jax(2), runs_root=runs_root, previewer=FakePreviewer(), launcher=launcher)
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: first.dataset is not None, what="digits")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(first.screen, RunMonitor) and len(launcher.active) == 1, what="a run")
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(first.screen, BuildScreen), what="the build screen")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(launcher.active) == 2, what="a second run, queued")
        runs = list(launcher.active)
        assert launcher.queued[-1] == runs[1] and read_status(runs[1]) == "queued"
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: type(first.screen).__name__ == "QuitWhileTrainingScreen", what="the question")
        await pilot.press("k")  # keep: the queue goes on without the app
        await wait_until(pilot, lambda: not first.is_running, what="the first app to quit")
    _wait(lambda: all(read_status(run) == "finished" for run in runs), 180, "both runs to finish without their app")
    one, two = (read_info(run) for run in runs)
    assert two["started_time"] >= one["ended_time"], "the second waited for the one slot"

    second = KerasTUI(experiment=_jax(2), runs_root=runs_root, previewer=FakePreviewer())
    async with second.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(second.screen, RunsScreen) and second.screen.listed, what="runs")
        listed = {r.path: r.status for r in second.screen.all_records}
        assert [listed[run] for run in runs] == ["finished", "finished"]


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_a_sigkilled_runners_run_is_settled_and_the_next_app_says_so(tmp_path):
    runs_root = tmp_path / "runs"
    launcher = LocalLauncher(runs_root=runs_root, keep_warm=False)
    run_dir = launcher.launch(_jax(300))
    _wait(lambda: has_saved_state(run_dir) and read_status(run_dir) == "running", 120, "a saved epoch")
    trainer = read_info(run_dir)["pid"]
    os.kill(launcher.queue.runner_pid(), signal.SIGKILL)
    _wait(lambda: not writer_alive(run_dir), 30, "the runner's trainer to die with it")
    assert read_status(run_dir) == "running", "nobody has looked yet"
    assert trainer != os.getpid()

    app = KerasTUI(experiment=_jax(2), runs_root=runs_root, previewer=FakePreviewer())
    said = []
    notify = app.notify
    app.notify = lambda message, **options: (said.append(message), notify(message, **options))[1]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: said, what="the app to say so")
        assert run_dir.name in said[0] and "interrupted" in said[0]
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs")
        record = next(r for r in app.screen.all_records if r.path == run_dir)
        assert record.status == "interrupted" and record.status in RESUMABLE_STATUSES
        assert has_saved_state(run_dir) and record.epochs_done >= 1  # its state kept: u resumes it
        assert "runner ended" in record.info["reason"]


async def test_the_runs_screen_shows_the_queue_order_and_reorders_stops_and_cancels_by_keys(tmp_path):
    """Fast: the test holds the queue's runner lock, so nothing starts; the keys act on the disk queue."""
    from kerastui.core.launcher import prepare_local_run
    from kerastui.core.queue_runner import QueueRunner
    from kerastui.tui.widgets.runs_table import RunsTable

    runs_root = tmp_path / "runs"
    holder = QueueRunner(runs_root)
    assert holder.acquire()
    try:
        launcher = LocalLauncher(runs_root=runs_root, keep_warm=False)
        waiting = [prepare_local_run(_jax(2), runs_root, name=name) for name in ("a", "b", "c")]
        for run_dir in waiting:
            launcher.enqueue(run_dir)
        app = KerasTUI(experiment=_jax(2), runs_root=runs_root, previewer=FakePreviewer(), launcher=launcher)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs")
            screen = app.screen
            table = screen.query_one(RunsTable)

            def places() -> dict[str, str]:
                return {r.name: str(table.get_row(str(r.path))[2]) for r in table.records}

            assert places() == {waiting[0].name: "queued 1", waiting[1].name: "queued 2", waiting[2].name: "queued 3"}
            table.move_cursor(row=[r.path for r in table.records].index(waiting[2]))
            await pilot.press("shift+up")
            await wait_until(pilot, lambda: places()[waiting[2].name] == "queued 2", what="c one place earlier")
            assert places()[waiting[1].name] == "queued 3"
            assert launcher.queued == [waiting[0], waiting[2], waiting[1]]
            await pilot.press("J")
            await wait_until(pilot, lambda: places()[waiting[2].name] == "queued 3", what="c one place later")
            await pilot.press("k")
            await wait_until(pilot, lambda: read_status(waiting[2]) == "cancelled", what="c cancelled")
            assert launcher.queued == [waiting[0], waiting[1]]
            await pilot.press("k")  # cancelled already: said, nothing done
            await wait_until(pilot, lambda: places()[waiting[2].name] == "cancelled", what="the row to say so")
            assert launcher.queued == [waiting[0], waiting[1]]
    finally:
        holder.release()
