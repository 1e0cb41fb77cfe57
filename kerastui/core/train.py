"""Trainer: runs `model.fit` with kerastui's callbacks (kerastui.core.fit_callbacks) and says how it ended.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.events import (
    FinalEvent,
    Listener,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStopped,
)
from kerastui.core.fit_callbacks import (
    FitProgress,
    FitShape,
    StateSavedStop,
    backup_callback,
    event_callback,
    finished_epochs,
    nan_failure_callback,
    state_on_stop_callback,
)
from kerastui.core.spec import Experiment, SpecError
from kerastui.core.stop_request import StopRequest

__all__ = ["StopRequest", "TrainResult", "Trainer"]  # StopRequest: where callers have always found it

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    status: str  # "finished" | "stopped" | "failed"
    model: Any  # the keras.Model (None when building failed)
    history: dict[str, list[float]] = field(default_factory=dict)  # finished epochs only
    epochs_done: int = 0
    reason: str = ""
    saved_mid_epoch: tuple[int, int] | None = None  # (epoch, batches done) of a state saved mid-epoch
    # The data as prepared for the fit (a streamed set's NaN count and training statistics), which
    # the pipeline evaluates on and saves; None: the dataset given, unchanged.
    trained_on: Any = None


def split_sizes(samples: int, validation_split: float) -> tuple[int, int]:
    """(train, validation) sample counts exactly as Keras's validation_split cuts them (last part)."""
    if validation_split <= 0:
        return samples, 0
    train = int(math.floor(samples * (1.0 - validation_split)))
    return train, samples - train


