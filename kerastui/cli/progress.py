"""Training progress on a terminal: live rich bars, or plain flushed lines for logs and Slurm jobs.

Both are Listeners (called with each TrainingEvent), so `kerastui train` and `kerastui watch`
print the same lines whether the events come from the live trainer or from a metrics file.
"""

from __future__ import annotations

import math
import sys
from typing import Any, TextIO

from kerastui.core.events import (
    BatchEnded,
    EpochEnded,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)

# Shown first, in this order; any other metric Keras logs follows.
METRIC_ORDER = ("loss", "accuracy", "val_loss", "val_accuracy")


def format_metrics(metrics: dict[str, float]) -> str:
    """'loss 0.1234  accuracy 0.9650  val_loss ...' (NaN shown as nan)."""
    names = [n for n in METRIC_ORDER if n in metrics] + sorted(n for n in metrics if n not in METRIC_ORDER)
    parts = []
    for name in names:
        value = metrics[name]
        text = "nan" if isinstance(value, float) and math.isnan(value) else f"{value:.4f}"
        parts.append(f"{name} {text}")
    return "  ".join(parts)


def describe_event(event: TrainingEvent, batches: bool = False) -> str | None:
    """One plain line for an event; batch events only when `batches` (they are many)."""
    if isinstance(event, TrainingStarted):
        spread = ""
        if event.replicas > 1 or event.workers > 1:
            workers = f" on {event.workers} workers" if event.workers > 1 else ""
            spread = f" ({event.batch_size // event.replicas} per replica x {event.replicas} replicas{workers})"
        resumed = f"resumed at epoch {event.initial_epoch + 1} of {event.epochs}; " if event.initial_epoch else ""
        return (
            f"{resumed}training: {event.epochs} epochs x {event.steps_per_epoch} steps, batch {event.batch_size}{spread}, "
            f"{event.train_samples} training / {event.validation_samples} validation samples"
        )
    if isinstance(event, BatchEnded):
        if not batches:
            return None
        return f"  epoch {event.epoch + 1} batch {event.step}/{event.steps}  {format_metrics(event.metrics)}"
    if isinstance(event, EpochEnded):
        width = len(str(event.epochs))
        return f"epoch {event.epoch + 1:>{width}}/{event.epochs}  {format_metrics(event.metrics)}  ({event.seconds:.1f}s)"
    if isinstance(event, TrainingFinished):
        return f"finished after {event.epochs_done} epochs ({event.reason})"
    if isinstance(event, TrainingStopped):
        return f"stopped after {event.epochs_done} epochs ({event.reason})"
    if isinstance(event, TrainingFailed):
        return f"failed after {event.epochs_done} epochs: {event.reason}"
    return None


class PlainProgress:
    """One flushed line per epoch (and start/end): readable in slurm-*.out and CI logs."""

    def __init__(self, stream: TextIO | None = None, batches: bool = False):
        self.stream = stream or sys.stdout
        self.batches = batches

    def __call__(self, event: TrainingEvent) -> None:
        line = describe_event(event, self.batches)
        if line is not None:
            print(line, file=self.stream, flush=True)

    def note(self, message: str) -> None:
        print(message, file=self.stream, flush=True)

    def close(self) -> None:
        pass

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RichProgress:
    """An epoch bar and a batch bar with ETA and running metrics; finished epochs stay printed above."""

    def __init__(self, console: Any = None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console or Console()
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metrics]}"),
            console=self.console,
            refresh_per_second=10,  # drawing must not slow training down
        )
        self._epochs: Any = None
        self._batches: Any = None
        self._started = False

    def __call__(self, event: TrainingEvent) -> None:
        if isinstance(event, TrainingStarted):
            self.console.print(describe_event(event))
            self.progress.start()
            self._started = True
            self._epochs = self.progress.add_task("epochs", total=event.epochs, completed=event.initial_epoch, metrics="")
            self._batches = self.progress.add_task("epoch 1", total=event.steps_per_epoch, metrics="")
        elif isinstance(event, BatchEnded) and self._started:
            self.progress.update(
                self._batches,
                completed=event.step,
                total=event.steps,
                description=f"epoch {event.epoch + 1}",
                metrics=format_metrics(event.metrics),
            )
        elif isinstance(event, EpochEnded) and self._started:
            # The epoch's metrics are printed in full above the bars; the bar stays short for 80 columns.
            self.progress.update(self._epochs, completed=event.epoch + 1)
            self.progress.console.print(describe_event(event), highlight=False)
            if event.epoch + 1 < event.epochs:
                self.progress.reset(self._batches, description=f"epoch {event.epoch + 2}", metrics="")
        else:
            line = describe_event(event)
            self.close()
            if line:
                style = "red" if isinstance(event, TrainingFailed) else None
                self.console.print(line, style=style, highlight=False)

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False)

    def close(self) -> None:
        if self._started:
            self.progress.stop()
            self._started = False

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_progress(plain: bool, stream: TextIO | None = None) -> PlainProgress | RichProgress:
    if plain:
        return PlainProgress(stream)
    from rich.console import Console

    return RichProgress(Console(file=stream) if stream is not None else None)
