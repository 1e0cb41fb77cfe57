"""Real run directories written with RunWriter from scripted events (no training), for UI tests."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

from fakes import FakeRunExperiment, scripted_epoch_metrics, tiny_experiment

from kerastui.core.events import (
    BatchEnded,
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    event_to_dict,
)
from kerastui.core.runs import METRICS_FILE, RunWriter


def epoch_metrics(epoch: int, shift: float = 0.0) -> dict[str, float]:
    """scripted_epoch_metrics moved by `shift` so runs differ."""
    return {name: round(value + (shift if "acc" in name else -shift), 6) for name, value in scripted_epoch_metrics(epoch).items()}


def scripted_events(epochs: int, shift: float = 0.0, final: str = "finished", steps: int = 3) -> list:
    events: list = [TrainingStarted(epochs=epochs, steps_per_epoch=steps, train_samples=96, validation_samples=24, batch_size=32)]
    for epoch in range(epochs):
        for step in range(1, steps + 1):
            events.append(BatchEnded(epoch=epoch, step=step, steps=steps, metrics={"loss": 1.0 / (epoch + step), "accuracy": 0.5}))
        if final == "failed" and epoch == epochs - 1:
            events.append(TrainingFailed(epochs_done=epoch, reason=f"loss became NaN at epoch {epoch + 1} batch {steps}"))
            return events
        events.append(EpochEnded(epoch=epoch, epochs=epochs, metrics=epoch_metrics(epoch, shift), seconds=0.5))
    events.append(TrainingFinished(epochs_done=epochs))
    return events


def make_run(
    root: Path,
    name: str,
    *,
    epochs: int = 3,
    shift: float = 0.0,
    final: str = "finished",
    dataset=None,
    experiment=None,
    job_id: str | None = None,
    **experiment_changes,
) -> Path:
    """A complete run directory; with `dataset`, an evaluation.json from made-up predictions."""
    experiment = experiment or tiny_experiment(epochs=epochs)
    if experiment_changes:
        experiment = replace(experiment, **experiment_changes)
    writer = RunWriter.create(experiment, root=root, name=name)
    if job_id:
        writer.update_info(slurm_job_id=job_id)
    for event in scripted_events(epochs, shift, final):
        writer(event)
    if dataset is not None and final != "failed":
        fake = FakeRunExperiment(accuracy=0.7 + shift, seed=int(shift * 100))
        writer.save_evaluation(fake.evaluation(dataset))
    writer.close()
    return writer.path


# A validation metric per task and a plausible trajectory of it (the best is not the last epoch).
TASK_VAL_METRICS = {"binary": "val_auc", "multilabel": "val_auc", "regression": "val_mae", "multiclass": "val_accuracy"}


def make_task_run(root: Path, name: str, task: str, values: list[float], *, seed: int = 0, noise: float = 0.6) -> Path:
    """A finished run of `task` (binary, multilabel, regression, multiclass) whose history logs the
    task's validation metric as `values` per epoch, with a real evaluation of made-up test scores
    (the task's own evaluate, so evaluation.json is what training writes). No training."""
    import numpy as np

    from kerastui.core.spec import Experiment, fit_to_task
    from kerastui.core.tasks import TASKS, evaluate_with

    rng = np.random.default_rng(seed)
    outputs = {"binary": 2, "multilabel": 3, "regression": 1, "multiclass": 3}[task]
    experiment = fit_to_task(replace(Experiment(), name=name, task=task, dataset="digits"), outputs, task)
    writer = RunWriter.create(experiment, root=root, name=name)
    writer(TrainingStarted(epochs=len(values), steps_per_epoch=1, train_samples=40, validation_samples=10, batch_size=8))
    metric = TASK_VAL_METRICS[task]
    for epoch, value in enumerate(values):
        metrics = {"loss": 1.0 / (epoch + 1), "val_loss": 1.2 / (epoch + 1), metric: value, metric[4:]: value}
        writer(EpochEnded(epoch=epoch, epochs=len(values), metrics=metrics, seconds=0.1))
    writer(TrainingFinished(epochs_done=len(values)))
    n = 40
    if task == "binary":
        y = np.array([0, 1] * (n // 2))
        scores, names = np.clip(y * (1 - noise) + rng.random(n) * noise, 0, 1), ("no", "yes")
    elif task == "multilabel":
        y = rng.integers(0, 2, size=(n, 3))
        scores, names = np.clip(y * (1 - noise) + rng.random((n, 3)) * noise, 0, 1), ("a", "b", "c")
    elif task == "regression":
        y = rng.normal(size=(n, 1)).astype("float32")
        scores, names = y + rng.normal(0, noise, size=y.shape), ("price",)
    else:
        y = rng.integers(0, 3, size=n)
        scores = np.eye(3)[y] * (1 - noise) + rng.random((n, 3)) * noise
        scores, names = scores / scores.sum(axis=1, keepdims=True), ("x", "y", "z")
    writer.save_evaluation(evaluate_with(TASKS[task], y, scores, names, 0.25))
    writer.close()
    return writer.path


class SlowWriter(threading.Thread):
    """Appends a run's events to metrics.jsonl like another process: a few at a time, each line in
    two writes (so a reader sees a partial last line), then finishes the run dir."""

    def __init__(self, run_dir: Path, events: list, *, delay: float = 0.02, dataset=None, start_after: float = 0.0,
                 hold: threading.Event | None = None, hold_after: int | None = None):
        super().__init__(daemon=True)
        self.run_dir, self.events, self.delay, self.dataset = Path(run_dir), events, delay, dataset
        self.start_after = start_after
        self.hold, self.hold_after = hold, hold_after
        self.partial_lines_seen = 0

    def run(self) -> None:
        time.sleep(self.start_after)
        writer = RunWriter(self.run_dir)
        with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as handle:
            for index, event in enumerate(self.events):
                if self.hold is not None and index == self.hold_after:
                    self.hold.wait(30)
                line = json.dumps(event_to_dict(event)) + "\n"
                half = len(line) // 2
                handle.write(line[:half])
                handle.flush()
                os.fsync(handle.fileno())
                self.partial_lines_seen += 1
                time.sleep(self.delay)
                handle.write(line[half:])
                handle.flush()
        final = self.events[-1]
        if isinstance(final, TrainingFinished):
            writer.set_status("finished")
            if self.dataset is not None:
                writer.save_evaluation(FakeRunExperiment(accuracy=0.8).evaluation(self.dataset))
        elif isinstance(final, TrainingFailed):
            writer.set_status("failed")


def make_regression_sweep(root: Path, maes: list[list[float]]) -> Path:
    """A grid sweep of a regression experiment over three learning rates whose first trials, asked
    from its study, logged these val_mae per epoch (each finished with a regression evaluation);
    the rest stay asked, their run directories prepared."""
    import numpy as np
    from sweep_trials import asked_trials

    from kerastui.core.spec import Experiment, fit_to_task
    from kerastui.core.sweep import sweep_from_table
    from kerastui.core.sweep_runs import create_sweep_dir
    from kerastui.core.tasks import TASKS, evaluate_with

    base = fit_to_task(replace(Experiment(), name="mae-sweep", task="regression", dataset="diabetes"), 1, "regression")
    sweep, problems = sweep_from_table({"method": "grid", "parameters": {"compile.learning_rate": [0.1, 0.01, 0.001]}}, base)
    assert not problems, problems
    sweep_dir = create_sweep_dir(base, sweep, root)
    histories = [*maes, *([[]] * (sweep.size - len(maes)))]
    rng = np.random.default_rng(0)
    for run_dir, values in zip(asked_trials(sweep_dir, histories, metric="val_mae"), maes):
        y = rng.normal(size=(30, 1))
        RunWriter(run_dir).save_evaluation(evaluate_with(TASKS["regression"], y, y + rng.normal(0, values[-1] / 4, y.shape),
                                                         ("target",), 0.5))
    return sweep_dir
