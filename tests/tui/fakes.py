"""A scripted stand-in for `kerastui.core.pipeline.run_experiment`, for fast UI tests.

It has run_experiment's signature and contract: it emits TrainingStarted, BatchEnded*, EpochEnded*
and exactly one final event through the listeners (RunWriter first when runs_root is given, so a
real run directory is written), honours `stop_event` at every batch, and returns a RunOutcome
whose Evaluation is computed by the real `evaluation_from_predictions` on the dataset's test
labels with made-up, seeded probabilities. No Keras is imported.

Tests can act mid-training: with `pause_at=(epoch, step)` the fake stops after that batch event,
sets `paused` and waits until `resume` is set (or a stop is requested).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.events import (
    BatchEnded,
    EpochEnded,
    Listener,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
    TrainingStopped,
    final_status,
)
from kerastui.core.spec import Experiment


def scripted_epoch_metrics(epoch: int, metric: str = "accuracy") -> dict[str, float]:
    """Plausible, strictly improving metrics for 0-based `epoch` (distinct per epoch). `metric` is
    the task's second one: accuracy or auc (rising), mae (falling), as Keras names them."""
    if metric == "mae":
        second, val_second = round(1.5 / (epoch + 1) + 0.2, 6), round(1.7 / (epoch + 1) + 0.25, 6)
    else:
        second, val_second = round(1.0 - 0.6 / (epoch + 2), 6), round(1.0 - 0.7 / (epoch + 2), 6)
    return {
        "loss": round(2.0 / (epoch + 1) + 0.05, 6),
        metric: second,
        "val_loss": round(2.2 / (epoch + 1) + 0.1, 6),
        f"val_{metric}": val_second,
    }


def made_up_probabilities(y_true: np.ndarray, num_classes: int, accuracy: float, seed: int) -> np.ndarray:
    """Softmax-like rows whose argmax equals y_true for about `accuracy` of the samples."""
    rng = np.random.default_rng(seed)
    n = len(y_true)
    predicted = y_true.copy()
    wrong = rng.random(n) > accuracy
    # A wrong prediction is any other class, chosen at random.
    offsets = rng.integers(1, num_classes, size=n)
    predicted[wrong] = (y_true[wrong] + offsets[wrong]) % num_classes
    logits = rng.normal(0.0, 0.5, size=(n, num_classes))
    logits[np.arange(n), predicted] += rng.uniform(1.5, 4.0, size=n)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass
