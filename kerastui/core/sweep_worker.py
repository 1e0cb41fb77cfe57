"""One sweep worker: ask the study for its next trial, train it as an ordinary run directory (each
epoch's objective reported to the study, whose pruner may stop it), tell the study how it ended;
again, until the budget is met.

Local workers (`kerastui sweep --parallel N` starts N) and every task of a Slurm job array run
this same loop, each in a process of its own (`kerastui sweep --worker SWEEP_DIR`): the UI never
trains, and Keras is imported once per worker rather than once per trial. Pruning compares the
trial with the others through the shared study, so it works across workers and nodes alike.
"""

from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from kerastui.core.events import EpochEnded, TrainingFailed
from kerastui.core.runs import RunWriter, load_run, read_info
from kerastui.core.sweep import PARAM_COUNT, Sweep
from kerastui.core.sweep_study import (
    PRUNED_REASON,
    AskedTrial,
    SweepStudy,
    ending_from_run,
)
from kerastui.core.stop_request import StopRequest


@dataclass(frozen=True)
class TrialEnded:
    """What a worker says about each trial it ran (a line of `kerastui sweep`'s output)."""

    number: int
    run_dir: Path
    ending: str  # finished, pruned, failed or killed (sweep_study's words)
    values: tuple[float | None, ...] = ()
    reason: str = ""
    epochs: int = 0
    planned: int = 0
    params: dict[str, Any] = field(default_factory=dict)


class PruningReporter:
    """A training Listener: after each epoch, the best objective so far is reported to the trial
    (its step: the epochs done) and the study's pruner is asked whether to stop; when it says so,
    the run stops after its batch and says it was pruned (its status: stopped, not failed)."""

    def __init__(self, trial: Any, sweep: Sweep, stop: StopRequest):
        self.trial = trial
        self.sweep = sweep
        self.stop = stop
        self.values: list[float] = []
        self.reason = ""
        # Several objectives have no pruning (Optuna's trial.report takes one value); the model's
        # size does not change while it trains.
        self.reports = not sweep.several and sweep.objective != PARAM_COUNT

    def __call__(self, event: Any) -> None:
        if not self.reports or not isinstance(event, EpochEnded) or self.reason:
            return
        value = event.metrics.get(self.sweep.objective)
        if value is None or not math.isfinite(float(value)):
            return
        self.values.append(float(value))
        best = self.sweep.best(self.values)
        done = event.epoch + 1
        self.trial.report(best, done)
        if done >= event.epochs or self.sweep.pruner.type == "none":
            return  # the last epoch: pruning would save nothing
        if self.trial.should_prune():
            self.reason = (f"{PRUNED_REASON} ({self.sweep.pruner.type}): best {self.sweep.objective} {best:.4f} "
                           f"after {done} of {event.epochs} epochs")
            self.stop.request(self.reason)


RunTrial = Callable[..., Any]  # run_experiment's signature (the tests give a scripted one)


class SweepWorker:
    """The loop, with a stop that reaches the trial training now (a signal's handler calls
    `stop_all`): that trial stops after its batch and is tried again by a later worker."""

    def __init__(self, sweep_dir: Path, storage: str | None = None, run_trial: RunTrial | None = None,
                 listeners: Iterable[Any] = (), on_trial: Callable[[TrialEnded], None] | None = None):
        self.handle = SweepStudy(sweep_dir, storage)
        self.run_trial = run_trial
        self.listeners = list(listeners)
        self.on_trial = on_trial
        self.stopping = ""
        self._current: StopRequest | None = None
        self._datasets: dict[str, Any] = {}
        self.ended: list[TrialEnded] = []

    def stop_all(self, reason: str) -> None:
        self.stopping = reason or "the sweep worker was asked to stop"
        current = self._current
        if current is not None:
            current.request(self.stopping)

    def run(self) -> list[TrialEnded]:
        """Trials until the budget is met (or a stop); what each of them did."""
        while not self.stopping:
            asked = self.handle.next_trial(launcher="sweep", worker_pid=os.getpid(), worker_host=socket.gethostname())
            if asked is None:
                break
            ended = self.train(asked)
            self.ended.append(ended)
            if self.on_trial is not None:
                self.on_trial(ended)
        return self.ended

    def train(self, asked: AskedTrial) -> TrialEnded:
        stop = self._current = StopRequest()
        if self.stopping:  # asked just before a stop arrived
            stop.request(self.stopping)
        reporter = PruningReporter(asked.trial, self.handle.sweep, stop)
        try:
            self._train(asked, stop, reporter)
        finally:
            self._current = None
        _release_memory()
        study = asked.trial.study
        ending, values, reason, epochs = ending_from_run(self.handle, asked.run_dir)
        self.handle.tell_locked(study, asked.trial, ending, values, reason, epochs)
        return TrialEnded(asked.trial.number, asked.run_dir, ending, tuple(values or ()), reason, epochs,
                          asked.experiment.fit.epochs, dict(asked.params))

    def _train(self, asked: AskedTrial, stop: StopRequest, reporter: PruningReporter) -> None:
        run_trial = self.run_trial
        if run_trial is None:
            from kerastui.core.pipeline import run_experiment as run_trial
        try:
            dataset = self._dataset(asked.experiment)
        except Exception as error:  # noqa: BLE001 - data a trial cannot load is that trial's failure
            _record_failure(asked, f"its data could not be loaded: {type(error).__name__}: {error}")
            return
        from kerastui.core.tasks.targets import experiment_target_problems

        if problems := experiment_target_problems(asked.experiment, dataset):
            _record_failure(asked, "; ".join(str(p) for p in problems))
            return
        outcome = run_trial(asked.experiment, dataset, run_dir=asked.run_dir, stop_event=stop,
                            listeners=[reporter, *self.listeners])
        model = getattr(getattr(outcome, "result", None), "model", None)
        if model is not None and hasattr(model, "count_params"):
            # The model's size: an objective of its own (param_count), for a Pareto front.
            RunWriter(asked.run_dir).update_info(param_count=int(model.count_params()))

    def _dataset(self, experiment: Any) -> Any:
        from kerastui.core.data import experiment_dataset

        key = repr((experiment.dataset, experiment.seed, experiment.task, experiment.data))
        if key not in self._datasets:
            self._datasets = {key: experiment_dataset(experiment)}  # one kept: trials vary the data rarely
        return self._datasets[key]


def _record_failure(asked: AskedTrial, reason: str) -> None:
    writer = RunWriter.open(asked.run_dir, asked.experiment)
    try:
        writer(TrainingFailed(epochs_done=0, reason=reason))
    finally:
        writer.close()


def _release_memory() -> None:
    """Keras keeps every model built in the process; a worker builds one per trial."""
    import gc
    import sys

    if "keras" in sys.modules:
        try:
            sys.modules["keras"].backend.clear_session()
        except Exception:  # noqa: BLE001 - memory, not correctness
            pass
    gc.collect()


def epochs_saved(sweep_dir: Path) -> tuple[int, int, int]:
    """(pruned trials, epochs they did not train, epochs planned over all trials) from the runs."""
    from kerastui.core.sweep_study import is_pruned

    pruned = saved = planned = 0
    for run_dir in sorted(Path(sweep_dir).iterdir()):
        if not run_dir.is_dir() or "trial" not in read_info(run_dir):
            continue
        record = load_run(run_dir)
        total = record.epochs_planned or 0
        planned += total
        if is_pruned(record):
            pruned += 1
            saved += max(0, total - record.epochs_done)
    return pruned, saved, planned

