"""The dataset types and the array checks every loader shares.

Every loader ends in `image_dataset` or `tabular_dataset`, so all datasets look alike: images are
float32 (N, H, W, C) in [0, 1], tabular features float32 (N, F) standardised with the training
split's statistics, labels int64 (N,).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

IMAGE = "image"
TABULAR = "tabular"
# A label this much (or the number of classes, if more) above the next one is taken for a mistake.
FAR_LABEL_GAP = 10


class DatasetError(Exception):
    """A dataset cannot be used; the message names the file or dataset, what is wrong and what to do."""


@dataclass(frozen=True)
class DatasetInfo:
    """A cheap description of a dataset for pickers (the Keras sets are not loaded to make one)."""

    name: str
    title: str
    kind: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    train_size: int
    test_size: int
    source: str
    available: bool
    unavailable_reason: str = ""
    # The task the labels suggest (kerastui.core.tasks); class_names are then its outputs' names:
    # classes, labels or targets.
    task: str = "multiclass"

    def outputs_for(self, task: str) -> int:
        """Classes, labels or targets when the data is read as `task` (class numbers read as a
        regression target are one number)."""
        if task == "regression" and self.task in ("multiclass", "binary"):
            return 1
        return self.num_classes


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test arrays ready for Keras, with what is needed to label results."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    kind: str
    source: str
    title: str = ""
    # Column names of tabular data (a CSV header, sklearn's feature_names); empty for images.
    feature_names: tuple[str, ...] = ()
    # The seed of the held-out split (sets without a test part are split with it): two loads with
    # the same seed have the same test set, which is what a run is evaluated on.
    seed: int = 0
    # The task the labels suggest: multiclass and binary labels are int64 (N,) class numbers,
    # multilabel targets a 0/1 matrix (N, L), regression targets float32 (N,) or (N, T). The
    # class names are the names of the outputs: classes, labels or targets.
    task: str = "multiclass"

    @property
    def num_classes(self) -> int:
        """The number of classes, labels or targets (the outputs' names)."""
        return len(self.class_names)

    def for_task(self, task: str) -> Dataset:
        """This data with its targets as `task` reads them (the user chose another task than the
        labels suggest); DatasetError saying why they cannot be."""
        from dataclasses import replace

        from kerastui.core.tasks import TaskError, task_named

        if task in ("", self.task):
            return self
        try:
            chosen = task_named(task)
        except TaskError as error:
            raise DatasetError(str(error)) from None
        for split, y in (("y_train", self.y_train), ("y_test", self.y_test)):
            why = chosen.label_problem(y)
            if why is not None:
                raise DatasetError(f"{self.name}: {split} cannot be a {task} task's targets: {why}")
        if task == "regression":
            y_train = np.asarray(self.y_train, dtype=np.float32)
            columns = 1 if y_train.ndim == 1 else y_train.shape[1]
            names = self.class_names if self.task == "regression" or columns == len(self.class_names) and columns > 1 else (
                ("target",) if columns == 1 else tuple(f"target_{i}" for i in range(columns)))
            return replace(self, y_train=y_train, y_test=np.asarray(self.y_test, dtype=np.float32),
                           class_names=tuple(names), task=task)
        if task in ("binary", "multiclass"):
            y_train, y_test = (np.asarray(y).reshape(len(y)).astype(np.int64) for y in (self.y_train, self.y_test))
            names = self.class_names if self.task in ("binary", "multiclass") else None
            largest = int(max(y_train.max(initial=0), y_test.max(initial=0)))
            if names is None or len(names) <= largest:
                names = tuple(str(i) for i in range(largest + 1))
            if task == "binary" and len(names) > 2:
                raise DatasetError(f"{self.name}: has {len(names)} classes; a binary task has two (0 and 1)")
            return replace(self, y_train=y_train, y_test=y_test, class_names=tuple(names), task=task)
        return replace(self, y_train=np.asarray(self.y_train, dtype=np.int64), y_test=np.asarray(self.y_test, dtype=np.int64),
                       task=task)

    def info(self) -> DatasetInfo:
        return DatasetInfo(
            name=self.name,
            title=self.title or self.name,
            kind=self.kind,
            input_shape=self.input_shape,
            num_classes=self.num_classes,
            class_names=self.class_names,
            train_size=len(self.y_train),
            test_size=len(self.y_test),
            source=self.source,
            available=True,
            task=self.task,
        )


def check_test_fraction(test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(
            f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}"
        )


def split_sizes(total: int, test_fraction: float) -> tuple[int, int]:
    """(train, test) sizes exactly as scikit-learn's train_test_split makes them."""
    test = math.ceil(test_fraction * total)
    return total - test, test


def held_out_split(
    x: np.ndarray, y: np.ndarray, *, seed: int, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A reproducible train/test split, stratified when every class has at least two samples."""
    from sklearn.model_selection import train_test_split

    check_test_fraction(test_fraction)
    counts = np.bincount(y) if len(y) else np.array([])
    present = counts[counts > 0]
    _, test = split_sizes(len(y), test_fraction)
    # Stratifying needs two samples per class and room for every class on both sides.
    can_stratify = (
        present.size > 0
        and present.min() >= 2
        and test >= present.size
        and len(y) - test >= present.size
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y if can_stratify else None
    )
    return x_train, y_train, x_test, y_test


def as_labels(y: np.ndarray, origin: str, what: str) -> np.ndarray:
    """Labels as int64 (N,): whole numbers >= 0; (N, 1) columns (CIFAR's layout) are flattened."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(
            f"{origin}: {what} must be one label per sample, shape (N,), got shape {y.shape}"
        )
    if y.dtype.kind not in "iuf" and y.dtype != np.bool_:
        raise DatasetError(f"{origin}: {what} must hold integer class labels, got {y.dtype} values")
    if y.dtype.kind == "f" and not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        raise DatasetError(
            f"{origin}: {what} must hold integer class labels, found non-integer values"
        )
    labels = y.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise DatasetError(f"{origin}: {what} must be class numbers >= 0, found {labels.min()}")
    return labels


def check_pairs(
    origin: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> None:
    """Same number of samples and labels, non-empty splits, same sample shape in train and test."""
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if len(x) != len(y):
            raise DatasetError(
                f"{origin}: x_{split} has {len(x)} samples but y_{split} has {len(y)} labels"
            )
        if len(x) == 0:
            raise DatasetError(f"{origin}: the {split} split is empty")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"{origin}: train samples have shape {x_train.shape[1:]} but test samples {x_test.shape[1:]}"
        )


def scale_pixels(x: np.ndarray, origin: str) -> np.ndarray:
    """Pixels as float32 in [0, 1]: 0-255 values (uint8 or not) are divided by 255."""
    if x.dtype.kind not in "iuf":
        raise DatasetError(f"{origin}: image pixels must be numbers, got {x.dtype} values")
    if x.dtype == np.uint8:
        scaled = x.astype(np.float32)
        scaled /= 255.0
        return scaled
    low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if not (math.isfinite(low) and math.isfinite(high)) or low < 0.0 or high > 255.0:
        raise DatasetError(
            f"{origin}: image pixels must lie in [0, 1] or [0, 255], found values from {low} to {high}"
        )
    scaled = x.astype(np.float32)
    if high > 1.0:
        scaled /= 255.0
    return scaled


def with_channel_axis(x: np.ndarray) -> np.ndarray:
    """(N, H, W) grayscale images become (N, H, W, 1), the layout Conv2D expects."""
    return x[..., np.newaxis] if x.ndim == 3 else x


def class_names_for(
    labels: tuple[np.ndarray, ...], names: tuple[str, ...] | None, origin: str
) -> tuple[str, ...]:
    """The given names (checked against the labels) or "0".."K-1" for K = largest label + 1.

    The labels present decide: one class alone, or (without names) a label far above the rest,
    which would silently make a wide output layer of classes never seen, is bad input.
    """
    present = np.unique(np.concatenate([y for y in labels if y.size]))
    if present.size < 2:
        raise DatasetError(
            f"{origin}: every label is {int(present[0])}: a classifier needs at least two classes"
        )
    largest = int(present[-1])
    if names is None and largest - int(present[-2]) > max(present.size, FAR_LABEL_GAP):
        raise DatasetError(
            f"{origin}: label {largest} is far outside the others ({int(present[0])} to {int(present[-2])}): "
            f"it would make {largest + 1} classes, {largest + 1 - present.size} of them never seen; "
            f"number the classes 0 to {present.size - 1}"
        )
    if names is None:
        return tuple(str(i) for i in range(largest + 1))
    if largest >= len(names):
        raise DatasetError(
            f"{origin}: label {largest} found but only {len(names)} class names are given"
        )
    return names


def checked_labels(origin: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                   y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both splits' labels as class indices, checked against their samples (either kind of data)."""
    y_train = as_labels(y_train, origin, "y_train")
    y_test = as_labels(y_test, origin, "y_test")
    check_pairs(origin, x_train, y_train, x_test, y_test)
    return y_train, y_test


def _assemble(name: str, kind: str, splits: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
              class_names: tuple[str, ...] | None, origin: str, source: str, title: str, **extra: object) -> Dataset:
    """The Dataset of checked, scaled splits (x_train, y_train, x_test, y_test)."""
    x_train, y_train, x_test, y_test = splits
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=class_names_for((y_train, y_test), class_names, origin),
        input_shape=tuple(int(d) for d in x_train.shape[1:]),
        kind=kind,
        source=source,
        title=title,
        **extra,
    )


def image_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    source: str,
    origin: str,
    class_names: tuple[str, ...] | None = None,
    title: str = "",
) -> Dataset:
    """Check, scale and shape image arrays ((N, H, W) or (N, H, W, C)) into a Dataset."""
    y_train, y_test = checked_labels(origin, x_train, y_train, x_test, y_test)
    if x_train.ndim not in (3, 4):
        raise DatasetError(
            f"{origin}: images must have shape (N, H, W) or (N, H, W, C), got {x_train.shape}"
        )
    x_train = with_channel_axis(scale_pixels(x_train, origin))
    x_test = with_channel_axis(scale_pixels(x_test, origin))
    return _assemble(name, IMAGE, (x_train, y_train, x_test, y_test), class_names, origin, source, title)


def tabular_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    source: str,
    origin: str,
    class_names: tuple[str, ...] | None = None,
    title: str = "",
    feature_names: tuple[str, ...] = (),
) -> Dataset:
    """Check feature rows and standardise them with the training split's mean and deviation."""
    from sklearn.preprocessing import StandardScaler

    y_train, y_test = checked_labels(origin, x_train, y_train, x_test, y_test)
    if x_train.ndim != 2:
        raise DatasetError(
            f"{origin}: tabular features must have shape (N, F), got {x_train.shape}"
        )
    if x_train.dtype.kind not in "iufb":
        raise DatasetError(f"{origin}: features must be numbers, got {x_train.dtype} values")
    for split, x in (("x_train", x_train), ("x_test", x_test)):
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"{origin}: {split} contains NaN or infinite values")
    # Statistics come from the training split only, so the test set stays unseen.
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow is reported below, by column
        scaler = StandardScaler().fit(x_train.astype(np.float64))
        scaled_train = scaler.transform(x_train.astype(np.float64)).astype(np.float32)
        scaled_test = scaler.transform(x_test.astype(np.float64)).astype(np.float32)
    for split, scaled, raw in (("x_train", scaled_train, x_train), ("x_test", scaled_test, x_test)):
        bad = ~np.all(np.isfinite(scaled), axis=0)
        if bad.any():
            # Squares of values near 1e154 and above overflow: training would only report a NaN
            # loss and advise a lower learning rate.
            column = int(np.flatnonzero(bad)[0])
            largest = float(np.max(np.abs(raw[:, column])))
            raise DatasetError(
                f"{origin}: feature column {column} has values too large to standardise "
                f"(largest magnitude {largest:.3g} in {split}); rescale that column or fix the value"
            )
    names = tuple(str(n) for n in feature_names) if len(feature_names) == x_train.shape[1] else ()
    return _assemble(name, TABULAR, (scaled_train, y_train, scaled_test, y_test), class_names, origin, source, title,
                  feature_names=names)
