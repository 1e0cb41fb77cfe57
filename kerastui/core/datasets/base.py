"""The dataset types and the array checks every loader shares.

Every loader ends in one of `image_dataset`, `tabular_dataset`, `signal_dataset` or `text_dataset`,
so all datasets look alike, whatever their source:
  image    float32 (N, H, W, C) in [0, 1] (0..255 values divided by 255)
  tabular  float32 (N, F), each column standardised with the training split's mean and deviation
  signal   float32 (N, T, C), 1-D signals (T time steps, C channels), each channel standardised with
           the training split's mean and deviation over samples and time (strain near 1e-21 and
           voltages near 1e3 alike reach the network near unit scale; the shape of each trace is
           kept). Never judged by pixel rules.
  text     int32 (N, T) word indices >= 0 (0 is padding), with `vocabulary_size` = largest + 1
and targets in the form of their task (kerastui.core.tasks), found by `infer_task` unless the
loader declares it (the built-ins):
  multiclass, binary  int64 (N,) class numbers; class_names name the classes
  multilabel          int64 (N, L) of 0/1; class_names name the labels
  regression          float32 (N,) or (N, T), raw units (MAE and R² are read in the field's units);
                      class_names name the targets ("target" when nothing does)
Bad input (NaN, labels that fit no task, mismatched splits) is a DatasetError naming the place.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

IMAGE = "image"
TABULAR = "tabular"
SIGNAL = "signal"
TEXT = "text"
KINDS = (IMAGE, TABULAR, SIGNAL, TEXT)
CLASS_TASKS = ("multiclass", "binary")
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
    # Text: the number of distinct word indices (largest + 1), what an Embedding's input_dim must
    # cover; 0 for other kinds.
    vocabulary_size: int = 0

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
    # Text: largest word index + 1 (an Embedding's input_dim); 0 for other kinds.
    vocabulary_size: int = 0
    # Text: index -> word, for showing a sample as words ("" or past the end: unknown); empty when
    # no word index is known.
    index_words: tuple[str, ...] = ()

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
            vocabulary_size=self.vocabulary_size,
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
    x: np.ndarray, y: np.ndarray, *, seed: int, test_fraction: float, stratify: bool | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A reproducible train/test split, stratified when the labels are classes (by default: one
    whole number >= 0 per sample) and every class has at least two samples."""
    from sklearn.model_selection import train_test_split

    check_test_fraction(test_fraction)
    y = np.asarray(y)
    if stratify is None:
        stratify = y.ndim == 1 and (y.dtype.kind in "iub") and (not y.size or y.min() >= 0)
    can_stratify = False
    if stratify and y.size:
        present = np.unique(y, return_counts=True)[1]
        _, test = split_sizes(len(y), test_fraction)
        # Stratifying needs two samples per class and room for every class on both sides.
        can_stratify = bool(present.min() >= 2 and test >= present.size and len(y) - test >= present.size)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y if can_stratify else None
    )
    return x_train, y_train, x_test, y_test


def keras_split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int = 113
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The split keras.datasets makes of a set without a test part (boston_housing,
    california_housing, reuters): shuffled by np.random.RandomState(seed).shuffle of the indices,
    the first int(N * (1 - test_split)) for training. Same arrays as Keras's load_data."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_fraction))
    return x[:cut], y[:cut], x[cut:], y[cut:]


# ---------------------------------------------------------------- NaN and infinite values

def position_words(index: tuple[int, ...], kind: str) -> str:
    """Where in one sample a value sits, in the words of its kind."""
    if not index:
        return ""
    if kind == TABULAR and len(index) == 1:
        return f"column {index[0]}"
    if kind == SIGNAL and len(index) == 2:
        return f"time step {index[0]}, channel {index[1]}"
    if kind == IMAGE and len(index) in (2, 3):
        where = f"pixel (row {index[0]}, column {index[1]})"
        return where + (f", channel {index[2]}" if len(index) == 3 else "")
    if kind == TEXT and len(index) == 1:
        return f"position {index[0]}"
    if len(index) == 1:
        return f"column {index[0]}"
    return f"position {tuple(int(i) for i in index)}"


