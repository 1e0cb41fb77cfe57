"""What a data set holds, seen cheaply: the inspector behind `kerastui data PATH` and the data tab.

For each array or variable of a file: its name, shape, dtype, dimension names and units (from the
headers), and its value range with NaN and infinite counts computed on a bounded sample: a few
contiguous blocks at the start, middle and end (one read each, a hyperslab in h5py), at most
`sample_rows` rows or SAMPLE_BYTES per array. So a 50 GB file answers in well under two seconds,
and each ValueRange says how many rows it saw ("from 2,000 of 1,000,000 rows").

Then: which arrays are the inputs and the labels (the [data] table's keys, else the defaults of
kerastui.core.datasets.keyed_arrays), the labels' class balance (read whole up to LABEL_ROWS) or
a histogram of regression targets, and one sample as its kind reads: an image (H, W[, C]), a
signal (T, C), a 2-D grid (a heat map) or a table row.

Built-in names, CSV tables and IDX folders are small and loaded whole (kerastui.core.data); image
folders are summarised by kerastui.core.datasets.image_folder.folder_summary.

Pure data: no Textual, no Keras, no drawing (kerastui.cli.data_drawing draws an Inspection).
"""

from __future__ import annotations

import struct
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.datasets.array_files import (
    ARRAY_SUFFIXES,
    HDF5_SIGNATURE,
    NETCDF3_SIGNATURE,
    NPY_SIGNATURE,
    ArrayEntry,
    describe_arrays,
    file_format,
    missing_key,
    open_rows,
)
from kerastui.core.datasets.base import IMAGE, SIGNAL, TABULAR, TEXT, Dataset, DatasetError
from kerastui.core.datasets.settings import DataSettings, axes_problems
from kerastui.core.datasets.streamed import MemoryRows, Preprocessing

GRID = "grid"  # a 2-D field (a sea-level map): drawn as a heat map
SAMPLE_KINDS = (IMAGE, SIGNAL, GRID, TABULAR, TEXT)

SAMPLE_ROWS = 2000  # rows read per array for its value range, at most ...
SAMPLE_BYTES = 16 * 1024 * 1024  # ... and at most this many bytes
TOTAL_SAMPLE_BYTES = 64 * 1024 * 1024  # every array of a file together (a file of 40 arrays)
MIN_ARRAY_BYTES = 1024 * 1024  # yet each array gets this much
BLOCKS = 3  # contiguous runs of rows: start, middle, end
# Labels up to this many (and bytes) are read whole for the class balance; more are counted on a
# sample of LABEL_BLOCKS runs spread over the file (a file sorted by class still shows each).
LABEL_ROWS = 2_000_000
LABEL_BYTES = 16 * 1024 * 1024
LABEL_BLOCKS = 32
MAX_CLASSES = 100  # more distinct whole numbers than this are targets: a histogram
HISTOGRAM_BINS = 20
MAX_ROW_BYTES = 64 * 1024 * 1024  # a sample (one row) larger than this is neither drawn nor sampled
COMPRESSED_WHOLE_BYTES = 128 * 1024 * 1024  # a compressed .npz member up to this size is read whole
SAMPLING_SECONDS = 1.2  # arrays without a role are left unsampled once this much time has gone
GRID_DIMENSIONS = {"lat", "latitude", "lon", "longitude", "rlat", "rlon", "nlat", "nlon", "x", "y", "xc", "yc"}
FILE_FORMAT_NAMES = {"npy": ".npy array", "npz": ".npz archive", "hdf5": "HDF5", "netcdf4": "NetCDF-4",
                     "netcdf3": "NetCDF-3 (classic)", "builtin": "built-in data set", "csv": "CSV table",
                     "idx": "IDX folder", "image_folder": "folder of images"}


# ---------------------------------------------------------------- what an inspection holds

@dataclass(frozen=True)
class ValueRange:
    """Values of one array seen on a sample of its rows (or all of them)."""

    low: float | None  # the smallest finite value (None: no finite value was seen)
    high: float | None
    nan_count: int
    infinite_count: int
    rows_read: int
    rows_total: int
    bytes_read: int = 0
    head_only: bool = False  # only the first rows could be read cheaply (a compressed .npz member)

    @property
    def whole(self) -> bool:
        return self.rows_read >= self.rows_total

    def extent_text(self) -> str:
        """"all 120 rows", or "from 2,000 of 1,000,000 rows" when it is a sample."""
        if self.whole:
            return f"all {self.rows_total:,} row{'s' if self.rows_total != 1 else ''}"
        first = "the first " if self.head_only else ""
        return f"from {first}{self.rows_read:,} of {self.rows_total:,} rows"

    def range_text(self) -> str:
        if self.low is None or self.high is None:
            return "no finite value" if self.rows_read else "empty"
        return f"{_number(self.low)} to {_number(self.high)}"


