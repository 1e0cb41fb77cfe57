"""Sweeps whose trials are asked from their real Optuna study but trained by a script: each
trial's run directory gets the epochs it is given (no Keras), so the leaderboard, the runs list
and the workers' bookkeeping are tested in milliseconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from kerastui.core.events import EpochEnded, TrainingFinished, TrainingStarted, TrainingStopped
from kerastui.core.runs import RunWriter


def scripted_trial(values_for: Callable[[Any], list[float]], metric: str = "val_accuracy") -> Callable[..., Any]:
    """A stand-in for run_experiment: epochs whose `metric` is values_for(experiment), stopping
    after the batch a stop request lands on (a pruner's), like the real trainer."""

    def run_trial(experiment, dataset, *, run_dir, stop_event, listeners=(), **_: Any):
        writer = RunWriter.open(run_dir, experiment)
        values = values_for(experiment)
        hear = [writer, *listeners]
        try:
            for listener in hear:
                listener(TrainingStarted(epochs=len(values), steps_per_epoch=1, train_samples=8, validation_samples=2,
                                         batch_size=8))
            for epoch, value in enumerate(values):
                event = EpochEnded(epoch, len(values), {"loss": 1 - value, "val_loss": 1 - value, metric: value}, 0.01)
                for listener in hear:
                    listener(event)
                if stop_event.is_set():
                    final = TrainingStopped(epoch + 1, getattr(stop_event, "reason", "") or "stopped")
                    break
            else:
                final = TrainingFinished(len(values))
            for listener in hear:
                listener(final)
        finally:
            writer.close()
        return None

    return run_trial


def asked_trials(sweep_dir: Path, histories: list[list[float]], metric: str = "val_accuracy") -> list[Path]:
    """Ask the sweep's study for len(histories) trials and write each one's epochs (an empty
    history: the trial is left asked, its run directory prepared, as a worker leaves it before
    training); the finished ones are told to the study."""
    from kerastui.core.sweep_study import SweepStudy, ending_from_run

    handle = SweepStudy(sweep_dir)
    run_dirs = []
    for values in histories:
        asked = handle.next_trial()
        run_dirs.append(asked.run_dir)
        if not values:
            continue
        scripted_trial(lambda e, v=values: v, metric)(asked.experiment, None, run_dir=asked.run_dir,
                                                      stop_event=_never())
        ending, told, reason, epochs = ending_from_run(handle, asked.run_dir)
        handle.tell(asked.trial.study, asked.trial, ending, told, reason, epochs)
    return run_dirs


def _never():
    import threading

    return threading.Event()
