"""The run monitor on the train screen, driven by keys; the runs are the scripted trainer writing a real
run directory from a thread (FakeLauncher), followed like a child process's run (no Keras)."""

from __future__ import annotations

import time
from pathlib import Path

from fakes import FakeLauncher, FakeRunExperiment, FakePreviewer, tiny_experiment, wait_until

from kerastui.core.events import BatchEnded, EpochEnded, TrainingStopped
from kerastui.tui.app import KerasTUI
from kerastui.tui.messages import TrainingBatch, TrainingUpdate, message_for
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor, format_epoch_line
from kerastui.tui.widgets.training_progress import TrainingProgress


def make_app(fake: FakeRunExperiment, tmp_path: Path, epochs: int = 3) -> KerasTUI:
    return KerasTUI(
        experiment=tiny_experiment(epochs=epochs),
        runs_root=tmp_path / "runs",
        launcher=FakeLauncher(fake, tmp_path / "runs"),
        previewer=FakePreviewer(),
    )


async def start_training(app: KerasTUI, pilot) -> RunMonitor:
    """Wait for the dataset, start a run as the build screen would."""
    await wait_until(pilot, lambda: app.dataset is not None, what="dataset")
    app.start_training()
    await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase != "idle", what="train screen")
    return app.screen


async def test_chart_gets_the_runs_metrics_and_progress_reaches_100(tmp_path):
    fake = FakeRunExperiment(steps=5)
    app = make_app(fake, tmp_path, epochs=3)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, lambda: screen.phase == "finished", what="run to finish")
        await pilot.pause(0.2)  # one more redraw tick

        epochs = fake.epoch_events
        assert len(epochs) == 3
        for name in ("loss", "val_loss"):
            assert screen.loss_chart.series(name) == [e.metrics[name] for e in epochs]
        for name in ("accuracy", "val_accuracy"):
            assert screen.accuracy_chart.series(name) == [e.metrics[name] for e in epochs]
        assert screen.query_one(TrainingProgress).run_percentage == 1.0
        log_lines = list(screen.query_one("#epoch-log").lines)
        assert log_lines == [format_epoch_line(e) for e in epochs]
        assert f"val_acc {epochs[-1].metrics['val_accuracy']:.4f}" in log_lines[-1]
        assert "Finished" in str(screen.status_text()) and "3 epochs" in str(screen.status_text())
        run_dir = screen.run_dir
        assert (run_dir / "metrics.jsonl").exists()
        assert (run_dir / "status").read_text().strip() == "finished"
        assert not screen.is_live


async def test_batches_move_the_curve_within_the_epoch(tmp_path):
    fake = FakeRunExperiment(steps=4, pause_at=(1, 2))
    app = make_app(fake, tmp_path, epochs=3)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, fake.paused.is_set, what="fake to pause")
        last_batch = [e for e in fake.emitted if isinstance(e, BatchEnded)][-1]
        await wait_until(pilot, lambda: screen.loss_chart.running_point is not None and screen.loss_chart.running_point[0] == 1.5, what="running point")
        assert screen.loss_chart.running_point == (1.5, last_batch.metrics["loss"])
        assert screen.loss_chart.series("loss") == [fake.epoch_events[0].metrics["loss"]]
        # Progress redraws twice a second at most.
        await wait_until(pilot, lambda: 0.49 < screen.query_one(TrainingProgress).run_percentage < 0.51,
                         what="1.5 of 3 epochs on the progress bar")
        fake.resume.set()
        await wait_until(pilot, lambda: not screen.is_live, what="run to end")