@dataclass(frozen=True)
class ArraySummary:
    """One array or variable: its header, its role, and its values on a sample."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    dimensions: tuple[str, ...] = ()  # NetCDF dimension names
    units: str = ""
    long_name: str = ""
    role: str = ""  # "x", "y", "x_test", "y_test", or "" (not used for training)
    values: ValueRange | None = None  # None: not numbers, a single value, or not sampled (see note)
    note: str = ""


@dataclass(frozen=True)
class ClassCount:
    name: str  # the class's name, or its number as text
    count: int


@dataclass(frozen=True)
class Histogram:
    edges: tuple[float, ...]  # bins + 1 edges
    counts: tuple[int, ...]


@dataclass(frozen=True)
class LabelSummary:
    """The labels of one split: a class balance, or a histogram of regression-like targets."""

    array: str  # the array (or labels file) they come from
    role: str  # "y" or "y_test"
    task: str  # multiclass, binary, multilabel, regression; "" when they fit none
    classes: tuple[ClassCount, ...] = ()  # per class (multi-label: samples with each label); () for targets
    histogram: Histogram | None = None  # regression-like targets
    rows_read: int = 0
    rows_total: int = 0
    note: str = ""

    @property
    def whole(self) -> bool:
        return self.rows_read >= self.rows_total


@dataclass(frozen=True, eq=False)
class Sample:
    """One sample, arranged as its kind draws:
        image    (H, W) or (H, W, C), C in 1, 3, 4; colours map low..high (0..255 for 8-bit pixels)
        signal   (T, C): one line per channel
        grid     (H, W): a heat map from low to high; NaN cells are gaps (a land mask)
        tabular  (F,): a row of features
        text     (T,): word indices
    """

    kind: str
    values: np.ndarray
    low: float
    high: float
    array: str  # the array it comes from
    row: int  # its row in that array
    label: str = ""  # its label when the labels are known ("1", "cat", "0.42")
    names: tuple[str, ...] = ()  # features (tabular) or channels (signal), when known
    notes: tuple[str, ...] = ()  # how it was arranged to be drawn ("channels first: drawn as (T, C)")


@dataclass(frozen=True, eq=False)
class Inspection:
    """What `inspect_path` found: see the module's docstring."""

    source: str  # the path or built-in name as given
    form: str  # npy, npz, hdf5, netcdf4, netcdf3, builtin, csv, idx, image_folder
    arrays: tuple[ArraySummary, ...] = ()
    x: str = ""  # the arrays in each role ("" when none)
    y: str = ""
    x_test: str = ""
    y_test: str = ""
    labels: tuple[LabelSummary, ...] = ()  # y's first, then y_test's
    sample: Sample | None = None
    notes: tuple[str, ...] = ()  # what the user may want to know or do ("looks channels first: --axes 0,2,1")
    size_bytes: int = 0  # the file's size on disk

    @property
    def form_name(self) -> str:
        return FILE_FORMAT_NAMES.get(self.form, self.form)

    @property
    def bytes_read(self) -> int:
        """Bytes read for the value ranges (the labels and the sample come on top, bounded too)."""
        return sum(a.values.bytes_read for a in self.arrays if a.values is not None)

    def array(self, name: str) -> ArraySummary:
        for entry in self.arrays:
            if entry.name == name:
                return entry
        raise KeyError(name)


# ---------------------------------------------------------------- the entry point

def inspect_path(path: str | Path, settings: DataSettings | None = None, *, sample_rows: int = SAMPLE_ROWS,
                 sample_index: int = 0) -> Inspection:
    """Inspect a data file, a folder, or a built-in name (see the module's docstring). Bad paths
    (missing, a FIFO, socket or device, a symlink loop, empty or damaged) are a DatasetError."""
    from kerastui.core.data import builtin_name, load_dataset, unknown_dataset
    from kerastui.core.user_paths import special_file_problem

    settings = settings if settings is not None else DataSettings()
    if sample_rows < 1:
        raise DatasetError(f"sample rows must be at least 1, got {sample_rows}")
    text = str(path)
    builtin = builtin_name(text)
    if builtin is not None:
        return inspect_dataset(load_dataset(builtin, settings=settings), text, "builtin", sample_rows=sample_rows,
                               sample_index=sample_index)
    if not text.strip():
        raise DatasetError("no data given: name a data file, a folder, or a built-in data set")
    given = Path(text).expanduser()
    if not given.exists():  # a symlink loop or a dangling link reads as missing too; unknown_dataset tells them apart
        if ":label=" in text:  # data.csv:label=y1,y2
            return inspect_dataset(load_dataset(text, settings=settings), text, "csv", sample_rows=sample_rows,
                                   sample_index=sample_index)
        raise unknown_dataset(text)
    problem = special_file_problem(given)  # before anything opens it: a FIFO would block
    if problem:
        raise DatasetError(f"{given} {problem}")
    resolved = given.resolve()
    if resolved.is_dir():
        return _inspect_folder(resolved, text, settings, sample_rows, sample_index)
    suffix = resolved.suffix.lower()
    if suffix == ".csv":
        return inspect_dataset(load_dataset(text, settings=settings), text, "csv", sample_rows=sample_rows,
                               sample_index=sample_index)
    if suffix in ARRAY_SUFFIXES or _has_array_signature(resolved):
        return inspect_array_file(resolved, settings, source=text, sample_rows=sample_rows,
                                  sample_index=sample_index)
    from kerastui.core.data import FILE_KINDS

    raise DatasetError(f"{resolved}: unsupported file type {suffix or '(no extension)'!r}; expected {FILE_KINDS}")


