"""Inputs read from their file on demand, a batch at a time, never all in memory.

A `StreamedArray` is a view of some rows of a `RowSource` (an HDF5 dataset, a NetCDF variable, a
memory-mapped .npy, an array in memory, a folder of images) through a `Preprocessing` (axis order,
pixel scale, standardisation). It looks enough like a numpy array (len, shape, x[i], x[a:b],
x[[3, 1, 2]]) for the views that show a few samples, and the model reads it through
kerastui.core.batches. Train, validation and test splits are views of index arrays over the same
source: no split is ever a copy.

Sources are opened lazily and reopened in each process (they pickle as their path and key), so
a batch loader's workers and a Slurm job read the file themselves.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kerastui.core.datasets.base import DatasetError, non_finite_problem

# The streaming passes (statistics, NaN counts) read about this many bytes at a time.
PASS_CHUNK_BYTES = 32 * 1024 * 1024


class RowSource(Protocol):
    """Rows of one array in a file: `read(rows)` with rows sorted, ascending, unique."""

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    # Positions of the rows the source holds for validation (an image folder's val/); None: the
    # experiment's fit.validation_split decides.
    validation_positions: np.ndarray | None
    # A NetCDF variable's CF packing (kerastui.core.datasets.array_files.Packing: scale, offset,
    # fill values), unpacked by read(); None for everything else.
    packing: Any
    key: str  # the array's name in its file ("" where the file holds one)

    def read(self, rows: np.ndarray) -> np.ndarray: ...

    def check_unchanged(self) -> None:
        """A DatasetError naming the change when the data was rewritten since it was opened."""


# A read of rows close together takes the whole stretch between them when it is at most this
# much larger than the rows asked for (or this small): one hyperslab beats a selection per row.
SPAN_FACTOR = 4
SMALL_SPAN_BYTES = 16 * 1024 * 1024


def read_sorted(array: Any, rows: np.ndarray) -> np.ndarray:
    """array[rows] for ascending unique rows. h5py reads a point selection row by row (and a
    chunk per row), so rows close together are read as one slice and picked in memory, and rows
    far apart as one slice per run of neighbours."""
    if not len(rows):
        return np.asarray(array[0:0])
    first, last = int(rows[0]), int(rows[-1])
    span = last - first + 1
    if span == len(rows):
        return np.asarray(array[first:last + 1])
    row_bytes = int(np.prod(array.shape[1:], dtype=np.int64)) * np.dtype(array.dtype).itemsize
    if span <= SPAN_FACTOR * len(rows) or span * row_bytes <= SMALL_SPAN_BYTES:
        return np.asarray(array[first:last + 1])[rows - first]
    breaks = np.flatnonzero(np.diff(rows) > 1) + 1
    runs = np.split(rows, breaks)
    return np.concatenate([np.asarray(array[int(run[0]):int(run[-1]) + 1]) for run in runs])


@dataclass
class MemoryRows:
    """An array already in memory (an npz's, or labels): its batches are slices."""

    values: np.ndarray
    path: Path = Path("")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def read(self, rows: np.ndarray) -> np.ndarray:
        return self.values[rows]

    # Not fields: memory holds no validation rows of its own, no packing, no key in a file.
    validation_positions = None
    packing = None
    key = ""

    def check_unchanged(self) -> None:
        pass  # nothing on disk to change


def _file_signature(stat: os.stat_result) -> tuple[int, int, int, int]:
    # The inode and device too: a file replaced by another (mv new.h5 data.h5) keeps its name.
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_dev)