async def test_stop_mid_training_keeps_finished_epochs_and_marks_run_stopped(tmp_path):
    fake = FakeRunExperiment(steps=4, pause_at=(1, 2), hold_stop_until_resume=True)
    app = make_app(fake, tmp_path, epochs=5)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, fake.paused.is_set, what="fake to pause")
        assert screen.is_live and app.is_training
        await pilot.press("s")
        assert screen.phase == "stopping"
        assert "Stopping" in str(screen.query_one("#train-status").render())
        assert screen.is_live  # until the trainer reaches its next batch
        fake.resume.set()
        await wait_until(pilot, lambda: screen.phase == "stopped", what="run to stop")
        await pilot.pause(0.2)

        assert isinstance(fake.emitted[-1], TrainingStopped)
        assert "Stopped after 1 epoch" in str(screen.status_text())
        assert screen.loss_chart.series("loss") == [fake.epoch_events[0].metrics["loss"]]
        assert len(screen.query_one("#epoch-log").lines) == 1
        # No ETA for the epochs that will never run.
        progress_line = str(screen.query_one("#progress-summary").render())
        assert progress_line.startswith("ended ·") and "ETA" not in progress_line
        assert (screen.run_dir / "status").read_text().strip() == "stopped"
        assert fake.outcome.evaluation is not None  # a stopped run is still evaluated


async def test_keys_get_answers_while_training_runs(tmp_path):
    fake = FakeRunExperiment(steps=4, pause_at=(0, 3))
    app = make_app(fake, tmp_path, epochs=2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, fake.paused.is_set, what="fake to pause")
        assert screen.is_live
        await pilot.press("l")
        assert screen.loss_chart.log_scale is True
        await pilot.press("e")  # evaluation is not ready yet: the screen says so and stays
        assert app.screen is screen
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="help screen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="back on train screen")
        await pilot.press("ctrl+q")  # quitting mid-run asks first: keep it running, stop it, or stay
        await wait_until(pilot, lambda: type(app.screen).__name__ == "QuitWhileTrainingScreen", what="quit question")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="question dismissed")
        assert screen.is_live and app.is_running
        fake.resume.set()
        await wait_until(pilot, lambda: screen.phase == "finished", what="run to finish")


async def test_finished_run_goes_to_evaluation_with_e(tmp_path):
    fake = FakeRunExperiment(steps=3)
    app = make_app(fake, tmp_path, epochs=2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, lambda: screen.phase == "finished", what="run to finish")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         what="evaluate screen")
        assert app.screen.outcome.run_dir == screen.run_dir
        assert app.screen.outcome.evaluation.test_accuracy == fake.outcome.evaluation.test_accuracy


async def test_quit_mid_run_can_keep_it_running_or_stop_it(tmp_path):
    for answer, keep in (("k", True), ("s", False)):
        fake = FakeRunExperiment(steps=4, pause_at=(0, 2))
        app = make_app(fake, tmp_path / answer, epochs=2)
        async with app.run_test(size=(120, 40)) as pilot:
            await start_training(app, pilot)
            await wait_until(pilot, fake.paused.is_set, what="fake to pause")
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "QuitWhileTrainingScreen", what="quit question")
            await pilot.press(answer)
            await wait_until(pilot, lambda: not app.is_running, what="the app to quit")
        assert app.launcher.shutdowns == [keep]
        assert bool(app.launcher.stops[app.launcher.launched[0]].is_set()) is (not keep)
        fake.resume.set()


async def test_nan_failure_shows_reason_and_keeps_finished_epochs(tmp_path):
    fake = FakeRunExperiment(steps=3, fail_at_epoch=1)
    app = make_app(fake, tmp_path, epochs=4)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, lambda: screen.phase == "failed" and not screen.is_live and screen.ended is not None, what="failure")
        await pilot.pause(0.2)
        status = screen.query_one("#train-status")
        assert "FAILED" in str(status.render()) and "NaN" in str(status.render())
        assert status.has_class("-error")
        assert screen.loss_chart.series("loss") == [fake.epoch_events[0].metrics["loss"]]
        await pilot.press("e")  # no evaluation for a failed run: stays here
        assert app.screen is screen


