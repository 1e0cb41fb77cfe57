"""The one code path from an experiment to a finished run directory, used by the CLI and the TUI.

Because both call `run_experiment`, every run directory looks the same whoever made it:
config.toml, metrics.jsonl, status, info.json, then model.keras and evaluation.json.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from kerastui.core.distribute import multiworker_patches
from kerastui.core.events import (
    Listener,
    TrainingFailed,
    TrainingFinished,
    TrainingStopped,
    final_status,
)
from kerastui.core.resources import ResourceSampler, read_resources
from kerastui.core.runs import (
    BACKUP_DIR,
    EVALUATION_FILE,
    MODEL_FILE,
    REQUEUED,
    RunWriter,
    default_runs_root,
)
from kerastui.core.stop_request import StopRequest

if TYPE_CHECKING:
    from kerastui.core.data import Dataset
    from kerastui.core.evaluate import Evaluation
    from kerastui.core.spec import Experiment
    from kerastui.core.train import TrainResult


@dataclass
class RunOutcome:
    run_dir: Path
    status: str  # "finished" | "stopped" | "failed"
    result: TrainResult | None
    evaluation: Evaluation | None
    reason: str = ""
    # False when even the status file could not be written (a full disk, the directory removed):
    # the directory still says what it said before, so the caller must say what really happened.
    recorded: bool = True
    write_failed: bool = False  # it failed because a file could not be written (full disk, ...)
    resources: dict = field(default_factory=dict)  # what it used (kerastui.core.resources' summary)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl+C arrived mid-run; the run was marked stopped and its finished epochs kept.

    A KeyboardInterrupt (so it still unwinds like one) that says where the run is and whether
    the model trained so far was saved (None: there was none to save).
    """

    def __init__(self, run_dir: Path, epochs_done: int, model_saved: bool | None = None, note: str = ""):
        super().__init__(f"interrupted after {epochs_done} epoch(s); run kept in {run_dir}")
        self.run_dir = run_dir
        self.epochs_done = epochs_done
        self.model_saved = model_saved
        self.note = note  # why the model was not saved


class Training(Protocol):
    """What the pipeline asks of a trainer (kerastui.core.train.Trainer, or a test's scripted one)."""

    model: Any  # the model being trained; None until built

    def run(self) -> TrainResult: ...


class RunNotCreated(RuntimeError):
    """The run directory could not be made or claimed for writing (a read-only or full disk)."""


def run_experiment(
    experiment: Experiment,
    dataset: Dataset,
    *,
    runs_root: Path | None = None,
    listeners: Iterable[Listener] = (),
    stop_event: StopRequest | None = None,
    batch_event_interval: float = 0.1,
    trainer_factory: Callable[..., Training] | None = None,
    run_name: str | None = None,
    run_dir: Path | None = None,
    evaluator: Callable[[Any, Dataset], Evaluation] | None = None,
    resume: bool = False,
) -> RunOutcome:
    """Train `experiment` on `dataset` into a new run directory, then save and evaluate the model.

    trainer_factory defaults to kerastui.core.train.Trainer and evaluator to
    kerastui.core.evaluate.evaluate_model (resolved here so importing this module stays light).
    run_dir writes into an existing directory (one prepared by `kerastui submit`) instead of
    creating `<runs_root>/<time>-<name>`. The RunWriter hears every event first, then `listeners`.

    The trainer's final event is held back until the model and its evaluation are on disk, so
    nobody (the console, a follower) hears "finished" for a run whose model was not saved. A
    write that fails (full disk, read-only, the directory removed) stops the training and ends
    the run as failed, with the file and the reason. Ctrl+C marks the run stopped, keeps the
    finished epochs and the model, and re-raises as RunInterrupted.
    """
    if trainer_factory is None:
        from kerastui.core.train import Trainer as trainer_factory
    if evaluator is None:
        from kerastui.core.evaluate import evaluate_model as evaluator

    writer = _claim_run_dir(experiment, runs_root, run_name, run_dir, resume)
    sampler = ResourceSampler(writer.path).start()  # CPU, memory, GPUs beside the curves
    stop = stop_event if stop_event is not None else StopRequest()
    writer.on_write_error = lambda reason: stop.set()  # nothing more it trained could be kept
    held = _HeldFinal()
    trainer: Training | None = None
    try:
        try:
            trainer = trainer_factory(
                experiment,
                dataset,
                listeners=[held.wrap(writer), *(held.wrap(listener) for listener in listeners)],
                batch_event_interval=batch_event_interval,
                stop_event=stop,
                backup_dir=writer.path / BACKUP_DIR,
            )
            result = trainer.run()
        except KeyboardInterrupt:
            raise _record_interrupt(writer, trainer, held.event, listeners) from None
        except Exception as error:  # the trainer should report failures itself; this is the net
            reason = f"{type(error).__name__}: {error}"
            _emit(TrainingFailed(epochs_done=writer.epochs_done, reason=reason), writer, listeners)
            return RunOutcome(writer.path, "failed", None, None, reason, recorded=writer.status_recorded)
        try:
            if result.status == "stopped" and stop.requeue:
                return _requeued(writer, result, held.event, listeners, sampler, stop)
            # The trainer's dataset is the prepared one (a streamed set's training statistics).
            trained_on = result.trained_on if result.trained_on is not None else dataset
            with multiworker_patches(experiment):  # the evaluation steps meet the same Keras bug
                return _settle(writer, result, held.event, trained_on, evaluator, listeners, sampler)
        except KeyboardInterrupt:  # a second Ctrl+C while saving or evaluating
            raise _record_interrupt(writer, trainer, held.event, listeners) from None
    finally:
        sampler.stop()
        writer.close()


