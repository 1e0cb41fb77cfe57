"""What every task's evaluation shares: JSON-safe numbers, the input checks, the rounding of the
arrays an evaluation keeps, and the named-metric interface the CLI, the runs table and the
comparison read (`headline`, `metric(name)`, `summary_metrics()`, `metric_label(name)`).

Pure numpy: no scikit-learn, Keras or Textual here, so importing it is cheap.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Protocol, Sequence

import numpy as np

# An evaluation's arrays (scores; targets and predictions) go into evaluation.json only up to this
# many numbers in all, about 3 MB of JSON (the runs table reads every run's file): a binary test set
# of 300k, 25k samples of 12 labels, 150k regression targets. Beyond it the file keeps the metrics
# (and the arrays are None when read back: the screens say the scores were not kept).
MAX_STORED_VALUES = 300_000
# Significant digits kept of a score's distance to 0 or 1 (so 0.9999987 stays apart from
# 0.9999991, where a good classifier's positives pile up), and of a regression value.
SCORE_DIGITS = 6
VALUE_DIGITS = 7

# How the CLI and the screens name the metrics (the keys stay the JSON names).
METRIC_LABELS: dict[str, str] = {
    "test_loss": "test loss",
    "test_accuracy": "test accuracy",
    "accuracy": "accuracy",
    "top_k_accuracy": "top-k accuracy",
    "roc_auc": "ROC AUC",
    "average_precision": "PR AUC",  # average precision: the area under the precision-recall steps
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "tpr": "TPR",
    "fpr": "FPR",
    "threshold": "threshold",
    "macro_f1": "macro F1",
    "micro_f1": "micro F1",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
}


def metric_label(name: str) -> str:
    """'roc_auc' -> 'ROC AUC', 'tpr_at_fpr_0.05' -> 'TPR at FPR 0.05'; unknown names as they are."""
    for rate, other in (("tpr", "fpr"), ("fpr", "tpr")):
        prefix = f"{rate}_at_{other}_"
        if name.startswith(prefix):
            return f"{rate.upper()} at {other.upper()} {name[len(prefix):]}"
    return METRIC_LABELS.get(name, name)


class TaskEvaluation(Protocol):
    """The shape every evaluation has (Evaluation, BinaryEvaluation, MultilabelEvaluation,
    RegressionEvaluation), for type hints in code that shows any of them."""

    task: str
    test_loss: float
    # Why a metric is undefined ("" when all are): a test split of one class, a constant target.
    undefined_reason: str

    @property
    def output_names(self) -> tuple[str, ...]: ...

    @property
    def headline(self) -> tuple[str, float | None]: ...

    @property
    def sample_count(self) -> int: ...

    def metric(self, name: str) -> float | None: ...

    def summary_metrics(self) -> list[tuple[str, float | None]]: ...

    def metric_label(self, name: str) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class NamedMetrics:
    """The named-metric interface, from two things a task's class says: `_metrics()` (every name
    it knows, to its value; test_loss included) and `_summary_names` (the ones shown, in order, the
    headline first; test_loss is not among them: every evaluation has it, and shows it last)."""

    task: str = ""
    _summary_names: tuple[str, ...] = ()

    def _metrics(self) -> dict[str, float | None]:
        raise NotImplementedError

    @property
    def output_names(self) -> tuple[str, ...]:
        """The classes, labels or targets this evaluation is of."""
        raise NotImplementedError

    @property
    def headline(self) -> tuple[str, float | None]:
        name = self._summary_names[0]
        return name, self.metric(name)

    def metric(self, name: str) -> float | None:
        """The value of a named metric; None when it is undefined here or unknown to this task."""
        value = self._metrics().get(name)
        return finite_or_none(value)

    def summary_metrics(self) -> list[tuple[str, float | None]]:
        metrics = self._metrics()
        return [(name, finite_or_none(metrics.get(name))) for name in self._summary_names]

    def metric_label(self, name: str) -> str:
        return metric_label(name)


# ---- numbers and JSON -------------------------------------------------------------------------


def finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def json_float(value: Any) -> float | None:
    """A float for JSON: NaN and infinities become null (JSON has neither)."""
    return finite_or_none(value)


def from_json_float(value: Any) -> float:
    """Inverse of json_float for a value that is always a number: null reads back as NaN."""
    return math.nan if value is None else float(value)


def optional_float(value: Any) -> float | None:
    """A value that may be undefined (an AUC of one class): null stays None."""
    return None if value is None else float(value)


def json_array(values: np.ndarray | None) -> list[Any] | None:
    """A numeric array as nested lists (floats rounded already), NaN never occurs (inputs are checked)."""
    return None if values is None else np.asarray(values).tolist()


def required(data: Any, key: str, what: str = "evaluation data") -> Any:
    """data[key], or a ValueError naming the missing key (from_dict's message)."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object (got {type(data).__name__})")
    if key not in data:
        raise ValueError(f"{what} lacks {key!r}")
    return data[key]


def readonly(array: np.ndarray) -> np.ndarray:
    """The array, made read-only: an evaluation is frozen, and screens share its arrays."""
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def storable(*arrays: np.ndarray) -> bool:
    """Whether these arrays together are small enough to go into evaluation.json."""
    return sum(np.asarray(a).size for a in arrays) <= MAX_STORED_VALUES


# ---- checks -------------------------------------------------------------------------------------


def check_finite(values: np.ndarray, what: str) -> None:
    """A ValueError saying how many values are NaN or infinite and where the first is."""
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values)
    count = int(bad.sum())
    if not count:
        return
    first = np.argwhere(bad)[0]
    where = f"sample {first[0]}" + (f", column {first[1]}" if values.ndim > 1 else "")
    raise ValueError(
        f"{count} of {values.size} {what} are NaN or infinite (the first at {where}); "
        "the model's outputs diverged or the data has missing values: fix the data or lower the learning rate, then evaluate again"
    )


