"""run_experiment: the shared path from experiment to run directory (fake trainer, then a real one)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from kerastui.core.events import (
    EpochEnded,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
)
from kerastui.core.pipeline import RunInterrupted, RunOutcome, run_experiment
from kerastui.core.runs import load_run
from kerastui.core.spec import preset_experiment
from kerastui.core.stop_request import StopRequest

# The scripted trainer reads no data; the pipeline only asks whether it streams (its x_train).
NO_DATA = SimpleNamespace(x_train=np.zeros((0, 1)))


@dataclass
class FakeResult:
    status: str
    model: Any
    history: dict
    epochs_done: int
    reason: str = ""
    trained_on: Any = None


class FakeModel:
    def save(self, filepath: str) -> None:
        Path(filepath).write_bytes(b"fake model")


class FakeTrainer:
    """Emits scripted events like the real Trainer; `interrupt_after`/`crash_after` end it early."""

    script: dict = {}

    def __init__(self, experiment, dataset, listeners=(), batch_event_interval=0.0, stop_event=None, backup_dir=None):
        self.experiment = experiment
        self.listeners = list(listeners)
        self.stop_event = stop_event or StopRequest()
        self.model = FakeModel()
        self.kwargs = {"batch_event_interval": batch_event_interval}

    def emit(self, event) -> None:
        for listener in self.listeners:
            listener(event)

    def run(self) -> FakeResult:
        epochs = self.experiment.fit.epochs
        self.emit(TrainingStarted(epochs=epochs, steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8))
        history: dict[str, list[float]] = {}
        for epoch in range(epochs):
            if self.script.get("interrupt_after") == epoch:
                raise KeyboardInterrupt
            if self.script.get("crash_after") == epoch:
                raise RuntimeError("the GPU caught fire")
            if self.stop_event.is_set():
                self.emit(TrainingStopped(epochs_done=epoch))
                return FakeResult("stopped", self.model, history, epoch, "stopped by user")
            metrics = {"loss": 1.0 / (epoch + 1), "val_accuracy": 0.5 + epoch / 10}
            for key, value in metrics.items():
                history.setdefault(key, []).append(value)
            self.emit(EpochEnded(epoch=epoch, epochs=epochs, metrics=metrics, seconds=0.01))
            if self.script.get("fail_at") == epoch:
                self.emit(TrainingFailed(epochs_done=epoch, reason=f"loss became NaN at epoch {epoch + 1} batch 1"))
                return FakeResult("failed", self.model, history, epoch, f"loss became NaN at epoch {epoch + 1} batch 1")
            if self.script.get("stop_after") == epoch:
                self.stop_event.set()
        self.emit(TrainingFinished(epochs_done=epochs))
        return FakeResult("finished", self.model, history, epochs)


def scripted(**script) -> type:
    return type("ScriptedTrainer", (FakeTrainer,), {"script": script})


@dataclass(frozen=True)
class FakeEvaluation:
    test_accuracy: float
    test_loss: float = 0.5

    def to_dict(self) -> dict:
        return {"test_accuracy": self.test_accuracy, "test_loss": self.test_loss}


def fake_evaluator(model, dataset) -> FakeEvaluation:
    assert isinstance(model, FakeModel)
    return FakeEvaluation(test_accuracy=0.75)


EXPERIMENT = replace(preset_experiment("mlp", "digits", (8, 8, 1), 10), name="pipe")
EXPERIMENT = replace(EXPERIMENT, fit=replace(EXPERIMENT.fit, epochs=3))


def _run(tmp_path, trainer, **kwargs) -> RunOutcome:
    return run_experiment(EXPERIMENT, NO_DATA, runs_root=tmp_path, trainer_factory=trainer, evaluator=fake_evaluator, **kwargs)


def test_finished_run_writes_complete_directory(tmp_path):
    heard: list = []
    outcome = _run(tmp_path, scripted(), listeners=[heard.append], run_name="named")
    assert outcome.status == "finished" and outcome.evaluation == FakeEvaluation(0.75)
    assert outcome.run_dir.parent == tmp_path and outcome.run_dir.name.endswith("-named")
    files = sorted(p.name for p in outcome.run_dir.iterdir())
    # .writer.lock: its trainer's claim (kerastui.core.runs.LOCK_FILE), released when it ended.
    assert files == [".writer.lock", "config.toml", "evaluation.json", "info.json", "metrics.jsonl", "model.keras", "resources.jsonl", "status"]
    assert json.loads((outcome.run_dir / "evaluation.json").read_text())["test_accuracy"] == 0.75
    record = load_run(outcome.run_dir)
    assert record.status == "finished" and record.epochs_done == 3 and record.experiment == EXPERIMENT
    # The caller's listener heard the same events the file holds.
    assert heard == record.events


def test_stop_event_gives_stopped_run_that_is_still_evaluated(tmp_path):
    stop = StopRequest()
    outcome = _run(tmp_path, scripted(stop_after=0), stop_event=stop)
    assert outcome.status == "stopped"
    assert outcome.evaluation is not None  # stopped runs are evaluated with the epochs done
    assert (outcome.run_dir / "model.keras").exists()
    assert load_run(outcome.run_dir).epochs_done == 1


def test_failed_run_keeps_epochs_and_skips_evaluation(tmp_path):
    outcome = _run(tmp_path, scripted(fail_at=1))
    assert outcome.status == "failed" and outcome.evaluation is None
    assert "NaN" in outcome.reason
    assert not (outcome.run_dir / "evaluation.json").exists()
    record = load_run(outcome.run_dir)
    assert record.status == "failed" and record.epochs_done == 2 and "NaN" in record.reason


def test_trainer_exception_is_recorded_as_failure(tmp_path):
    outcome = _run(tmp_path, scripted(crash_after=1))
    assert outcome.status == "failed" and "GPU caught fire" in outcome.reason
    record = load_run(outcome.run_dir)
    assert record.status == "failed" and record.epochs_done == 1
    assert isinstance(record.events[-1], TrainingFailed)


def test_keyboard_interrupt_marks_stopped_keeps_epochs_and_model_then_reraises(tmp_path):
    with pytest.raises(KeyboardInterrupt) as caught:
        _run(tmp_path, scripted(interrupt_after=2))
    assert isinstance(caught.value, RunInterrupted)
    run_dir = caught.value.run_dir
    assert caught.value.epochs_done == 2
    record = load_run(run_dir)
    assert record.status == "stopped" and record.epochs_done == 2
    assert isinstance(record.events[-1], TrainingStopped)
    assert (run_dir / "model.keras").read_bytes() == b"fake model"


def test_evaluation_failure_keeps_status_and_says_why(tmp_path):
    def broken_evaluator(model, dataset):
        raise ValueError("shape mismatch")

    outcome = run_experiment(EXPERIMENT, NO_DATA, runs_root=tmp_path, trainer_factory=scripted(), evaluator=broken_evaluator)
    assert outcome.status == "finished" and outcome.evaluation is None
    assert "evaluation failed" in outcome.reason and "shape mismatch" in outcome.reason
    assert (outcome.run_dir / "model.keras").exists()


def test_run_dir_writes_into_prepared_directory(tmp_path):
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "info.json").write_text(json.dumps({"slurm_job_id": "99"}))
    outcome = _run(tmp_path, scripted(), run_dir=prepared)
    assert outcome.run_dir == prepared
    assert load_run(prepared).location == "slurm 99"
    assert [p for p in tmp_path.iterdir() if p != prepared] == []


@pytest.mark.slow
def test_real_trainer_on_digits_writes_loadable_run(tmp_path):
    pytest.importorskip("kerastui.core.train")
    pytest.importorskip("kerastui.core.evaluate")
    from kerastui.core.data import load_dataset
    from kerastui.core.spec import LayerSpec

    dataset = load_dataset("digits", seed=0)
    experiment = replace(
        EXPERIMENT,
        layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 16}), LayerSpec("Dense", {"units": 10, "activation": "softmax"})),
        fit=replace(EXPERIMENT.fit, epochs=2, batch_size=64),
    )
    outcome = run_experiment(experiment, dataset, runs_root=tmp_path)
    assert outcome.status == "finished", outcome.reason
    assert outcome.evaluation is not None and 0.0 <= outcome.evaluation.test_accuracy <= 1.0
    record = load_run(outcome.run_dir)
    assert record.errors == []
    assert record.epochs_done == 2 and record.evaluation == outcome.evaluation
    assert set(record.metrics_history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    from kerastui.core.backend import import_keras

    reloaded = import_keras().saving.load_model(outcome.run_dir / "model.keras")
    assert reloaded.count_params() == outcome.result.model.count_params()
    assert not [p.name for p in outcome.run_dir.iterdir() if "tmp" in p.name]


def test_a_run_records_what_it_used_in_its_directory(tmp_path):
    from kerastui.core.resources import RESOURCES_FILE, read_resources

    outcome = _run(tmp_path, scripted())
    log = read_resources(outcome.run_dir)
    assert (outcome.run_dir / RESOURCES_FILE).exists() and log.samples  # a short run still gets its last sample
    summary = load_run(outcome.run_dir).info["resources"]
    assert summary == outcome.resources and summary["peak_rss_bytes"] > 10 * 2**20 and summary["cpus"] >= 1
    assert load_run(outcome.run_dir).resources == summary  # the runs table reads it from info.json
