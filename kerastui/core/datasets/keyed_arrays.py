"""A data set from a file of named arrays (HDF5, NetCDF, .npy, .npz with a [data] table), streamed.

The inputs stay in the file: train and test are StreamedArray views of index arrays over it, and
batches are read as the model asks for them (kerastui.core.batches). Only the labels are read
whole (one number or a short row per sample). Loading reads headers, the labels and a few rows
to tell the kind of data, so describing a 50 GB file takes a moment, not a pass over it; the
pass that counts NaN and computes per-feature statistics runs where the model trains
(prepare_dataset).
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.datasets.array_files import (
    ArrayEntry,
    describe_arrays,
    file_format,
    missing_key,
    open_rows,
    read_whole,
)
from kerastui.core.datasets.base import (
    IMAGE,
    SIGNAL,
    TABULAR,
    TEXT,
    Dataset,
    DatasetError,
    checked_targets,
    held_out_split,
)
from kerastui.core.datasets.settings import DataSettings, axes_problems
from kerastui.core.datasets.streamed import Preprocessing, StreamedArray, scan_and_fit

DEFAULT_X = ("x_train", "x", "X", "inputs", "data", "images", "signals", "features")
DEFAULT_Y = ("y_train", "y", "Y", "labels", "label", "targets", "target")
# Rows read to tell the kind of data (images, signals, ...) and to show value ranges.
SAMPLE_ROWS = 64


def _choose(entries: list[ArrayEntry], given: str, defaults: tuple[str, ...], setting: str, path: Path) -> str:
    names = [e.name for e in entries]
    if given:
        if given not in names:
            raise missing_key(path, given, entries, setting)
        return given
    for name in defaults:
        if name in names:
            return name
    if setting == "x" and len(entries) == 1:
        return entries[0].name  # a .npy, or a file of one array: the inputs
    if setting == "y" and len(entries) == 1:
        raise DatasetError(f"{path}: holds one array, the inputs; give the labels in another file: "
                           "[data] labels = \"labels.csv\" (or a .npy, or an HDF5 file with key y)")
    listed = "; ".join(e.describe() for e in entries) or "none"
    raise DatasetError(f"{path}: which array holds the {'inputs' if setting == 'x' else 'labels'}? "
                       f"name it in the [data] table ({setting} = \"...\"), or in the data tab; the file holds: {listed}")


def _labels_from_file(path: Path, settings: DataSettings, base: Path) -> np.ndarray:
    """Labels kept apart: a CSV (a header names the columns; [data] y picks some) or an array file."""
    labels = Path(settings.labels).expanduser()
    if not labels.is_absolute():
        labels = (base.parent / labels)
    from kerastui.core.user_paths import special_file_problem

    if not labels.exists():
        raise DatasetError(f"[data] labels: no such file {labels}")
    problem = special_file_problem(labels)
    if problem or labels.is_dir():
        raise DatasetError(f"[data] labels: {labels} {problem or 'is a directory; give the labels file'}")
    if labels.suffix.lower() == ".csv":
        return _csv_labels(labels, settings.y)
    entries = describe_arrays(labels)
    key = _choose(entries, settings.y, DEFAULT_Y, "y", labels)
    return np.asarray(read_whole(labels, key, entries, "y"))


def _csv_labels(path: Path, column: str) -> np.ndarray:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"[data] labels: {path} cannot be read as CSV ({error})") from None
    if not rows:
        raise DatasetError(f"[data] labels: {path} is empty")
    header = rows[0]
    has_header = any(not _is_number(cell) for cell in header)
    body = rows[1:] if has_header else rows
    columns = list(range(len(header)))
    if column:
        wanted = [c.strip() for c in column.split(",")]
        if not has_header or any(c not in header for c in wanted):
            raise DatasetError(f"[data] labels: {path} has no column {column!r} (columns: {', '.join(header)})")
        columns = [header.index(c) for c in wanted]
    try:
        values = np.array([[float(row[c]) for c in columns] for row in body])
    except (ValueError, IndexError):
        raise DatasetError(f"[data] labels: {path} holds a value that is not a number (or a short row)") from None
    values = values[:, 0] if values.shape[1] == 1 else values
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def kind_of_sample(sample: np.ndarray) -> str:
    from kerastui.core.datasets.npz_file import kind_of

    return kind_of(sample)


def _preprocessing(kind: str, dtype: np.dtype, settings: DataSettings, axes: tuple[int, ...], rank: int,
                   path: Path) -> Preprocessing:
    standardize = settings.standardize
    if kind == TEXT:
        if standardize not in ("auto", "none"):
            raise DatasetError(f"{path}: [data] standardize = {standardize!r}, but the inputs are word indices "
                               "(whole numbers an Embedding looks up); leave standardize at \"auto\"")
        return Preprocessing(axes=axes, dtype="int32")
    if dtype.kind not in "iufb":
        raise DatasetError(f"{path}: the inputs hold {dtype} values; they must be numbers")
    scale = 1.0
    if kind == IMAGE and dtype == np.uint8:
        scale = 1 / 255
    elif kind == IMAGE and dtype == np.uint16:
        scale = 1 / 65535
    if standardize == "auto":
        # 8- and 16-bit pixels are scaled to [0, 1]; measured fields (sea level in metres, a
        # temperature grid in kelvin) and all other numbers are standardised per channel.
        standardize = "none" if kind == IMAGE and dtype.kind in "ub" else "per_feature"
    expand = (kind == IMAGE and rank == 3) or (kind == SIGNAL and rank == 2)
    return Preprocessing(axes=axes, scale=scale, standardize=standardize, expand_channel=expand)


def load_array_file(path: Path, name: str, settings: DataSettings, *, seed: int = 0, test_fraction: float = 0.2,
                    task_hint: str = "") -> Dataset:
    file_format(path)  # an empty or foreign file is named before anything else
    entries = describe_arrays(path)
    x_key = _choose(entries, settings.x, DEFAULT_X, "x", path)
    x_rows = open_rows(path, x_key, entries, "x")
    if settings.labels:
        y_all = _labels_from_file(path, settings, path)
    else:
        y_key = _choose(entries, settings.y, DEFAULT_Y, "y", path)
        y_all = np.asarray(read_whole(path, y_key, entries, "y"))
    rank = len(x_rows.shape)
    axes = tuple(settings.axes)
    bad_axes = axes_problems(list(axes), rank) if axes else []
    if bad_axes:
        raise DatasetError(f"{path}: [data] axes {list(axes)}: {bad_axes[0].message}; {x_key} has shape {x_rows.shape}")
    if len(y_all) != x_rows.shape[0]:
        raise DatasetError(f"{path}: {x_key} has {x_rows.shape[0]} samples but the labels have {len(y_all)}; "
                           "inputs and labels need one label per sample")
    if x_rows.shape[0] == 0:
        raise DatasetError(f"{path}: {x_key} holds no samples")
    all_rows = StreamedArray(x_rows, np.arange(x_rows.shape[0], dtype=np.int64), Preprocessing(axes=axes))
    sample = all_rows.take(np.arange(min(SAMPLE_ROWS, len(all_rows))))
    kind = kind_of_sample(sample) if sample.ndim >= 2 else TABULAR
    if sample.ndim == 1:
        raise DatasetError(f"{path}: {x_key} has shape {x_rows.shape}: one number per sample; inputs need at "
                           "least one feature per sample (N, F)")
    prep = _preprocessing(kind, np.dtype(x_rows.dtype), settings, axes, rank, path)
    test_key = settings.x_test or ("x_test" if x_key == "x_train" and any(e.name == "x_test" for e in entries) else "")
    if test_key:
        test_rows = open_rows(path, test_key, entries, "x_test")
        y_test_key = settings.y_test or ("y_test" if any(e.name == "y_test" for e in entries) else "")
        if not y_test_key:
            raise DatasetError(f"{path}: [data] x_test = {test_key!r} needs its labels: y_test = \"...\"")
        y_test = np.asarray(read_whole(path, y_test_key, entries, "y_test"))
        if test_rows.shape[1:] != x_rows.shape[1:]:
            raise DatasetError(f"{path}: {x_key} samples have shape {x_rows.shape[1:]} but {test_key} samples "
                               f"{test_rows.shape[1:]}")
        if len(y_test) != test_rows.shape[0]:
            raise DatasetError(f"{path}: {test_key} has {test_rows.shape[0]} samples but {y_test_key} has "
                               f"{len(y_test)} labels")
        x_train = StreamedArray(x_rows, np.arange(x_rows.shape[0], dtype=np.int64), prep, kind)
        x_test = StreamedArray(test_rows, np.arange(test_rows.shape[0], dtype=np.int64), prep, kind)
        y_train = y_all
    else:
        train_index, y_train, test_index, y_test = held_out_split(
            np.arange(len(y_all), dtype=np.int64), y_all, seed=seed, test_fraction=test_fraction)
        # Sorted rows read the file front to back; the batches shuffle them anyway.
        order_train, order_test = np.argsort(train_index), np.argsort(test_index)
        train_index, y_train = train_index[order_train], np.asarray(y_train)[order_train]
        test_index, y_test = test_index[order_test], np.asarray(y_test)[order_test]
        x_train = StreamedArray(x_rows, train_index, prep, kind)
        x_test = StreamedArray(x_rows, test_index, prep, kind)
    targets = checked_targets(str(path), x_train, y_train, x_test, y_test, task_hint=task_hint)
    return Dataset(
        name=name, x_train=x_train, y_train=targets.y_train, x_test=x_test, y_test=targets.y_test,
        class_names=targets.names, input_shape=tuple(int(d) for d in x_train.shape[1:]), kind=kind,
        source=f"file: {path} ({x_key})", title=f"{path.name}:{x_key}", task=targets.task,
        vocabulary_size=int(sample.max()) + 1 if kind == TEXT and sample.size else 0,
    )


def is_streamed(dataset: Any) -> bool:
    return isinstance(getattr(dataset, "x_train", None), StreamedArray)


def prepare_dataset(dataset: Dataset, saved: Preprocessing | None = None) -> Dataset:
    """The dataset ready to train or evaluate on: for a streamed one, NaN counted over every split
    and per-feature statistics computed on the training split in one pass (or the run's `saved`
    ones applied, so a re-evaluation standardises as the training did). In-memory data is returned
    as it is."""
    if not is_streamed(dataset):
        return dataset
    if saved is not None:
        prep = saved
    else:
        prep = scan_and_fit(dataset.x_train, {"x_test": dataset.x_test}, dataset.name)
    if dataset.kind == TEXT and dataset.vocabulary_size:
        pass  # word indices are never scaled
    return replace(dataset, x_train=dataset.x_train.with_preprocessing(prep),
                   x_test=dataset.x_test.with_preprocessing(prep))


def dataset_preprocessing(dataset: Any) -> Preprocessing | None:
    x = getattr(dataset, "x_train", None)
    return x.preprocessing if isinstance(x, StreamedArray) else None
