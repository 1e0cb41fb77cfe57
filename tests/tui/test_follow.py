"""Following a run another process writes: the follower thread, and the follow view by keys."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fakes import fake_keras_loader, tiny_experiment, wait_until
from run_dirs import SlowWriter, make_run, scripted_events

from kerastui.core.data import load_dataset
from kerastui.core.events import EpochEnded, TrainingFinished
from kerastui.core.runs import RunWriter
from kerastui.core.slurm import JobState
from kerastui.tui.app import KerasTUI
from kerastui.tui.follow import FollowQuiet, JobStateChanged, follow_run_dir, poll_job
from kerastui.tui.messages import TrainingBatch, TrainingUpdate
from kerastui.tui.run_actions import SlurmClient
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.follow_run import FollowScreen


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


def new_run_dir(tmp_path: Path, epochs: int = 3) -> Path:
    return RunWriter.create(tiny_experiment(epochs=epochs), root=tmp_path / "runs", name="remote").path


def test_follower_posts_every_event_in_order_despite_partial_lines(tmp_path, digits):
    run_dir = new_run_dir(tmp_path)
    events = scripted_events(3)
    writer = SlowWriter(run_dir, events, delay=0.01, dataset=digits)
    target = Collector()
    writer.start()
    result = follow_run_dir(target, run_dir, stop=threading.Event(), quiet_after=10, poll_interval=0.005)
    writer.join(5)

    assert writer.partial_lines_seen == len(events)
    assert [type(e) for e in target.events] == [type(e) for e in events]
    assert [e.metrics for e in target.events if isinstance(e, EpochEnded)] == [e.metrics for e in events if isinstance(e, EpochEnded)]
    assert result.ended == "finished" and result.events_seen == len(events)
    assert result.has_evaluation
    assert result.outcome.run_dir == run_dir and result.outcome.status == "finished"


def test_follower_from_the_middle_of_a_run_then_quiet_then_resumes(tmp_path):
    """Start reading when two epochs are already on disk; the writer pauses (quiet), then finishes."""
    run_dir = new_run_dir(tmp_path)
    events = scripted_events(3)
    first_part = events.index(next(e for e in events if isinstance(e, EpochEnded) and e.epoch == 1)) + 1
    writer = RunWriter(run_dir)
    for event in events[:first_part]:
        writer(event)
    writer.close()
    resume = threading.Event()
    target = Collector()
    rest = SlowWriter(run_dir, events[first_part:], delay=0.005, hold=resume, hold_after=0)
    rest.start()
    stop = threading.Event()
    thread_result = {}
    follower = threading.Thread(target=lambda: thread_result.setdefault(
        "r", follow_run_dir(target, run_dir, stop=stop, quiet_after=0.2, poll_interval=0.01, evaluation_wait=0.1)))
    follower.start()
    deadline = threading.Event()
    for _ in range(300):
        if any(isinstance(m, FollowQuiet) for m in target.messages):
            break
        deadline.wait(0.01)
    quiet = [m for m in target.messages if isinstance(m, FollowQuiet)]
    assert quiet and quiet[0].events_seen == first_part and quiet[0].status == "running"
    assert quiet[0].seconds >= 0.2
    assert len(target.events) == first_part
    resume.set()
    follower.join(10)
    assert not follower.is_alive()
    # Re-reading after the quiet spell must not post the first part twice.
    assert len(target.events) == len(events)
    assert isinstance(target.events[-1], TrainingFinished)
    assert len([m for m in target.messages if isinstance(m, FollowQuiet)]) == 1, "one notice per quiet spell"
    assert thread_result["r"].ended == "finished"


def test_follower_of_a_run_that_never_starts_ends_when_the_job_is_gone(tmp_path):
    run_dir = tmp_path / "runs" / "queued"   # not even created yet
    target = Collector()
    gone = threading.Event()
    stop = threading.Event()
    thread = threading.Thread(target=lambda: target.messages.append(
        follow_run_dir(target, run_dir, stop=stop, quiet_after=0.1, should_end=gone.is_set, poll_interval=0.01)))
    thread.start()
    threading.Event().wait(0.3)
    assert thread.is_alive(), "a quiet run is watched on, not given up"
    quiet = [m for m in target.messages if isinstance(m, FollowQuiet)]
    assert quiet and quiet[0].events_seen == 0 and quiet[0].status == "no run directory yet"
    gone.set()
    thread.join(5)
    result = target.messages[-1]
    assert result.ended == "gone" and result.last_event is None and result.outcome is None


def test_poll_job_posts_each_change_and_returns_the_final_state():
    states = iter([JobState("7", "PENDING", "Priority"), JobState("7", "PENDING", "Priority"),
                   JobState("7", "RUNNING"), JobState("7", "COMPLETED")])
    target = Collector()
    final = poll_job(target, "7", lambda job: next(states), stop=threading.Event(), interval=0.001)
    posted = [m.state.state for m in target.messages if isinstance(m, JobStateChanged)]
    assert posted == ["PENDING", "RUNNING", "COMPLETED"]
    assert final.state == "COMPLETED"


# ---- the follow view (Pilot) --------------------------------------------------------------------


def footer_actions(screen) -> set[str]:
    from textual.widgets._footer import FooterKey

    return {key.action for key in screen.query(FooterKey)}


def make_app(tmp_path: Path, **client) -> KerasTUI:
    app = KerasTUI(experiment=tiny_experiment(), runs_root=tmp_path / "runs", keras_loader=fake_keras_loader)
    if client:
        # Scripted jobs exist only here: the runs list must not ask the real cluster about them.
        app.slurm_client = SlurmClient(**{"refresh_runs": lambda records: records, **client})
    return app


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
        screen = FollowScreen(run_dir, quiet_after=30)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.loss_chart.series("loss")) == 1, what="first epoch on the chart")
        assert screen.phase == "training" and screen.is_following
        assert "Following" in str(screen.status_text())
        resume.set()
        await wait_until(pilot, lambda: screen.phase == "finished", what="run finished")
        epochs = [e for e in events if isinstance(e, EpochEnded)]
        assert screen.loss_chart.series("val_loss") == [e.metrics["val_loss"] for e in epochs]
        assert screen.accuracy_chart.series("val_accuracy") == [e.metrics["val_accuracy"] for e in epochs]
        assert "Press e for the evaluation" in str(screen.status_text())
        saved = screen.outcome.evaluation

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         what="evaluate screen")
        assert app.screen.evaluation.test_accuracy == saved.test_accuracy
        assert app.screen.dataset.name == "digits"


async def test_follow_view_of_a_failed_run_says_why(tmp_path):
    run_dir = make_run(tmp_path / "runs", "broken", epochs=2, final="failed")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = FollowScreen(run_dir)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.phase == "failed", what="failed")
        assert "NaN at epoch 2" in str(screen.status_text())
        await pilot.press("e")
        await pilot.pause(0.1)
        assert isinstance(app.screen, FollowScreen)  # no evaluation to show
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, FollowScreen)


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
        screen = FollowScreen(run_dir, quiet_after=0.2)
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
        await wait_until(pilot, lambda: screen.phase == "gone", what="follow ends after the job is cancelled")
        assert cancelled == [("42", run_dir)]
        await pilot.pause(0.1)
        assert "cancel_job" not in footer_actions(screen)  # the job has ended: nothing left to cancel
        assert "CANCELLED" in str(screen.query_one("#follow-where").render())
        assert "ended without a final event" in str(screen.status_text())
        assert (run_dir / "status").read_text().strip() == "cancelled"   # settled from the job's end


async def test_follow_view_header_shows_the_status_the_job_writes_not_the_one_at_opening(tmp_path, digits):
    # The header kept the status read when the view opened ("submitted") while the job trained.
    run_dir = new_run_dir(tmp_path, epochs=2)
    RunWriter(run_dir).set_status("submitted")
    RunWriter(run_dir).update_info(slurm_job_id="43")
    hold = threading.Event()
    app = make_app(tmp_path, job_state=lambda job: JobState("43", "RUNNING"), poll_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = FollowScreen(run_dir, quiet_after=30)
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
    app = WatchApp(run_dir, keras_loader=fake_keras_loader, quiet_after=30)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, FollowScreen) and app.screen.phase == "finished",
                         what="watched run finished")
        assert app.screen.run_dir == run_dir and app.runs_root == run_dir.resolve().parent
        assert app.experiment.name == "tiny"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loads > 0, what="runs list")
        assert {r.path.name for r in app.screen.table.records} == {run_dir.name, earlier.name}


async def test_escape_on_an_evaluation_opened_from_the_follow_view_goes_back_to_it(tmp_path, digits):
    from kerastui.tui.screens.runs import RunsScreen
    from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser

    make_run(tmp_path / "runs", "done", epochs=2, dataset=digits)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.loads > 0, what="runs screen")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FollowScreen) and app.screen.phase == "finished",
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
