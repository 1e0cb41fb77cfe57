"""Following a run another process writes: the core follower, and the run monitor by keys."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fakes import FakePreviewer, tiny_experiment, wait_until
from run_dirs import SlowWriter, make_run, scripted_events

from kerastui.core.data import load_dataset
from kerastui.core.events import EpochEnded, TrainingFinished
from kerastui.core.follower import (
    JobStateChanged,
    RunEnded,
    RunFollower,
    RunQuiet,
    WriterGone,
    is_training_event,
)
from kerastui.core.runs import RunWriter
from kerastui.core.slurm import JobState
from kerastui.tui.app import KerasTUI
from kerastui.tui.follow import RunLifecycle, follow_into
from kerastui.tui.messages import TrainingBatch, TrainingUpdate
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


class Collector:
    """Stands in for a screen: records what the follower posts."""

    def __init__(self) -> None:
        self.messages: list = []

    def post_message(self, message) -> bool:
        self.messages.append(message)
        return True

    @property
    def events(self) -> list:
        return [m.event for m in self.messages if isinstance(m, (TrainingBatch, TrainingUpdate))]

    @property
    def lifecycle(self) -> list:
        return [m.event for m in self.messages if isinstance(m, RunLifecycle)]


def new_run_dir(tmp_path: Path, epochs: int = 3) -> Path:
    return RunWriter.create(tiny_experiment(epochs=epochs), root=tmp_path / "runs", name="remote").path


def test_follower_posts_every_event_in_order_despite_partial_lines(tmp_path, digits):
    run_dir = new_run_dir(tmp_path)
    events = scripted_events(3)
    writer = SlowWriter(run_dir, events, delay=0.01, dataset=digits)
    target = Collector()
    writer.start()
    ended = follow_into(target, RunFollower(run_dir, quiet_after=10), threading.Event())
    writer.join(5)

    assert writer.partial_lines_seen == len(events)
    assert [type(e) for e in target.events] == [type(e) for e in events]
    assert [e.metrics for e in target.events if isinstance(e, EpochEnded)] == [e.metrics for e in events if isinstance(e, EpochEnded)]
    assert ended == RunEnded("finished", True, "completed") and target.lifecycle == [ended]


def test_follower_keeps_its_offset_across_a_quiet_spell(tmp_path):
    """Start reading when two epochs are already on disk; the writer pauses (quiet), then finishes."""
    run_dir = new_run_dir(tmp_path)
    events = scripted_events(3)
    first_part = events.index(next(e for e in events if isinstance(e, EpochEnded) and e.epoch == 1)) + 1
    writer = RunWriter(run_dir)
    for event in events[:first_part]:
        writer(event)
    writer.close()
    follower = RunFollower(run_dir, quiet_after=0.2, evaluation_wait=0.1)
    seen = follower.poll()
    assert len(seen) == first_part
    read_so_far = follower._read.offset
    threading.Event().wait(0.25)
    quiet = follower.poll()
    assert quiet == [RunQuiet(quiet[0].seconds, "running", first_part)] and quiet[0].seconds >= 0.2
    assert follower.poll() == [], "one notice per quiet spell"
    rest = RunWriter(run_dir)
    for event in events[first_part:]:
        rest(event)
    rest.close()
    more = follower.poll()
    # Only what was appended: the first part is not read (nor posted) twice.
    assert [e for e in more if is_training_event(e)] == events[first_part:]
    assert follower._read.offset > read_so_far and follower.events_seen == len(events)
    assert isinstance(follower.final_event, TrainingFinished)


def test_follower_of_a_slurm_run_that_never_starts_ends_when_the_job_is_gone(tmp_path):
    run_dir = new_run_dir(tmp_path)
    RunWriter(run_dir).set_status("submitted")
    RunWriter(run_dir).update_info(slurm_job_id="7")
    states = iter([JobState("7", "PENDING", "Priority"), JobState("7", "PENDING", "Priority"),
                   JobState("7", "RUNNING"), JobState("7", "CANCELLED", "by 0")])
    settled = []

    def settle(path, state):
        settled.append(state.state)
        return "cancelled"

    follower = RunFollower(run_dir, quiet_after=0.05, job_state=lambda job: next(states), settle_job=settle,
                           job_poll_interval=0.0)
    events = list(follower.follow(poll_interval=0.01))
    jobs = [e.state.state for e in events if isinstance(e, JobStateChanged)]
    assert jobs == ["PENDING", "RUNNING", "CANCELLED"]  # each change once
    assert not any(isinstance(e, RunQuiet) for e in events), "waiting in the queue is not quiet"
    assert events[-2:] == [WriterGone("cancelled", "Slurm job 7 ended CANCELLED (by 0) without the run recording its end"),
                           RunEnded("cancelled", False, "Slurm job 7 ended CANCELLED (by 0) without the run recording its end")]
    assert settled == ["CANCELLED"]


def test_follower_marks_a_run_whose_process_died_interrupted(tmp_path):
    import subprocess
    import sys

    run_dir = new_run_dir(tmp_path)
    writer = RunWriter(run_dir)
    for event in scripted_events(2)[:4]:
        writer(event)
    writer.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    writer.update_info(pid=int(dead.stdout))
    events = list(RunFollower(run_dir, liveness_every=0.05).follow(poll_interval=0.01))
    assert isinstance(events[-2], WriterGone) and events[-1].status == "interrupted"
    assert (run_dir / "status").read_text().strip() == "interrupted"


def test_follower_of_an_ended_run_with_a_half_written_last_line_ends_at_once(tmp_path):
    run_dir = new_run_dir(tmp_path)
    writer = RunWriter(run_dir)
    for event in scripted_events(2)[:4]:
        writer(event)
    writer.close()
    with open(run_dir / "metrics.jsonl", "a") as handle:
        handle.write('{"event": "epoch_e')
    RunWriter(run_dir).set_status("interrupted")
    follower = RunFollower(run_dir, quiet_after=600)
    events = list(follower.follow(poll_interval=0.01))
    assert events[-1].status == "interrupted" and len([e for e in events if is_training_event(e)]) == 4


# ---- the follow view (Pilot) --------------------------------------------------------------------


def footer_actions(screen) -> set[str]:
    from textual.widgets._footer import FooterKey

    return {key.action for key in screen.query(FooterKey)}


def make_app(tmp_path: Path, **client) -> KerasTUI:
    # Scripted jobs exist only here: the runs list must not ask the real cluster about them.
    fake = SlurmClient(**{"refresh_runs": lambda records: records, **client}) if client else None
    return KerasTUI(experiment=tiny_experiment(), runs_root=tmp_path / "runs", previewer=FakePreviewer(),
                    slurm_client=fake)


async def test_follow_view_fills_the_charts_live_and_opens_the_evaluation(tmp_path, digits):
    run_dir = new_run_dir(tmp_path, epochs=3)
    events = scripted_events(3)
    resume = threading.Event()
    # Write the start and first epoch, then hold: the view must show them while the run is live.
    first_epoch_end = next(i for i, e in enumerate(events) if isinstance(e, EpochEnded)) + 1
    writer = SlowWriter(run_dir, events, delay=0.005, dataset=digits, hold=resume, hold_after=first_epoch_end)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        writer.start()
        screen = RunMonitor(run_dir, closable=True, quiet_after=30)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.loss_chart.series("loss")) == 1, what="first epoch on the chart")
        assert screen.phase == "training" and screen.is_live
        assert "Training" in str(screen.status_text())
        resume.set()
        await wait_until(pilot, lambda: screen.phase == "finished", what="run finished")
        epochs = [e for e in events if isinstance(e, EpochEnded)]
        assert screen.loss_chart.series("val_loss") == [e.metrics["val_loss"] for e in epochs]
        assert screen.accuracy_chart.series("val_accuracy") == [e.metrics["val_accuracy"] for e in epochs]
        assert "Press e for the evaluation" in str(screen.status_text())
        saved = screen.record.evaluation

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         what="evaluate screen")
        assert app.screen.evaluation.test_accuracy == saved.test_accuracy
        assert app.screen.dataset.name == "digits"


async def test_follow_view_of_a_failed_run_says_why(tmp_path):
    run_dir = make_run(tmp_path / "runs", "broken", epochs=2, final="failed")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = RunMonitor(run_dir, closable=True)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.phase == "failed", what="failed")
        assert "NaN at epoch 2" in str(screen.status_text())
        await pilot.press("e")
        await pilot.pause(0.1)
        assert isinstance(app.screen, RunMonitor)  # no evaluation to show
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, RunMonitor)


async def test_follow_view_shows_the_job_state_and_cancels_with_confirmation(tmp_path):
    run_dir = new_run_dir(tmp_path)
    RunWriter(run_dir).set_status("submitted")
    RunWriter(run_dir).update_info(slurm_job_id="42")
    cancelled: list = []
    state = {"now": JobState("42", "PENDING", "Resources")}

    def cancel(job_id, path=None):
        cancelled.append((job_id, path))
        state["now"] = JobState("42", "CANCELLED", "by 0")

    app = make_app(tmp_path, job_state=lambda job: state["now"], cancel=cancel, poll_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = RunMonitor(run_dir, closable=True, quiet_after=0.2)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.job_state is not None, what="job state")
        where = str(screen.query_one("#follow-where").render())
        assert "job 42" in where and "PENDING" in where and "Resources" in where
        await wait_until(pilot, lambda: "cancel_job" in footer_actions(screen), what="c Cancel job in the footer")
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("n")  # keep it
        await pilot.pause(0.1)
        assert cancelled == []
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.phase == "cancelled", what="follow ends after the job is cancelled")
        assert cancelled == [("42", run_dir)]
        await pilot.pause(0.1)
        assert "cancel_job" not in footer_actions(screen)  # the job has ended: nothing left to cancel
        assert "CANCELLED" in str(screen.query_one("#follow-where").render())
        assert "without the run recording its end" in str(screen.status_text())
        assert (run_dir / "status").read_text().strip() == "cancelled"   # settled from the job's end


async def test_follow_view_header_shows_the_status_the_job_writes_not_the_one_at_opening(tmp_path, digits):
    # The header kept the status read when the view opened ("submitted") while the job trained.
    run_dir = new_run_dir(tmp_path, epochs=2)
    RunWriter(run_dir).set_status("submitted")
    RunWriter(run_dir).update_info(slurm_job_id="43")
    hold = threading.Event()
    app = make_app(tmp_path, job_state=lambda job: JobState("43", "COMPLETED" if (run_dir / "evaluation.json").exists() else "RUNNING"), poll_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = RunMonitor(run_dir, closable=True, quiet_after=30)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.job_state is not None, what="job state")
        assert "status submitted" in str(screen.query_one("#follow-where").render())
        RunWriter(run_dir).set_status("running")  # what the job's RunWriter.open does
        SlowWriter(run_dir, scripted_events(2), delay=0.002, hold=hold, hold_after=2, dataset=digits).start()
        await wait_until(pilot, lambda: screen.phase == "training", what="training seen")
        await pilot.pause(0.05)
        where = str(screen.query_one("#follow-where").render())
        assert "status running" in where and "RUNNING" in where, where
        hold.set()
        await wait_until(pilot, lambda: screen.phase == "finished", what="finished")
        assert "status finished" in str(screen.query_one("#follow-where").render())


async def test_watch_app_opens_on_the_follow_view_with_the_runs_underneath(tmp_path, digits):
    from kerastui.tui.screens.runs import RunsScreen
    from kerastui.tui.watch import WatchApp

    earlier = make_run(tmp_path / "runs", "earlier", epochs=2, dataset=digits)
    run_dir = new_run_dir(tmp_path, epochs=2)
    SlowWriter(run_dir, scripted_events(2), delay=0.005, dataset=digits).start()
    app = WatchApp(run_dir, previewer=FakePreviewer(), quiet_after=30)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished",
                         what="watched run finished")
        assert app.screen.run_dir == run_dir and app.runs_root == run_dir.resolve().parent
        assert app.experiment.name == "tiny"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs list")
        assert {r.path.name for r in app.screen.table.records} == {run_dir.name, earlier.name}


async def test_escape_on_an_evaluation_opened_from_the_follow_view_goes_back_to_it(tmp_path, digits):
    from kerastui.tui.screens.runs import RunsScreen
    from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser

    make_run(tmp_path / "runs", "done", epochs=2, dataset=digits)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.listed, what="runs screen")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished",
                         what="run replayed")
        view = app.screen
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         what="evaluate screen")
        evaluate = app.screen
        await pilot.press("right", "enter")  # the mistakes of one confusion cell
        await pilot.pause(0.05)
        assert evaluate.query_one(MisclassifiedBrowser).filter is not None
        await pilot.press("escape")  # first the filter goes
        await pilot.pause(0.05)
        assert app.screen is evaluate and evaluate.query_one(MisclassifiedBrowser).filter is None
        await pilot.press("escape")  # then back to the run
        await wait_until(pilot, lambda: app.screen is view, what="back on the follow view")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen under it")


async def test_the_monitor_shows_what_the_run_uses_beside_its_curves(tmp_path):
    """The run's own samples (resources.jsonl, here with a GPU through a fake NVML) on one line."""
    import json

    from kerastui.core.resources import RESOURCES_FILE
    from kerastui.tui.widgets.resource_bar import ResourceBar

    run_dir = make_run(tmp_path / "runs", "measured", epochs=2)
    samples = [{"machine": {"cpus": 4, "memory_limit_bytes": 8 * 2**30, "time": 0.0, "cpu_seconds": 0.0}}]
    samples += [{"time": float(t), "cpu": 3.0, "cpu_seconds": 3.0 * t, "rss_bytes": int(7.6 * 2**30),
                 "gpus": [{"index": 0, "util": 55.0, "mem_used": 3 * 2**30, "mem_total": 80 * 2**30}]} for t in (5, 10)]
    (run_dir / RESOURCES_FILE).write_text("".join(json.dumps(s) + "\n" for s in samples))
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = RunMonitor(run_dir, closable=True)
        await app.push_screen(screen)
        bar = screen.query_one(ResourceBar)
        await wait_until(pilot, lambda: "CPU" in str(bar.render()), what="the resource line")
        text = str(bar.render())
        assert "3.0 of 4 cores" in text and "(75% used)" in text
        assert "7.6 GiB (peak 7.6 GiB of 8.0 GiB)" in text
        assert "GPU0" in text and "55% 3.0 GiB/80.0 GiB" in text
        assert "95% of the job's limit" in text and bar.has_class("-warning")
