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

import numpy as np

from kerastui.core.datasets.array_files import (
    ArrayEntry,
    describe_arrays,
    file_format,
    missing_key,
    numbers_needed,
    open_rows,
    read_whole,
)
from kerastui.core.datasets.base import (
    IMAGE,
    SIGNAL,
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
# Rows read to tell the kind of data (images, signals, ...) and to show value ranges: at most
# this many, and this many bytes (at least one row).
SAMPLE_ROWS = 64
SAMPLE_BYTES = 16 * 1024 * 1024
# A sample (one row of the inputs) larger than this is a misread shape, or past what a batch holds.
MAX_SAMPLE_BYTES = 1 << 30


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


def labels_path(settings: DataSettings, base: Path) -> Path:
    """The [data] labels file: relative names are beside the data file. Its kind is checked
    (stat, no open) here, where it enters: a FIFO, a device, a folder or a link to nowhere."""
    from kerastui.core.datasets.array_files import path_problem

    try:
        labels = Path(settings.labels).expanduser()
    except RuntimeError as error:  # ~someone without a home
        raise DatasetError(f"[data] labels = {settings.labels!r}: {error}; give the path without ~") from None
    if not labels.is_absolute():
        labels = base.parent / labels
    problem = path_problem(labels)
    if problem == "does not exist":
        raise DatasetError(f"[data] labels: no such file {labels}")
    if problem:
        raise DatasetError(f"[data] labels: {labels} {problem.replace('the data file', 'the labels file')}")
    return labels


def labels_from_file(path: Path, settings: DataSettings, base: Path) -> np.ndarray:
    """Labels kept apart: a CSV (a header names the columns; [data] y picks some) or an array file
    (of one array: that one; else [data] y or the default label names)."""
    labels = labels_path(settings, base)
    if labels.suffix.lower() == ".csv":
        return _csv_labels(labels, settings.y)
    entries = describe_arrays(labels)
    if len(entries) == 1 and not settings.y:
        key = entries[0].name
    else:
        key = _choose(entries, settings.y, DEFAULT_Y, "y", labels)
    return _numeric_labels(labels, key, entries, "y")


def _numeric_labels(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> np.ndarray:
    entry = next((e for e in entries if e.name == key), None)
    if entry is not None and entry.holds and entry.holds != "text":
        raise numbers_needed(path, entry, setting)  # text labels are named by the task check, with advice
    return np.asarray(read_whole(path, key, entries, setting))


def _csv_labels(path: Path, column: str) -> np.ndarray:
    where = f"[data] labels: {path}"
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's byte-order mark
            rows = [(number, row) for number, row in enumerate(csv.reader(handle), start=1) if any(c.strip() for c in row)]
    except OSError as error:
        raise DatasetError(f"{where} cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{where} cannot be read as CSV ({error}); save it as UTF-8 text") from None
    if not rows:
        raise DatasetError(f"{where} is empty: it needs one label per sample")
    header = [cell.strip() for cell in rows[0][1]]
    has_header = any(not _is_number(cell) for cell in header)
    body = rows[1:] if has_header else rows
    if not body:
        raise DatasetError(f"{where} has a header ({', '.join(header)}) but no rows: it needs one label per sample")
    columns = list(range(len(header)))
    if column:
        wanted = [c.strip() for c in column.split(",")]
        if not has_header or any(c not in header for c in wanted):
            listed = ", ".join(header) if has_header else f"none named: no header, {len(header)} columns"
            raise DatasetError(f"{where} has no column {column!r} (columns: {listed})")
        if len(set(wanted)) != len(wanted):
            raise DatasetError(f"{where}: [data] y = {column!r} names a column twice")
        columns = [header.index(c) for c in wanted]
    elif has_header and len(header) > 1:
        # "id,label" would otherwise train on the ids as a second target.
        raise DatasetError(f"{where} has columns {', '.join(header)}: name the label column(s) in [data] y "
                           f"(y = \"{header[-1]}\", or several separated by commas)")
    values = np.empty((len(body), len(columns)))
    for line_index, (line, row) in enumerate(body):
        for out, c in enumerate(columns):
            name = header[c] if has_header else str(c + 1)
            if c >= len(row):
                raise DatasetError(f"{where}: line {line} has {len(row)} cells, not a value in column {name}")
            cell = row[c].strip()
            if not _is_number(cell):
                raise DatasetError(f"{where}: line {line}, column {name}: {cell!r} is not a number; labels are class "
                                   "numbers 0..K-1 (or 0/1 columns, or regression targets)")
            values[line_index, out] = float(cell)
    values = values[:, 0] if values.shape[1] == 1 else values
    with np.errstate(invalid="ignore"):
        whole = np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.all(np.abs(values) < 2 ** 53)
    return values.astype(np.int64) if whole else values


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


def _inputs_entry(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> ArrayEntry:
    """The array named as inputs, checked before a row is read: numbers, samples with values."""
    entry = next((e for e in entries if e.name == key), None)
    if entry is None:
        raise missing_key(path, key, entries, setting)
    if entry.holds:
        raise numbers_needed(path, entry, setting)
    if not entry.shape:
        raise DatasetError(f"{path}: {key} is a single value, not an array of samples")
    if len(entry.shape) >= 2 and not int(np.prod(entry.shape[1:], dtype=np.int64)):
        raise DatasetError(f"{path}: {key} has shape {tuple(entry.shape)}: its samples hold no values")
    sample_bytes = int(np.prod(entry.shape[1:], dtype=np.int64)) * entry.values_dtype.itemsize
    if sample_bytes > MAX_SAMPLE_BYTES:
        raise DatasetError(f"{path}: {key} has shape {tuple(entry.shape)}: one sample is {sample_bytes / 1e9:.1f} GB, "
                           f"more than a batch can hold (at most {MAX_SAMPLE_BYTES / 1e9:.1f} GB a sample); is the "
                           "shape right? the samples are the first axis")
    return entry


def _non_finite_labels(path: Path, key: str, values: np.ndarray, where: str) -> None:
    """NaN or infinite labels named by their row in the file (or line of the CSV), before the split."""
    if values.dtype.kind not in "fc" or not values.size:
        return
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values.reshape(len(values), -1))
    if bad.any():
        samples = np.flatnonzero(bad.any(axis=1))
        count = int(np.count_nonzero(bad))
        raise DatasetError(f"{path}: the labels ({key}) have {count} NaN or infinite value{'s' if count != 1 else ''} "
                           f"in {len(samples)} sample{'s' if len(samples) != 1 else ''}; the first at sample "
                           f"{int(samples[0])}{where}; remove those samples or fill the labels")


def load_array_file(path: Path, name: str, settings: DataSettings, *, seed: int = 0, test_fraction: float = 0.2,
                    task_hint: str = "") -> Dataset:
    file_format(path)  # a special, empty or foreign file is named before anything else
    entries = describe_arrays(path)
    x_key = _choose(entries, settings.x, DEFAULT_X, "x", path)
    x_entry = _inputs_entry(path, x_key, entries, "x")
    rank = len(x_entry.shape)
    axes = tuple(settings.axes)
    bad_axes = axes_problems(list(axes), rank) if axes else []
    if bad_axes:
        raise DatasetError(f"{path}: [data] axes {list(axes)}: {bad_axes[0].message}; {x_key} has shape {x_entry.shape}")
    if rank == 1:
        raise DatasetError(f"{path}: {x_key} has shape {x_entry.shape}: one number per sample; inputs need at "
                           "least one feature per sample (N, F)")
    x_rows = open_rows(path, x_key, entries, "x")
    if settings.labels:
        y_all = labels_from_file(path, settings, path)
        labels_key, labels_where = Path(settings.labels).name, " (counting the labels file's rows from 0)"
    else:
        y_key = _choose(entries, settings.y, DEFAULT_Y, "y", path)
        y_all = _numeric_labels(path, y_key, entries, "y")
        labels_key, labels_where = y_key, " (its row in the file)"
    if not y_all.ndim:
        raise DatasetError(f"{path}: the labels ({labels_key}) are a single value, not one per sample")
    if len(y_all) != x_rows.shape[0]:
        raise DatasetError(f"{path}: {x_key} has {x_rows.shape[0]} samples but the labels have {len(y_all)}; "
                           "inputs and labels need one label per sample")
    if x_rows.shape[0] == 0:
        raise DatasetError(f"{path}: {x_key} holds no samples")
    _non_finite_labels(path, labels_key, y_all, labels_where)
    all_rows = StreamedArray(x_rows, np.arange(x_rows.shape[0], dtype=np.int64), Preprocessing(axes=axes))
    row_bytes = max(1, int(np.prod(x_rows.shape[1:], dtype=np.int64)) * np.dtype(x_rows.dtype).itemsize)
    sample = all_rows.take(np.arange(min(SAMPLE_ROWS, len(all_rows), max(1, SAMPLE_BYTES // row_bytes))))
    kind = kind_of_sample(sample)
    prep = _preprocessing(kind, np.dtype(x_rows.dtype), settings, axes, rank, path)
    if settings.y_test and not settings.x_test and not (x_key == "x_train" and any(e.name == "x_test" for e in entries)):
        raise DatasetError(f"{path}: [data] y_test = {settings.y_test!r} names test labels but no test inputs: "
                           "name them too (x_test = \"...\"), or leave y_test empty for a seeded held-out split")
    test_key = settings.x_test or ("x_test" if x_key == "x_train" and any(e.name == "x_test" for e in entries) else "")
    if test_key:
        test_entry = _inputs_entry(path, test_key, entries, "x_test")
        if tuple(test_entry.shape[1:]) != tuple(x_entry.shape[1:]):
            raise DatasetError(f"{path}: {x_key} samples have shape {tuple(x_entry.shape[1:])} but {test_key} samples "
                               f"{tuple(test_entry.shape[1:])}; the test samples need the training samples' shape")
        if test_entry.values_dtype.kind != x_entry.values_dtype.kind and "f" in (test_entry.values_dtype.kind,
                                                                                x_entry.values_dtype.kind):
            raise DatasetError(f"{path}: {x_key} holds {x_entry.dtype} values but {test_key} {test_entry.dtype}; "
                               "the test inputs need the training inputs' kind of numbers (both whole, or both "
                               "floating point), so they are prepared alike")
        test_rows = open_rows(path, test_key, entries, "x_test")
        y_test_key = settings.y_test or ("y_test" if any(e.name == "y_test" for e in entries) else "")
        if not y_test_key:
            raise DatasetError(f"{path}: [data] x_test = {test_key!r} needs its labels: y_test = \"...\" "
                               f"(the file holds: {'; '.join(e.describe() for e in entries)})")
        y_test = _numeric_labels(path, y_test_key, entries, "y_test")
        if len(y_test) != test_rows.shape[0]:
            raise DatasetError(f"{path}: {test_key} has {test_rows.shape[0]} samples but {y_test_key} has "
                               f"{len(y_test)} labels")
        _non_finite_labels(path, y_test_key, y_test, " (its row in the file)")
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


def is_streamed(dataset: Dataset) -> bool:
    return isinstance(dataset.x_train, StreamedArray)


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


def dataset_preprocessing(dataset: Dataset) -> Preprocessing | None:
    x = dataset.x_train
    return x.preprocessing if isinstance(x, StreamedArray) else None
