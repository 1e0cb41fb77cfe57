"""Epoch and run progress bars with ETA and samples per second.

`ProgressState` is plain bookkeeping fed by training events (times come from the events, stamped
in the training thread, so a slow redraw does not distort the speed); `TrainingProgress` shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Mount
from textual.widgets import Label, ProgressBar

from kerastui.core.events import BatchEnded, EpochEnded, TrainingStarted


def format_duration(seconds: float | None) -> str:
    """'1:02:03', '2:03' or '--:--' when unknown."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return "--:--"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class ProgressState:
    epochs: int = 0
    steps: int = 0
    train_samples: int = 0
    epoch: int = 0  # 0-based epoch running (or last finished)
    step: int = 0  # batches done in that epoch; == steps once it has ended
    started_at: float | None = None
    last_at: float | None = None
    ended: bool = False  # finished, stopped or failed: nothing is left to estimate

    def on_started(self, event: TrainingStarted) -> None:
        self.epochs, self.steps, self.train_samples = event.epochs, event.steps_per_epoch, event.train_samples
        self.epoch, self.step = event.initial_epoch, 0  # a resumed run continues at its saved epoch
        self.started_at = self.last_at = event.time
        self.ended = False

    def on_batch(self, event: BatchEnded) -> None:
        self.epoch = event.epoch
        self.step = event.step
        self.steps = event.steps or self.steps
        self.last_at = event.time

    def on_epoch(self, event: EpochEnded) -> None:
        self.epoch = event.epoch
        self.epochs = event.epochs or self.epochs
        self.step = self.steps
        self.last_at = event.time

    @property
    def epoch_fraction(self) -> float:
        return min(1.0, self.step / self.steps) if self.steps else 0.0

    @property
    def run_fraction(self) -> float:
        if not self.epochs:
            return 0.0
        return min(1.0, (self.epoch + self.epoch_fraction) / self.epochs)

    @property
    def elapsed(self) -> float:
        if self.started_at is None or self.last_at is None:
            return 0.0
        return max(0.0, self.last_at - self.started_at)

    @property
    def samples_per_second(self) -> float | None:
        if self.elapsed <= 0 or not self.epochs:
            return None
        samples = (self.epoch + self.epoch_fraction) * self.train_samples
        return samples / self.elapsed

    def on_ended(self) -> None:
        self.ended = True

    @property
    def eta_seconds(self) -> float | None:
        if self.ended:
            return 0.0
        fraction = self.run_fraction
        if fraction <= 0 or self.elapsed <= 0:
            return None
        return self.elapsed / fraction * (1.0 - fraction)

    def summary(self) -> str:
        speed = self.samples_per_second
        speed_text = f"{speed:,.0f} samples/s" if speed is not None else "-- samples/s"
        # A stopped run's ETA would be the time its remaining epochs would have taken: say it ended.
        head = "ended" if self.ended else f"ETA {format_duration(self.eta_seconds)}"
        return f"{head} · {speed_text} · elapsed {format_duration(self.elapsed)}"


class StillProgressBar(ProgressBar):
    """A ProgressBar without Textual's 1 Hz clock, which only moves the ETA it does not show here:
    it moves when a batch is shown (TrainingProgress.show), so an idle monitor wakes for nothing."""

    def on_mount(self, event: Mount) -> None:
        event.prevent_default()  # ProgressBar.on_mount's set_interval(1, update)
        self.update()


class TrainingProgress(Vertical):
    """Two labelled bars (this epoch, whole run) and a line with ETA and speed."""

    DEFAULT_CSS = """
    TrainingProgress {
        height: auto;
        padding: 0 1;
    }

    .progress-row {
        height: 1;
    }

    .progress-label {
        width: 14;
    }

    #progress-summary {
        width: 1fr;
        height: 1;
    }

    #epoch-bar, #run-bar {
        width: 1fr;
    }

    #epoch-bar Bar, #run-bar Bar {
        width: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(classes="progress-row"):
            yield Label("epoch  -/-", id="epoch-label", classes="progress-label")
            yield StillProgressBar(total=1, show_eta=False, id="epoch-bar")
        with Horizontal(classes="progress-row"):
            yield Label("run", id="run-label", classes="progress-label")
            yield StillProgressBar(total=1, show_eta=False, id="run-bar")
        yield Label("ETA --:-- · -- samples/s", id="progress-summary")

    def show(self, state: ProgressState) -> None:
        # These labels have fixed sizes (train.tcss), so no layout pass: a layout of the whole screen
        # ten times a second cost more than the charts (benchmarks/ui_overhead.py).
        self.query_one("#epoch-label", Label).update(f"epoch {state.epoch + 1}/{state.epochs or '-'}", layout=False)
        self.query_one("#epoch-bar", ProgressBar).update(total=max(state.steps, 1), progress=state.step)
        total_steps = max(state.steps * state.epochs, 1)
        done_steps = state.run_fraction * total_steps
        self.query_one("#run-bar", ProgressBar).update(total=total_steps, progress=done_steps)
        self.query_one("#progress-summary", Label).update(state.summary(), layout=False)

    @property
    def run_percentage(self) -> float:
        """The run bar's fill in [0, 1] (what the user sees)."""
        return self.query_one("#run-bar", ProgressBar).percentage or 0.0