class FileRows:
    """Base of the file-backed sources: opened on first read, once per process, and checked
    before every read against the file's size, time of change and inode, so that a file
    rewritten, truncated or replaced mid-run is named (a stat costs microseconds a batch)."""

    validation_positions: np.ndarray | None = None  # an array in a file has no validation rows of its own
    packing: Any = None  # array_files.Packing, for the NetCDF sources that unpack

    def __init__(self, path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype):
        self.path, self.key, self.shape, self.dtype = Path(path), key, tuple(shape), np.dtype(dtype)
        self.signature = _file_signature(os.stat(self.path))
        self._handle: Any = None
        self._lock = threading.Lock()
        self._pid = -1

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_handle"], state["_lock"], state["_pid"] = None, None, -1
        state.pop("_file", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def open(self) -> Any:
        """The array object (an h5py Dataset, a memmap, ...)."""
        raise NotImplementedError

    def readable(self, handle: Any) -> Any:
        """What the rows are sliced from: the opened object itself, or a reader over it."""
        return handle

    def check_unchanged(self) -> None:
        try:
            stat = os.stat(self.path)
        except OSError as error:
            raise DatasetError(f"{self.path}: cannot be read any more ({error.strerror or error}); "
                               "it was moved or removed while in use") from None
        now = _file_signature(stat)
        if now != self.signature:
            if now[2:] != self.signature[2:]:
                what = "it was replaced by another file"
            elif now[0] < self.signature[0]:
                what = f"it was truncated from {self.signature[0]:,} to {now[0]:,} bytes"
            elif now[0] != self.signature[0]:
                what = f"its size went from {self.signature[0]:,} to {now[0]:,} bytes"
            else:
                what = "it was written to (its time of change moved)"
            raise DatasetError(f"{self.path}: the file changed while it was in use: {what}; training reads it "
                               "batch by batch, so leave it unchanged until the run ends (or copy it first)")

    def read(self, rows: np.ndarray) -> np.ndarray:
        with self._lock:  # h5py serialises reads anyway; one handle per process is enough
            self.check_unchanged()
            try:
                if self._handle is None or self._pid != os.getpid():
                    self._handle, self._pid = self.readable(self.open()), os.getpid()
                return read_sorted(self._handle, rows)
            except (OSError, ValueError, KeyError, RuntimeError) as error:
                self.check_unchanged()
                where = f" at rows {int(rows[0])}..{int(rows[-1])}" if len(rows) else ""
                raise DatasetError(f"{self.path}: {self.key or 'the array'} could not be read{where} ({error}); "
                                   "the file may be truncated or damaged") from None


@dataclass(frozen=True)
class Preprocessing:
    """What is done to each raw sample before the model sees it: plain data, saved with the run
    (preprocessing.json) so that evaluation, export and a submission do exactly the same."""

    axes: tuple[int, ...] = ()  # a new axis order, the sample axis first; () keeps the file's
    scale: float = 1.0  # pixels: 1/255 for 8-bit values
    standardize: str = "none"  # none | per_sample | per_feature
    mean: tuple[float, ...] = ()  # per_feature: one per feature (the last axis), training split only
    deviation: tuple[float, ...] = ()
    expand_channel: bool = False  # (N, H, W) images and (N, T) signals gain a channel axis
    dtype: str = "float32"  # int32 for word indices, which are never scaled

    @property
    def needs_statistics(self) -> bool:
        return self.standardize == "per_feature" and not self.mean

    def sample_shape(self, raw_sample_shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(raw_sample_shape[a - 1] for a in self.axes[1:]) if self.axes else tuple(raw_sample_shape)
        return (*shape, 1) if self.expand_channel else shape

    def arranged(self, raw: np.ndarray) -> np.ndarray:
        """Raw rows in the model's axis order, with the channel axis (no scaling)."""
        x = np.transpose(raw, self.axes) if self.axes else raw
        return x[..., np.newaxis] if self.expand_channel else x

    def apply(self, raw: np.ndarray) -> np.ndarray:
        x = self.arranged(raw)
        if self.dtype != "float32":
            return x.astype(self.dtype, copy=False)
        with np.errstate(over="ignore"):  # beyond float32 is refused by scan_and_fit before a model sees it
            x = x.astype(np.float32, copy=True)
        if self.scale != 1.0:
            x *= np.float32(self.scale)
        if self.standardize == "per_feature" and self.mean:
            # Without statistics (a data set loaded only to be looked at, never trained on) the
            # values show unstandardised; training and evaluation always prepare_dataset first.
            x -= np.asarray(self.mean, dtype=np.float32)
            x /= np.asarray(self.deviation, dtype=np.float32)
        elif self.standardize == "per_sample" and x.ndim >= 2:
            # Each sample, channel by channel (the last axis), over all its other positions.
            over = tuple(range(1, x.ndim - 1)) if x.ndim > 2 else (1,)
            centre = x.mean(axis=over, keepdims=True)
            spread = x.std(axis=over, keepdims=True)
            spread[spread == 0] = 1.0
            x -= centre
            x /= spread
        return x

    def to_dict(self) -> dict[str, Any]:
        return {"axes": list(self.axes), "scale": self.scale, "standardize": self.standardize,
                "mean": list(self.mean), "deviation": list(self.deviation),
                "expand_channel": self.expand_channel, "dtype": self.dtype}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        return cls(axes=tuple(data.get("axes", ())), scale=float(data.get("scale", 1.0)),
                   standardize=str(data.get("standardize", "none")), mean=tuple(data.get("mean", ())),
                   deviation=tuple(data.get("deviation", ())), expand_channel=bool(data.get("expand_channel", False)),
                   dtype=str(data.get("dtype", "float32")))


@dataclass(frozen=True, eq=False)
class StreamedArray:
    """Rows `rows` of `source`, prepared by `preprocessing`; see the module's docstring."""

    source: RowSource
    rows: np.ndarray  # positions in the source, in this view's order
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    kind: str = ""  # image, tabular, signal or text: names positions in messages

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows), *self.preprocessing.sample_shape(tuple(self.source.shape[1:])))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.preprocessing.dtype)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def raw(self, positions: np.ndarray) -> np.ndarray:
        """The file's rows at these positions of the view, in the view's order, unprepared."""
        wanted = self.rows[np.asarray(positions, dtype=np.int64)]
        order = np.argsort(wanted, kind="stable")
        unique, inverse = np.unique(wanted[order], return_inverse=True)
        values = self.source.read(unique)
        back = np.empty(len(wanted), dtype=np.int64)
        back[order] = inverse
        return values[back]

    def take(self, positions: np.ndarray) -> np.ndarray:
        """Prepared samples at these positions of the view (what a batch holds)."""
        return self.preprocessing.apply(self.raw(positions))

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            index = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= index < len(self):
                raise IndexError(f"sample {key} is outside 0..{len(self) - 1}")
            return self.take(np.array([index]))[0]
        positions = np.arange(len(self))[key]
        return self.take(positions)

    def subset(self, positions: np.ndarray | slice) -> StreamedArray:
        """A view of some of this view's rows (a validation part, a split): indices, not data."""
        return replace(self, rows=self.rows[positions])

    def with_preprocessing(self, preprocessing: Preprocessing) -> StreamedArray:
        return replace(self, preprocessing=preprocessing)

    def chunks(self) -> Any:
        """(first position, raw rows) in order, about PASS_CHUNK_BYTES at a time."""
        row_bytes = max(1, int(np.prod(self.source.shape[1:], dtype=np.int64)) * np.dtype(self.source.dtype).itemsize)
        step = max(1, PASS_CHUNK_BYTES // row_bytes)
        order = np.argsort(self.rows, kind="stable")  # read the file front to back
        for start in range(0, len(order), step):
            positions = order[start:start + step]
            yield positions, self.source.read(self.rows[positions])


@dataclass
class _NonFinite:
    """NaN and infinite values found in one array of a file, over every split that reads it."""

    values: int = 0
    samples: int = 0
    beyond_float32: int = 0  # finite float64 values the model's float32 would make infinite
    first_beyond: int | None = None
    first_row: int | None = None  # the row in the file
    first_position: tuple[int, ...] = ()  # where in that sample, in the model's axis order
    splits: dict[str, int] = field(default_factory=dict)  # samples per split

    def add(self, split: str, rows: np.ndarray, x: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(x)
            if x.dtype.itemsize > 4 and x.dtype.kind == "f":
                large = (np.abs(x) > np.finfo(np.float32).max) & ~bad
                large_samples = large.reshape(len(x), -1).any(axis=1)
                if large_samples.any():
                    self.beyond_float32 += int(np.count_nonzero(large))
                    first = int(rows[large_samples].min())
                    self.first_beyond = first if self.first_beyond is None else min(self.first_beyond, first)
        per_sample = bad.reshape(len(x), -1).any(axis=1)
        if not per_sample.any():
            return
        self.values += int(np.count_nonzero(bad))
        self.samples += int(np.count_nonzero(per_sample))
        self.splits[split] = self.splits.get(split, 0) + int(np.count_nonzero(per_sample))
        index = int(np.argmin(np.where(per_sample, rows, np.iinfo(np.int64).max)))
        if self.first_row is None or int(rows[index]) < self.first_row:
            self.first_row = int(rows[index])
            inside = np.argwhere(bad[index])
            self.first_position = tuple(int(i) for i in inside[0]) if inside.size else ()

    def problem(self, origin: str, key: str, kind: str, fill_note: str = "") -> DatasetError | None:
        from kerastui.core.datasets.base import position_words

        name = key or "the inputs"
        if self.values:
            plural = "s" if self.values != 1 else ""
            where = f"sample {self.first_row} (its row in the file)"
            position = position_words(self.first_position, kind)
            if position:
                where += f", {position}"
            splits = ", ".join(f"{split}: {count}" for split, count in self.splits.items())
            in_samples = f"in {self.samples} sample{'s' if self.samples != 1 else ''} ({splits})"
            return DatasetError(f"{origin}: {name} has {self.values} NaN or infinite value{plural} {in_samples}; "
                                f"the first at {where}{fill_note}; remove those samples or fill the values")
        if self.beyond_float32:
            return DatasetError(f"{origin}: {name} has {self.beyond_float32} value(s) beyond float32's range "
                                f"(magnitude over {np.finfo(np.float32).max:.3g}), which the model, in float32, would "
                                f"read as infinite; the first at sample {self.first_beyond} (its row in the file); "
                                "rescale the values")
        return None


def _fill_note(source: RowSource) -> str:
    packing = source.packing
    if packing is None or not packing.fill:
        return ""
    values = ", ".join(f"{v:g}" for v in packing.fill)
    return f" (cells holding the variable's _FillValue or missing_value, {values}, are missing values, read as NaN)"


def scan_and_fit(train: StreamedArray, others: dict[str, StreamedArray], origin: str) -> Preprocessing:
    """One streaming pass over each split: NaN and infinite values are counted (how many, in
    which samples, the first by its row in the file) and, for per_feature, the training split's
    mean and deviation per feature are computed (float64 sums, so 10^8 values lose nothing).
    Returns the preprocessing with its statistics."""
    prep = train.preprocessing
    wanted = prep.needs_statistics
    if not wanted and np.dtype(train.source.dtype).kind in "iub":
        return prep  # whole numbers hold no NaN: nothing to count, and an image folder is not decoded twice
    total = squares = None
    count = 0
    found: dict[int, tuple[str, _NonFinite]] = {}  # by source: splits of one array are counted together
    for what, view in {"x_train": train, **others}.items():
        key = view.source.key
        tally = found.setdefault(id(view.source), (key, _NonFinite()))[1]
        for positions, raw in view.chunks():
            x = prep.arranged(raw)
            if x.dtype.kind in "fc":
                tally.add(what, view.rows[positions], x)
            if wanted and what == "x_train" and not tally.values:
                values = x.astype(np.float64).reshape(-1, x.shape[-1]) * prep.scale
                with np.errstate(over="ignore", invalid="ignore"):
                    total = values.sum(axis=0) if total is None else total + values.sum(axis=0)
                    squares = (values ** 2).sum(axis=0) if squares is None else squares + (values ** 2).sum(axis=0)
                count += len(values)
    for what, view in {"x_train": train, **others}.items():
        key, tally = found.pop(id(view.source), ("", None))
        problem = tally.problem(origin, key, train.kind, _fill_note(view.source)) if tally else None
        if problem:
            raise problem
    if not wanted:
        return prep
    if not count:
        raise DatasetError(f"{origin}: the training split is empty")
    with np.errstate(over="ignore", invalid="ignore"):
        mean = total / count
        variance = np.maximum(squares / count - mean ** 2, 0.0)
        deviation = np.sqrt(variance)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(deviation))):
        feature = int(np.flatnonzero(~(np.isfinite(mean) & np.isfinite(deviation)))[0])
        raise DatasetError(f"{origin}: feature {feature} has values too large to standardise (their squares pass "
                           "10^308); rescale it, or set [data] standardize = \"none\" or \"per_sample\"")
    deviation[deviation == 0] = 1.0  # a constant feature is only centred
    return replace(prep, mean=tuple(float(m) for m in mean), deviation=tuple(float(d) for d in deviation))


def first_rows_problem(view: StreamedArray, what: str) -> str | None:
    """NaN in the first rows, for a quick word before the full pass (cheap: one small read)."""
    head = view.take(np.arange(min(len(view), 64)))
    return non_finite_problem(head, what, view.kind)


PREPROCESSING_FILE = "preprocessing.json"


def save_preprocessing(run_dir: Path, preprocessing: Preprocessing) -> None:
    from kerastui.core.atomic import write_text_atomic

    write_text_atomic(Path(run_dir) / PREPROCESSING_FILE, json.dumps(preprocessing.to_dict(), indent=1) + "\n")


def load_preprocessing(run_dir: Path) -> Preprocessing | None:
    path = Path(run_dir) / PREPROCESSING_FILE
    try:
        return Preprocessing.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
