"""The runs list: one row per run directory, sortable, filterable, with a multi-selection.

Sorting, filtering and the row cells are plain functions of RunRecords (tested without a
terminal); `RunsTable` only shows their result and remembers the cursor and the selection by
run path, so a refresh or a new sort order keeps both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from kerastui.core.run_summary import STATUS_STYLES, format_duration
from kerastui.core.runs import RunRecord, metric_value_text, shared_metric_words

SELECTED_MARK = "●"





def _epochs(record: RunRecord) -> str:
    planned = record.epochs_planned
    return f"{record.epochs_done}/{planned}" if planned else str(record.epochs_done)


def _dataset(record: RunRecord) -> str:
    return Path(record.dataset).name if record.experiment else "?"


def run_label(record: RunRecord) -> str:
    """The run's name without its leading time stamp (sorting by the full name would repeat 'created')."""
    return re.sub(r"^\d{8}-\d{6}-", "", record.name)


@dataclass(frozen=True)
class SortColumn:
    key: str
    title: str
    value: Callable[[RunRecord], Any]
    # Columns where a bigger value is better / newer sort descending first.
    descending: bool = False


def _val_rank(record: RunRecord) -> tuple[str, float] | None:
    """The best validation value signed so that bigger is better (the lowest MAE first), after the
    task: runs of several tasks sort each task's runs together, since an AUC and an MAE do not compare."""
    rank = record.best_val_rank
    return None if rank is None else (record.task, rank)


def _test_rank(record: RunRecord) -> tuple[str, float] | None:
    """The headline test metric after the task, as _val_rank; every headline is bigger-better
    (test accuracy, ROC AUC, R², macro F1)."""
    value = record.headline[1]
    return None if value is None or value != value else (record.task, value)


SORT_COLUMNS: tuple[SortColumn, ...] = (
    SortColumn("created", "created", lambda r: r.created, descending=True),
    SortColumn("name", "name", run_label),
    SortColumn("status", "status", lambda r: r.status),
    SortColumn("dataset", "dataset", _dataset),
    SortColumn("epochs", "epochs", lambda r: r.epochs_done, descending=True),
    # The task's metrics, best first whatever their direction (the lowest MAE, the highest AUC).
    SortColumn("best_val_accuracy", "best val", _val_rank, descending=True),
    SortColumn("test_accuracy", "test", _test_rank, descending=True),
    SortColumn("duration", "duration", lambda r: r.duration, descending=True),
    SortColumn("where", "where", lambda r: r.location),
)
SORT_KEYS = tuple(column.key for column in SORT_COLUMNS)


def sort_column(key: str) -> SortColumn:
    for column in SORT_COLUMNS:
        if column.key == key:
            return column
    raise KeyError(f"unknown sort column {key!r}; known: {', '.join(SORT_KEYS)}")


def sort_records(records: list[RunRecord], key: str, reverse: bool = False) -> list[RunRecord]:
    """Records in the column's natural order (best/newest first for numbers), `reverse` flips it.

    Runs without a value (no evaluation yet, say) stay at the end in both directions.
    """
    column = sort_column(key)
    with_value = [r for r in records if column.value(r) is not None]
    without = [r for r in records if column.value(r) is None]
    descending = column.descending != reverse
    with_value.sort(key=lambda r: (column.value(r), r.name), reverse=descending)
    return with_value + sorted(without, key=lambda r: r.name)


def search_text(record: RunRecord) -> str:
    """Everything a filter word may match: the visible cells plus the run's path and errors."""
    parts = [
        record.name, record.status, _dataset(record), record.dataset, record.architecture, record.location,
        str(record.path), *record.errors,
    ]
    if record.experiment is not None:
        parts += [record.experiment.name, record.experiment.compile.optimizer, record.experiment.backend, record.experiment.strategy]
    return " ".join(parts).lower()


def filter_records(records: list[RunRecord], text: str) -> list[RunRecord]:
    """Runs whose search text contains every word of `text` (case-insensitive); '!word' excludes."""
    words = text.lower().split()
    if not words:
        return list(records)
    wanted = [w for w in words if not w.startswith("!")]
    unwanted = [w[1:] for w in words if w.startswith("!") and len(w) > 1]

    def keep(record: RunRecord) -> bool:
        haystack = search_text(record)
        return all(w in haystack for w in wanted) and not any(w in haystack for w in unwanted)

    return [r for r in records if keep(r)]


# Column keys, then the short headers shown: every column, results included, must stay on a
# 120-column screen with a 7-digit Slurm job id (the full titles made the table 124-135 wide).
COLUMN_TITLES = ("", "run", "status", "dataset", "architecture", "epochs", "best val", "test", "duration",
                 "peak mem / GPU", "where")
