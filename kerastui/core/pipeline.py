"""The one code path from an experiment to a finished run directory, used by the CLI and the TUI.

Because both call `run_experiment`, every run directory looks the same whoever made it:
config.toml, metrics.jsonl, status, info.json, then model.keras and evaluation.json.
"""

from __future__ import annotations

import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from kerastui.core.events import Listener, TrainingFailed, TrainingFinished, TrainingStopped
from kerastui.core.runs import BACKUP_DIR, RunWriter

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


class RunInterrupted(KeyboardInterrupt):
    """Ctrl+C arrived mid-run; the run was marked stopped and its finished epochs kept.

    A KeyboardInterrupt (so it still unwinds like one) that says where the run is.
    """

    def __init__(self, run_dir: Path, epochs_done: int):
        super().__init__(f"interrupted after {epochs_done} epoch(s); run kept in {run_dir}")
        self.run_dir = run_dir
        self.epochs_done = epochs_done


def run_experiment(
    experiment: Experiment,
    dataset: Dataset,
    *,
    runs_root: Path | None = None,
    listeners: Iterable[Listener] = (),
    stop_event: threading.Event | None = None,
    batch_event_interval: float = 0.1,
    trainer_factory: Callable[..., Any] | None = None,
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
    Ctrl+C marks the run stopped, keeps the finished epochs and the model, and re-raises as
    RunInterrupted.
    """
    if trainer_factory is None:
        from kerastui.core.train import Trainer as trainer_factory
    if evaluator is None:
        from kerastui.core.evaluate import evaluate_model as evaluator

    if resume and run_dir is not None:
        writer = RunWriter.resume(run_dir)  # RunClaimError: finished, edited, nothing saved, held
    elif run_dir is not None:
        writer = RunWriter.open(run_dir, experiment)  # claims it: RunClaimError for a second writer
    else:
        writer = RunWriter.create(experiment, runs_root, run_name)
        writer.claim()
    trainer = None
    try:
        try:
            trainer = trainer_factory(
                experiment,
                dataset,
                listeners=[writer, *listeners],
                batch_event_interval=batch_event_interval,
                stop_event=stop_event,
                backup_dir=writer.path / BACKUP_DIR,
            )
            result = trainer.run()
        except KeyboardInterrupt:
            _record_interrupt(writer, trainer, listeners)
            raise RunInterrupted(writer.path, writer.epochs_done) from None
        except Exception as error:  # the trainer should report failures itself; this is the net
            reason = f"{type(error).__name__}: {error}"
            _emit(TrainingFailed(epochs_done=writer.epochs_done, reason=reason), writer, listeners)
            return RunOutcome(writer.path, "failed", None, None, reason)

        status, reason = result.status, result.reason
        keras = sys.modules.get("keras")
        if keras is not None:  # the backend that really trained (a launcher's child, a Slurm job)
            writer.update_info(keras_backend=str(keras.backend.backend()))
        if writer.final_event is None:
            # A trainer that returned without a final event would leave followers waiting.
            _emit(_final_event(status, result.epochs_done, reason), writer, listeners)

        if status == "finished":
            shutil.rmtree(writer.path / BACKUP_DIR, ignore_errors=True)  # nothing left to resume
        evaluation = None
        notes: list[str] = []
        if status in ("finished", "stopped") and result.model is not None:
            try:
                writer.save_model(result.model)
            except Exception as error:
                notes.append(f"model not saved: {error}")
            try:
                evaluation = evaluator(result.model, dataset)
                writer.save_evaluation(evaluation)
            except Exception as error:
                evaluation = None
                notes.append(f"evaluation failed: {type(error).__name__}: {error}")
        if notes:
            writer.update_info(notes=notes)
            reason = "; ".join([reason, *notes]) if reason else "; ".join(notes)
        return RunOutcome(writer.path, status, result, evaluation, reason)
    finally:
        writer.close()


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


def _record_interrupt(writer: RunWriter, trainer: Any, listeners: Iterable[Listener]) -> None:
    """Mark the run stopped and keep what was trained, quickly: the user wants out."""
    if writer.final_event is None:
        _emit(TrainingStopped(epochs_done=writer.epochs_done, reason="interrupted (Ctrl+C)"), writer, listeners)
    writer.set_status("stopped")
    model = getattr(trainer, "model", None)
    if model is not None and writer.epochs_done > 0:
        try:
            writer.save_model(model)
        except Exception:
            writer.update_info(notes=["model not saved after interrupt"])
