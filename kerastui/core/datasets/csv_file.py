"""A user's CSV: a header line, numeric feature columns and one label column.

The label column is the one named `label`, `target` or `class` (any case), else the last column.
Text labels become class names, sorted; numeric labels must be whole numbers >= 0. A test file is
picked up next to the training file (`<stem>_test.csv`, or `test.csv` beside `train.csv`,
`x_test.csv` beside `x_train.csv`); without one, a held-out split is made with the seed.
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerastui.core.datasets.base import Dataset, DatasetError, held_out_split, tabular_dataset

LABEL_COLUMNS = ("label", "target", "class")


@dataclass(frozen=True)
class CsvTable:
    path: Path
    header: tuple[str, ...]
    label_column: int
    features: np.ndarray  # (N, F) float64
    labels: tuple[str, ...]  # raw text, mapped to numbers once train and test are both read
    label_lines: tuple[int, ...]  # line number of each label, for error messages


def label_column_index(header: tuple[str, ...]) -> int:
    lowered = [h.strip().lower() for h in header]
    for wanted in LABEL_COLUMNS:
        if wanted in lowered:
            return lowered.index(wanted)
    return len(header) - 1


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_rows(path: Path, first_only: bool = False) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their line numbers (just the first one if `first_only`)."""
    rows = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            for number, row in enumerate(csv.reader(stream), start=1):
                if any(c.strip() for c in row):
                    rows.append((number, row))
                    if first_only:
                        break
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{path}: cannot be read as CSV ({error})") from None
    return rows


def read_numeric_table(path: Path, header: tuple[str, ...], label_at: int) -> CsvTable | None:
    """Fast path for all-numeric files with class-number labels (numpy's C parser, ~100x faster
    than cell by cell on an MNIST-sized CSV); None sends the file to the careful reader,
    which finds the line and column of any fault."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" is handled below
            table = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                dtype=np.float64,
                ndmin=2,
                encoding="utf-8-sig",
                comments=None,
            )
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    if table.shape[0] == 0 or table.shape[1] != len(header) or not np.isfinite(table).all():
        return None
    labels = table[:, label_at]
    if (labels < 0).any() or (labels != np.round(labels)).any():
        return None
    features = np.delete(table, label_at, axis=1)
    label_text = tuple(str(int(v)) for v in labels)
    return CsvTable(path, header, label_at, features, label_text, tuple(range(2, len(table) + 2)))


def read_csv_table(path: Path) -> CsvTable:
    first = read_rows(path, first_only=True)
    if not first:
        raise DatasetError(f"{path}: the file is empty; expected a header line and rows of numbers")
    header_line, header_row = first[0]
    header = tuple(c.strip() for c in header_row)
    if len(header) < 2:
        raise DatasetError(
            f"{path}: needs at least one feature column and a label column, found {len(header)} column(s)"
        )
    if all(is_number(c) for c in header):
        raise DatasetError(
            f"{path}: the first line must be a header naming the columns, found numbers"
        )
    label_at = label_column_index(header)
    if header_line == 1:
        fast = read_numeric_table(path, header, label_at)
        if fast is not None:
            return fast
    rows = read_rows(path)
    if len(rows) < 2:
        raise DatasetError(f"{path}: has a header but no data rows")
    label_at = label_column_index(header)
    features: list[list[float]] = []
    labels: list[str] = []
    lines: list[int] = []
    for number, row in rows[1:]:
        if len(row) != len(header):
            raise DatasetError(
                f"{path} line {number}: {len(row)} fields, but the header has {len(header)} columns"
            )
        values: list[float] = []
        for column, cell in enumerate(row):
            if column == label_at:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise DatasetError(
                    f"{path} line {number}, column {header[column]!r}: {cell.strip()!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise DatasetError(
                    f"{path} line {number}, column {header[column]!r}: {cell.strip()!r} is not finite"
                )
            values.append(value)
        features.append(values)
        labels.append(row[label_at].strip())
        lines.append(number)
    return CsvTable(
        path, header, label_at, np.asarray(features, dtype=np.float64), tuple(labels), tuple(lines)
    )


def encode_labels(tables: list[CsvTable]) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Numbers for the labels of every table, and the class names they stand for."""
    all_labels = [label for table in tables for label in table.labels]
    if any(label == "" for label in all_labels):
        table, line = next(
            (t, n) for t in tables for lab, n in zip(t.labels, t.label_lines) if lab == ""
        )
        raise DatasetError(
            f"{table.path} line {line}: the label ({table.header[table.label_column]!r}) is empty"
        )
    if all(is_number(label) for label in all_labels):
        encoded = []
        for table in tables:
            numbers = np.asarray([float(label) for label in table.labels])
            bad = [
                (lab, n)
                for lab, v, n in zip(table.labels, numbers, table.label_lines)
                if v < 0 or v != round(v)
            ]
            if bad:
                label, line = bad[0]
                raise DatasetError(
                    f"{table.path} line {line}: label {label!r} in column {table.header[table.label_column]!r} "
                    "is not a class number; numeric labels must be whole numbers >= 0 (or use text class names)"
                )
            encoded.append(numbers.astype(np.int64))
        largest = max(int(e.max()) for e in encoded)
        return encoded, tuple(str(i) for i in range(largest + 1))
    names = tuple(sorted(set(all_labels)))
    index = {name: i for i, name in enumerate(names)}
    return [np.asarray([index[label] for label in t.labels], dtype=np.int64) for t in tables], names


def companion_test_file(path: Path) -> Path | None:
    """The test CSV that goes with a training CSV, if there is one."""
    stem = path.stem
    candidates = [path.with_name(f"{stem}_test{path.suffix}")]
    if stem.lower().endswith("train"):  # train.csv -> test.csv, iris_train.csv -> iris_test.csv
        candidates.append(path.with_name(f"{stem[:-5]}test{path.suffix}"))
    return next((c for c in candidates if c.is_file()), None)


def load_csv_file(path: Path, name: str, *, seed: int, test_fraction: float) -> Dataset:
    train = read_csv_table(path)
    test_path = companion_test_file(path)
    if test_path is None:
        (y,), class_names = encode_labels([train])
        x_train, y_train, x_test, y_test = held_out_split(
            train.features, y, seed=seed, test_fraction=test_fraction
        )
        source = f"file: {path} (test: {test_fraction:.0%} held out, seed {seed})"
    else:
        test = read_csv_table(test_path)
        if test.header != train.header:
            raise DatasetError(
                f"{test_path}: columns {', '.join(test.header)} differ from {path}: {', '.join(train.header)}"
            )
        (y_train, y_test), class_names = encode_labels([train, test])
        x_train, x_test = train.features, test.features
        source = f"file: {path} (test: {test_path.name})"
    return tabular_dataset(
        name,
        x_train,
        y_train,
        x_test,
        y_test,
        source=source,
        origin=str(path),
        class_names=class_names,
        feature_names=tuple(h for i, h in enumerate(train.header) if i != train.label_column),
        title=path.name,
    )