COLUMN_HEADERS = ("", "run", "status", "dataset", "layers", "epochs", "val", "test", "time", "mem/gpu", "where")
# Long cells are capped (ending in an ellipsis); the details pane below the table shows them whole.
COLUMN_WIDTHS = {"run": 22, "dataset": 8, "architecture": 10, "peak mem / GPU": 8}


def run_cell_text(record: RunRecord) -> str:
    """'11-25 09:51 ctrlc2' for the directory 20261125-095113-ctrlc2: the year and seconds make
    every name 16 characters longer and say little; a name without a time stamp is kept."""
    match = re.match(r"^\d{4}(\d{2})(\d{2})-(\d{2})(\d{2})\d{2}-(.*)$", record.name)
    if not match:
        return record.name
    month, day, hour, minute, label = match.groups()
    return f"{month}-{day} {hour}:{minute} {label}"


def row_cells(record: RunRecord, selected: bool, words: tuple[str, str] = ("", "")) -> tuple[Any, ...]:
    """The row of a run; `words` are the metrics every run shares (shared_metric_words): named
    in the header, the cells hold only numbers, else each cell names its own."""
    place = record.info.get("queue_position") if record.status == "queued" else None  # set by the runs screen
    status = Text(f"queued {place}" if place else record.status, style=STATUS_STYLES.get(record.status, "dim"))
    if record.errors:
        status.append(" !", style="bold yellow")
    return (
        Text(SELECTED_MARK if selected else " ", style="bold cyan"),
        Text(run_cell_text(record), overflow="ellipsis", no_wrap=True),
        status,
        Text(_dataset(record), overflow="ellipsis", no_wrap=True),
        Text(record.architecture, overflow="ellipsis", no_wrap=True),
        Text(_epochs(record), justify="right"),
        Text(metric_value_text(record.best_val_metric[1]) if words[0] else record.best_val_text, justify="right"),
        Text(metric_value_text(record.headline[1]) if words[1] else record.headline_text, justify="right"),
        Text(format_duration(record.duration), justify="right"),
        Text(usage_cell_text(record.resources), justify="right", no_wrap=True),
        record.location,
    )


def usage_cell_text(resources: dict[str, Any]) -> str:
    """'7.6G 63%': peak memory, then the mean GPU utilisation where there were GPUs; '-' unknown."""
    peak = resources.get("peak_rss_bytes")
    if not peak:
        return "-"
    memory = f"{peak / 2**30:.1f}G" if peak >= 2**30 else f"{peak / 2**20:.0f}M"
    gpu = resources.get("mean_gpu_util")
    return f"{memory} {gpu:.0f}%" if gpu is not None else memory


class RunsTable(DataTable):
    """Rows of runs keyed by their path; `selected` holds the paths marked with space."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.records: list[RunRecord] = []   # the rows shown, in order
        self.selected: set[str] = set()
        self.words: tuple[str, str] = ("", "")  # the metrics every row shares, named in the header

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        words = {"best val": self.words[0], "test": self.words[1]}
        for title, header in zip(COLUMN_TITLES, COLUMN_HEADERS):
            label = f"{header} {words[title]}".strip() if title in words else header
            self.add_column(label, key=title or "mark", width=COLUMN_WIDTHS.get(title))

    def show(self, records: list[RunRecord]) -> None:
        """Replace the rows, keeping the cursor on the same run where it is still shown."""
        current = self.current_record
        self.records = list(records)
        # A selection survives filtering and refreshes; runs deleted meanwhile drop out of it.
        self.selected = {p for p in self.selected if Path(p).exists()}
        self.words = shared_metric_words(self.records)
        self.clear(columns=True)  # the headers name the metrics the rows share ("val acc", "test R²")
        self._add_columns()
        for record in self.records:
            self.add_row(*row_cells(record, str(record.path) in self.selected, self.words), key=str(record.path))
        if current is not None:
            for index, record in enumerate(self.records):
                if record.path == current.path:
                    self.move_cursor(row=index)
                    break

    @property
    def current_record(self) -> RunRecord | None:
        if not self.records or self.cursor_row is None or not (0 <= self.cursor_row < len(self.records)):
            return None
        return self.records[self.cursor_row]

    def toggle_selected(self) -> RunRecord | None:
        record = self.current_record
        if record is None:
            return None
        key = str(record.path)
        if key in self.selected:
            self.selected.discard(key)
        else:
            self.selected.add(key)
        self.update_cell(key, "mark", row_cells(record, key in self.selected, self.words)[0])
        return record

    @property
    def selected_records(self) -> list[RunRecord]:
        """Selected runs in the order shown."""
        return [r for r in self.records if str(r.path) in self.selected]

    def clear_selection(self) -> None:
        self.selected.clear()
        for record in self.records:
            self.update_cell(str(record.path), "mark", row_cells(record, False, self.words)[0])
