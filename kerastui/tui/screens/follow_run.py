"""Follow a run another process writes (headless, Slurm job) or replay a finished one.

It is the train screen (same charts, progress and epoch log, fed by the same messages) with the
events read from the run's metrics.jsonl by kerastui.tui.follow instead of a local trainer, plus
the Slurm job's state, a key to cancel the job, and the run's saved evaluation on e.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from kerastui.core.events import TrainingStarted, TrainingStopped
from kerastui.core.runs import STATUS_FILE, RunRecord, load_run
from kerastui.tui.follow import (
    DEFAULT_QUIET_AFTER,
    FollowQuiet,
    FollowResult,
    JobStateChanged,
    follow_run_dir,
    poll_job,
)
from kerastui.tui.messages import TrainingUpdate
from kerastui.tui.run_actions import load_dataset_for, show_evaluation, slurm_client
from kerastui.tui.screens.confirm import ConfirmScreen
from kerastui.tui.screens.train import TrainScreen, _plural
from kerastui.tui.widgets.metric_chart import MetricChart  # noqa: F401  (the charts come from TrainScreen)
from kerastui.tui.widgets.training_progress import ProgressState

JOB_STATE_STYLES = {
    "PENDING": "yellow",
    "RUNNING": "cyan",
    "COMPLETED": "green",
    "FAILED": "red",
    "CANCELLED": "magenta",
    "TIMEOUT": "red",
    "OUT_OF_MEMORY": "red",
    "UNKNOWN": "dim",
}


class FollowScreen(TrainScreen):
    """The train screen's charts for a run in a directory, live; escape goes back."""

    CSS_PATH = ["train.tcss", "follow_run.tcss"]
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("c", "cancel_job", "Cancel job", tooltip="scancel the run's Slurm job (asks first)"),
    ]

    def __init__(self, run_dir: Path, *, job_id: str | None = None, quiet_after: float = DEFAULT_QUIET_AFTER) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.quiet_after = quiet_after
        self.record: RunRecord | None = load_run(self.run_dir) if self.run_dir.exists() else None
        self.experiment = self.record.experiment if self.record is not None else None
        self.job_id: str | None = job_id or (self.record.slurm_job_id if self.record is not None else None)
        self.job_state: Any = None
        self.quiet: FollowQuiet | None = None
        self.result: FollowResult | None = None
        self._follow_worker: Worker | None = None
        self._job_worker: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="follow-where")
        yield from super().compose()

    def on_mount(self) -> None:
        # TrainScreen.on_mount (run too: Textual calls each class's handler) starts the redraw timer.
        self._show_where()
        self.follow()

    # ---- following --------------------------------------------------------------------------

    def follow(self, job_id: str | None = None) -> None:
        """(Re)start reading the run from the beginning of its metrics file, and polling its job."""
        if job_id is not None:
            self.job_id = job_id
        if self._stop_event is not None:
            self._stop_event.set()
        self.phase, self.error, self.outcome, self.final_event, self.result, self.quiet = "preparing", "", None, None, None, None
        self.progress_state = ProgressState()
        self.epoch_lines, self._written_lines = [], 0
        epochs = self.experiment.fit.epochs if self.experiment is not None else 1
        self.loss_chart.reset(epochs)
        self.accuracy_chart.reset(epochs)
        self.query_one("#epoch-log").clear()
        self._status_dirty = self._progress_dirty = True
        stop = self._stop_event = threading.Event()
        self._follow_worker = self.run_worker(
            partial(follow_run_dir, self, self.run_dir, stop=stop, quiet_after=self.quiet_after, should_end=self._writer_gone),
            thread=True, exit_on_error=False, group="follow", name="follow",
        )
        if self.job_id:
            client = slurm_client(self.app)
            self._job_worker = self.run_worker(
                partial(poll_job, self, self.job_id, client.job_state, stop=stop, interval=client.poll_interval),
                thread=True, exit_on_error=False, group="job-poll", name="job-poll",
            )
        self.redraw()

    def _writer_gone(self) -> bool:
        """Called from the follow thread: the Slurm job has ended, so nothing more will be written."""
        state = self.job_state
        return bool(state is not None and getattr(state, "finished", False))

    @property
    def is_following(self) -> bool:
        return self._follow_worker is not None and self._follow_worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    @on(FollowQuiet)
    def _on_quiet(self, message: FollowQuiet) -> None:
        self.quiet = message
        self._status_dirty = True
        what = "no metrics at all yet" if message.events_seen == 0 else "no new metrics"
        self.notify(f"{what} for {message.seconds:.0f} s (status: {message.status}); still watching.",
                    title="Quiet run", severity="warning", timeout=8)

    @on(JobStateChanged)
    def _on_job_state(self, message: JobStateChanged) -> None:
        state = message.state
        self.job_state = state
        self.refresh_bindings()  # c (cancel job) goes once the job has ended
        self._show_where()
        if state.finished and state.state != "COMPLETED":
            self.notify(f"Slurm job {state.job_id} ended {state}", title="Slurm", severity="warning", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._follow_worker:
            return
        if event.state == WorkerState.SUCCESS:
            result: FollowResult = event.worker.result
            self.result = result
            self.outcome = result.outcome
            if result.ended in ("finished", "stopped", "failed"):
                self.phase = result.ended
                if result.has_evaluation:
                    self.notify("Evaluation ready: press e to see it.", timeout=5)
            elif result.ended == "gone":
                self.phase = "gone"
                self._settle_status()
            else:
                self.phase = "detached"
        elif event.state == WorkerState.ERROR:
            self.phase = "error"
            self.error = f"{type(event.worker.error).__name__}: {event.worker.error}"
            self.notify(f"Following failed: {self.error}", severity="error", timeout=10)
        else:
            return
        self.record = load_run(self.run_dir) if self.run_dir.exists() else self.record
        self._status_dirty = True
        self._show_where()
        self.redraw()

    def _settle_status(self) -> None:
        """A job that ended without writing its end (scancel, time limit) leaves its run 'running'
        or 'submitted' for ever: record how the job ended instead."""
        state = self.job_state
        if state is None or not state.finished or not self.run_dir.exists():
            return
        try:
            slurm_client(self.app).sync_status(self.run_dir, state)
        except OSError as error:
            self.notify(f"Cannot update {self.run_dir.name}'s status: {error}", severity="warning")

    # ---- keys ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("stop", "explain_stop"):
            return False  # another process trains this run: nothing here can stop it gracefully
        if action == "cancel_job":
            # Hidden once the job has ended: there is nothing left to scancel.
            return bool(self.job_id) and not (self.job_state is not None and self.job_state.finished)
        return super().check_action(action, parameters)

    def action_close(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()
        self.dismiss()

    def action_evaluate(self) -> None:
        outcome = self.outcome
        if outcome is None or getattr(outcome, "evaluation", None) is None:
            if self.is_following and self.phase in ("preparing", "training"):
                self.notify("The evaluation comes when the run has finished.")
            elif self.phase == "evaluating":
                self.notify("The run finished; waiting for it to write evaluation.json…")
            else:
                reason = f" ({outcome.reason})" if outcome is not None and outcome.reason else ""
                self.notify(f"This run has no evaluation{reason}.", severity="warning")
            return
        experiment = self.experiment
        if experiment is None:
            self.notify("The run's config.toml cannot be read, so its dataset is unknown.", severity="error")
            return
        self.notify(f"Loading {experiment.dataset} for the evaluation…", timeout=3)
        self._load_and_show(outcome, experiment)

    @work(thread=True, exit_on_error=False, group="run-dataset", exclusive=True)
    def _load_and_show(self, outcome: Any, experiment: Any) -> None:
        try:
            dataset = load_dataset_for(self.app, experiment)
        except Exception as error:  # DatasetError mostly: the run's data is not here
            self.app.call_from_thread(
                self.notify, f"Cannot load {experiment.dataset}: {error}", severity="error", timeout=15
            )
            return
        self.app.call_from_thread(lambda: self.app.run_worker(show_evaluation(self.app, outcome, dataset), group="switch-mode"))

    def action_cancel_job(self) -> None:
        if not self.job_id:
            self.notify("This run is not a Slurm job.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._cancel(self.job_id)

        self.app.push_screen(
            ConfirmScreen(f"Cancel Slurm job {self.job_id} (scancel)?\nEpochs it finished stay in {self.run_dir}.",
                          yes="Cancel the job", no="Keep it"),
            answered,
        )

    @work(thread=True, exit_on_error=False, group="scancel")
    def _cancel(self, job_id: str) -> None:
        from kerastui.core.slurm import SlurmError

        try:
            slurm_client(self.app).cancel(job_id, self.run_dir)
        except SlurmError as error:
            self.app.call_from_thread(self.notify, str(error), title="scancel", severity="error", timeout=15)
            return
        self.app.call_from_thread(self.notify, f"Cancel request sent for job {job_id}.", title="Slurm")

    # ---- text ---------------------------------------------------------------------------------

    def _show_where(self) -> None:
        if not self.is_mounted:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Run ", style="dim")
        text.append(str(self.run_dir))
        status = self._current_status()
        if status:
            text.append(f"  status {status}", style="dim")
        if self.job_id:
            text.append(f"  │  Slurm job {self.job_id}: ")
            state = self.job_state
            if state is None:
                text.append("asking Slurm…", style="dim")
            else:
                text.append(state.state, style=f"bold {JOB_STATE_STYLES.get(state.state, '')}".strip())
                if state.reason:
                    text.append(f" ({state.reason})")
        else:
            where = self.record.location if self.record is not None else "not started"
            text.append(f"  │  {where}", style="dim")
        self.query_one("#follow-where", Static).update(text)

    def _current_status(self) -> str:
        """The status file as it is now: the record read at mount said 'submitted' all through the
        job's run. The record's own reading (which settles a dead process) is kept once it ended."""
        if self.result is not None and self.record is not None:
            return self.record.status
        try:
            return (self.run_dir / STATUS_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return self.record.status if self.record is not None else ""

    @on(TrainingUpdate)
    def _on_started_refresh_where(self, message: TrainingUpdate) -> None:
        if isinstance(message.event, TrainingStarted):
            self._show_where()  # the writer has just said "running"

    def status_text(self) -> Text:
        name = self.run_dir.name
        what = f"{name}"
        if self.experiment is not None:
            what += f" ({self.experiment.name} on {self.experiment.dataset})"
        done = self.final_event.epochs_done if self.final_event is not None else len(self.epoch_lines)
        quiet = ""
        if self.quiet is not None and self.phase in ("preparing", "training"):
            quiet = f"  Quiet: nothing new for {self.quiet.seconds:.0f}+ s (status {self.quiet.status})."
        phase = self.phase
        if phase == "preparing":
            return Text(f"Waiting for {what} to start: no metrics yet.{quiet}")
        if phase == "training":
            state = self.progress_state
            return Text(f"Following {what}: epoch {state.epoch + 1}/{state.epochs}, written by another process.{quiet}")
        if phase == "evaluating":
            verb = "Stopped after" if isinstance(self.final_event, TrainingStopped) else "Finished"
            return Text(f"{verb} {_plural(done, 'epoch')}; waiting for {name} to save its evaluation…")
        if phase in ("finished", "stopped"):
            verb = "Finished" if phase == "finished" else "Stopped after"
            reason = getattr(self.final_event, "reason", "")
            has = self.result is not None and self.result.has_evaluation
            tail = "Press e for the evaluation." if has else "No evaluation was saved."
            return Text(f"{verb} {_plural(done, 'epoch')} of {what}{f' ({reason})' if reason else ''}.  {tail}")
        if phase == "failed":
            reason = getattr(self.final_event, "reason", "") or (self.outcome.reason if self.outcome else "")
            return Text(f"FAILED after {_plural(done, 'epoch')}: {reason or 'unknown reason'}.  Finished epochs stay on the charts.")
        if phase == "gone":
            status = self.record.status if self.record is not None else "unknown"
            job = f" (job {self.job_state})" if self.job_state is not None else ""
            return Text(f"{name} ended without a final event{job}: status {status}, {_plural(done, 'epoch')} on the charts.")
        if phase == "detached":
            return Text(f"Stopped following {name}.")
        return Text(f"ERROR: {self.error}")