def non_finite_problem(values: np.ndarray, what: str, kind: str = "") -> str | None:
    """'x_train has 3 NaN or infinite values; the first at sample 17, column 2', or None.

    Works for any rank: the first index is the sample, the rest its position (named by `kind`).
    Integer arrays cannot hold NaN and are not scanned.
    """
    values = np.asarray(values)
    if values.dtype.kind not in "fc" or not values.size:
        return None
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values)
    count = int(np.count_nonzero(bad))
    if not count:
        return None
    first = np.unravel_index(int(np.argmax(bad.reshape(-1))), values.shape)
    where = f"sample {int(first[0])}"
    position = position_words(tuple(int(i) for i in first[1:]), kind)
    if position:
        where += f", {position}"
    plural = "s" if count != 1 else ""
    return f"{what} has {count} NaN or infinite value{plural}; the first at {where}"


def check_finite(origin: str, kind: str, **arrays: np.ndarray) -> None:
    """DatasetError naming how many NaN or infinite values the first faulty array holds, and where."""
    for what, values in arrays.items():
        problem = non_finite_problem(values, what, kind)
        if problem is not None:
            raise DatasetError(f"{origin}: {problem}; remove those samples or fill the values")


# ---------------------------------------------------------------- samples and targets

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


def output_names(task: str, columns: int, names: tuple[str, ...] | None, origin: str) -> tuple[str, ...]:
    """The names of a multilabel or regression set's columns: the given ones, else label_i or
    target_i ("target" for a single one)."""
    if names is not None:
        if len(names) != columns:
            word = "label" if task == "multilabel" else "target"
            raise DatasetError(f"{origin}: {len(names)} {word} names are given for {columns} {word} column(s)")
        return tuple(names)
    if task == "regression" and columns == 1:
        return ("target",)
    prefix = "label" if task == "multilabel" else "target"
    return tuple(f"{prefix}_{i}" for i in range(columns))


@dataclass(frozen=True)
class Targets:
    """Both splits' targets in their task's form, and the names of the outputs."""

    y_train: np.ndarray
    y_test: np.ndarray
    task: str
    names: tuple[str, ...]


