"""A user's CSV: a header line, numeric feature columns and one or more label columns.

Which columns are the labels (the first rule that applies):
  1. the columns named after the path: `data.csv:label=y1,y2,y3` (`:label=price` for one);
  2. every column whose name starts with `label_` or `target_` (any case), in header order:
     several labels or targets, named without the prefix (`target_weight` -> "weight");
  3. the column named `label`, `target` or `class` (any case, in that order of preference);
  4. the last column.
Every other column is a feature and must hold numbers.

One label column: text labels are class names, sorted; whole numbers are class numbers (or, when
they cannot be classes, refused with the line of the first that fits no class, unless the
experiment's task is regression); other numbers are a regression target named after the column.
Several label columns hold numbers: 0/1 in every one is a multi-label task, anything else several
regression targets, each named after its column.

A test file is picked up next to the training file (`<stem>_test.csv`, or `test.csv` beside
`train.csv`, `x_test.csv` beside `x_train.csv`); without one, a held-out split is made with the seed.
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
LABEL_PREFIXES = ("label_", "target_")


@dataclass(frozen=True)
class CsvTable:
    path: Path
    header: tuple[str, ...]
    label_columns: tuple[int, ...]
    features: np.ndarray  # (N, F) float64
    labels: tuple[tuple[str, ...], ...]  # raw text per row, one per label column
    label_lines: tuple[int, ...]  # line number of each row, for error messages
    # Every label a finite number (the fast reader's tables), as float64 (N, L); None for text.
    label_values: np.ndarray | None = None

    @property
    def label_column(self) -> int:
        return self.label_columns[0]

    def label_name(self, index: int = 0) -> str:
        return self.header[self.label_columns[index]]


def label_columns_of(header: tuple[str, ...], path: Path, wanted: tuple[str, ...] | None = None) -> tuple[int, ...]:
    """The label columns by the module's rules."""
    stripped = [h.strip() for h in header]
    if wanted:
        missing = [w for w in wanted if w not in stripped]
        if missing:
            raise DatasetError(
                f"{path}: no column named {', '.join(repr(m) for m in missing)} for the labels "
                f"(:label=...); the header has {', '.join(stripped)}"
            )
        if len(set(wanted)) != len(wanted):
            raise DatasetError(f"{path}: a label column is named twice in :label={','.join(wanted)}")
        return tuple(stripped.index(w) for w in wanted)
    lowered = [h.lower() for h in stripped]
    prefixed = tuple(i for i, h in enumerate(lowered) if h.startswith(LABEL_PREFIXES))
    if prefixed:
        return prefixed
    for name in LABEL_COLUMNS:
        if name in lowered:
            return (lowered.index(name),)
    return (len(header) - 1,)


def label_column_index(header: tuple[str, ...]) -> int:
    """The single label column of a header (rules 3 and 4), kept for callers of one column."""
    return label_columns_of(header, Path("."))[0]


def output_name(column: str) -> str:
    """A label column's name as an output's: `target_weight` -> "weight"."""
    lowered = column.lower()
    for prefix in LABEL_PREFIXES:
        if lowered.startswith(prefix) and len(column) > len(prefix):
            return column[len(prefix):]
    return column


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


def read_numeric_table(path: Path, header: tuple[str, ...], label_at: int | tuple[int, ...]) -> CsvTable | None:
    """Fast path for all-numeric, all-finite files (numpy's C parser, ~100x faster than cell by
    cell on an MNIST-sized CSV); None sends the file to the careful reader, which finds the line
    and column of any fault."""
    columns = (label_at,) if isinstance(label_at, int) else tuple(label_at)
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
    values = table[:, list(columns)]
    features = np.delete(table, list(columns), axis=1)
    text = tuple(tuple(str(int(v)) if v == round(v) else repr(float(v)) for v in row) for row in values)
    return CsvTable(path, header, columns, features, text, tuple(range(2, len(table) + 2)), values)


