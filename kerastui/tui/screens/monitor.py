"""The run monitor: charts, progress, epoch log and status of one run, read from its directory.

One screen for every run, wherever it trains: a local run the app launched (a child process),
a run re-attached after the app was closed, one another terminal started, a Slurm job. It
follows the run directory through the core's RunFollower (kerastui.tui.follow), exactly like
`kerastui watch`. Handlers only update plain state; a timer pushes changed state into the
widgets, so however fast events arrive, drawing stays cheap and terminal output small.

s stops a local run (SIGINT to its process, which stops after the batch and keeps its epochs);
c cancels a Slurm job; e shows the evaluation the run saved.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Log, Static
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from kerastui.core.events import (
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from kerastui.core.follower import JobStateChanged, RunEnded, RunFollower, RunQuiet, WriterGone
from kerastui.core.resources import ResourceTail
from kerastui.core.run_summary import plural
from kerastui.core.runs import REQUEUED, RunRecord, load_run, read_info, read_status, writer_alive
from kerastui.tui.follow import DEFAULT_QUIET_AFTER, RunLifecycle, follow_into
from kerastui.tui.messages import TrainingBatch, TrainingUpdate
from kerastui.tui.host import host
from kerastui.tui.run_actions import (
    load_dataset_for,
    outcome_from_record,
    show_evaluation,
    slurm_client,
)
from kerastui.tui.screens.confirm import ConfirmScreen
from kerastui.tui.widgets.chart_scale import SMOOTHING_LEVELS, next_level
from kerastui.tui.widgets.metric_chart import METRICS_BY_KEY, MetricChart, chart_metric_for
from kerastui.tui.widgets.resource_bar import ResourceBar
from kerastui.tui.widgets.training_progress import ProgressState, TrainingProgress

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.pipeline import RunOutcome
    from kerastui.core.slurm import JobState
    from kerastui.core.spec import Experiment

# Progress and status redraw at most this often, the charts once a second, and only when the
# follower brought something new: no clock ticks while nothing moves (idle costs nothing). Each
# redraw is bytes on an SSH link: at 10 Hz the app wrote about 110 KiB/s while training
# (benchmarks/ui_overhead.py).
REDRAW_INTERVAL = 0.5
CHART_INTERVAL = 1.0
ZOOM_WINDOWS = (0, 10, 5)  # z cycles: the whole run, the last 10 epochs, the last 5
ACTIVE_PHASES = ("queued", "waiting", "training", "stopping", "evaluating", "requeued")

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


def format_epoch_line(event: EpochEnded) -> str:
    """One epoch-log line: every metric Keras logged, and the epoch's duration.

    "accuracy" is shortened to "acc": with the full names a line is 85+ characters and its end
    (val_loss, the duration) was cut off at 80 columns.
    """
    width = len(str(event.epochs))
    parts = [f"epoch {event.epoch + 1:>{width}}/{event.epochs}"]
    for name, value in event.metrics.items():
        parts.append(f"{name.replace('accuracy', 'acc')} {value:.4f}")
    parts.append(f"{event.seconds:.1f}s")
    return "  ".join(parts)


class RunEvaluated(Message):
    """A run this monitor follows has ended with its evaluation saved (the app's evaluate mode shows it)."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__()
        self.outcome = outcome


# Seconds between reads of the run's resources.jsonl (it samples every 5 s).
RESOURCE_READ_INTERVAL = 2.0


class RunMonitor(Screen):
    """One run, live or ended: s stops it, c cancels its Slurm job, e shows its evaluation."""

    CSS_PATH = "monitor.tcss"
    BINDINGS = [
        Binding("s", "stop", "Stop", tooltip="Stop the run after its current batch (epochs done are kept)"),
        Binding("e", "evaluate", "Evaluate", tooltip="Show the evaluation the run saved"),
        Binding("enter", "evaluate", "Evaluate", show=False),
        Binding("c", "cancel_job", "Cancel job", tooltip="scancel the run's Slurm job (asks first)"),
        Binding("l", "toggle_log_scale", "Log scale", tooltip="Toggle a logarithmic loss axis"),
        Binding("m", "cycle_smoothing", "Smoothing", tooltip="Smooth the curves (off, 0.6, 0.9); the raw ones stay faint"),
        Binding("z", "cycle_zoom", "Zoom", tooltip="Show the last 10, then 5 epochs, then the whole run"),
        Binding("escape", "close", "Back"),
        # When check_action hides stop/evaluate, these (never in the footer) still say why the key does nothing.
        Binding("s", "explain_stop", show=False),
        Binding("e,enter", "explain_evaluate", show=False),
    ]

    def __init__(self, run_dir: Path | None = None, *, closable: bool = False, job_id: str | None = None,
                 quiet_after: float = DEFAULT_QUIET_AFTER, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._given_job_id = job_id  # a job just submitted, before its info.json says so
        self.closable = closable  # pushed over another screen (escape goes back), not a mode's own
        self.quiet_after = quiet_after
        self.run_dir: Path | None = None
        self.record: RunRecord | None = None
        self.experiment: Experiment | None = None
        self._phase = "idle"
        self.error = ""
        self.reason = ""
        self.final_event: TrainingFinished | TrainingStopped | TrainingFailed | None = None
        self.ended: RunEnded | None = None
        self.job_state: JobState | None = None
        self.quiet: RunQuiet | None = None
        self.progress_state = ProgressState()
        self.epoch_lines: list[str] = []
        self._written_lines = 0
        self._stop_follow: threading.Event | None = None
        self._worker: Worker | None = None
        self._status_dirty = self._progress_dirty = True
        self._redraw_timer: Timer | None = None  # the one redraw asked for, while one is
        self._next_chart_draw = 0.0
        self.loss_chart = MetricChart("loss", "loss", id="loss-chart")
        # The task's metric beside the loss (accuracy, AUC or MAE): see _choose_chart_metric.
        self.metric_chart = MetricChart("accuracy", id="metric-chart")
        self._chart_metric_settled = False
        self.resource_bar = ResourceBar(id="resources")
        self.resources: ResourceTail | None = None
        self._next_resource_read = 0.0
        self._resources_shown = False
        self._pending_run = Path(run_dir) if run_dir is not None else None
        self._composed = False

    # ---- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        yield Static(id="train-status")
        yield Static(id="follow-where")
        yield self.resource_bar
        with Horizontal(id="charts"):
            yield self.loss_chart
            yield self.metric_chart
        yield TrainingProgress(id="training-progress")
        yield Log(id="epoch-log", max_lines=2000, auto_scroll=True)
        yield Footer()

    def on_mount(self) -> None:
        self._composed = True
        if self._pending_run is not None:
            # After the first paint: filling widgets inside on_mount left a pushed screen unpainted
            # on a real terminal until the next key (Pilot never showed it).
            self.call_after_refresh(self.watch_run, self._pending_run)
        self.redraw()

    def on_unmount(self) -> None:
        # Only the following ends: the run goes on in its own process.
        if self._stop_follow is not None:
            self._stop_follow.set()

    @property
    def accuracy_chart(self) -> MetricChart:
        """The second chart (its old name: it showed accuracy alone before tasks)."""
        return self.metric_chart

    # ---- which run ------------------------------------------------------------------------------

    def run_task(self) -> str:
        """The followed run's task: its experiment's own, else the task of its data as this app's
        session knows it (a run started here), else "" (then the metrics it reports decide)."""
        experiment = self.experiment
        if experiment is None:
            return ""
        if experiment.task:
            return experiment.task
        info = host(self.app).session.dataset_info
        if info is not None and info.name == experiment.dataset:
            return experiment.task_for(info.task).name
        return ""

    def _choose_chart_metric(self) -> None:
        """Before the run's first metrics: the second chart draws its task's metric."""
        task = self.run_task()
        self.metric_chart.set_metric(chart_metric_for(task))
        self._chart_metric_settled = False

    def _settle_chart_metric(self, metrics: dict[str, float]) -> None:
        """At the run's first metrics: keep the chart's metric if the run reports it, else take the
        one it does report (a run from disk whose task is not recorded, a run from before tasks)."""
        if self._chart_metric_settled:
            return
        keys = metrics.keys()
        chart = self.metric_chart
        if chart.metric in keys or chart.val_metric in keys:
            self._chart_metric_settled = True
            return
        if any(name in keys or f"val_{name}" in keys for name in METRICS_BY_KEY):
            chart.set_metric(chart_metric_for("", keys))
            self._chart_metric_settled = True

    def watch_run(self, run_dir: Path) -> None:
        """Follow `run_dir` from the start of its metrics (replacing the run shown before)."""
        if not self._composed:  # (is_mounted is still False inside on_mount)
            self._pending_run = Path(run_dir)
            return
        self._pending_run = None
        if self._stop_follow is not None:
            self._stop_follow.set()
        self.run_dir = Path(run_dir)
        self.record = load_run(self.run_dir) if self.run_dir.exists() else None
        self.experiment = self.record.experiment if self.record is not None else None
        status = self.record.status if self.record is not None else "queued"
        self.phase = "queued" if status in ("queued", "prepared", "submitted") else "waiting"
        self.error = self.reason = ""
        self.final_event = self.ended = self.job_state = self.quiet = None
        self.progress_state = ProgressState()
        self.epoch_lines, self._written_lines = [], 0
        epochs = self.experiment.fit.epochs if self.experiment is not None else 1
        self._choose_chart_metric()
        self.loss_chart.reset(epochs)
        self.metric_chart.reset(epochs)
        self.query_one("#epoch-log", Log).clear()
        self._status_dirty = self._progress_dirty = True
        self.resources, self._next_resource_read = ResourceTail(self.run_dir), 0.0
        self._resources_shown = False
        client = slurm_client(self.app)
        follower = RunFollower(
            self.run_dir,
            quiet_after=self.quiet_after,
            job_state=client.job_state,
            job_id=self.job_id,
            settle_job=client.sync_status,
            job_poll_interval=client.poll_interval,
        )
        stop = self._stop_follow = threading.Event()
        self._worker = self._follow(follower, stop)
        self._show_where()
        self.redraw()

    @work(thread=True, exit_on_error=False, group="follow", name="follow")
    def _follow(self, follower: RunFollower, stop: threading.Event) -> RunEnded | None:
        return follow_into(self, follower, stop)

    # ---- state ----------------------------------------------------------------------------------

    @property
    def phase(self) -> str:
        """idle, queued, waiting, training, stopping, evaluating, or how it ended."""
        return self._phase

    @phase.setter
    def phase(self, phase: str) -> None:
        changed = phase != self._phase
        self._phase = phase
        if changed:
            self.refresh_bindings()  # s, e and c apply in some phases only

    @property
    def is_live(self) -> bool:
        """The run is queued, starting, training or finishing (not Screen.is_active: visible)."""
        return self.phase in ACTIVE_PHASES

    @property
    def job_id(self) -> str | None:
        recorded = self.record.slurm_job_id if self.record is not None else None
        return recorded or self._given_job_id

    @property
    def has_evaluation(self) -> bool:
        return self.record is not None and self.record.evaluation is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            if self.job_id:
                return False  # a Slurm job is cancelled with c
            if self.phase in ("queued", "waiting", "training"):
                return True
            return None if self.phase == "stopping" else False
        if action == "evaluate":
            return self.has_evaluation
        if action == "cancel_job":
            return bool(self.job_id) and not (self.job_state is not None and self.job_state.finished)
        if action == "close":
            return self.closable
        return True

    # ---- events from the follower (handlers only touch state) -----------------------------------

    @on(TrainingBatch)
    def _on_batch(self, message: TrainingBatch) -> None:
        event = message.event
        self.progress_state.on_batch(event)
        self._settle_chart_metric(event.metrics)
        self.loss_chart.add_batch(event.epoch, event.step, event.steps, event.metrics)
        self.metric_chart.add_batch(event.epoch, event.step, event.steps, event.metrics)
        self._progress_dirty = True
        self._redraw_soon()

    @on(TrainingUpdate)
    def _on_update(self, message: TrainingUpdate) -> None:
        event = message.event
        if isinstance(event, TrainingStarted):
            self.progress_state.on_started(event)
            if event.initial_epoch == 0:
                self.loss_chart.reset(event.epochs)
                self.metric_chart.reset(event.epochs)
            else:  # resumed: one curve over the global epoch, the earlier part kept
                self.epoch_lines.append(f"resumed at epoch {event.initial_epoch + 1}")
            self.final_event = None
            if self.phase in ("queued", "waiting", "evaluating", "stopped", "failed", "requeued"):
                self.phase = "training"
            self._show_where()
        elif isinstance(event, EpochEnded):
            self.progress_state.on_epoch(event)
            self._settle_chart_metric(event.metrics)
            self.loss_chart.add_epoch(event.epoch, event.metrics)
            self.metric_chart.add_epoch(event.epoch, event.metrics)
            self.epoch_lines.append(format_epoch_line(event))
        elif isinstance(event, (TrainingFinished, TrainingStopped, TrainingFailed)):
            self.final_event = event
            self.progress_state.on_ended()
            self.phase = "failed" if isinstance(event, TrainingFailed) else "evaluating"
            if self.run_dir is not None and read_status(self.run_dir) == REQUEUED:
                self.phase = "requeued"  # Slurm's time-limit warning: it resumes when the job starts again
            if isinstance(event, TrainingFailed):
                self.notify(f"Training failed: {event.reason}", severity="error", timeout=10)
        self._progress_dirty = self._status_dirty = True
        self._redraw_soon()

    @on(RunLifecycle)
    def _on_lifecycle(self, message: RunLifecycle) -> None:
        event = message.event
        if isinstance(event, RunQuiet):
            self.quiet = event
            what = "no metrics at all yet" if event.events_seen == 0 else "no new metrics"
            self.notify(f"{what} for {event.seconds:.0f} s (status: {event.status}); still watching.",
                        title="Quiet run", severity="warning", timeout=8)
        elif isinstance(event, JobStateChanged):
            self.job_state = event.state
            self.refresh_bindings()
            if event.state.finished and event.state.state != "COMPLETED":
                self.notify(f"Slurm job {event.state.job_id} ended {event.state}", title="Slurm", severity="warning", timeout=10)
        elif isinstance(event, WriterGone):
            self.notify(f"{event.reason}; the run is marked {event.status}.", severity="warning", timeout=10)
        elif isinstance(event, RunEnded):
            self.ended = event
            self.reason = event.reason
            self.progress_state.on_ended()
            self.record = load_run(self.run_dir) if self.run_dir is not None and self.run_dir.exists() else self.record
            self.phase = event.status
            self._next_resource_read = 0.0  # its last sample, and its summary, once more
            if event.has_evaluation and self.record is not None:
                self.post_message(RunEvaluated(outcome_from_record(self.record)))
                self.notify("Evaluation ready: press e to see it.", timeout=5)
        self._status_dirty = True
        self._show_where()
        # Rare and meaningful: shown at once, not at the next tick (the charts too, once it ended).
        self.redraw(force_charts=isinstance(event, RunEnded))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or event.state != WorkerState.ERROR:
            return
        self.phase = "error"
        self.error = f"{type(event.worker.error).__name__}: {event.worker.error}"
        self.notify(f"Following failed: {self.error}", severity="error", timeout=10)
        self._status_dirty = True
        self._redraw_soon()

    # ---- keys -----------------------------------------------------------------------------------

    def action_stop(self) -> None:
        if self.run_dir is None or self.phase not in ("queued", "waiting", "training"):
            self.notify("Nothing is training here." if not self.is_live else "Already stopping.")
            return
        result = host(self.app).launcher.stop(self.run_dir)
        if result == "cancelled":
            self.notify(f"{self.run_dir.name} was waiting for a slot; cancelled.", title="Run")
        elif result == "not running":
            self.notify("Its process is not running on this machine; nothing to stop.", severity="warning")
            return
        else:
            self.phase = "stopping"
        self._status_dirty = True
        self.redraw()

    def action_explain_stop(self) -> None:
        if self.job_id:
            self.notify("This run is a Slurm job: c cancels it.")
        else:
            self.action_stop()

    def action_explain_evaluate(self) -> None:
        self.action_evaluate()

    def action_evaluate(self) -> None:
        record = self.record
        if record is None or record.evaluation is None:
            if self.is_live and self.phase != "evaluating":
                self.notify("The evaluation comes when the run has finished.")
            elif self.phase == "evaluating":
                self.notify("The run finished; waiting for it to write evaluation.json…")
            elif self.run_dir is None:
                self.notify("No run yet: design a model on the build screen (b) and start training.")
            else:
                reason = f" ({self.reason})" if self.reason else ""
                self.notify(f"This run has no evaluation{reason}.", severity="warning")
            return
        experiment = record.experiment
        if experiment is None:
            self.notify("The run's config.toml cannot be read, so its dataset is unknown.", severity="error")
            return
        self._load_and_show(outcome_from_record(record), experiment)

    @work(thread=True, exit_on_error=False, group="run-dataset", exclusive=True)
    def _load_and_show(self, outcome: RunOutcome, experiment: Experiment) -> None:
        try:
            dataset = load_dataset_for(self.app, experiment)
        except Exception as error:  # DatasetError mostly: the run's data is not here
            self.app.call_from_thread(self.notify, f"Cannot load {experiment.dataset}: {error}", severity="error", timeout=15)
            return
        self.app.call_from_thread(lambda: self.app.run_worker(show_evaluation(self.app, outcome, dataset), group="switch-mode"))

    def action_toggle_log_scale(self) -> None:
        self.loss_chart.set_log_scale(not self.loss_chart.log_scale)
        self.redraw(force_charts=True)
        self.notify(f"loss axis: {'logarithmic' if self.loss_chart.log_scale else 'linear'}", timeout=2)

    def action_cycle_smoothing(self) -> None:
        weight = next_level(SMOOTHING_LEVELS, self.loss_chart.smoothing)
        for chart in (self.loss_chart, self.metric_chart):
            chart.set_smoothing(weight)
        self.redraw(force_charts=True)
        self.notify(f"smoothing: {weight:g}" if weight else "smoothing: off", timeout=2)

    def action_cycle_zoom(self) -> None:
        window = next_level(ZOOM_WINDOWS, self.loss_chart.zoom_epochs)
        for chart in (self.loss_chart, self.metric_chart):
            chart.set_zoom(window)
        self.redraw(force_charts=True)
        self.notify(f"showing the last {window} epochs" if window else "showing the whole run", timeout=2)

    def action_close(self) -> None:
        if self.closable:
            self.dismiss()

    def action_cancel_job(self) -> None:
        job_id = self.job_id
        if not job_id:
            self.notify("This run is not a Slurm job.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._cancel(job_id)

        self.app.push_screen(
            ConfirmScreen(f"Cancel Slurm job {job_id} (scancel)?\nEpochs it finished stay in {self.run_dir}.",
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

    # ---- drawing --------------------------------------------------------------------------------

    def _redraw_soon(self, delay: float = REDRAW_INTERVAL) -> None:
        """Something new to show: one redraw within `delay` (asked again meanwhile, still one)."""
        if self._redraw_timer is None and self._composed:
            self._redraw_timer = self.set_timer(delay, self._timed_redraw, name="monitor-redraw")

    def _timed_redraw(self) -> None:
        self._redraw_timer = None
        self.redraw()

    def redraw(self, force_charts: bool = False) -> None:
        if not self._composed:
            return
        now = time.monotonic()
        if force_charts or now >= self._next_chart_draw:
            if self.loss_chart.replot(force_charts) | self.metric_chart.replot(force_charts):
                # Once a second at most while the run is live: the curves still move within an
                # epoch, and a chart's bytes (its colours, cell by cell) stay few on an SSH link.
                self._next_chart_draw = now + (CHART_INTERVAL if self.is_live else 0.0)
        if self.loss_chart.dirty or self.metric_chart.dirty:
            self._redraw_soon(max(0.0, self._next_chart_draw - now))  # their turn comes: draw them then
        if self.resources is not None and now >= self._next_resource_read:
            # The run samples every few seconds; reading its file more often finds nothing new.
            self._next_resource_read = now + (RESOURCE_READ_INTERVAL if self.is_live else float("inf"))
            if self.resources.poll() or not self._resources_shown:
                self._resources_shown = True
                self.resource_bar.show(self.resources.log, training=self.phase == "training")
        if self.is_live and self.resources is not None:
            # A live run's resources move even while no metric comes (Keras loading, a long
            # batch): read them at their own pace, and only while the run lives.
            self._redraw_soon(max(0.0, self._next_resource_read - now))
        if self._progress_dirty:
            self._progress_dirty = False
            self.query_one(TrainingProgress).show(self.progress_state)
        if self._written_lines < len(self.epoch_lines):
            self.query_one("#epoch-log", Log).write_lines(self.epoch_lines[self._written_lines :])
            self._written_lines = len(self.epoch_lines)
        if self._status_dirty:
            self._status_dirty = False
            status = self.query_one("#train-status", Static)
            status.update(self.status_text())
            status.set_class(self.phase in ("failed", "error", "interrupted"), "-error")
            status.set_class(self.phase in ("finished", "stopped"), "-done")

    def _show_where(self) -> None:
        if not self._composed:
            return
        where = self.query_one("#follow-where", Static)
        if self.run_dir is None:
            where.update(Text("No run yet: b builds one, ctrl+r starts it.", style="dim"))
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Run ", style="dim")
        text.append(str(self.run_dir))
        status = self.record.status if self.ended is not None and self.record is not None else read_status(self.run_dir)
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
            host = self.record.info.get("host", "") if self.record is not None else ""
            alive = writer_alive(self.run_dir) if self.is_live else None
            text.append(f"  │  local{f' on {host}' if host else ''}", style="dim")
            if alive:
                text.append(", its own process", style="dim")
        where.update(text)

    def status_text(self) -> Text:
        if self.run_dir is None:
            return Text("No run yet: design a model on the build screen (b) and start training there (ctrl+r).")
        what = self.run_dir.name
        if self.experiment is not None:
            what = f"{self.experiment.name} on {self.experiment.dataset}"
        done = self.final_event.epochs_done if self.final_event is not None else len(self.epoch_lines)
        quiet = ""
        if self.quiet is not None and self.phase in ("waiting", "training"):
            quiet = f"  Quiet: nothing new for {self.quiet.seconds:.0f}+ s (status {self.quiet.status})."
        phase = self.phase
        evaluation = "  Press e for the evaluation." if self.has_evaluation else "  No evaluation was saved."
        if phase == "queued":
            return Text(f"{what} is queued: it starts when a run slot is free (s cancels it).{quiet}")
        if phase == "waiting":
            return Text(f"Starting {what}: loading Keras, data and model…{quiet}")
        if phase == "training":
            state = self.progress_state
            stop = "c cancels the job." if self.job_id else "s stops after the current batch."
            return Text(f"Training {what}: epoch {state.epoch + 1}/{state.epochs}.  {stop}{quiet}")
        if phase == "requeued":
            job = f" (job {self.job_id})" if self.job_id else ""
            # info.json says why (kerastui train writes it just after the final event): a
            # preemption's SIGTERM, or the time-limit warning.
            why = read_info(self.run_dir).get("requeued_for") if self.run_dir is not None else None
            when = ("when Slurm preempted it (SIGTERM)" if why == "preempted"
                    else "at Slurm's time-limit warning" if why == "time limit" else "by Slurm")
            return Text(f"{what} was requeued{job} {when} after {plural(done, 'epoch')}, "
                        "its state saved: it resumes when the job starts again.")
        if phase == "stopping":
            return Text(f"Stopping {what}… (after the current batch; finished epochs are kept)")
        if phase == "evaluating":
            verb = "Stopped after" if isinstance(self.final_event, TrainingStopped) else "Finished"
            return Text(f"{verb} {plural(done, 'epoch')} of {what}; saving the model and evaluating on the test set…")
        if phase in ("finished", "stopped"):
            verb = "Finished" if phase == "finished" else "Stopped after"
            reason = f" ({self.reason})" if self.reason else ""
            return Text(f"{verb} {plural(done, 'epoch')} of {what}{reason}. Run saved in {self.run_dir}.{evaluation}")
        if phase == "failed":
            reason = self.reason or (self.final_event.reason if self.final_event is not None else "") or "unknown reason"
            return Text(f"FAILED after {plural(done, 'epoch')}: {reason}.  Finished epochs stay on the charts.")
        if phase in ("interrupted", "cancelled"):
            return Text(f"{what} {phase} after {plural(done, 'epoch')}: {self.reason or 'no reason recorded'}.")
        return Text(f"ERROR: {self.error}")