def _claim_run_dir(experiment: Experiment, runs_root: Path | None, run_name: str | None,
                   run_dir: Path | None, resume: bool) -> RunWriter:
    """The run's writer, holding its directory; RunClaimError (held, ended, edited) or RunNotCreated."""
    try:
        if resume and run_dir is not None:
            return RunWriter.resume(run_dir)
        if run_dir is not None:
            return RunWriter.open(run_dir, experiment)
        writer = RunWriter.create(experiment, runs_root, run_name)
        writer.claim()
        return writer
    except OSError as error:
        where = run_dir if run_dir is not None else (runs_root if runs_root is not None else default_runs_root())
        raise RunNotCreated(f"cannot write the run in {where}: {error.strerror or error}") from error


def _settle(writer: RunWriter, result: TrainResult, final: Any, dataset: Any,
            evaluator: Callable[[Any, Any], Evaluation], listeners: Iterable[Listener],
            sampler: ResourceSampler) -> RunOutcome:
    """After training: save the model and its evaluation, then say how the run ended."""
    status, reason = result.status, result.reason
    sampler.stop()  # what it used, summed up in info.json (seff's figures) before the run ends
    summary = read_resources(writer.path).summary()
    keras = sys.modules.get("keras")
    if keras is not None and not writer.write_error:  # the backend that really trained (a launcher's child, a Slurm job)
        writer.record_info(keras_backend=str(keras.backend.backend()))
    evaluation = None
    notes: list[str] = []
    if not writer.write_error:
        _record_data_preparation(writer, dataset)
    if not writer.write_error and status in ("finished", "stopped") and result.model is not None:
        try:
            writer.save_model(result.model)
        except OSError as error:
            writer.failed_write(writer.path / MODEL_FILE, error)
        except Exception as error:  # Keras could not serialise it: the run's model is lost
            writer.fail(f"the model could not be saved: {type(error).__name__}: {error}")
        if not writer.write_error:
            evaluation, note = _evaluate(writer, result.model, dataset, evaluator)
            notes.extend(note)
    if writer.write_error:
        status, reason, evaluation = "failed", writer.write_error, None
        final = TrainingFailed(epochs_done=writer.epochs_done, reason=reason)
    elif final is None:  # a trainer that returned without a final event would leave followers waiting
        final = _final_event(status, result.epochs_done, reason)
    if not writer.write_error:
        writer.record_info(resources=summary)
    if notes:
        try:
            writer.update_info(notes=notes)
        except OSError:
            pass  # the notes are in the outcome's reason, printed on the console
        reason = "; ".join([reason, *notes]) if reason else "; ".join(notes)
    _emit(final, writer, listeners)
    if status == "finished" and not writer.write_error:
        shutil.rmtree(writer.path / BACKUP_DIR, ignore_errors=True)  # nothing left to resume
    if writer.write_error and status != "failed":
        status, reason = "failed", writer.write_error  # the final event itself could not be recorded
    return RunOutcome(writer.path, status, result, evaluation, reason, recorded=writer.status_recorded,
                      write_failed=bool(writer.write_error), resources=summary)


