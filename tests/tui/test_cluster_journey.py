"""The whole cluster journey by keys, against the real local Slurm cluster (issue 4, "done means"):
train a model locally, submit the same design as a Slurm job from the build screen, watch it
train live, open its evaluation, then compare it with the earlier local run on the runs screen."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fakes import tiny_experiment, wait_until
from textual.widgets import Input

from kerastui.core.runs import load_run
from kerastui.tui.app import KerasTUI
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.screens.compare import CompareScreen
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.screens.runs import RunsScreen
from kerastui.tui.screens.submit import SubmitScreen
from kerastui.tui.widgets.run_compare_chart import RunCompareChart


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.timeout(400)
async def test_local_run_then_slurm_job_watched_evaluated_and_compared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the job's working directory
    experiment = replace(tiny_experiment(epochs=2), name="journey")
    app = KerasTUI(experiment=experiment, runs_root=tmp_path / "runs", slurm_client=SlurmClient(poll_interval=1.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, timeout=180, what="Keras and digits")

        # 1. A local run, by keys: its own process, followed by the run monitor.
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.run_dir is not None,
                         timeout=30, what="train screen")
        local = app.screen
        await wait_until(pilot, lambda: local.phase == "finished", timeout=180, what="the local run")
        local_dir = local.run_dir

        # 2. The same design submitted to Slurm from the build screen.
        await pilot.press("b")
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        for name, value in (("time_limit", "00:05:00"), ("cpus", "1"), ("memory", "2G")):
            app.screen.query_one(f"#slurm-{name}", Input).value = value
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")

        # 3. Watched live to the end.
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen is not local,
                         timeout=60, what="follow view")
        follow = app.screen
        job_dir = follow.run_dir
        assert load_run(job_dir).slurm_job_id == follow.job_id
        await wait_until(pilot, lambda: follow.phase in ("finished", "failed", "interrupted", "cancelled"), timeout=300, what="the job")
        assert follow.phase == "finished", follow.status_text()
        job_record = load_run(job_dir)
        assert follow.loss_chart.series("loss") == job_record.metrics_history["loss"]

        # 4. Its evaluation.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         timeout=60, what="the job's evaluation")
        assert app.screen.outcome.run_dir == job_dir
        assert app.screen.outcome.evaluation.test_accuracy == job_record.evaluation.test_accuracy

        # 5. Compared with the local run.
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and len(app.screen.table.records) == 2,
                         timeout=30, what="both runs listed")
        runs = app.screen
        await pilot.press("space", "down", "space", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="compare view")
        chart = app.screen.query_one("#compare-loss", RunCompareChart)
        curves = {curve.label: list(curve.values) for curve in chart.curves}
        assert curves == {
            local_dir.name: load_run(local_dir).metrics_history["val_loss"],
            job_dir.name: job_record.metrics_history["val_loss"],
        }
        assert {record.location for record in runs.table.selected_records} == {"local", f"slurm {follow.job_id}"}
