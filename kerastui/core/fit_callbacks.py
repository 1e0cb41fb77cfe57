"""The Keras callbacks a kerastui fit runs with, each with one job, sharing what they learn in a
FitProgress (read by the Trainer afterwards, in the same thread):

- `TerminateOnNaN` (Keras's) stops the fit at a NaN or infinite loss; the subclass here keeps
  where it happened, since for kerastui that is a failure with a reason, not a quiet stop;
- `BackupAndRestore` (Keras's) keeps the training state of finished epochs only;
- `History` (Keras's) records each epoch's metrics (the Trainer keeps those of finished epochs);
- `EventCallback` turns Keras's hooks into kerastui's training events and honours stop requests;
- `StateOnStop` saves the training state mid-epoch when a stop asks for it (Slurm's SIGTERM).

The classes subclass Keras's, which exists only once Keras is imported (seconds): each is made
on first use for the Keras module given, and kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kerastui.core.disk_space import check_free_space, files_bytes, state_bytes
from kerastui.core.events import BatchEnded, EpochEnded, TrainingEvent, TrainingStarted

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.stop_request import StopRequest


@dataclass
class FitProgress:
    """What the callbacks learned during fit."""

    epochs: int
    steps: int
    epochs_done: int = 0
    failure: str = ""  # set when the loss became NaN/inf
    stop_seen: bool = False  # the stop request was honoured during fit
    saved_mid_epoch: tuple[int, int] | None = None  # (epoch, batches done) of a state saved mid-epoch


@dataclass(frozen=True)
class FitShape:
    """What TrainingStarted announces about the fit besides its progress."""

    train_samples: int
    validation_samples: int
    batch_size: int
    replicas: int = 1
    workers: int = 1


def floats(logs: dict[str, Any] | None) -> dict[str, float]:
    """Keras logs (tensors, numpy scalars) as plain floats."""
    out: dict[str, float] = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
    return out


_CLASSES: dict[tuple[int, str], type] = {}


def _made_once(keras: Any, name: str, make: Callable[[], type]) -> type:
    key = (id(keras), name)
    if key not in _CLASSES:
        _CLASSES[key] = make()
    return _CLASSES[key]


def nan_failure_callback(keras: Any, progress: FitProgress) -> Any:
    """Keras's TerminateOnNaN, which also says where the loss went bad (progress.failure)."""

    def make() -> type:
        class NonFiniteLossFailure(keras.callbacks.TerminateOnNaN):
            def __init__(self, progress: FitProgress):
                super().__init__()
                self.progress = progress
                self.epoch = 0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = int(epoch)

            def on_batch_end(self, batch, logs=None):
                super().on_batch_end(batch, logs)
                loss = floats(logs).get("loss")
                if self.model.stop_training and loss is not None and not math.isfinite(loss) and not self.progress.failure:
                    word = "NaN" if math.isnan(loss) else "infinite"
                    self.progress.failure = (
                        f"loss became {word} at epoch {self.epoch + 1}, batch {int(batch) + 1}; try a lower learning rate"
                    )

        return NonFiniteLossFailure

    return _made_once(keras, "nan", make)(progress)


def backup_callback(keras: Any, backup_dir: Path, progress: FitProgress, every_batches: int = 0) -> Any:
    """Keras's BackupAndRestore, saving only epochs that really finished (and, with
    fit.backup_every_batches, every N batches within an epoch: Keras records the epochs finished
    by then, so a resumed run redoes the epoch in progress from those weights, never skips it).

    Keras also calls on_epoch_end for an epoch cut short by a stop or a NaN; its backup would
    then claim that epoch done, and a resumed run would skip the rest of it.
    """

    def make() -> type:
        class FinishedEpochBackup(keras.callbacks.BackupAndRestore):
            def __init__(self, backup_dir: str, progress: FitProgress, every_batches: int = 0):
                # Kept after a stop or a crash (to resume from); the pipeline removes it once finished.
                super().__init__(backup_dir=backup_dir, save_freq=every_batches or "epoch", delete_checkpoint=False)
                self.progress = progress
                self.steps_done = 0
                self.every_batches = every_batches
                self._state_bytes: int | None = None

            def on_epoch_begin(self, epoch, logs=None):
                self.steps_done = 0

            def on_train_batch_end(self, batch, logs=None):
                self.steps_done = int(batch) + 1
                if not self.progress.failure:  # weights after a NaN loss are not worth resuming from
                    super().on_train_batch_end(batch, logs)

            def on_epoch_end(self, epoch, logs=None):
                if self.progress.failure or self.steps_done < self.progress.steps:
                    return
                super().on_epoch_end(epoch, logs)
                if self.every_batches:
                    self._save_model()  # Keras saves every N batches then, not at epoch ends: each finished epoch too

            def save_mid_epoch(self, epoch: int, batches_done: int) -> None:
                """The state now, in the middle of `epoch` (weights, optimizer, seed generators, the
                epoch and the batches done): Keras's metadata names the epoch in progress, so a
                resumed fit goes on from these weights and every epoch still ends once."""
                import json

                from kerastui.core.atomic import write_text_atomic

                self._current_epoch = int(epoch)
                self._save_model()
                write_text_atomic(Path(self._training_metadata_path), json.dumps(
                    {"epoch": int(epoch), "batch": int(batches_done) - 1, "batches_done": int(batches_done),
                     "saved_mid_epoch": True}))
                self.progress.saved_mid_epoch = (int(epoch), int(batches_done))

            def _save_model(self):
                # Every save, at an epoch's end or every N batches, comes here (and only then: no
                # cost on the other batches). h5py meets a full disk with a crash (a segfault as it
                # cleans up), not an error: make sure the state fits before Keras starts writing it.
                if self._state_bytes is None:
                    self._state_bytes = state_bytes(self.model)
                check_free_space(Path(self.backup_dir), self._state_bytes, "the training state backup",
                                 reclaimed=files_bytes(Path(self.backup_dir)))  # overwritten in place
                super()._save_model()

        return FinishedEpochBackup

    return _made_once(keras, "backup", make)(str(backup_dir), progress, every_batches)