def _as_target_array(y: np.ndarray, origin: str, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:  # CIFAR's (N, 1) layout: one label per sample
        y = y[:, 0]
    if y.dtype == np.bool_:
        y = y.astype(np.int64)
    return y


def _combined(y_train: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """Both splits as one array for inference. Integer labels beside a float split of whole numbers
    (np.zeros(n) for a test split, say) stay integers, so the splits are read alike."""
    both = np.concatenate([y_train, y_test])
    if both.dtype.kind == "f" and any(y.dtype.kind in "iu" for y in (y_train, y_test)):
        if np.all(both == np.round(both)):
            return both.astype(np.int64)
    return both


def _declared_or_inferred(both: np.ndarray, names: tuple[str, ...] | None, task_hint: str, origin: str) -> str:
    from kerastui.core.tasks import TaskError, infer_task
    from kerastui.core.tasks.base import whole_labels

    # Named classes decide what the numbers are: 0..K-1 are classes even with a gap in those present.
    if names is not None and both.ndim == 1 and both.size and whole_labels(both) and both.min() >= 0 \
            and both.max() < len(names):
        return "binary" if len(names) == 2 else "multiclass"
    try:
        return infer_task(both)
    except TaskError as error:
        # The user has said these numbers are targets (an experiment's task = "regression").
        if task_hint == "regression" and both.dtype.kind in "iuf" and both.ndim in (1, 2):
            return "regression"
        raise DatasetError(f"{origin}: {error}") from None


def checked_targets(
    origin: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    names: tuple[str, ...] | None = None,
    target_names: tuple[str, ...] | None = None,
    task: str | None = None,
    task_hint: str = "",
) -> Targets:
    """Both splits' targets checked against their samples and each other, in the form of `task`
    (declared by a built-in) or of the task their values suggest (kerastui.core.tasks.infer_task).

    `names` name the classes (or, when no `target_names` are given, a matrix's columns);
    `target_names` name the columns (a CSV's label columns) when the targets are labels or numbers,
    and are not used for classes. `task_hint` is the task the user chose, if any: integers that are
    no classes (counts, say) are then read as regression targets instead of refused.
    """
    y_train = _as_target_array(y_train, origin, "y_train")
    y_test = _as_target_array(y_test, origin, "y_test")
    check_pairs(origin, x_train, y_train, x_test, y_test)
    if y_train.shape[1:] != y_test.shape[1:]:
        raise DatasetError(
            f"{origin}: y_train has shape {y_train.shape} but y_test {y_test.shape}: both need one label "
            f"per sample (N,), or the same number of columns (N, L)"
        )
    for what, y in (("y_train", y_train), ("y_test", y_test)):
        # Each split on its own, so the message names the split and its own shape.
        if y.dtype.kind not in "iuf" or y.ndim > 2:
            from kerastui.core.tasks import TaskError, infer_task

            try:
                infer_task(y)
            except TaskError as error:
                hint = "; give class numbers 0..K-1 and their names in class_names" if y.dtype.kind in "US" else ""
                raise DatasetError(f"{origin}: {what}: {error}{hint}") from None
            raise DatasetError(f"{origin}: {what} holds {y.dtype} values; labels and targets are numbers")
    check_finite(origin, "", y_train=y_train, y_test=y_test)
    both = _combined(y_train, y_test)
    chosen = task or _declared_or_inferred(both, names, task_hint, origin)
    if chosen in CLASS_TASKS and task is None and task_hint == "regression" and np.unique(both).size < 2:
        chosen = "regression"  # one value throughout: no classes, and the user said targets
    from kerastui.core.tasks import task_named

    why = task_named(chosen).label_problem(both)
    if why is not None:
        raise DatasetError(f"{origin}: the labels cannot be a {chosen} task's: {why}")
    if chosen in CLASS_TASKS:
        labels = tuple(y.reshape(len(y)).astype(np.int64) for y in (y_train, y_test))
        class_names = class_names_for(labels, names, origin)
        trained_on = np.unique(labels[0])
        if trained_on.size < 2:
            # Both splits together have two classes, but a model fitted on one learns a constant.
            raise DatasetError(
                f"{origin}: y_train holds only class {int(trained_on[0])} ({class_names[int(trained_on[0])]!r}); "
                f"a classifier learns nothing from one class: put samples of each class in the training split"
            )
        if chosen == "binary" and len(class_names) != 2:
            raise DatasetError(f"{origin}: a binary task has two classes (0 and 1); found {len(class_names)}")
        return Targets(labels[0], labels[1], chosen, class_names)
    columns = 1 if y_train.ndim == 1 else int(y_train.shape[1])
    column_names = output_names(chosen, columns, target_names if target_names is not None else names, origin)
    if chosen == "multilabel":
        return Targets(y_train.astype(np.int64), y_test.astype(np.int64), chosen, column_names)
    for what, y in (("y_train", y_train), ("y_test", y_test)):
        beyond = np.abs(y.astype(np.float64)) > np.finfo(np.float32).max
        if beyond.any():
            # float32 (what Keras trains in) would make these infinite without a word.
            first = int(np.argwhere(beyond)[0][0])
            raise DatasetError(
                f"{origin}: {what} has {int(beyond.sum())} target value(s) beyond float32's range "
                f"(largest magnitude {float(np.max(np.abs(y))):.3g}, the first at sample {first}); rescale the targets"
            )
    return Targets(y_train.astype(np.float32), y_test.astype(np.float32), chosen, column_names)


# ---------------------------------------------------------------- inputs

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


def _numeric(x: np.ndarray, origin: str, what: str) -> None:
    if x.dtype.kind not in "iufb":
        raise DatasetError(f"{origin}: {what} must be numbers, got {x.dtype} values")


def _assemble(name: str, kind: str, x_train: np.ndarray, x_test: np.ndarray, targets: Targets,
              source: str, title: str, **extra: object) -> Dataset:
    """The Dataset of checked, scaled inputs and checked targets."""
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=targets.y_train,
        x_test=x_test,
        y_test=targets.y_test,
        class_names=targets.names,
        input_shape=tuple(int(d) for d in x_train.shape[1:]),
        kind=kind,
        source=source,
        title=title,
        task=targets.task,
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
    target_names: tuple[str, ...] | None = None,
    title: str = "",
    task: str | None = None,
    task_hint: str = "",
) -> Dataset:
    """Check, scale and shape image arrays ((N, H, W) or (N, H, W, C)) into a Dataset."""
    check_pairs(origin, x_train, y_train, x_test, y_test)
    if x_train.ndim not in (3, 4):
        raise DatasetError(
            f"{origin}: images must have shape (N, H, W) or (N, H, W, C), got {x_train.shape}"
        )
    check_finite(origin, IMAGE, x_train=x_train, x_test=x_test)
    x_train = with_channel_axis(scale_pixels(x_train, origin))
    x_test = with_channel_axis(scale_pixels(x_test, origin))
    targets = checked_targets(origin, x_train, y_train, x_test, y_test, names=class_names,
                              target_names=target_names, task=task, task_hint=task_hint)
    return _assemble(name, IMAGE, x_train, x_test, targets, source, title)


def _too_large(origin: str, what: str, split: str, largest: float) -> DatasetError:
    # Squares of values near 1e154 and above overflow: training would only report a NaN loss and
    # advise a lower learning rate.
    return DatasetError(
        f"{origin}: {what} has values too large to standardise "
        f"(largest magnitude {largest:.3g} in {split}); rescale it or fix the value"
    )


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
    target_names: tuple[str, ...] | None = None,
    title: str = "",
    feature_names: tuple[str, ...] = (),
    task: str | None = None,
    task_hint: str = "",
) -> Dataset:
    """Check feature rows and standardise them with the training split's mean and deviation."""
    from sklearn.preprocessing import StandardScaler

    check_pairs(origin, x_train, y_train, x_test, y_test)
    if x_train.ndim != 2:
        raise DatasetError(
            f"{origin}: tabular features must have shape (N, F), got {x_train.shape}"
        )
    _numeric(x_train, origin, "features")
    _numeric(x_test, origin, "features")
    check_finite(origin, TABULAR, x_train=x_train, x_test=x_test)
    # Statistics come from the training split only, so the test set stays unseen.
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow is reported below, by column
        scaler = StandardScaler().fit(x_train.astype(np.float64))
        scaled_train = scaler.transform(x_train.astype(np.float64)).astype(np.float32)
        scaled_test = scaler.transform(x_test.astype(np.float64)).astype(np.float32)
    for split, scaled, raw in (("x_train", scaled_train, x_train), ("x_test", scaled_test, x_test)):
        bad = ~np.all(np.isfinite(scaled), axis=0)
        if bad.any():
            column = int(np.flatnonzero(bad)[0])
            largest = float(np.max(np.abs(raw[:, column])))
            raise _too_large(origin, f"feature column {column}", split, largest)
    names = tuple(str(n) for n in feature_names) if len(feature_names) == x_train.shape[1] else ()
    targets = checked_targets(origin, x_train, y_train, x_test, y_test, names=class_names,
                              target_names=target_names, task=task, task_hint=task_hint)
    return _assemble(name, TABULAR, scaled_train, scaled_test, targets, source, title, feature_names=names)


