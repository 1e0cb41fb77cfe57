"""Numbers out: MAE, RMSE and R² (scikit-learn's mean_absolute_error, mean_squared_error, r2_score;
several targets averaged uniformly, and each target on its own), the residuals, and the worst
predictions.

RMSE over several targets is the square root of the uniform mean squared error, as Keras's
RootMeanSquaredError (the live chart's rmse) computes it, so the test figure compares with the
last val_rmse; scikit-learn's root_mean_squared_error would average the targets' RMSEs instead.
Each target's own RMSE is root_mean_squared_error's.

R² is computed with force_finite=False: on constant test targets it is undefined (None, with the
reason), not scikit-learn's default stand-in of 0 or 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from kerastui.core.evaluation.common import (
    VALUE_DIGITS,
    NamedMetrics,
    check_finite,
    finite_or_none,
    from_json_float,
    json_array,
    json_float,
    names_or_default,
    optional_float,
    order_by,
    readonly,
    required,
    round_significant,
    storable,
)


@dataclass(frozen=True)
class TargetReport:
    name: str
    mae: float
    rmse: float
    r2: float | None  # None when this target is constant in the test split

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "mae": json_float(self.mae), "rmse": json_float(self.rmse),
                "r2": json_float(self.r2)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetReport:
        get = lambda key: required(data, key, "a per_target row")  # noqa: E731
        return cls(str(get("name")), from_json_float(get("mae")), from_json_float(get("rmse")),
                   optional_float(get("r2")))


@dataclass(frozen=True, eq=False)
class RegressionEvaluation(NamedMetrics):
    test_loss: float
    target_names: tuple[str, ...]
    samples: int
    mae: float
    rmse: float
    r2: float | None
    undefined_reason: str  # why r2 is None ("" when it is defined)
    per_target: tuple[TargetReport, ...]  # one per target when there are several, else ()
    # (N, T); None when saved without them (over MAX_STORED_VALUES each).
    y_true: np.ndarray | None = None
    predictions: np.ndarray | None = None

    task = "regression"
    _summary_names = ("r2", "mae", "rmse")

    @property
    def sample_count(self) -> int:
        return self.samples

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.target_names

    def _metrics(self) -> dict[str, float | None]:
        metrics: dict[str, float | None] = {"r2": self.r2, "mae": self.mae, "rmse": self.rmse,
                                            "test_loss": self.test_loss}
        for row in self.per_target:
            for key in ("mae", "rmse", "r2"):
                metrics[f"{row.name}.{key}"] = getattr(row, key)
        return metrics

    @property
    def has_values(self) -> bool:
        return self.y_true is not None and self.predictions is not None

    def residuals(self, target: int | str | None = None) -> np.ndarray:
        """predictions - y_true: (N, T), or (N,) for one target (by index or name)."""
        self._need_values("give residuals")
        residuals = self.predictions - self.y_true
        return residuals if target is None else residuals[:, self.target_index(target)]

    def worst(self, count: int = 10, target: int | str | None = None) -> np.ndarray:
        """Indices of the `count` samples with the largest absolute error, largest first: of one
        target if given, else the mean absolute error over the targets."""
        errors = np.abs(self.residuals())
        key = errors.mean(axis=1) if target is None else errors[:, self.target_index(target)]
        order = order_by(key, np.arange(len(key)), descending=True)
        return order[: max(0, int(count))]

    def target_index(self, target: int | str) -> int:
        if isinstance(target, str):
            if target not in self.target_names:
                raise ValueError(f"no target {target!r}; the targets are {', '.join(self.target_names)}")
            return self.target_names.index(target)
        if not 0 <= target < len(self.target_names):
            raise ValueError(f"target {target} out of range: there are {len(self.target_names)} targets")
        return int(target)

    def _need_values(self, what: str) -> None:
        if not self.has_values:
            raise ValueError(
                f"this evaluation was saved without its {self.samples} predictions (too many to keep in "
                f"evaluation.json), so it cannot {what}; evaluate the model in the app to do so"
            )

    def to_dict(self) -> dict[str, Any]:
        keep = self.has_values and storable(self.y_true, self.predictions)
        return {
            "task": self.task,
            "test_loss": json_float(self.test_loss),
            "target_names": list(self.target_names),
            "samples": self.samples,
            "mae": json_float(self.mae),
            "rmse": json_float(self.rmse),
            "r2": json_float(self.r2),
            "undefined_reason": self.undefined_reason,
            "per_target": [row.to_dict() for row in self.per_target],
            "y_true": json_array(self.y_true) if keep else None,
            "predictions": json_array(self.predictions) if keep else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegressionEvaluation:
        get = lambda key: required(data, key, "regression evaluation data")  # noqa: E731
        try:
            names = tuple(str(n) for n in get("target_names"))
            y_true, predictions = data.get("y_true"), data.get("predictions")
            if (y_true is None) != (predictions is None):
                raise ValueError("y_true and predictions must be saved together")
            if y_true is not None:
                y_true = readonly(np.asarray(y_true, dtype=np.float64).reshape(-1, len(names)))
                predictions = readonly(np.asarray(predictions, dtype=np.float64).reshape(-1, len(names)))
                if y_true.shape != predictions.shape:
                    raise ValueError(f"y_true {y_true.shape} and predictions {predictions.shape} differ in shape")
            return cls(
                test_loss=from_json_float(get("test_loss")),
                target_names=names,
                samples=int(get("samples")),
                mae=from_json_float(get("mae")),
                rmse=from_json_float(get("rmse")),
                r2=optional_float(get("r2")),
                undefined_reason=str(data.get("undefined_reason", "")),
                per_target=tuple(TargetReport.from_dict(r) for r in get("per_target")),
                y_true=y_true,
                predictions=predictions,
            )
        except (TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"malformed regression evaluation data: {error}") from None


def as_columns(values: np.ndarray, rows: int, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    if values.ndim != 2 or len(values) != rows:
        raise ValueError(f"{what} have shape {values.shape}; expected ({rows},) or ({rows}, T)")
    return values


def r2_problem(y: np.ndarray, names: Sequence[str]) -> str:
    """Why R² is undefined on these test targets ("" when it is defined)."""
    if len(y) < 2:
        return f"R² is undefined: the test split has {len(y)} sample{'s' if len(y) != 1 else ''} (it needs 2)"
    constant = [i for i in range(y.shape[1]) if np.all(y[:, i] == y[0, i])]
    if constant:
        which = ", ".join(f"{names[i]} (all {y[0, i]:g})" for i in constant)
        return f"R² is undefined: the test targets are constant: {which}"
    return ""


def evaluate(y_true: np.ndarray, predictions: np.ndarray, names: Sequence[str], test_loss: float) -> RegressionEvaluation:
    """Score predictions (N,) or (N, T) against the targets of the same shape."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, root_mean_squared_error

    y_raw = np.asarray(y_true, dtype=np.float64)
    y = as_columns(y_raw, len(y_raw), "regression test targets")
    p = as_columns(predictions, len(y), "predictions")
    if p.shape != y.shape:
        raise ValueError(f"predictions have shape {p.shape}; expected {y.shape} (one value per sample and target)")
    check_finite(y, "test targets")
    check_finite(p, "predictions")
    # Kept as written to evaluation.json (float32's precision): the numbers are of these values.
    y, p = round_significant(y, VALUE_DIGITS), round_significant(p, VALUE_DIGITS)
    n, targets = y.shape
    names = names_or_default(names, targets, "target ")
    if not n:
        raise ValueError("the test split is empty: there is nothing to evaluate")
    reason = r2_problem(y, names)
    r2 = None if reason else float(r2_score(y, p, force_finite=False))
    per_target: tuple[TargetReport, ...] = ()
    if targets > 1:
        maes = mean_absolute_error(y, p, multioutput="raw_values")
        rmses = root_mean_squared_error(y, p, multioutput="raw_values")
        r2s = r2_score(y, p, multioutput="raw_values", force_finite=False) if n >= 2 else [math.nan] * targets
        per_target = tuple(TargetReport(names[i], float(maes[i]), float(rmses[i]), finite_or_none(r2s[i]))
                           for i in range(targets))
    return RegressionEvaluation(
        test_loss=float(test_loss),
        target_names=names,
        samples=n,
        mae=float(mean_absolute_error(y, p)),
        rmse=math.sqrt(float(mean_squared_error(y, p))),
        r2=r2,
        undefined_reason=reason,
        per_target=per_target,
        y_true=readonly(y),
        predictions=readonly(p),
    )


__all__ = ["RegressionEvaluation", "TargetReport", "evaluate"]
