"""What every task knows, in one shape: the rule for the last layer, the losses it allows, the
metrics it compiles with and watches, how its targets reach Keras, and how well it fits labels.

A task is described once (one module per task, collected in kerastui.core.tasks.TASKS); the spec's
check, the builder, the trainer, the screens and the CLI all ask it. Nothing here imports Keras:
the functions that build Keras objects take the keras module as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Whether a bigger value of a metric is better: early stopping, the best-epoch mark and a sweep's
# objective all read it from here (Keras's mode="auto" guesses from the name and gets AUC wrong).
METRIC_DIRECTIONS: dict[str, str] = {
    "loss": "min",
    "accuracy": "max",
    "auc": "max",
    "mae": "min",
    "rmse": "min",
}


def metric_direction(name: str) -> str:
    """'max' or 'min' for a history key such as 'val_auc' or 'loss'."""
    base = name[4:] if name.startswith("val_") else name
    return METRIC_DIRECTIONS.get(base, "min")


@dataclass(frozen=True)
class LossRule:
    """One loss a task allows: its Keras name, a line of help, and which compile options apply."""

    name: str
    help: str
    options: tuple[str, ...] = ()  # CompileSettings fields it reads: from_logits, focal_gamma, ...
    # Targets must lie in this closed range (binary cross-entropies: [0, 1]); None: any finite value.
    target_range: tuple[float, float] | None = None


class Task:
    """The base of the four tasks; each module defines one subclass and one instance."""

    name: str = ""
    title: str = ""
    # How the field scores it, in a line: the data tab and the README show it.
    scored_by: str = ""
    losses: tuple[LossRule, ...] = ()
    # Last-layer activations that fit without logits, and the one presets use.
    activations: tuple[str, ...] = ()
    default_activation: str = "linear"
    # The metric the live chart draws beside the loss, the runs table ranks by, and early stopping
    # may watch ("auc", "mae", "accuracy").
    chart_metric: str = "accuracy"
    # The evaluation key the runs table, the comparison and a sweep's leaderboard show first.
    headline: str = "test_accuracy"
    # Whether class_weight makes sense (one label per sample).
    weights_classes: bool = False

    # ---- the output layer -------------------------------------------------------------------

    def units(self, outputs: int) -> int:
        """Units of the last layer for data with `outputs` classes, labels or targets."""
        return outputs

    def default_loss(self) -> str:
        return self.losses[0].name

    def loss_rule(self, loss: str) -> LossRule | None:
        return next((rule for rule in self.losses if rule.name == loss), None)

    def loss_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.losses)

    def metric_names(self) -> tuple[str, ...]:
        """The history keys besides 'loss' that training reports (without the val_ prefix)."""
        return (self.chart_metric,)

    def monitors(self) -> tuple[str, ...]:
        """What early stopping (and a sweep) may watch for this task."""
        names = ("loss", *self.metric_names())
        return tuple(f"val_{n}" for n in names) + names

    def activation_problem(self, activation: str, from_logits: bool) -> str | None:
        """Why `activation` on the last layer does not fit this task, or None."""
        if from_logits:
            if activation != "linear":
                return (f"from_logits is on, so the last layer must give raw scores: make its activation "
                        f"linear (not {activation}), or turn from_logits off")
            return None
        if activation not in self.activations:
            return self.activation_advice(activation)
        return None

    def activation_advice(self, activation: str) -> str:
        return (f"a {self.name} task's last layer needs activation {' or '.join(self.activations)}, "
                f"not {activation}")

    # What the data's outputs are called: classes, labels or targets.
    output_word: str = "classes"

    def units_advice(self, units: int, outputs: int) -> str:
        want = self.units(outputs)
        return (f"the model outputs {units} values but the dataset has {outputs} {self.output_word} "
                f"({self.name}): make the last layer Dense with {want} units")

    # ---- Keras ------------------------------------------------------------------------------

    def compile_metrics(self, keras: Any, outputs: int, from_logits: bool) -> list[Any]:
        raise NotImplementedError

    def targets(self, y: np.ndarray, loss: str, outputs: int) -> np.ndarray:
        """The labels or targets as the loss wants them for fit and evaluate."""
        return np.asarray(y, dtype=np.float32)

    def scores(self, outputs: np.ndarray, from_logits: bool) -> np.ndarray:
        """Model outputs as the evaluation reads them (probabilities for classifiers)."""
        return np.asarray(outputs, dtype=np.float64)

    def target_units(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The (mean, deviation) per output that the model's fixed last layer scales standard
        units to, or None when outputs are used as the layers give them (classifiers)."""
        return None

    # ---- the data ---------------------------------------------------------------------------

    def label_problem(self, y: np.ndarray) -> str | None:
        """Why these labels or targets cannot be this task's (None when they can)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<task {self.name}>"


def as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as per-row probabilities; logits (a last layer without softmax) get a softmax."""
    outputs = np.asarray(outputs, dtype=np.float64)
    looks_like_probabilities = (
        np.all(outputs >= 0) and np.all(outputs <= 1) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    )
    if looks_like_probabilities or not np.all(np.isfinite(outputs)):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def as_probability(outputs: np.ndarray, from_logits: bool) -> np.ndarray:
    """Sigmoid scores: logits are squashed, probabilities kept (clipped into [0, 1])."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if from_logits:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-outputs))
    return np.clip(outputs, 0.0, 1.0)


def whole_labels(y: np.ndarray) -> bool:
    """Every value a whole number (integers, booleans, or floats like 3.0)."""
    y = np.asarray(y)
    if y.dtype == np.bool_ or y.dtype.kind in "iu":
        return True
    return y.dtype.kind == "f" and bool(np.all(np.isfinite(y))) and bool(np.all(y == np.round(y)))


def evaluate_with(task: Task, y_true: np.ndarray, scores: np.ndarray, names: tuple[str, ...], test_loss: float) -> Any:
    """The task's evaluation of test scores (kerastui.core.evaluation.<task>.evaluate: scikit-learn
    does the arithmetic), imported here so that reading a task's rules stays cheap."""
    from importlib import import_module

    return import_module(f"kerastui.core.evaluation.{task.name}").evaluate(y_true, scores, names, test_loss)