class FakeRunExperiment:
    """Callable like run_experiment; records what it emitted and what it was called with."""

    epochs: int | None = None  # None: the experiment's fit.epochs
    steps: int = 5
    batch_size: int = 32
    fail_at_epoch: int | None = None  # this 0-based epoch's loss becomes NaN -> TrainingFailed
    pause_at: tuple[int, int] | None = None  # (epoch, step) after whose BatchEnded the fake waits
    batch_delay: float = 0.0  # seconds slept per batch (to look like work)
    # When paused, a stop request is honoured only once `resume` is set: the "stopping…" moment.
    hold_stop_until_resume: bool = False
    accuracy: float = 0.8
    seed: int = 0
    # The metric reported beside the loss, as the task compiles it: accuracy, auc or mae.
    metric: str = "accuracy"
    write_run_dir: bool = True
    paused: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)
    emitted: list[TrainingEvent] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    outcome: Any = None  # the last RunOutcome returned

    @property
    def epoch_events(self) -> list[EpochEnded]:
        return [e for e in self.emitted if isinstance(e, EpochEnded)]

    def __call__(
        self,
        experiment: Experiment,
        dataset: Any,
        *,
        runs_root: Path | None = None,
        listeners: Iterable[Listener] = (),
        stop_event: threading.Event | None = None,
        batch_event_interval: float = 0.1,
        trainer_factory: Any = None,
        run_name: str | None = None,
        run_dir: Path | None = None,
    ):
        from kerastui.core.pipeline import RunOutcome
        from kerastui.core.runs import RunWriter

        self.calls.append({"experiment": experiment, "dataset": dataset, "runs_root": runs_root, "run_name": run_name})
        if run_dir is not None:
            writer = RunWriter.open(run_dir, experiment)
        else:
            writer = self._create_writer(experiment, runs_root, run_name)
        all_listeners: list[Listener] = ([writer] if writer is not None else []) + list(listeners)
        run_dir = writer.path if writer is not None else Path(runs_root or ".") / "fake-run"

        final = self._train(experiment, dataset, all_listeners, stop_event)
        status = final_status(final) or "failed"
        evaluation = None
        if status in ("finished", "stopped"):
            evaluation = self.evaluation(dataset)
            if writer is not None:
                writer.save_evaluation(evaluation)
        result = self._train_result(status, final)
        self.outcome = RunOutcome(run_dir=run_dir, status=status, result=result, evaluation=evaluation, reason=final.reason)
        return self.outcome

    # ---- pieces ---------------------------------------------------------------------------------

    def evaluation(self, dataset: Any):
        """The real Evaluation of made-up probabilities on the dataset's test labels (predictions
        near the targets for a regression)."""
        from kerastui.core.evaluate import evaluation_from_predictions

        task = getattr(dataset, "task", "multiclass")
        if task in ("regression", "binary", "multilabel"):
            from kerastui.core.tasks import TASKS, evaluate_with

            rng = np.random.default_rng(self.seed)
            if task == "regression":
                y = np.asarray(dataset.y_test, dtype=np.float64)
                scores = (y + rng.normal(0.0, 0.5, size=y.shape)).reshape(len(y), -1)
            else:  # scores that lean the right way for about `accuracy` of the calls
                y = np.asarray(dataset.y_test, dtype=np.int64)
                lean = np.where(rng.random(y.shape) < self.accuracy, y, 1 - y)
                scores = np.clip(0.5 + (lean - 0.5) * rng.uniform(0.05, 1.0, size=y.shape), 0.0, 1.0)
            return evaluate_with(TASKS[task], y, scores, tuple(dataset.class_names), 0.25)
        y_true = np.asarray(dataset.y_test, dtype=np.int64)
        num_classes = len(dataset.class_names)
        probabilities = made_up_probabilities(y_true, num_classes, self.accuracy, self.seed)
        picked = probabilities[np.arange(len(y_true)), y_true]
        test_loss = float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))
        test_accuracy = float(np.mean(probabilities.argmax(axis=1) == y_true))
        return evaluation_from_predictions(y_true, probabilities, tuple(dataset.class_names), test_loss, test_accuracy)

    def _create_writer(self, experiment: Experiment, runs_root: Path | None, run_name: str | None):
        if not self.write_run_dir or runs_root is None:
            return None
        try:
            from kerastui.core.runs import RunWriter
        except ImportError:  # runs.py not there yet: the fake still drives the UI
            return None
        writer = RunWriter.create(experiment, root=Path(runs_root), name=run_name)
        writer.set_status("running")
        return writer

    def _emit(self, listeners: list[Listener], event: TrainingEvent) -> None:
        self.emitted.append(event)
        for listener in listeners:
            listener(event)

    def _wait_while_paused(self, stop_event: threading.Event | None) -> None:
        self.paused.set()
        while not self.resume.wait(0.01):
            if stop_event is not None and stop_event.is_set() and not self.hold_stop_until_resume:
                return

    def _train(self, experiment: Experiment, dataset: Any, listeners: list[Listener], stop_event) -> TrainingEvent:
        epochs = self.epochs if self.epochs is not None else experiment.fit.epochs
        train_samples = self.steps * self.batch_size
        self._emit(listeners, TrainingStarted(
            epochs=epochs, steps_per_epoch=self.steps, train_samples=train_samples,
            validation_samples=train_samples // 4, batch_size=self.batch_size,
        ))
        for epoch in range(epochs):
            started = time.time()
            target = scripted_epoch_metrics(epoch, self.metric)
            for step in range(1, self.steps + 1):
                if self.batch_delay:
                    time.sleep(self.batch_delay)
                if epoch == self.fail_at_epoch and step == self.steps:
                    final = TrainingFailed(epochs_done=epoch, reason=f"loss became NaN at epoch {epoch + 1} batch {step}")
                    self._emit(listeners, BatchEnded(epoch=epoch, step=step, steps=self.steps, metrics={"loss": math.nan, self.metric: 0.1}))
                    self._emit(listeners, final)
                    return final
                # Running averages drift from the previous epoch's values towards this epoch's.
                fraction = step / self.steps
                previous = scripted_epoch_metrics(epoch - 1, self.metric) if epoch else {"loss": 2.5, self.metric: 0.1}
                metrics = {
                    name: round(previous[name] + (target[name] - previous[name]) * fraction, 6)
                    for name in ("loss", self.metric)
                }
                self._emit(listeners, BatchEnded(epoch=epoch, step=step, steps=self.steps, metrics=metrics))
                if self.pause_at == (epoch, step):
                    self._wait_while_paused(stop_event)
                if stop_event is not None and stop_event.is_set():
                    final = TrainingStopped(epochs_done=epoch)
                    self._emit(listeners, final)
                    return final
            self._emit(listeners, EpochEnded(epoch=epoch, epochs=epochs, metrics=target, seconds=time.time() - started))
        final = TrainingFinished(epochs_done=epochs)
        self._emit(listeners, final)
        return final

    def _train_result(self, status: str, final: TrainingEvent):
        try:
            from kerastui.core.train import TrainResult
        except ImportError:
            return None
        history: dict[str, list[float]] = {}
        for event in self.epoch_events:
            for name, value in event.metrics.items():
                history.setdefault(name, []).append(value)
        return TrainResult(status=status, model=None, history=history, epochs_done=final.epochs_done, reason=final.reason)


