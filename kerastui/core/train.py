"""Trainer: runs `model.fit` and turns Keras's callback hooks into kerastui training events.

Event stream of one `run()`:
    TrainingStarted, (BatchEnded* EpochEnded)*, then exactly one of
    TrainingFinished / TrainingStopped / TrainingFailed.
A failure before fit begins (invalid experiment, layers that do not fit, bad data) produces only
TrainingFailed. Epoch numbers in events are 0-based; the human-readable reasons count from 1.

Ctrl+C (KeyboardInterrupt) emits TrainingStopped("interrupted (Ctrl+C)") and is then re-raised,
so the program still ends the way the user asked (the CLI exits 130); before that, `trainer.result`
(status "stopped", the finished epochs) and `trainer.model` are set, so the caller can save what
was trained. Any other exception becomes TrainingFailed with the error text; nothing else
propagates into the caller's thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from kerastui.core.disk_space import check_free_space, files_bytes, state_bytes
from kerastui.core.events import (
    BatchEnded,
    EpochEnded,
    Listener,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from kerastui.core.labels import targets_for_loss
from kerastui.core.spec import Experiment, SpecError

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    status: str  # "finished" | "stopped" | "failed"
    model: Any  # the keras.Model (None when building failed)
    history: dict[str, list[float]] = field(default_factory=dict)  # finished epochs only
    epochs_done: int = 0
    reason: str = ""


@dataclass
class _Progress:
    """What the callback learned during fit; read by the trainer afterwards (same thread)."""

    epochs: int
    steps: int
    epochs_done: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    failure: str = ""  # set when the loss became NaN/inf
    stop_seen: bool = False  # the stop request was honoured during fit


def split_sizes(samples: int, validation_split: float) -> tuple[int, int]:
    """(train, validation) sample counts exactly as Keras's validation_split cuts them (last part)."""
    if validation_split <= 0:
        return samples, 0
    train = int(math.floor(samples * (1.0 - validation_split)))
    return train, samples - train


def floats(logs: dict[str, Any] | None) -> dict[str, float]:
    """Keras logs as plain floats (tensors and numpy scalars are converted; non-numbers dropped)."""
    out: dict[str, float] = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = float(np.asarray(value))
        except (TypeError, ValueError):
            continue
    return out


class StopRequest(threading.Event):
    """A stop flag that also says why, for the run's final event (e.g. a SIGTERM from Slurm), and
    whether the run is to be requeued (Slurm's time-limit warning) rather than ended."""

    reason: str = ""
    requeue: bool = False

    def request(self, reason: str, requeue: bool = False) -> None:
        self.reason = reason
        self.requeue = requeue
        self.set()