class Trainer:
    """Trains one experiment on one dataset, reporting progress as events to listeners."""

    def __init__(
        self,
        experiment: Experiment,
        dataset: Any,
        listeners: Iterable[Listener] = (),
        batch_event_interval: float = 0.0,
        stop_event: StopRequest | None = None,
        backup_dir: Path | None = None,
    ):
        # backup_dir: the training state (weights, optimizer, epoch) is saved there after every
        # finished epoch, and a run started again with the same directory continues from it.
        self.backup_dir = Path(backup_dir) if backup_dir is not None else None
        self.experiment = experiment
        self.dataset = dataset
        self.batch_event_interval = max(0.0, float(batch_event_interval))
        self.stop_event = stop_event if stop_event is not None else StopRequest()
        self._listeners: list[Listener] = list(listeners)
        self._lock = threading.Lock()
        self._broken_listeners: set[int] = set()
        self._model: Any = None
        self._progress: FitProgress | None = None
        self._history: Any = None  # Keras's History of this fit
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
        self._progress: FitProgress | None = None
        self._history = None
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
            # The request says who stopped it (Ctrl+C, Slurm's SIGTERM); a plain set() is the user.
            reason = self.stop_event.reason or "stopped by user"
            return self._finish(TrainingStopped(done, reason), "stopped")
        if early is not None and early.stopped_epoch > 0:
            return self._finish(TrainingFinished(done, f"early stopping at epoch {early.stopped_epoch + 1}"), "finished")
        return self._finish(TrainingFinished(done), "finished")

    def _epochs_done(self) -> int:
        return self._progress.epochs_done if self._progress else 0

    def _finish(self, event: FinalEvent, status: str) -> TrainResult:
        self.emit(event)
        history = finished_epochs(self._history, self._epochs_done()) if self._history is not None else {}
        self.result = TrainResult(status, self._model, history, self._epochs_done(), event.reason,
                                  self._progress.saved_mid_epoch if self._progress else None,
                                  trained_on=self.dataset)
        return self.result

    def _fit(self):
        from kerastui.core.backend import import_keras
        from kerastui.core.build import build_model, output_problem
        from kerastui.core.distribute import (
            global_batch_size,
            multiworker_patches,
            replicas,
            workers,
        )

        from kerastui.core.tasks import metric_direction
        from kerastui.core.tasks.targets import class_weights, checked_targets

        from kerastui.core.datasets.keyed_arrays import is_streamed, prepare_dataset

        experiment = self.experiment
        # A streamed set's NaN count and training statistics come from one pass over the file,
        # here where the model trains; the pipeline saves them with the run (preprocessing.json).
        data = self.dataset = prepare_dataset(self.dataset.for_task(experiment.task))
        fit = experiment.fit
        # The CLI and the app checked already; this is the net.
        problems = experiment.problems(tuple(data.input_shape), int(data.num_classes), data.task,
                                       data.vocabulary_size)
        if problems:
            raise SpecError(problems)  # a ValueError, its message bounded
        task = experiment.task_for(data.task)
        x = data.x_train
        y = checked_targets(task, experiment.compile.loss, data.y_train, int(data.num_classes), "y_train")
        weights = class_weights(fit.class_weight, data.y_train, task)
        keras = import_keras(experiment.backend)
        model = self._model = build_model(experiment, tuple(data.input_shape), int(data.num_classes), data.task,
                                          target_units=task.target_units(y))
        problem = output_problem(tuple(model.output_shape), int(data.num_classes), task)
        if problem:
            raise ValueError(problem)

        batch_size = global_batch_size(experiment)
        if is_streamed(data):
            inputs = streamed_fit_inputs(data.x_train, y, weights, batch_size, fit.validation_split, experiment.seed)
            train_samples, validation_samples = inputs.pop("train_samples"), inputs.pop("validation_samples")
        else:
            inputs = dict(x=x, y=y, batch_size=batch_size, validation_split=fit.validation_split, shuffle=True,
                          class_weight=weights)  # shuffled with the seed keras.utils.set_random_seed set
            train_samples, validation_samples = split_sizes(len(x), fit.validation_split)
        progress = self._progress = FitProgress(epochs=fit.epochs, steps=max(1, math.ceil(train_samples / batch_size)))
        shape = FitShape(train_samples, validation_samples, batch_size, replicas(experiment), workers(experiment))
        self._history = keras.callbacks.History()
        # In this order: the NaN check first, so nothing else acts on a bad batch; the backup
        # before the events, so the state is on disk before an epoch's event says it is done (a
        # run killed in between repeats no epoch when resumed).
        callbacks = [nan_failure_callback(keras, progress)]
        backup = None
        if self.backup_dir is not None:
            backup = backup_callback(keras, self.backup_dir, progress, fit.backup_every_batches)
            callbacks.append(backup)
        callbacks.append(event_callback(keras, self.emit, progress, shape, self.stop_event, self.batch_event_interval))
        if backup is not None:  # after the events, which decide the stop: then the state is saved at once
            callbacks.append(state_on_stop_callback(keras, backup, progress, self.stop_event))
        callbacks.append(self._history)
        early = None
        if fit.early_stopping_patience > 0:
            early = keras.callbacks.EarlyStopping(
                monitor=fit.monitor, patience=fit.early_stopping_patience, restore_best_weights=True,
                mode=metric_direction(fit.monitor),
            )
            callbacks.append(early)
        with multiworker_patches(experiment):
            try:
                model.fit(**inputs, epochs=fit.epochs, callbacks=callbacks, verbose=0)
            except StateSavedStop:
                pass  # a stop that saved the state mid-epoch: run() ends it as stopped (stop_seen)
        return early


def streamed_fit_inputs(x: Any, y: Any, weights: Any, batch_size: int, validation_split: float,
                        seed: int) -> dict[str, Any]:
    """fit's data arguments for a streamed training split: batch loaders over its training and
    validation positions (Keras's validation_split only cuts arrays in memory). A source that
    brings its own validation rows (an image folder's val/) gives them instead of a share."""
    from kerastui.core.batches import streamed_batches, validation_positions

    given = x.source.validation_positions
    if given is not None:
        validation = np.asarray(given, dtype=np.int64)
        train = np.setdiff1d(np.arange(len(x)), validation)
    else:
        train, validation = validation_positions(len(x), validation_split, seed)
    inputs: dict[str, Any] = {
        "x": streamed_batches(x, y, train, batch_size, shuffle=True, seed=seed),
        "class_weight": weights,
        "train_samples": len(train),
        "validation_samples": len(validation),
    }
    if len(validation):
        inputs["validation_data"] = streamed_batches(x, y, validation, batch_size)
    return inputs


def error_text(error: BaseException, limit: int = 400) -> str:
    """One readable line from an exception (TensorFlow errors can carry whole graph dumps)."""
    from kerastui.core.build import plain_error_text

    text = plain_error_text(error) if str(error) else type(error).__name__
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