def _record_data_preparation(writer: RunWriter, dataset: Any) -> None:
    """A streamed set's preprocessing (axes, scale, the training split's statistics), which
    evaluation, export and a submission apply again, saved beside the model."""
    from kerastui.core.datasets.keyed_arrays import dataset_preprocessing
    from kerastui.core.datasets.streamed import PREPROCESSING_FILE, save_preprocessing

    from kerastui.core.datasets.image_folder import write_skipped

    try:
        write_skipped(writer.path, dataset)  # corrupt images, counted and listed, never a crash
    except OSError as error:
        writer.failed_write(writer.path / "skipped_images.txt", error)
    preprocessing = dataset_preprocessing(dataset)
    if preprocessing is None:
        return
    try:
        save_preprocessing(writer.path, preprocessing)
    except OSError as error:
        writer.failed_write(writer.path / PREPROCESSING_FILE, error)


def _requeued(writer: RunWriter, result: TrainResult, final: Any, listeners: Iterable[Listener],
              sampler: ResourceSampler, stop: StopRequest) -> RunOutcome:
    """Slurm's time-limit warning: the training state (saved each epoch) is all that is kept, no
    model or evaluation (the time left is short), and the run says requeued, not stopped."""
    sampler.stop()
    # Written with the final event: no follower sees "stopped" first. A preempted job that
    # cannot be requeued ends interrupted (resumable, its state saved) instead.
    writer.end_status = stop.end_status or REQUEUED
    final = final or _final_event("stopped", result.epochs_done, result.reason)
    _emit(final, writer, listeners)
    status = "failed" if writer.write_error else writer.end_status
    return RunOutcome(writer.path, status, result, None, writer.write_error or result.reason,
                      recorded=writer.status_recorded, write_failed=bool(writer.write_error))


def _evaluate(writer: RunWriter, model: Any, dataset: Any,
              evaluator: Callable[[Any, Any], Evaluation]) -> tuple[Evaluation | None, list[str]]:
    """The evaluation, saved; a failure to compute one is a note (the model is kept), a failure
    to save it is a failed write."""
    try:
        evaluation = evaluator(model, dataset)
    except Exception as error:
        return None, [f"evaluation failed: {type(error).__name__}: {error}"]
    try:
        writer.save_evaluation(evaluation)
    except OSError as error:
        writer.failed_write(writer.path / EVALUATION_FILE, error)
        return None, []
    return evaluation, []


class _HeldFinal:
    """Passes the trainer's events on, except its final one, which the pipeline sends itself
    once the model is saved (or replaces, when saving failed)."""

    def __init__(self) -> None:
        self.event: Any = None

    def wrap(self, listener: Listener) -> Listener:
        def deliver(event: Any) -> None:
            if final_status(event) is not None:
                self.event = event
                return
            listener(event)

        return deliver


def _emit(event: Any, writer: RunWriter, listeners: Iterable[Listener]) -> None:
    for listener in (writer, *listeners):
        try:
            listener(event)
        except Exception:
            pass  # a broken display must not stop the run being recorded


def _final_event(status: str, epochs_done: int, reason: str) -> Any:
    if status == "finished":
        return TrainingFinished(epochs_done=epochs_done, reason=reason or "completed")
    if status == "stopped":
        return TrainingStopped(epochs_done=epochs_done, reason=reason or "stopped by user")
    return TrainingFailed(epochs_done=epochs_done, reason=reason or "failed")


def _record_interrupt(writer: RunWriter, trainer: Training | None, final: Any,
                      listeners: Iterable[Listener]) -> RunInterrupted:
    """Mark the run stopped and keep what was trained, quickly: the user wants out. Returns the
    RunInterrupted to raise, saying whether the model was saved."""
    model = trainer.model if trainer is not None else None
    saved, note = None, ""
    if model is not None and writer.epochs_done > 0 and not writer.write_error:
        try:
            writer.save_model(model)
            saved = True
        except BaseException as error:  # a third Ctrl+C as well: say so, never pretend it was kept
            saved, note = False, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            try:
                writer.update_info(notes=[f"model not saved after interrupt: {note}"])
            except OSError:
                pass
    elif writer.write_error:
        saved, note = False, writer.write_error
    if writer.final_event is None:
        event = final if final is not None else TrainingStopped(epochs_done=writer.epochs_done, reason="interrupted (Ctrl+C)")
        _emit(event, writer, listeners)
    return RunInterrupted(writer.path, writer.epochs_done, saved, note)
