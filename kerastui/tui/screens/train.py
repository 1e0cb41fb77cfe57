"""The train screen: live charts, progress and the epoch log of a run trained in a thread worker.

The worker calls `app.run_experiment` (the same pipeline as the headless CLI, so the run
directory is identical) with a listener that posts each TrainingEvent to this screen as a
message. Handlers only update plain state; a 10 Hz timer pushes changed state into the widgets,
so however fast batches arrive, drawing costs at most ten redraws a second.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Log, Static
from textual.worker import Worker, WorkerState

from kerastui.core.events import (
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from kerastui.tui.messages import TrainingBatch, TrainingUpdate, posting_listener
from kerastui.tui.widgets.metric_chart import MetricChart
from kerastui.tui.widgets.training_progress import ProgressState, TrainingProgress

REDRAW_INTERVAL = 0.1  # seconds: about ten redraws a second at most
# Share of wall time the charts may spend being built and drawn. Building a plotext figure is pure
# Python and holds the GIL, which Keras's training loop needs too: at 10 Hz two charts slowed a
# small fit by about 60% (benchmarks/ui_overhead.py). The charts' own measured render time sets
# how often they may redraw; progress, status and the epoch log still update at 10 Hz.
CHART_DRAW_BUDGET = 0.05
CHART_MAX_STALENESS = 1.0  # seconds: however costly the drawing, the charts never lag more
ACTIVE_PHASES = ("preparing", "training", "stopping", "evaluating")


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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class TrainScreen(Screen):
    """Charts of loss and accuracy, progress with ETA, the epoch log; s stops, e evaluates."""

    CSS_PATH = "train.tcss"
    BINDINGS = [
        Binding("s", "stop", "Stop", tooltip="Stop training after the current batch (epochs done are kept)"),
        Binding("e", "evaluate", "Evaluate", tooltip="Show the evaluation of the finished run"),
        Binding("enter", "evaluate", "Evaluate", show=False),
        # When check_action hides stop/evaluate, these (never in the footer) still say why the key does nothing.
        Binding("s", "explain_stop", show=False),
        Binding("e,enter", "explain_evaluate", show=False),
        Binding("l", "toggle_log_scale", "Log scale", tooltip="Toggle a logarithmic loss axis"),
    ]

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._phase = "idle"
        self.error: str = ""
        self.outcome: Any = None  # RunOutcome of the last run, once its worker returned
        self.experiment: Any = None
        self.dataset: Any = None
        self.progress_state = ProgressState()
        self.final_event: Any = None
        self.epoch_lines: list[str] = []
        self._stop_event: threading.Event | None = None
        self._worker: Worker | None = None
        self._written_lines = 0
        self._status_dirty = True
        self._progress_dirty = True
        self._next_chart_draw = 0.0  # monotonic time before which the charts wait (draw budget)
        # Created here, not in compose, so state can be reset before the screen is mounted.
        self.loss_chart = MetricChart("loss", "loss", id="loss-chart")
        self.accuracy_chart = MetricChart("accuracy", "accuracy", id="accuracy-chart")

    # ---- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="train-status")
        with Horizontal(id="charts"):
            yield self.loss_chart
            yield self.accuracy_chart
        yield TrainingProgress(id="training-progress")
        yield Log(id="epoch-log", max_lines=2000, auto_scroll=True)
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(REDRAW_INTERVAL, self.redraw)
        self.redraw()

    def on_unmount(self) -> None:
        # Leaving the app mid-run: let the training thread end at its next batch.
        if self._stop_event is not None:
            self._stop_event.set()

    # ---- starting and stopping ------------------------------------------------------------------

    @property
    def phase(self) -> str:
        """idle, preparing, training, stopping, evaluating, finished, stopped, failed or error."""
        return self._phase

    @phase.setter
    def phase(self, phase: str) -> None:
        changed = phase != self._phase
        self._phase = phase
        if changed:
            # s and e apply in some phases only: the footer shows what works now (see check_action).
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            if self.phase in ("preparing", "training"):
                return True
            return None if self.phase == "stopping" else False
        if action == "evaluate":
            return self.has_evaluation
        return True

    @property
    def has_evaluation(self) -> bool:
        return getattr(self.outcome, "evaluation", None) is not None

    @property
    def is_training(self) -> bool:
        """True from start_run until the worker (training and evaluation) has ended."""
        return self.phase in ACTIVE_PHASES

    def start_run(self, experiment: Any, dataset: Any) -> None:
        """Train `experiment` on `dataset` in a thread worker; ignored while a run is active."""
        if self.is_training:
            self.notify("A run is already training; stop it first (s).", severity="warning")
            return
        self.experiment, self.dataset = experiment, dataset
        self.phase, self.error, self.outcome, self.final_event = "preparing", "", None, None
        self.progress_state = ProgressState()
        self.epoch_lines = []
        epochs = getattr(getattr(experiment, "fit", None), "epochs", 1)
        self.loss_chart.reset(epochs)
        self.accuracy_chart.reset(epochs)
        self._written_lines = 0
        if self.is_mounted:
            self.query_one("#epoch-log", Log).clear()
        self._status_dirty = self._progress_dirty = True
        self._stop_event = threading.Event()
        self._worker = self._train(experiment, dataset, self._stop_event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="train", name="train")
    def _train(self, experiment: Any, dataset: Any, stop_event: threading.Event) -> Any:
        return self.app.run_experiment(
            experiment,
            dataset,
            runs_root=getattr(self.app, "runs_root", None),
            listeners=[posting_listener(self)],
            stop_event=stop_event,
        )

    def action_stop(self) -> None:
        if self.phase not in ("preparing", "training") or self._stop_event is None:
            self.notify("Nothing is training." if not self.is_training else "Already stopping.", severity="information")
            return
        self._stop_event.set()
        self.phase = "stopping"
        self._status_dirty = True
        self.redraw()

    def action_explain_stop(self) -> None:
        self.action_stop()

    def action_explain_evaluate(self) -> None:
        self.action_evaluate()

    def action_evaluate(self) -> None:
        outcome = self.outcome
        if outcome is not None and getattr(outcome, "evaluation", None) is not None:
            self.app.show_evaluation(outcome)
        elif self.is_training:
            self.notify("The evaluation comes when the run has finished (s stops it now).")
        elif outcome is not None:
            self.notify(f"This run {outcome.status} without an evaluation: {outcome.reason}", severity="warning")
        else:
            self.notify("No run yet: design a model on the build screen (b) and start training.")

    def action_toggle_log_scale(self) -> None:
        self.loss_chart.set_log_scale(not self.loss_chart.log_scale)
        self.notify(f"loss axis: {'logarithmic' if self.loss_chart.log_scale else 'linear'}", timeout=2)

    # ---- events from the training thread (handlers only touch state) ----------------------------

    @on(TrainingBatch)
    def _on_batch(self, message: TrainingBatch) -> None:
        event = message.event
        self.progress_state.on_batch(event)
        self.loss_chart.add_batch(event.epoch, event.step, event.steps, event.metrics)
        self.accuracy_chart.add_batch(event.epoch, event.step, event.steps, event.metrics)
        self._progress_dirty = True

    @on(TrainingUpdate)
    def _on_update(self, message: TrainingUpdate) -> None:
        event = message.event
        if isinstance(event, TrainingStarted):
            self.progress_state.on_started(event)
            self.loss_chart.reset(event.epochs)
            self.accuracy_chart.reset(event.epochs)
            if self.phase == "preparing":
                self.phase = "training"
        elif isinstance(event, EpochEnded):
            self.progress_state.on_epoch(event)
            self.loss_chart.add_epoch(event.epoch, event.metrics)
            self.accuracy_chart.add_epoch(event.epoch, event.metrics)
            self.epoch_lines.append(format_epoch_line(event))
        elif isinstance(event, (TrainingFinished, TrainingStopped, TrainingFailed)):
            self.final_event = event
            self.progress_state.on_ended()
            # Training is over; the pipeline still saves the model and evaluates.
            self.phase = "failed" if isinstance(event, TrainingFailed) else "evaluating"
            if isinstance(event, TrainingFailed):
                self.notify(f"Training failed: {event.reason}", severity="error", timeout=10)
        self._progress_dirty = self._status_dirty = True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a run's end (result or exception) reaches the screen."""
        if event.worker.group != "train" or event.worker is not self._worker:
            return
        if event.state == WorkerState.SUCCESS:
            self.outcome = event.worker.result
            status = getattr(self.outcome, "status", "finished")
            self.phase = status if status in ("finished", "stopped", "failed") else "finished"
            if self.phase == "failed" and not self.error:
                self.error = getattr(self.outcome, "reason", "") or getattr(self.final_event, "reason", "")
            if hasattr(self.app, "last_outcome"):
                self.app.last_outcome = self.outcome
            if self.phase != "failed":
                self.notify("Evaluation ready: press e to see it.", timeout=5)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self.phase = "error"
            self.error = f"{type(error).__name__}: {error}"
            self.notify(f"Training crashed: {self.error}", severity="error", timeout=10)
        elif event.state == WorkerState.CANCELLED:
            self.phase = "stopped" if self.final_event is not None else "idle"
        else:
            return
        self._status_dirty = True
        self.redraw()

    # ---- drawing (10 Hz at most) ----------------------------------------------------------------

    def redraw(self, force_charts: bool = False) -> None:
        if not self.is_mounted:
            return
        now = time.monotonic()
        if force_charts or not self.is_training or now >= self._next_chart_draw:
            if self.loss_chart.replot() | self.accuracy_chart.replot():
                cost = self.loss_chart.render_seconds + self.accuracy_chart.render_seconds
                pause = min(max(REDRAW_INTERVAL, cost / CHART_DRAW_BUDGET), CHART_MAX_STALENESS)
                self._next_chart_draw = now + pause
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
            status.set_class(self.phase in ("failed", "error"), "-error")
            status.set_class(self.phase in ("finished", "stopped"), "-done")

    def status_text(self) -> Text:
        what = ""
        if self.experiment is not None:
            what = f"{self.experiment.name} on {self.experiment.dataset}"
        done = self.progress_state.epoch + (1 if self.progress_state.step and self.progress_state.step >= self.progress_state.steps else 0)
        if self.final_event is not None:
            done = self.final_event.epochs_done
        run_dir = getattr(self.outcome, "run_dir", None)
        saved = f" Run saved in {run_dir}." if run_dir is not None else ""
        phase = self.phase
        if phase == "idle":
            return Text("No run yet: design a model on the build screen (b) and start training there.")
        if phase == "preparing":
            return Text(f"Preparing {what}: loading TensorFlow, data and model…")
        if phase == "training":
            state = self.progress_state
            return Text(f"Training {what}: epoch {state.epoch + 1}/{state.epochs}.  s stops after the current batch.")
        if phase == "stopping":
            return Text(f"Stopping {what}… (after the current batch; finished epochs are kept)")
        if phase == "evaluating":
            verb = "Stopped after" if isinstance(self.final_event, TrainingStopped) else "Finished"
            return Text(f"{verb} {_plural(done, 'epoch')} of {what}; evaluating on the test set…")
        if phase == "finished":
            reason = getattr(self.final_event, "reason", "completed")
            return Text(f"Finished {what}: {_plural(done, 'epoch')} ({reason}).{saved}  Press e for the evaluation.")
        if phase == "stopped":
            return Text(f"Stopped after {_plural(done, 'epoch')} ({what}).{saved}  Press e for the evaluation.")
        if phase == "failed":
            reason = self.error or getattr(self.final_event, "reason", "unknown reason")
            return Text(f"FAILED after {_plural(done, 'epoch')}: {reason}.{saved}  Finished epochs stay on the charts.")
        return Text(f"ERROR: {self.error}. Finished epochs stay on the charts; see the notification for details.")