class Trainer:
    """Trains one experiment on one dataset, reporting progress as events to listeners."""

    def __init__(
        self,
        experiment: Experiment,
        dataset: Any,
        listeners: Iterable[Listener] = (),
        batch_event_interval: float = 0.0,
        stop_event: threading.Event | None = None,
        backup_dir: Path | None = None,
    ):
        # backup_dir: the training state (weights, optimizer, epoch) is saved there after every
        # finished epoch, and a run started again with the same directory continues from it.
        self.backup_dir = Path(backup_dir) if backup_dir is not None else None
        self.experiment = experiment
        self.dataset = dataset
        self.batch_event_interval = max(0.0, float(batch_event_interval))
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self._listeners: list[Listener] = list(listeners)
        self._lock = threading.Lock()
        self._broken_listeners: set[int] = set()
        self._model: Any = None
        self._progress: _Progress | None = None
        self.result: TrainResult | None = None  # set when run() ends (also when Ctrl+C re-raises)

    @property
    def model(self) -> Any:
        """The model being trained (None until built); for listeners that want to look at it."""
        return self._model

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def request_stop(self) -> None:
        """Thread-safe: the run stops after the batch in progress; finished epochs are kept."""
        self.stop_event.set()

    def emit(self, event: TrainingEvent) -> None:
        """Deliver `event` to every listener; a listener that raises is logged and skipped for this event."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                # Log the first failure of each listener with its traceback; later ones briefly,
                # so a broken chart cannot flood the log (or stop training) once per batch.
                if id(listener) not in self._broken_listeners:
                    self._broken_listeners.add(id(listener))
                    log.exception("training listener %r failed on %s; training goes on", listener, type(event).__name__)
                else:
                    log.debug("training listener %r failed again on %s", listener, type(event).__name__)

    def run(self) -> TrainResult:
        """Build, train and report; always ends with exactly one final event and returns a TrainResult."""
        # _fit records the model and progress on self as soon as they exist, so every ending
        # (including Ctrl+C and exceptions thrown from inside fit) keeps the finished epochs.
        self._model: Any = None
        self._progress: _Progress | None = None
        early = None
        try:
            early = self._fit()
        except KeyboardInterrupt:
            self._finish(TrainingStopped(self._epochs_done(), "interrupted (Ctrl+C)"), "stopped")
            raise
        except Exception as error:  # build errors, bad data, errors raised inside fit
            log.debug("training failed", exc_info=True)
            return self._finish(TrainingFailed(self._epochs_done(), error_text(error)), "failed")
        progress = self._progress
        done = progress.epochs_done
        if progress.failure:
            return self._finish(TrainingFailed(done, progress.failure), "failed")
        if progress.stop_seen and done < progress.epochs:  # a stop during the last batch changes nothing
            # A StopRequest says who stopped it (Ctrl+C, Slurm's SIGTERM); a plain Event is the user.
            reason = getattr(self.stop_event, "reason", "") or "stopped by user"
            return self._finish(TrainingStopped(done, reason), "stopped")
        if early is not None and early.stopped_epoch > 0:
            return self._finish(TrainingFinished(done, f"early stopping at epoch {early.stopped_epoch + 1}"), "finished")
        return self._finish(TrainingFinished(done), "finished")

    def _epochs_done(self) -> int:
        return self._progress.epochs_done if self._progress else 0

    def _finish(self, event: TrainingEvent, status: str) -> TrainResult:
        self.emit(event)
        history = {k: list(v) for k, v in (self._progress.history if self._progress else {}).items()}
        self.result = TrainResult(status, self._model, history, self._epochs_done(), getattr(event, "reason", ""))
        return self.result

    def _fit(self):
        from kerastui.core.backend import import_keras
        from kerastui.core.build import build_model, output_problem
        from kerastui.core.distribute import global_batch_size, multiworker_patches, replicas, workers

        experiment, data = self.experiment, self.dataset
        fit = experiment.fit
        problems = experiment.problems()  # the CLI and the app checked already; this is the net
        if problems:
            raise SpecError(problems)  # a ValueError, its message bounded
        keras = import_keras(experiment.backend)
        model = self._model = build_model(experiment, tuple(data.input_shape))
        problem = output_problem(tuple(model.output_shape), int(data.num_classes))
        if problem:
            raise ValueError(problem)

        x = data.x_train
        y = targets_for_loss(data.y_train, int(data.num_classes), experiment.compile.loss)
        batch_size = global_batch_size(experiment)
        train_samples, validation_samples = split_sizes(len(x), fit.validation_split)
        progress = self._progress = _Progress(epochs=fit.epochs, steps=max(1, math.ceil(train_samples / batch_size)))
        event_callback = _event_callback(keras)(self, progress, train_samples, validation_samples, batch_size)
        event_callback.replicas, event_callback.workers = replicas(experiment), workers(experiment)
        callbacks = [event_callback]
        if self.backup_dir is not None:
            # First: the state is on disk before the epoch's event says it is done, so a run
            # killed in between repeats no epoch when resumed.
            callbacks.insert(0, _backup_callback(keras)(str(self.backup_dir), progress, fit.backup_every_batches))
        early = None
        if fit.early_stopping_patience > 0:
            early = keras.callbacks.EarlyStopping(
                monitor=fit.monitor, patience=fit.early_stopping_patience, restore_best_weights=True
            )
            callbacks.append(early)
        with multiworker_patches(experiment):
            model.fit(
                x,
                y,
                batch_size=batch_size,
                epochs=fit.epochs,
                validation_split=fit.validation_split,
                shuffle=True,  # seeded through keras.utils.set_random_seed in build_model
                callbacks=callbacks,
                verbose=0,
            )
        return early


def error_text(error: BaseException, limit: int = 400) -> str:
    """One readable line from an exception (TensorFlow errors can carry whole graph dumps)."""
    from kerastui.core.build import plain_error_text

    text = plain_error_text(error) if str(error) else type(error).__name__
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_CALLBACK_CLASSES: dict[int, type] = {}
_BACKUP_CLASSES: dict[int, type] = {}


def _backup_callback(keras: Any) -> type:
    """Keras's BackupAndRestore, saving only epochs that really finished (and, with
    fit.backup_every_batches, every N batches within an epoch: Keras records the epochs finished
    by then, so a resumed run redoes the epoch in progress from those weights, never skips it).

    Keras also calls on_epoch_end for an epoch cut short by a stop or a NaN; its backup would
    then claim that epoch done, and a resumed run would skip the rest of it.
    """
    key = id(keras)
    if key not in _BACKUP_CLASSES:

        class FinishedEpochBackup(keras.callbacks.BackupAndRestore):
            def __init__(self, backup_dir: str, progress: _Progress, every_batches: int = 0):
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
                super().on_train_batch_end(batch, logs)

            def on_epoch_end(self, epoch, logs=None):
                if self.progress.failure or self.steps_done < self.progress.steps:
                    return
                super().on_epoch_end(epoch, logs)
                if self.every_batches:
                    self._save_model()  # Keras saves every N batches then, not at epoch ends: each finished epoch too

            def _save_model(self):
                # Every save, at an epoch's end or every N batches, comes here (and only then: no
                # cost on the other batches). h5py meets a full disk with a crash (a segfault as it
                # cleans up), not an error: make sure the state fits before Keras starts writing it.
                if self._state_bytes is None:
                    self._state_bytes = state_bytes(self.model)
                check_free_space(Path(self.backup_dir), self._state_bytes, "the training state backup",
                                 reclaimed=files_bytes(Path(self.backup_dir)))  # overwritten in place
                super()._save_model()

        _BACKUP_CLASSES[key] = FinishedEpochBackup
    return _BACKUP_CLASSES[key]


def _event_callback(keras: Any) -> type:
    """The Callback subclass (defined lazily: keras.callbacks.Callback exists only after import)."""
    key = id(keras)
    if key not in _CALLBACK_CLASSES:

        class EventCallback(keras.callbacks.Callback):
            """Keras hooks -> kerastui events; also honours stop requests and catches NaN loss."""

            def __init__(self, trainer: Trainer, progress: _Progress, train_samples: int, validation_samples: int, batch_size: int):
                super().__init__()
                self.trainer = trainer
                self.progress = progress
                self.train_samples = train_samples
                self.validation_samples = validation_samples
                self.batch_size = batch_size
                self.replicas = 1
                self.workers = 1
                self.epoch = 0
                self.last_step = 0
                self.epoch_started = 0.0
                self.last_batch_event = 0.0

            def on_train_begin(self, logs=None):
                steps = (self.params or {}).get("steps") or self.progress.steps
                self.progress.steps = int(steps)
                self.started = False

            def on_epoch_begin(self, epoch, logs=None):
                if not self.started:
                    # Announced at the first epoch: a resumed fit (BackupAndRestore) starts later.
                    self.started = True
                    self.progress.epochs_done = int(epoch)
                    # Throttling counts from the start, so a long interval means one batch event per epoch.
                    self.last_batch_event = time.monotonic()
                    self.trainer.emit(
                        TrainingStarted(
                            epochs=self.progress.epochs,
                            steps_per_epoch=self.progress.steps,
                            train_samples=self.train_samples,
                            validation_samples=self.validation_samples,
                            batch_size=self.batch_size,
                            replicas=self.replicas,
                            workers=self.workers,
                            initial_epoch=int(epoch),
                        )
                    )
                self.epoch = int(epoch)
                self.last_step = 0
                self.epoch_started = time.monotonic()

            def on_train_batch_end(self, batch, logs=None):
                step = int(batch) + 1
                self.last_step = step
                metrics = floats(logs)
                loss = metrics.get("loss")
                if loss is not None and not math.isfinite(loss):
                    word = "NaN" if math.isnan(loss) else "infinite"
                    self.progress.failure = (
                        f"loss became {word} at epoch {self.epoch + 1}, batch {step}; try a lower learning rate"
                    )
                    self.model.stop_training = True
                    return
                now = time.monotonic()
                last_of_epoch = step >= self.progress.steps
                if last_of_epoch or now - self.last_batch_event >= self.trainer.batch_event_interval:
                    self.last_batch_event = now
                    self.trainer.emit(BatchEnded(self.epoch, step, self.progress.steps, metrics))
                # Checked after the listeners ran, so a stop they request (a UI key, say) applies now.
                if self.trainer.stop_event.is_set():
                    self.progress.stop_seen = True
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                # Keras calls this also for an epoch cut short by a stop or NaN; that one is not "done".
                if self.progress.failure or self.last_step < self.progress.steps:
                    return
                metrics = floats(logs)
                self.progress.epochs_done = int(epoch) + 1
                for key, value in metrics.items():
                    self.progress.history.setdefault(key, []).append(value)
                self.trainer.emit(
                    EpochEnded(int(epoch), self.progress.epochs, metrics, time.monotonic() - self.epoch_started)
                )

        _CALLBACK_CLASSES[key] = EventCallback
    return _CALLBACK_CLASSES[key]