def signal_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    source: str,
    origin: str,
    class_names: tuple[str, ...] | None = None,
    target_names: tuple[str, ...] | None = None,
    title: str = "",
    task: str | None = None,
    task_hint: str = "",
) -> Dataset:
    """1-D signals (N, T, C) ((N, T): one channel), each channel standardised with the training
    split's mean and deviation over its samples and time steps (a constant channel is only centred)."""
    check_pairs(origin, x_train, y_train, x_test, y_test)
    if x_train.ndim == 2:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    if x_train.ndim != 3:
        raise DatasetError(
            f"{origin}: signals must have shape (N, T, C): samples, time steps, channels; got {x_train.shape}"
        )
    _numeric(x_train, origin, "signal values")
    _numeric(x_test, origin, "signal values")
    check_finite(origin, SIGNAL, x_train=x_train, x_test=x_test)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.mean(x_train, axis=(0, 1), dtype=np.float64)
        deviation = np.std(x_train, axis=(0, 1), dtype=np.float64)
    for channel in range(x_train.shape[2]):
        if not (np.isfinite(mean[channel]) and np.isfinite(deviation[channel])):
            largest = float(np.max(np.abs(x_train[:, :, channel])))
            raise _too_large(origin, f"channel {channel}", "x_train", largest)
    deviation[deviation == 0] = 1.0
    scaled = []
    for split, x in (("x_train", x_train), ("x_test", x_test)):
        with np.errstate(over="ignore", invalid="ignore"):
            out = ((x - mean) / deviation).astype(np.float32)
        bad = ~np.isfinite(out)
        if bad.any():
            channel = int(np.argwhere(bad)[0][2])
            raise _too_large(origin, f"channel {channel}", split, float(np.max(np.abs(x[:, :, channel]))))
        scaled.append(out)
    targets = checked_targets(origin, x_train, y_train, x_test, y_test, names=class_names,
                              target_names=target_names, task=task, task_hint=task_hint)
    return _assemble(name, SIGNAL, scaled[0], scaled[1], targets, source, title)