async def test_a_run_that_cannot_be_created_is_shown_not_fatal(tmp_path):
    class BrokenLauncher(FakeLauncher):
        def launch(self, experiment):
            raise OSError("disk full while writing the run directory")

    launcher = BrokenLauncher(FakeRunExperiment(), tmp_path)
    app = KerasTUI(experiment=tiny_experiment(), runs_root=tmp_path, launcher=launcher, previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.dataset is not None, what="dataset")
        app.start_training()
        await pilot.pause(0.1)
        assert any("disk full" in n.message for n in app._notifications)
        assert app.is_running and not app.is_training


async def test_redraws_are_throttled_however_fast_batches_come(tmp_path):
    fake = FakeRunExperiment(steps=3000)  # thousands of batch events as fast as the fake can emit
    app = make_app(fake, tmp_path, epochs=1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        rebuilt = []
        replot = screen.loss_chart.replot
        screen.loss_chart.replot = lambda force=False: bool(replot(force) and rebuilt.append(1) is None)
        started = time.monotonic()
        await wait_until(pilot, lambda: screen.phase == "finished", timeout=60, what="run to finish")
        elapsed = time.monotonic() - started
        batches = sum(isinstance(e, BatchEnded) for e in fake.emitted)
        assert batches == 3000
        # About one chart redraw a second at most (plus slack for the start and the final draw).
        assert len(rebuilt) <= elapsed * 1 + 5
        assert screen.loss_chart.series("loss") == [fake.epoch_events[0].metrics["loss"]]


def test_batch_messages_are_replaceable_and_others_are_not():
    batch = message_for(BatchEnded(epoch=0, step=1, steps=2, metrics={"loss": 1.0}))
    newer = message_for(BatchEnded(epoch=0, step=2, steps=2, metrics={"loss": 0.9}))
    epoch = message_for(EpochEnded(epoch=0, epochs=1, metrics={"loss": 0.9}, seconds=1.0))
    assert isinstance(batch, TrainingBatch) and isinstance(epoch, TrainingUpdate)
    assert batch.can_replace(newer)
    assert not batch.can_replace(epoch)  # an epoch event is never dropped in favour of a batch
    assert not epoch.can_replace(newer)


async def test_epoch_log_lines_fit_80_columns(tmp_path):
    fake = FakeRunExperiment(steps=1)
    app = make_app(fake, tmp_path, epochs=100)  # three-digit epochs, under the login-node question
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, lambda: screen.phase == "finished", timeout=60, what="run to finish")
        await pilot.pause(0.2)
        log = screen.query_one("#epoch-log")
        lines = list(log.lines)
        assert len(lines) == 100 and "val_loss" in lines[-1] and lines[-1].endswith("s")
        # Nothing hidden to the right of the 80-column screen (the log has a scrollbar here).
        assert max(len(line) for line in lines) <= log.scrollable_content_region.width


def footer_keys(screen) -> dict[str, bool]:
    """The footer's keys as drawn now: action -> enabled (False: shown greyed out)."""
    from textual.widgets._footer import FooterKey

    return {key.action: not key.has_class("-disabled") for key in screen.query(FooterKey)}


async def test_footer_offers_stop_while_training_and_evaluate_once_there_is_one(tmp_path):
    fake = FakeRunExperiment(steps=4, pause_at=(0, 2))
    app = make_app(fake, tmp_path, epochs=2)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        await wait_until(pilot, fake.paused.is_set, what="fake to pause")
        # The footer is drawn after the screen (under load, a moment later).
        await wait_until(pilot, lambda: footer_keys(screen).get("stop") is True, what="the footer's stop key")
        keys = footer_keys(screen)
        assert keys.get("stop") is True and "evaluate" not in keys, keys
        await pilot.press("e")  # not offered, but the key still says why and stays here
        await pilot.pause(0.05)
        assert app.screen is screen
        assert any("when the run has finished" in n.message for n in app._notifications)
        fake.resume.set()
        await wait_until(pilot, lambda: screen.phase == "finished", what="run to finish")
        await pilot.pause(0.2)
        keys = footer_keys(screen)
        assert "stop" not in keys and keys.get("evaluate") is True, keys
        await pilot.press("s")  # nothing to stop: a note, not a new phase
        assert screen.phase == "finished"
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="evaluate screen")