def finished_epochs(history: Any, epochs_done: int) -> dict[str, list[float]]:
    """A Keras History's metrics for the epochs that finished: Keras records an epoch cut short
    by a stop or a NaN too."""
    if not history.history:
        return {}  # no epoch ended (History.epoch exists only once the fit began)
    keep = [index for index, epoch in enumerate(history.epoch) if epoch < epochs_done]
    if not keep:
        return {}
    return {key: [float(values[i]) for i in keep] for key, values in history.history.items()}


def event_callback(keras: Any, emit: Callable[[TrainingEvent], None], progress: FitProgress, shape: FitShape,
                   stop_event: StopRequest, batch_event_interval: float) -> Any:
    """Keras hooks -> kerastui events (TrainingStarted, BatchEnded at most every
    `batch_event_interval` seconds and at each epoch's last batch, EpochEnded for finished
    epochs); a set `stop_event` stops the fit after the batch in progress."""

    def make() -> type:
        class EventCallback(keras.callbacks.Callback):
            def __init__(self, emit, progress, shape, stop_event, batch_event_interval):
                super().__init__()
                self.emit, self.progress, self.shape = emit, progress, shape
                self.stop_event, self.batch_event_interval = stop_event, batch_event_interval
                self.started = False
                self.epoch = 0
                self.last_step = 0
                self.epoch_started = 0.0
                self.last_batch_event = 0.0

            def on_train_begin(self, logs=None):
                steps = (self.params or {}).get("steps") or self.progress.steps
                self.progress.steps = int(steps)

            def on_epoch_begin(self, epoch, logs=None):
                if not self.started:
                    # Announced at the first epoch: a resumed fit (BackupAndRestore) starts later.
                    self.started = True
                    self.progress.epochs_done = int(epoch)
                    # Throttling counts from the start, so a long interval means one batch event per epoch.
                    self.last_batch_event = time.monotonic()
                    shape = self.shape
                    self.emit(
                        TrainingStarted(
                            epochs=self.progress.epochs,
                            steps_per_epoch=self.progress.steps,
                            train_samples=shape.train_samples,
                            validation_samples=shape.validation_samples,
                            batch_size=shape.batch_size,
                            replicas=shape.replicas,
                            workers=shape.workers,
                            initial_epoch=int(epoch),
                        )
                    )
                self.epoch = int(epoch)
                self.last_step = 0
                self.epoch_started = time.monotonic()

            def on_train_batch_end(self, batch, logs=None):
                step = int(batch) + 1
                self.last_step = step
                if self.progress.failure:
                    return  # the NaN callback stopped the fit: no event for a bad loss
                now = time.monotonic()
                last_of_epoch = step >= self.progress.steps
                if last_of_epoch or now - self.last_batch_event >= self.batch_event_interval:
                    self.last_batch_event = now
                    self.emit(BatchEnded(self.epoch, step, self.progress.steps, floats(logs)))
                # Checked after the listeners ran, so a stop they request (a UI key, say) applies now.
                if self.stop_event.is_set():
                    self.progress.stop_seen = True
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                # Keras calls this also for an epoch cut short by a stop or NaN; that one is not "done".
                if self.progress.failure or self.last_step < self.progress.steps:
                    return
                self.progress.epochs_done = int(epoch) + 1
                self.emit(EpochEnded(int(epoch), self.progress.epochs, floats(logs), time.monotonic() - self.epoch_started))

        return EventCallback

    return _made_once(keras, "events", make)(emit, progress, shape, stop_event, batch_event_interval)


class StateSavedStop(Exception):
    """Raised from inside fit once a stop's training state is saved mid-epoch; the trainer
    catches it and ends the run as stopped, without the rest of fit's epoch (its validation)."""

    def __init__(self, epoch: int, batches_done: int):
        super().__init__(f"training state saved at batch {batches_done} of epoch {epoch + 1}")


def state_on_stop_callback(keras: Any, backup: Any, progress: FitProgress, stop_event: StopRequest) -> Any:
    """After the events (which honour the stop): when the stop asks for the state to be kept
    (`stop_event.save_state`, Slurm's SIGTERM or time-limit warning), save it at this batch, so
    the grace time before SIGKILL (Slurm's KillWait) is spent on one save, not on the rest of an
    epoch. A stop at an epoch's last batch needs nothing: the epoch's own backup follows."""

    def make() -> type:
        class StateOnStop(keras.callbacks.Callback):
            def __init__(self, backup, progress, stop_event):
                super().__init__()
                self.backup, self.progress, self.stop_event = backup, progress, stop_event
                self.epoch = 0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = int(epoch)

            def on_train_batch_end(self, batch, logs=None):
                step = int(batch) + 1
                if (not self.progress.stop_seen or self.progress.failure or self.progress.saved_mid_epoch
                        or not self.stop_event.save_state or step >= self.progress.steps):
                    return
                self.backup.save_mid_epoch(self.epoch, step)
                # Out of fit at once: Keras would otherwise validate the cut-short epoch, which on
                # a large validation set could outlast the grace time before SIGKILL.
                raise StateSavedStop(self.epoch, step)

        return StateOnStop

    return _made_once(keras, "state_on_stop", make)(backup, progress, stop_event)