def check_binary_labels(y: np.ndarray, what: str = "test labels") -> np.ndarray:
    """0/1 labels as int64; a ValueError naming the other values found."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        check_finite(y, what)
    ok = np.isin(y, (0, 1))
    if not ok.all():
        found = ", ".join(f"{v:g}" for v in np.unique(y[~ok])[:5])
        raise ValueError(f"{what} must be 0 or 1; found {found} ({int((~ok).sum())} values)")
    return y.astype(np.int64)


def check_rows(name: str, array: np.ndarray, rows: int) -> None:
    if len(array) != rows:
        raise ValueError(f"{name} has {len(array)} rows but there are {rows} test samples")


# ---- rounding ----------------------------------------------------------------------------------


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Each value to `digits` significant digits, as the double nearest that decimal (so JSON
    writes it short: 0.123457, not 0.12345699999999999)."""
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    nonzero = np.isfinite(values) & (values != 0)
    v = values[nonzero]
    power = digits - 1 - np.floor(np.log10(np.abs(v))).astype(np.int64)
    up = power >= 0
    result = np.empty_like(v)
    # Divide by an exact power of ten (multiplying by 10**-p would not be exact).
    scale_up = 10.0 ** power[up]
    result[up] = np.round(v[up] * scale_up) / scale_up
    scale_down = 10.0 ** (-power[~up])
    result[~up] = np.round(v[~up] / scale_down) * scale_down
    out[nonzero] = result
    return out


def round_scores(scores: np.ndarray, digits: int = SCORE_DIGITS) -> np.ndarray:
    """Scores rounded where they matter: `digits` significant digits of the distance to the nearer
    of 0 and 1. The order of scores is kept (ties may appear), and every metric is computed from
    these values, so an evaluation read back from evaluation.json moves its threshold on exactly
    the scores its numbers came from."""
    scores = np.asarray(scores, dtype=np.float64)
    upper = (scores > 0.5) & (scores < 1.0)
    distance = round_significant(np.where(upper, 1.0 - scores, scores), digits)
    # 1 - m/10^p written as (10^p - m)/10^p: one correctly rounded division, the double nearest
    # the decimal, which JSON writes short (0.876543, not 0.8765430000000001).
    d = distance[upper]
    power = np.where(d > 0, digits - 1 - np.floor(np.log10(np.where(d > 0, d, 1.0))), 0).astype(np.int64)
    scale = 10.0 ** power
    out = distance.copy()
    out[upper] = (scale - np.round(d * scale)) / scale
    out[scores >= 1.0] = round_significant(scores[scores >= 1.0], digits)
    return out


def order_by(keys: np.ndarray, indices: np.ndarray, descending: bool) -> np.ndarray:
    """indices sorted by keys (ties by index, so listings are stable)."""
    keys = np.asarray(keys, dtype=np.float64)
    return np.asarray(indices)[np.lexsort((indices, -keys if descending else keys))]


def names_or_default(names: Sequence[str] | None, count: int, prefix: str) -> tuple[str, ...]:
    names = tuple(str(n) for n in names) if names is not None else ()
    if len(names) == count:
        return names
    return tuple(f"{prefix}{i}" for i in range(count))


def as_tuple_of_floats(values: Iterable[Any]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)