# ---- the second chart follows the task ----------------------------------------------------------


def regression_experiment(epochs: int = 3):
    """The tiny MLP on digits read as a regression (the class number as the target): Dense 1 linear, mse."""
    from dataclasses import replace

    from kerastui.core.spec import fit_to_task

    return fit_to_task(replace(tiny_experiment(epochs=epochs), task="regression"), 1, "multiclass")


async def test_second_chart_shows_mae_for_regression_and_marks_the_lowest_epoch(tmp_path):
    fake = FakeRunExperiment(steps=3, metric="mae")
    app = KerasTUI(experiment=regression_experiment(epochs=3), runs_root=tmp_path / "runs",
                   launcher=FakeLauncher(fake, tmp_path / "runs"), previewer=FakePreviewer())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_training(app, pilot)
        assert screen.metric_chart.metric == "mae"  # from the experiment's task, before any metric arrives
        await wait_until(pilot, lambda: screen.phase == "finished", what="run to finish")
        await pilot.pause(0.2)
        chart = screen.metric_chart
        maes = [e.metrics["val_mae"] for e in fake.epoch_events]
        assert chart.series("val_mae") == maes
        assert chart.title_text.startswith("MAE")
        # Lower is better: the best epoch is the last (the smallest MAE), not the first.
        assert chart.best == (3.0, min(maes)) and min(maes) == maes[-1]
        assert "MAE" in chart.render().plain


async def test_second_chart_of_a_run_from_disk_takes_the_metric_it_reports(tmp_path):
    """A run whose task is not recorded (task "" and data this app does not know): AUC in its
    metrics makes the second chart an AUC chart, the highest value the best."""
    from dataclasses import replace

    from kerastui.core.events import TrainingFinished, TrainingStarted
    from kerastui.core.runs import RunWriter

    experiment = replace(tiny_experiment(epochs=2), dataset="/data/somewhere/signals.npz")
    writer = RunWriter.create(experiment, root=tmp_path / "runs", name="signals")
    aucs = [0.71, 0.83]
    writer(TrainingStarted(epochs=2, steps_per_epoch=1, train_samples=32, validation_samples=8, batch_size=32))
    for epoch, auc in enumerate(aucs):
        writer(EpochEnded(epoch=epoch, epochs=2, seconds=0.1,
                          metrics={"loss": 0.6 - epoch / 10, "auc": auc + 0.02, "val_loss": 0.7, "val_auc": auc}))
    writer(TrainingFinished(epochs_done=2))
    writer.set_status("finished")
    app = make_app(FakeRunExperiment(), tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.follow_run(writer.path)
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "evaluating", what="run shown")
        screen = app.screen
        await wait_until(pilot, lambda: screen.metric_chart.series("val_auc") == aucs, what="the AUC series")
        await wait_until(pilot, lambda: screen.metric_chart.best is not None, what="the chart drawn")
        assert screen.metric_chart.metric == "auc" and screen.metric_chart.title_text.startswith("AUC")
        assert screen.metric_chart.best == (2.0, 0.83)
        assert screen.accuracy_chart is screen.metric_chart  # the old name still reaches it


def test_chart_metric_for_a_task_or_the_keys_a_run_reports():
    from kerastui.tui.widgets.metric_chart import chart_metric_for

    assert [chart_metric_for(task) for task in ("multiclass", "binary", "multilabel", "regression")] == [
        "accuracy", "auc", "auc", "mae"]
    assert chart_metric_for("", {"loss", "val_auc"}) == "auc"
    assert chart_metric_for("", {"loss", "mae", "rmse"}) == "mae"
    assert chart_metric_for("", {"loss"}) == "accuracy"