def text_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    source: str,
    origin: str,
    class_names: tuple[str, ...] | None = None,
    target_names: tuple[str, ...] | None = None,
    title: str = "",
    task: str | None = None,
    task_hint: str = "",
    index_words: tuple[str, ...] = (),
    vocabulary_size: int = 0,
) -> Dataset:
    """Sequences of word indices (N, T), whole numbers >= 0 (0 pads), kept as int32.

    `vocabulary_size` is the largest index + 1 (or the given size, if larger: Keras's num_words).
    """
    check_pairs(origin, x_train, y_train, x_test, y_test)
    if x_train.ndim != 2:
        raise DatasetError(
            f"{origin}: text must be word indices of shape (N, T): samples, positions; got {x_train.shape}"
        )
    indices = []
    for split, x in (("x_train", x_train), ("x_test", x_test)):
        if x.dtype.kind not in "iuf":
            raise DatasetError(f"{origin}: word indices must be whole numbers, got {x.dtype} values")
        check_finite(origin, TEXT, **{split: x})
        if x.dtype.kind == "f":
            fractional = x != np.round(x)
            if fractional.any():
                sample, position = (int(i) for i in np.argwhere(fractional)[0])
                raise DatasetError(
                    f"{origin}: {split} holds fractional values ({x[sample, position]!r} at sample {sample}, "
                    f"position {position}); word indices are whole numbers (an Embedding looks them up)"
                )
        if x.size and x.min() < 0:
            sample, position = (int(i) for i in np.argwhere(x < 0)[0])
            raise DatasetError(
                f"{origin}: {split} holds negative word indices ({x[sample, position]} at sample {sample}, "
                f"position {position}); indices are 0 (padding) and up"
            )
        if x.size and x.max() >= 2**31:
            raise DatasetError(f"{origin}: {split} holds word index {int(x.max())}, beyond what int32 holds")
        indices.append(x.astype(np.int32))
    largest = max(int(x.max()) if x.size else 0 for x in indices)
    targets = checked_targets(origin, x_train, y_train, x_test, y_test, names=class_names,
                              target_names=target_names, task=task, task_hint=task_hint)
    return _assemble(name, TEXT, indices[0], indices[1], targets, source, title,
                     vocabulary_size=max(largest + 1, vocabulary_size), index_words=tuple(index_words))