class FakeLauncher:
    """The app's launcher with the scripted trainer in a thread of the test process, instead of a
    child process: it prepares and writes a real run directory (as the real launcher's child does)
    that the app follows like any other, and `stop` sets the run's stop event (the child's SIGINT).
    Its pid is the test's, so the run counts as alive while the thread trains."""

    def __init__(self, fake_run: FakeRunExperiment, runs_root: Path, slots: int = 8) -> None:
        self.fake_run = fake_run
        self.runs_root = runs_root
        self.slots = slots
        self.queued: list[Path] = []
        self.threads: dict[Path, threading.Thread] = {}
        self.stops: dict[Path, threading.Event] = {}
        self.launched: list[Path] = []
        self.backends: list[str] = []
        self.shutdowns: list[bool] = []

    @property
    def active(self) -> list[Path]:
        return [path for path, thread in self.threads.items() if thread.is_alive()]

    def launch(self, experiment: Experiment) -> Path:
        from kerastui.core.launcher import prepare_local_run

        run_dir = prepare_local_run(experiment, self.runs_root)
        self._train(run_dir, experiment)
        return run_dir

    def _train(self, run_dir: Path, experiment: Experiment) -> None:
        stop = self.stops[run_dir] = threading.Event()

        def train() -> None:
            from kerastui.core.data import experiment_dataset

            self.fake_run(experiment, experiment_dataset(experiment), run_dir=run_dir, stop_event=stop)

        thread = self.threads[run_dir] = threading.Thread(target=train, daemon=True)
        self.launched.append(run_dir)
        thread.start()

    def pump(self) -> list[Path]:
        return []

    def enqueue(self, run_dir: Path) -> None:
        """A prepared run (a sweep's trial), trained at once with its own config.toml."""
        from kerastui.core import spec

        self._train(Path(run_dir), spec.load(Path(run_dir) / "config.toml"))

    def resume(self, run_dir: Path) -> None:
        raise NotImplementedError("the scripted trainer cannot resume; use the real LocalLauncher")

    def stop(self, run_dir: Path) -> str:
        stop = self.stops.get(Path(run_dir))
        if stop is None or not self.threads[Path(run_dir)].is_alive():
            return "not running"
        stop.set()
        return "stopping"

    def warm_up(self, backend: str) -> None:
        self.backends.append(backend)

    def shutdown(self, keep_running: bool = True) -> None:
        self.shutdowns.append(keep_running)
        if not keep_running:
            for run_dir in self.active:
                self.stop(run_dir)


# ---- helpers shared by the UI tests -------------------------------------------------------------


class FakePreviewer:
    """Stands in for KerasPreviewer so UI tests never import TensorFlow: it "loads" at once and
    previews any layers as a model with no layers of its own (no shapes, no parameters)."""

    backend = "fake"

    def load(self) -> str:
        return self.backend

    def preview(self, layers, input_shape, num_classes, task=None):
        from kerastui.core.build import ModelPreview, PreviewResult

        return PreviewResult(ModelPreview(tuple(input_shape), (), 0, 0), None)


def tiny_experiment(epochs: int = 3, dataset: str = "digits", num_classes: int = 10, input_shape=(8, 8, 1)) -> Experiment:
    """A small MLP (Flatten, Dense 8, Dense classes) that trains in a second on digits."""
    from dataclasses import replace

    from kerastui.core.spec import FitSettings, LayerSpec

    experiment = Experiment(
        name="tiny",
        dataset=dataset,
        layers=(
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 8, "activation": "relu"}),
            LayerSpec("Dense", {"units": num_classes, "activation": "softmax"}),
        ),
    )
    return replace(experiment, fit=FitSettings(epochs=epochs, batch_size=64, validation_split=0.2))


async def wait_until(pilot, predicate, timeout: float = 15.0, what: str = "condition") -> None:
    """Let the app run until predicate() is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await pilot.pause(0.02)


# Keys typed one by one at the end of a replaced text: a long path typed key by key costs a pilot
# round trip a key (seconds for a temporary folder's path), so the start is set and the last keys
# are typed, as the field's handlers see them.
TYPED_KEYS = 12


async def type_into(pilot, field, text: str) -> None:
    """Replace an Input's text by keys, as a user would."""
    field.focus()
    await pilot.press("end", "ctrl+u")
    field.value = text[:-TYPED_KEYS]
    field.cursor_position = len(field.value)
    await pilot.press(*text[-TYPED_KEYS:])


def error_at(form, name: str) -> str:
    """The error a form shows at its field `name` ("" when none is shown)."""
    widget = form.errors[name]
    return str(widget.render()) if widget.display else ""
