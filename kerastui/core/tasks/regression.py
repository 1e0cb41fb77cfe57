"""Numbers out (a price, a disease progression, three body measurements): linear units, a
squared, absolute or Huber error, scored by MAE, RMSE and R²."""

from __future__ import annotations

from typing import Any

import numpy as np

from kerastui.core.tasks.base import LossRule, Task


class Regression(Task):
    name = "regression"
    title = "regression (one or more numbers)"
    scored_by = "MAE, RMSE and R² (per target where there are several)"
    losses = (
        LossRule("mse", "mean squared error: the Gaussian negative log-likelihood"),
        LossRule("mae", "mean absolute error: robust to outliers"),
        LossRule("huber", "squared near zero, absolute beyond delta", ("huber_delta",)),
    )
    activations = ("linear", "relu", "sigmoid", "tanh", "elu", "gelu", "selu", "swish")
    default_activation = "linear"
    output_word = "targets"
    chart_metric = "mae"
    headline = "r2"

    def activation_problem(self, activation: str, from_logits: bool) -> str | None:
        if activation == "softmax":
            return ("softmax makes the outputs sum to 1, which no regression target does: "
                    "use linear on the last layer")
        return None

    def metric_names(self) -> tuple[str, ...]:
        return ("mae", "rmse")

    def compile_metrics(self, keras: Any, outputs: int, from_logits: bool) -> list[Any]:
        return [keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.RootMeanSquaredError(name="rmse")]

    def targets(self, y: np.ndarray, loss: str, outputs: int) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        return y.reshape(len(y), -1)

    def target_units(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        # Statistics of the training targets only: the test set stays unseen. A constant target
        # keeps deviation 1 (nothing to scale).
        values = np.asarray(targets, dtype=np.float64).reshape(len(targets), -1)
        deviation = values.std(axis=0)
        return values.mean(axis=0), np.where(deviation > 0, deviation, 1.0)

    def label_problem(self, y: np.ndarray) -> str | None:
        y = np.asarray(y)
        if y.ndim not in (1, 2):
            return f"regression targets must be shape (N,) or (N, T), not {y.shape}"
        if y.dtype.kind not in "iufb":
            return f"regression targets must be numbers, not {y.dtype}"
        return None


REGRESSION = Regression()