def _has_array_signature(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return head.startswith((HDF5_SIGNATURE, NETCDF3_SIGNATURE, NPY_SIGNATURE))


def _inspect_folder(path: Path, source: str, settings: DataSettings, sample_rows: int, sample_index: int) -> Inspection:
    from kerastui.core.data import load_dataset
    from kerastui.core.datasets import image_folder

    if image_folder.is_image_folder(path):  # every folder but one of IDX files; it names what it lacks
        return inspect_image_folder(path, settings, source=source, sample_index=sample_index)
    return inspect_dataset(load_dataset(str(path), settings=settings), source, "idx", sample_rows=sample_rows,
                           sample_index=sample_index)


# ---------------------------------------------------------------- files of named arrays

def inspect_array_file(path: Path, settings: DataSettings | None = None, *, source: str = "",
                       sample_rows: int = SAMPLE_ROWS, sample_index: int = 0) -> Inspection:
    """An HDF5, NetCDF, .npy or .npz file: headers, a bounded sample of each array, the roles."""
    settings = settings if settings is not None else DataSettings()
    path = Path(path)
    form = file_format(path)  # an empty or foreign file is named before anything else
    entries = describe_arrays(path)
    if not entries:
        raise DatasetError(f"{path}: holds no arrays or variables")
    roles = _roles(path, entries, settings)
    sources = _Sources(path, form, entries)
    try:
        return _inspect_entries(path, form, entries, roles, sources, settings, source, sample_rows, sample_index)
    finally:
        sources.close()


def _inspect_entries(path: Path, form: str, entries: list[ArrayEntry], roles: dict[str, str], sources: _Sources,
                     settings: DataSettings, source: str, sample_rows: int, sample_index: int) -> Inspection:
    by_role = {role: name for name, role in roles.items()}
    started = time.monotonic()
    budget = max(MIN_ARRAY_BYTES, min(SAMPLE_BYTES, TOTAL_SAMPLE_BYTES // len(entries)))
    summaries: dict[str, ArraySummary] = {}
    # The arrays in a role first: they are always sampled; the others while time allows.
    for entry in sorted(entries, key=lambda e: e.name not in roles):
        late = not roles.get(entry.name) and time.monotonic() - started > SAMPLING_SECONDS
        summaries[entry.name] = _array_summary(entry, roles.get(entry.name, ""), sources, sample_rows, budget, late)
    arrays = tuple(summaries[e.name] for e in entries)
    notes: list[str] = []
    labels = _file_labels(path, settings, sources, by_role, notes)
    sample = None
    if by_role.get("x"):
        sample = _file_sample(path, sources, entries, by_role, settings, sample_index,
                              _file_class_names(path, sources), notes)
    elif not settings.x:
        notes.append("which array holds the inputs? name it with --x KEY (or [data] x = \"KEY\")")
    return Inspection(source=source or str(path), form=form, arrays=arrays, x=by_role.get("x", ""),
                      y=by_role.get("y", ""), x_test=by_role.get("x_test", ""), y_test=by_role.get("y_test", ""),
                      labels=labels, sample=sample, notes=tuple(notes), size_bytes=_size(path))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _roles(path: Path, entries: list[ArrayEntry], settings: DataSettings) -> dict[str, str]:
    """array name -> role. Keys the settings name must exist (else DatasetError listing those that
    do); the defaults are looked for quietly."""
    from kerastui.core.datasets.keyed_arrays import DEFAULT_X, DEFAULT_Y

    names = [e.name for e in entries]
    chosen: dict[str, str] = {}
    for role, given, defaults in (("x", settings.x, DEFAULT_X), ("y", settings.y, DEFAULT_Y),
                                  ("x_test", settings.x_test, ("x_test",)), ("y_test", settings.y_test, ("y_test",))):
        if role == "y" and settings.labels:
            continue  # the labels are in a file of their own
        if given:
            if given not in names:
                raise missing_key(path, given, entries, role)
            name = given
        else:
            name = next((n for n in defaults if n in names and n not in chosen), "")
            if not name and role == "x" and len(entries) == 1:
                name = entries[0].name  # a .npy, or a file of one array: the inputs
        if name and name not in chosen:
            chosen[name] = role
    return chosen


class _Sources:
    """Row sources of a file's arrays, opened once each (an .npz member mapped where it is stored)."""

    def __init__(self, path: Path, form: str, entries: list[ArrayEntry]):
        self.path, self.form, self.entries = path, form, entries
        self._opened: dict[str, Any] = {}
        self.separate_labels: np.ndarray | None = None  # labels read from [data] labels, once

    def close(self) -> None:
        """Let go of the files (a NetCDF-3 file's map warns if it is left to the collector)."""
        import warnings

        for rows in self._opened.values():
            handle = getattr(rows, "_file", None)
            if handle is not None:
                rows._handle = rows._file = None
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    handle.close()
        self._opened.clear()

    def rows(self, name: str) -> Any:
        if name not in self._opened:
            if self.form == "npz":
                self._opened[name] = npz_member_rows(self.path, name)
            else:
                self._opened[name] = open_rows(self.path, name, self.entries, "x")
        return self._opened[name]


def _numeric_dtype(text: str) -> np.dtype | None:
    try:
        dtype = np.dtype(text)
    except TypeError:
        return None  # an HDF5 compound type, written as a list of fields
    return dtype if dtype.kind in "biuf" else None


def _array_summary(entry: ArrayEntry, role: str, sources: _Sources, sample_rows: int, budget: int,
                   late: bool) -> ArraySummary:
    common = dict(name=entry.name, shape=tuple(entry.shape), dtype=entry.dtype, dimensions=tuple(entry.dimensions),
                  units=entry.attributes.get("units", ""), long_name=entry.attributes.get("long_name", ""), role=role)
    if _numeric_dtype(entry.dtype) is None:
        return ArraySummary(**common, note=f"{entry.dtype} values, not numbers")
    if not entry.shape:
        return ArraySummary(**common, note="a single value")
    if late:
        return ArraySummary(**common, note="not sampled: the other arrays took the time")
    row_bytes = _row_bytes(entry.shape, entry.dtype)
    if row_bytes > MAX_ROW_BYTES:
        return ArraySummary(**common, note=f"not sampled: one row is {_bytes_text(row_bytes)}")
    values = summarise_values(sources.rows(entry.name), sample_rows=sample_rows, budget_bytes=budget,
                              rows_total=entry.shape[0])
    return ArraySummary(**common, values=values)


def _row_bytes(shape: tuple[int, ...], dtype: str | np.dtype) -> int:
    return int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize


# ---------------------------------------------------------------- values on a bounded sample

def block_ranges(total: int, wanted: int, blocks: int = BLOCKS) -> list[tuple[int, int]]:
    """[start, stop) runs of rows holding `wanted` of `total`: all of them when they fit, else
    `blocks` contiguous runs at the start, the middle and the end (a file is often sorted by
    time or class, so its start alone can mislead; one read per run, not one per row)."""
    if total <= 0 or wanted <= 0:
        return []
    if wanted >= total:
        return [(0, total)]
    if wanted < blocks or blocks < 2:
        return [(0, wanted)]
    # Evenly spaced from the first row to the last (with 3 blocks: the start, middle and end),
    # the first blocks one row longer where `wanted` does not divide, so exactly `wanted` are read.
    sizes = [wanted // blocks + (index < wanted % blocks) for index in range(blocks)]
    gap = total - wanted
    ranges, before = [], 0
    for index, size in enumerate(sizes):
        start = before + (index * gap) // (blocks - 1)
        ranges.append((start, start + size))
        before += size
    return ranges


def summarise_values(source: Any, *, sample_rows: int = SAMPLE_ROWS, budget_bytes: int = SAMPLE_BYTES,
                     rows_total: int | None = None) -> ValueRange:
    """The range, NaN and infinite counts of a RowSource's values, on at most `sample_rows` rows
    and `budget_bytes` bytes read in BLOCKS contiguous runs. `rows_total` is the array's length
    when the source can only read its first rows (source.shape[0] of them)."""
    readable = int(source.shape[0])
    total = readable if rows_total is None else int(rows_total)
    row_bytes = max(1, _row_bytes(tuple(source.shape), source.dtype))
    wanted = min(readable, sample_rows, max(1, budget_bytes // row_bytes))
    low = high = None
    nan_count = infinite_count = rows_read = 0
    for start, stop in block_ranges(readable, wanted):
        block = np.asarray(source.read(np.arange(start, stop, dtype=np.int64)))
        rows_read += stop - start
        if block.dtype.kind == "b":
            block = block.astype(np.uint8)
        if block.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                finite = np.isfinite(block)
            nan_count += int(np.count_nonzero(np.isnan(block)))
            infinite_count += int(np.count_nonzero(np.isinf(block)))
            block = block[finite]
        if block.size:
            block_low, block_high = float(block.min()), float(block.max())
            low = block_low if low is None else min(low, block_low)
            high = block_high if high is None else max(high, block_high)
    return ValueRange(low, high, nan_count, infinite_count, rows_read, total, rows_read * row_bytes,
                      head_only=readable < total)


def npz_member_rows(path: Path, name: str) -> Any:
    """The rows of one array of an .npz without reading it whole where that can be helped: a
    stored (uncompressed, numpy.savez's) member is memory-mapped at its place in the zip; a
    compressed one is read whole up to COMPRESSED_WHOLE_BYTES, else only its first rows (a
    `_HeadRows`, whose shape[0] is the rows it holds)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(f"{name}.npy")
            with archive.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran_order, dtype = read_header(handle)
                data_start = handle.tell()
                if dtype.hasobject:
                    raise DatasetError(f"{path}: {name} holds Python objects; only numeric arrays are read")
                if info.compress_type == zipfile.ZIP_STORED:
                    offset = _member_data_offset(path, info) + data_start
                    values = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape),
                                       order="F" if fortran_order else "C") if np.prod(shape) else np.zeros(shape, dtype)
                    return MemoryRows(values, path)
                if info.file_size <= COMPRESSED_WHOLE_BYTES or fortran_order or not shape:
                    return MemoryRows(np.load(path, allow_pickle=False)[name], path)
                row_bytes = max(1, _row_bytes(tuple(shape), dtype))
                count = min(shape[0], max(1, SAMPLE_BYTES // row_bytes))
                head = np.frombuffer(handle.read(count * row_bytes), dtype=dtype).reshape((count, *shape[1:]))
                return _HeadRows(head, path, int(shape[0]))
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise DatasetError(f"{path}: not a readable .npz archive ({error}); the file may be truncated or damaged") from None


class _HeadRows(MemoryRows):
    """The first rows of a compressed .npz member (reading on would decompress the whole)."""

    def __init__(self, values: np.ndarray, path: Path, rows_total: int):
        super().__init__(values, path)
        self.rows_total = rows_total


def _member_data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes start in the zip: after its local header, whose name and
    extra field lengths may differ from the central directory's."""
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ValueError(f"no local header for {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_length + extra_length


# ---------------------------------------------------------------- labels

def summarise_labels(values: np.ndarray, array: str, role: str = "y", *, class_names: tuple[str, ...] = (),
                     rows_total: int | None = None, task: str = "") -> LabelSummary:
    """The class balance of class labels (a 0/1 matrix: samples per label), else a histogram of
    the targets. `rows_total` when `values` is a sample of them; `task` when it is known."""
    from kerastui.core.tasks import TaskError, infer_task

    values = np.asarray(values)
    total = len(values) if rows_total is None else rows_total
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if not task:
        try:
            task = infer_task(values) if values.size else ""
        except TaskError:
            task = ""
    common = dict(array=array, role=role, task=task, rows_read=len(values), rows_total=total)
    if values.dtype.kind not in "biuf":
        return LabelSummary(**common, note=f"{values.dtype} labels: neither classes nor numbers")
    if values.ndim == 2 and task == "multilabel":
        counts = np.asarray(values != 0).sum(axis=0)
        names = [_class_name(i, class_names) for i in range(values.shape[1])]
        return LabelSummary(**common, classes=tuple(ClassCount(n, int(c)) for n, c in zip(names, counts)))
    flat = values.reshape(-1)
    if task in ("multiclass", "binary") or (flat.dtype.kind in "biu" and len(np.unique(flat)) <= MAX_CLASSES):
        found, counts = np.unique(flat, return_counts=True)
        if len(found) <= MAX_CLASSES:
            named = [ClassCount(_class_name(int(v) if flat.dtype.kind in "biu" else v, class_names), int(c))
                     for v, c in zip(found, counts)]
            return LabelSummary(**common, classes=tuple(named))
    finite = flat[np.isfinite(flat)] if flat.dtype.kind == "f" else flat
    note = "" if values.ndim == 1 else f"all {values.shape[1]} target columns together"
    if len(finite) < len(flat):
        note = "; ".join(filter(None, [note, f"{len(flat) - len(finite):,} NaN or infinite left out"]))
    if not len(finite):
        return LabelSummary(**common, note=note or "no finite value")
    counts, edges = np.histogram(finite.astype(np.float64), bins=HISTOGRAM_BINS)
    return LabelSummary(**common, histogram=Histogram(tuple(float(e) for e in edges), tuple(int(c) for c in counts)),
                        note=note)


def _class_name(value: Any, class_names: tuple[str, ...]) -> str:
    if isinstance(value, (int, np.integer)) and 0 <= int(value) < len(class_names):
        return str(class_names[int(value)])
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
        if 0 <= value < len(class_names):
            return str(class_names[value])
    return str(value)


def _read_labels(source: Any, rows_total: int) -> tuple[np.ndarray, bool]:
    """The labels whole when they are few (LABEL_ROWS, LABEL_BYTES), else a sample of
    LABEL_BLOCKS runs spread over them; and whether they are whole."""
    row_bytes = max(1, _row_bytes(tuple(source.shape), source.dtype))
    readable = int(source.shape[0])
    wanted = min(LABEL_ROWS, LABEL_BYTES // row_bytes)
    if readable <= wanted:
        return np.asarray(source.read(np.arange(readable, dtype=np.int64))), readable >= rows_total
    parts = [np.asarray(source.read(np.arange(a, b, dtype=np.int64)))
             for a, b in block_ranges(readable, wanted, LABEL_BLOCKS)]
    return np.concatenate(parts), False


def _file_labels(path: Path, settings: DataSettings, sources: _Sources, by_role: dict[str, str],
                 notes: list[str]) -> tuple[LabelSummary, ...]:
    names = _file_class_names(path, sources)
    found: list[LabelSummary] = []
    if settings.labels:
        from kerastui.core.datasets import keyed_arrays

        values = keyed_arrays.labels_from_file(path, settings, path)  # the one reader of labels files
        sources.separate_labels = np.asarray(values)
        found.append(summarise_labels(values, Path(settings.labels).name, "y", class_names=names))
    for role in ("y", "y_test"):
        name = by_role.get(role)
        if not name:
            continue
        entry = next(e for e in sources.entries if e.name == name)
        if _numeric_dtype(entry.dtype) is None or not entry.shape:
            notes.append(f"{name} ({role}) holds {entry.dtype} values of shape {tuple(entry.shape)}: not labels")
            continue
        if _row_bytes(entry.shape, entry.dtype) > MAX_ROW_BYTES:
            notes.append(f"{name} ({role}) has rows of {_bytes_text(_row_bytes(entry.shape, entry.dtype))}: not labels")
            continue
        values, _ = _read_labels(sources.rows(name), entry.shape[0])  # rows_read < rows_total says a sample
        found.append(summarise_labels(values, name, role, class_names=names, rows_total=entry.shape[0]))
    if not found and by_role.get("x"):
        notes.append("no labels found: name them with --y KEY (or [data] y = \"KEY\", or labels = \"FILE\")")
    return tuple(found)


def _file_class_names(path: Path, sources: _Sources) -> tuple[str, ...]:
    """An array of class names beside the labels (an npz's class_names), when there is one."""
    entry = next((e for e in sources.entries if e.name == "class_names"), None)
    if entry is None or len(entry.shape) != 1 or entry.shape[0] > 10_000:
        return ()
    try:
        if sources.form == "npz":
            with np.load(path, allow_pickle=False) as archive:
                raw = archive["class_names"]
        elif sources.form in ("hdf5", "netcdf4"):
            import h5py

            with h5py.File(path, "r") as handle:
                raw = handle["class_names"][()]
        else:
            return ()
    except (OSError, ValueError, KeyError, TypeError):
        return ()
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(raw).reshape(-1))


# ---------------------------------------------------------------- the sample

def _file_sample(path: Path, sources: _Sources, entries: list[ArrayEntry], by_role: dict[str, str],
                 settings: DataSettings, index: int, class_names: tuple[str, ...], notes: list[str]) -> Sample | None:
    name = by_role["x"]
    entry = next(e for e in entries if e.name == name)
    if _numeric_dtype(entry.dtype) is None or not entry.shape:
        notes.append(f"{name} holds {entry.dtype} values of shape {tuple(entry.shape)}: nothing to draw")
        return None
    axes = tuple(settings.axes)
    if axes:
        bad = axes_problems(list(axes), len(entry.shape))
        if bad:
            raise DatasetError(f"{path}: axes {list(axes)}: {bad[0].message}; {name} has shape {tuple(entry.shape)}")
    if entry.shape[0] == 0:
        notes.append(f"{name} holds no samples")
        return None
    if not 0 <= index < entry.shape[0]:
        raise DatasetError(f"{path}: sample {index} is outside {name}'s rows 0..{entry.shape[0] - 1}")
    row_bytes = _row_bytes(entry.shape, entry.dtype)
    if row_bytes > MAX_ROW_BYTES:
        notes.append(f"{name}: one sample is {_bytes_text(row_bytes)}, too large to draw")
        return None
    source = sources.rows(name)
    if index >= source.shape[0]:
        notes.append(f"sample {index} lies past the rows of a compressed .npz member read cheaply; "
                     f"the first {source.shape[0]:,} can be drawn")
        return None
    raw = np.asarray(source.read(np.array([index], dtype=np.int64)))
    values = np.array(Preprocessing(axes=axes).arranged(raw)[0])  # a copy: no view of a file's map
    label = _sample_label(sources, by_role, index, class_names)
    sample = sample_as_kind(values, name, index, label=label, dimensions=_sample_dimensions(entry, axes))
    if sample.kind == SIGNAL and any("channels first" in n for n in sample.notes) and not axes:
        order = ",".join(str(a) for a in (0, *range(2, len(entry.shape)), 1))
        notes.append(f"{name} looks channels first {tuple(entry.shape)}: the model wants (N, T, C); "
                     f"--axes {order} (or [data] axes = [{order.replace(',', ', ')}]) puts the channels last")
    return sample


def _sample_dimensions(entry: ArrayEntry, axes: tuple[int, ...]) -> tuple[str, ...]:
    dims = tuple(entry.dimensions)
    if len(dims) != len(entry.shape):
        return ()
    return tuple(dims[a] for a in axes[1:]) if axes else dims[1:]


def _sample_label(sources: _Sources, by_role: dict[str, str], index: int, class_names: tuple[str, ...]) -> str:
    name = by_role.get("y")
    if not name:
        separate = sources.separate_labels
        return _label_text(separate[index], class_names) if separate is not None and index < len(separate) else ""
    entry = next(e for e in sources.entries if e.name == name)
    if _numeric_dtype(entry.dtype) is None or not entry.shape or _row_bytes(entry.shape, entry.dtype) > MAX_ROW_BYTES:
        return ""
    source = sources.rows(name)
    if index >= source.shape[0]:
        return ""
    return _label_text(np.asarray(source.read(np.array([index], dtype=np.int64)))[0], class_names)


def _label_text(value: Any, class_names: tuple[str, ...] = ()) -> str:
    """A label as a person reads it: its class's name, a number, or the first values of a row."""
    value = np.asarray(value)
    if value.size == 1:
        value = value.reshape(())
    if value.ndim:
        shown = ", ".join(_number(float(v)) for v in value.reshape(-1)[:8])
        return f"[{shown}{', …' if value.size > 8 else ''}]"
    if value.dtype.kind in "biu":
        return _class_name(int(value), class_names)
    if value.dtype.kind == "f":
        return _number(float(value))
    return str(value)


def sample_as_kind(values: np.ndarray, array: str, row: int, *, label: str = "", hint: str = "",
                   dimensions: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> Sample:
    """One sample (without its sample axis) arranged as its kind draws (see Sample). `hint` is the
    data set's own kind when it is known (a built-in's); else the kind is told by the shape, the
    type and the values, as kerastui.core.datasets.npz_file.kind_of tells a file's."""
    from kerastui.core.datasets.npz_file import MAX_SIGNAL_CHANNELS, kind_of

    values = np.asarray(values)
    notes: list[str] = []
    kind = hint
    if values.ndim == 0:
        values = values.reshape(1)
    if not kind:
        if values.ndim == 1:
            kind = kind_of(values[np.newaxis])
        elif values.ndim == 2 and {d.lower() for d in dimensions} & GRID_DIMENSIONS:
            kind = GRID
        elif values.ndim == 2:
            rows, columns = values.shape
            if (values.dtype != np.uint8 and rows <= MAX_SIGNAL_CHANNELS and rows < columns
                    and columns > MAX_SIGNAL_CHANNELS):
                values = values.T
                notes.append(f"channels first ({rows}, {columns}): drawn as {columns} steps × {rows} channels")
                kind = SIGNAL
            else:
                kind = kind_of(values[np.newaxis])
        else:
            kind = IMAGE
    if kind == IMAGE:
        return _image_sample(values, array, row, label, names, notes)
    if kind == GRID:
        low, high = _finite_range(values)
        return Sample(GRID, values.astype(np.float64), low, high, array, row, label, names, tuple(notes))
    if kind == SIGNAL:
        signal = values.reshape(values.shape[0], -1) if values.ndim >= 2 else values[:, np.newaxis]
        low, high = _finite_range(signal)
        return Sample(SIGNAL, signal.astype(np.float64), low, high, array, row, label, names, tuple(notes))
    flat = values.reshape(-1)
    low, high = _finite_range(flat)
    if values.ndim > 1:
        notes.append(f"shape {values.shape} shown flat")
    return Sample(kind if kind in (TEXT, TABULAR) else TABULAR, flat, low, high, array, row, label, names, tuple(notes))


def _image_sample(values: np.ndarray, array: str, row: int, label: str, names: tuple[str, ...],
                  notes: list[str]) -> Sample:
    """Pictures (8- or 16-bit pixels, RGB, or floats in 0..1) as images; other 2-D fields as grids.
    More than an image's axes: the first channel (H, W, C > 4) or the first slice (D, H, W)."""
    original = values.shape
    while values.ndim > 2 and not (values.ndim == 3 and values.shape[-1] in (1, 3, 4)):
        if values.ndim == 3 and values.shape[-1] <= 16 and values.shape[-1] < min(values.shape[:2]):
            values = values[..., 0]
        else:
            values = values[0]
    if values.shape != original:
        notes.append(f"a {'×'.join(map(str, values.shape))} slice of {original} (index 0 on the other axes)")
    if values.ndim == 3 and values.shape[-1] == 1:
        values = values[..., 0]
    common = dict(array=array, row=row, label=label, names=names, notes=tuple(notes))
    if values.dtype == np.uint8:
        return Sample(IMAGE, values, 0.0, 255.0, **common)
    if values.dtype == np.uint16:
        return Sample(IMAGE, values, 0.0, 65535.0, **common)
    if values.dtype.kind == "b":
        return Sample(IMAGE, values.astype(np.uint8), 0.0, 1.0, **common)
    low, high = _finite_range(values)
    unit_range = values.dtype.kind == "f" and low >= 0.0 and high <= 1.0
    if values.ndim == 3:  # RGB(A)
        return Sample(IMAGE, values, *((0.0, 1.0) if unit_range else (low, high)), **common)
    if unit_range:
        return Sample(IMAGE, values, 0.0, 1.0, **common)
    return Sample(GRID, values.astype(np.float64), low, high, **common)


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 0.0
    return float(values.min()), float(values.max())


# ---------------------------------------------------------------- data sets in memory

def inspect_dataset(dataset: Dataset, source: str, form: str, *, sample_rows: int = SAMPLE_ROWS,
                    sample_index: int = 0) -> Inspection:
    """A data set already in memory (a built-in, a CSV table, IDX files), as loaded: its four
    splits, their labels and one training sample."""
    arrays = []
    for role, name in (("x", "x_train"), ("y", "y_train"), ("x_test", "x_test"), ("y_test", "y_test")):
        values = np.asarray(getattr(dataset, name))
        summary = summarise_values(MemoryRows(values), sample_rows=sample_rows) if values.ndim else None
        arrays.append(ArraySummary(name, tuple(values.shape), str(values.dtype), role=role, values=summary))
    names = tuple(dataset.class_names)
    task = dataset.task
    labels = tuple(summarise_labels(np.asarray(y), name, role, task=task,
                                    class_names=names if task in ("multiclass", "binary", "multilabel") else ())
                   for role, name, y in (("y", "y_train", dataset.y_train), ("y_test", "y_test", dataset.y_test)))
    if not 0 <= sample_index < len(dataset.y_train):
        raise DatasetError(f"{source}: sample {sample_index} is outside x_train's rows 0..{len(dataset.y_train) - 1}")
    value = np.asarray(dataset.y_train[sample_index])
    label = _dataset_label(value, task, names)
    sample = sample_as_kind(np.asarray(dataset.x_train[sample_index]), "x_train", sample_index, label=label,
                            hint=dataset.kind, names=tuple(dataset.feature_names))
    notes = (f"{dataset.title or dataset.name}: as kerastui loads it (images scaled to 0..1; a seeded test split "
             "where the set has none)",) if form == "builtin" else ()
    return Inspection(source=source, form=form, arrays=tuple(arrays), x="x_train", y="y_train", x_test="x_test",
                      y_test="y_test", labels=labels, sample=sample, notes=notes)


def _dataset_label(value: np.ndarray, task: str, names: tuple[str, ...]) -> str:
    if value.ndim == 1 and task == "multilabel":
        return ", ".join(_class_name(i, names) for i in np.flatnonzero(value)) or "(none)"
    return _label_text(value, names if task in ("multiclass", "binary") else ())


# ---------------------------------------------------------------- folders of images

def inspect_image_folder(path: Path, settings: DataSettings | None = None, *, source: str = "",
                         sample_index: int = 0) -> Inspection:
    """A folder of images (class subfolders, train/ val/ test/, or a labels CSV) from
    image_folder.folder_summary (listing and headers only): one row per split, the class balance
    of each split, and one image (the `sample_index`-th of the sample files) as a picture."""
    from kerastui.core.datasets import image_folder

    settings = settings if settings is not None else DataSettings()
    return folder_inspection(Path(path), source or str(path), image_folder.folder_summary(Path(path), settings),
                             sample_index)


def folder_inspection(path: Path, source: str, summary: dict[str, Any], sample_index: int = 0) -> Inspection:
    """An Inspection of folder_summary's dictionary: each split is an ArraySummary (N, H, W, C) of
    uint8 pixels as they will be read; each split's class balance a LabelSummary whose role is
    the split (train, val, test, or all when a share is to be held out)."""
    height, width = (list(summary.get("image_size") or []) + [0, 0])[:2]
    channels = 1 if summary.get("color") == "grayscale" else 3
    class_names = tuple(str(n) for n in summary.get("class_names") or ())
    task = ("binary" if len(class_names) == 2 else "multiclass") if class_names else ""
    arrays, labels = [], []
    for split, count in dict(summary.get("split_sizes") or {}).items():
        arrays.append(ArraySummary(str(split), (int(count), int(height), int(width), channels), "uint8",
                                   role="x" if split in ("train", "all") else ("x_test" if split == "test" else ""),
                                   note=f"decoded and resized to {height}×{width} when read"))
    for split, per_class in dict(summary.get("counts") or {}).items():
        total = sum(int(c) for c in per_class.values())
        classes = tuple(ClassCount(str(n), int(c)) for n, c in per_class.items()) if class_names else ()
        note = "" if class_names else f"labels from {Path(summary.get('labels_file') or 'a labels file').name}"
        labels.append(LabelSummary(array=str(split), role=str(split), task=task, classes=classes, rows_read=total,
                                   rows_total=total, note=note))
    notes = [f"layout: {summary['layout']}"] if summary.get("layout") else []
    if summary.get("skipped_count"):
        shown = "; ".join(f"{Path(f).name} ({why})" for f, why in list(summary.get("skipped") or [])[:3])
        notes.append(f"{summary['skipped_count']:,} file(s) skipped: {shown}")
    if summary.get("sizes_seen"):
        seen = ", ".join(f"{h}×{w} ({n:,})" for h, w, n in summary["sizes_seen"][:3])
        notes.append(f"image sizes seen: {seen}; each is resized to {height}×{width} ([data] image_size)")
    files = [(str(name), str(f)) for name, group in dict(summary.get("sample_files") or {}).items() for f in group]
    sample = None
    if files:
        label, file = files[min(max(sample_index, 0), len(files) - 1)]
        file_path = Path(file) if Path(file).is_absolute() else path / file
        pixels = _small_image(file_path, notes)
        if pixels is not None:
            sample = Sample(IMAGE, pixels, 0.0, 255.0, file_path.name, 0, label if class_names else "")
    return Inspection(source=source, form="image_folder", arrays=tuple(arrays),
                      x="train" if "train" in (summary.get("split_sizes") or {}) else "all",
                      labels=tuple(labels), sample=sample, notes=tuple(notes))


def _small_image(path: Path, notes: list[str], side: int = 256) -> np.ndarray | None:
    """A picture as 8-bit RGB, shrunk to at most `side` pixels (a terminal shows no more)."""
    import stat

    from PIL import Image, UnidentifiedImageError

    try:
        if not stat.S_ISREG(path.stat().st_mode):  # listed as an image, replaced since by a FIFO
            notes.append(f"{path.name}: not drawn (not a regular file any more)")
            return None
        with Image.open(path) as image:
            image.thumbnail((side, side))
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as error:
        notes.append(f"{path.name}: not drawn ({error})")
        return None


# ---------------------------------------------------------------- words

def _number(value: float) -> str:
    """A value short enough for a table cell: 0.5, 1e-21, 3.4e+38, 60000."""
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e9:
        return str(int(value))
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3g}"


def _bytes_text(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"


number_text = _number
bytes_text = _bytes_text