def read_csv_table(path: Path, wanted: tuple[str, ...] | None = None, fast: bool = True) -> CsvTable:
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
    label_at = label_columns_of(header, path, wanted)
    if len(label_at) == len(header):
        raise DatasetError(f"{path}: every column is a label column; at least one must be a feature")
    if header_line == 1 and fast:
        table = read_numeric_table(path, header, label_at)
        if table is not None:
            return table
    rows = read_rows(path)
    if len(rows) < 2:
        raise DatasetError(f"{path}: has a header but no data rows")
    features: list[list[float]] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    # NaN and infinite features are counted to the end, then reported with the first one's place.
    non_finite: list[tuple[int, int, int, str]] = []  # (line, sample, column, text)
    for sample, (number, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DatasetError(
                f"{path} line {number}: {len(row)} fields, but the header has {len(header)} columns"
            )
        values: list[float] = []
        for column, cell in enumerate(row):
            if column in label_at:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise DatasetError(
                    f"{path} line {number}, column {header[column]!r}: {cell.strip()!r} is not a number"
                ) from None
            if not math.isfinite(value):
                non_finite.append((number, sample, column, cell.strip()))
            values.append(value)
        features.append(values)
        labels.append(tuple(row[i].strip() for i in label_at))
        lines.append(number)
    if non_finite:
        raise DatasetError(non_finite_cells(path, header, non_finite[0], len(non_finite), "feature"))
    return CsvTable(
        path, header, label_at, np.asarray(features, dtype=np.float64), tuple(labels), tuple(lines)
    )


def non_finite_cells(path: Path, header: tuple[str, ...], first: tuple[int, int, int, str], count: int, what: str) -> str:
    """'3 NaN or infinite feature values; the first at line 8 (sample 6), column 'b': 'nan''."""
    line, sample, column, text = first
    return (f"{path}: {count} NaN or infinite {what} value{'s' if count != 1 else ''}; the first at line {line} "
            f"(sample {sample}), column {header[column]!r}: {text!r}; remove those rows or fill the values")


def _careful(table: CsvTable) -> CsvTable:
    """The table as the careful reader sees it: true line numbers for a message (the fast reader
    numbers rows as if no line were blank)."""
    if table.label_values is None:
        return table
    wanted = tuple(table.header[i] for i in table.label_columns)
    return read_csv_table(table.path, wanted, fast=False)


def _numbers(tables: list[CsvTable]) -> list[np.ndarray] | None:
    """Every table's labels as float64 (N, L), or None when some label is not a number."""
    result = []
    for table in tables:
        if table.label_values is not None:
            result.append(table.label_values)
            continue
        if not all(is_number(cell) for row in table.labels for cell in row):
            return None
        result.append(np.asarray([[float(cell) for cell in row] for row in table.labels], dtype=np.float64))
    return result


def _first_bad(tables: list[CsvTable], test) -> tuple[CsvTable, int, int, str]:
    """(table, line, label column, text) of the first label for which `test(text, value)` holds."""
    for table in map(_careful, tables):
        for row, line in zip(table.labels, table.label_lines):
            for index, cell in enumerate(row):
                value = float(cell) if is_number(cell) else math.nan
                if test(cell, value):
                    return table, line, index, cell
    raise AssertionError("no such label")  # callers test first that one exists


def encode_labels(
    tables: list[CsvTable], task_hint: str = ""
) -> tuple[list[np.ndarray], tuple[str, ...] | None, tuple[str, ...]]:
    """The labels of every table as arrays, the class names of text labels (None for numbers), and
    the label columns' names as outputs' names."""
    first = tables[0]
    target_names = tuple(output_name(first.label_name(i)) for i in range(len(first.label_columns)))
    several = len(first.label_columns) > 1
    if any(cell == "" for t in tables for row in t.labels for cell in row):
        table, line, index, _ = _first_bad(tables, lambda cell, value: cell == "")
        raise DatasetError(f"{table.path} line {line}: the label ({table.label_name(index)!r}) is empty")
    numbers = _numbers(tables)
    if numbers is None:
        if several:
            table, line, index, cell = _first_bad(tables, lambda cell, value: not is_number(cell))
            raise DatasetError(
                f"{table.path} line {line}, column {table.label_name(index)!r}: {cell!r} is not a number; "
                "several label columns hold numbers (0/1 for labels, or targets)"
            )
        names = tuple(sorted({row[0] for t in tables for row in t.labels}))
        index = {name: i for i, name in enumerate(names)}
        return [np.asarray([index[row[0]] for row in t.labels], dtype=np.int64) for t in tables], names, target_names
    if not all(np.isfinite(n).all() for n in numbers):
        table, line, index, cell = _first_bad(tables, lambda cell, value: not math.isfinite(value))
        count = sum(int(np.count_nonzero(~np.isfinite(n))) for n in numbers if n is not None)
        sample = _careful(table).label_lines.index(line)
        raise DatasetError(non_finite_cells(table.path, table.header, (line, sample, table.label_columns[index], cell),
                                            count, "label"))
    arrays = [n if several else n[:, 0] for n in numbers]
    if all(np.all(a == np.round(a)) for a in arrays):
        arrays = [a.astype(np.int64) for a in arrays]
        if not several and task_hint != "regression":
            _check_class_numbers(tables, arrays)
    return arrays, None, target_names


def _check_class_numbers(tables: list[CsvTable], arrays: list[np.ndarray]) -> None:
    """Whole numbers in one column are classes: those that cannot be (negative, or far above the
    rest) are refused at their line, with the task registry's reason."""
    from kerastui.core.tasks import TaskError, infer_task

    both = np.concatenate(arrays)
    try:
        infer_task(both)
    except TaskError as error:
        low = int(both.min())
        culprit = low if low < 0 else int(both.max())
        table, line, _, cell = _first_bad(tables, lambda cell, value: value == culprit)
        raise DatasetError(
            f"{table.path} line {line}: label {cell!r} in column {table.label_name()!r} is not a class number: "
            f"{error} (task = \"regression\" in the experiment, or --task regression)"
        ) from None


def companion_test_file(path: Path) -> Path | None:
    """The test CSV that goes with a training CSV, if there is one."""
    stem = path.stem
    candidates = [path.with_name(f"{stem}_test{path.suffix}")]
    if stem.lower().endswith("train"):  # train.csv -> test.csv, iris_train.csv -> iris_test.csv
        candidates.append(path.with_name(f"{stem[:-5]}test{path.suffix}"))
    return next((c for c in candidates if c.is_file()), None)


def load_csv_file(path: Path, name: str, *, seed: int, test_fraction: float,
                  label_columns: tuple[str, ...] | None = None, task_hint: str = "") -> Dataset:
    """`label_columns`: the label columns named by the user (`file.csv:label=a,b`), else the rules."""
    train = read_csv_table(path, label_columns)
    test_path = companion_test_file(path)
    if test_path is None:
        (y,), class_names, target_names = encode_labels([train], task_hint)
        x_train, y_train, x_test, y_test = held_out_split(
            train.features, y, seed=seed, test_fraction=test_fraction
        )
        source = f"file: {path} (test: {test_fraction:.0%} held out, seed {seed})"
    else:
        test = read_csv_table(test_path, label_columns)
        if test.header != train.header:
            raise DatasetError(
                f"{test_path}: columns {', '.join(test.header)} differ from {path}: {', '.join(train.header)}"
            )
        (y_train, y_test), class_names, target_names = encode_labels([train, test], task_hint)
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
        target_names=target_names,
        feature_names=tuple(h for i, h in enumerate(train.header) if i not in train.label_columns),
        title=path.name,
        task_hint=task_hint,
    )
