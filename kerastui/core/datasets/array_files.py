"""Files of named arrays: what they hold (read from headers, never the data) and their rows.

  .npy           one array; its layout from the header (memory-mapped for its shape and place),
                 its rows read with positioned reads
  .npz           a zip of arrays; a stored member (numpy.savez) is read in place like a .npy, a
                 compressed one (savez_compressed) is decompressed whole when used
  .h5, .hdf5     HDF5 datasets, by their path in the file ("group/strain"), read with h5py
  .nc, .nc4, .cdf NetCDF variables: NetCDF-4 files are HDF5 underneath and are read with h5netcdf
                 (pure Python over h5py, which Keras already installs: no C library of its own);
                 classic NetCDF-3 files with scipy's netcdf_file

The format is told by the file's first bytes where the name could mislead (a NetCDF-4 file named
.h5, an HDF5 file named .nc). A missing key lists those that exist.

NetCDF variables are unpacked as xarray opens them by default (CF conventions): values equal to
`_FillValue` or `missing_value` become NaN (so they are counted and named like any NaN), then
`scale_factor` and `add_offset` apply, and `_Unsigned = "true"` reads signed bytes as unsigned.
Plain HDF5 datasets, .npy and .npz arrays are read as stored: HDF5 has no such convention.

Rows of a .npy, a stored .npz member or a NetCDF-3 variable are read with positioned reads, not
through a memory map: a mapped file that is truncated while in use kills the process (SIGBUS) on
the next touch, where a read comes back short and is named.
"""

from __future__ import annotations

import os
import struct
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.datasets.base import DatasetError
from kerastui.core.datasets.streamed import FileRows, MemoryRows

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NETCDF3_SIGNATURE = b"CDF"
NPY_SIGNATURE = b"\x93NUMPY"
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".he5")
NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf")
ARRAY_SUFFIXES = (".npy", ".npz", *HDF5_SUFFIXES, *NETCDF_SUFFIXES)
# Labels are read whole (one number or a short row per sample); beyond this a declared shape is
# a damaged header or a data set far past what a login node trains (10^8 int64 labels fit).
LABELS_WHOLE_BYTES = 1_000_000_000


@dataclass(frozen=True)
class Packing:
    """How a NetCDF variable's stored values become its values (CF: _FillValue, missing_value,
    scale_factor, add_offset, _Unsigned), undone as xarray does by default."""

    dtype: str  # of the values once unpacked
    scale: float | None = None
    offset: float | None = None
    fill: tuple[float, ...] = ()
    unsigned: bool = False

    def describe(self) -> str:
        parts = [f"{name} {value:g}" for name, value in (("scale_factor", self.scale), ("add_offset", self.offset))
                 if value is not None]
        parts += [f"fill {value:g}" for value in self.fill]
        return ", ".join(parts)

    def unpack(self, stored: np.ndarray) -> np.ndarray:
        values = np.asarray(stored)
        if self.unsigned and values.dtype.kind == "i":
            values = values.view(values.dtype.str.replace("i", "u"))  # '<i2' -> '<u2'
        out = values.astype(self.dtype, copy=True)
        if self.fill:
            out[np.isin(values, np.asarray(self.fill))] = np.nan
        if self.scale is not None:
            out *= self.scale
        if self.offset is not None:
            out += self.offset
        return out


def _packing(attrs: Any, stored: np.dtype) -> Packing | None:
    def number(name: str) -> float | None:
        value = attrs.get(name) if hasattr(attrs, "get") else None
        if value is None:
            return None
        values = np.ravel(np.asarray(value))
        if not values.size or values.dtype.kind not in "iuf":
            return None
        return float(values[0])

    scale, offset = number("scale_factor"), number("add_offset")
    fill = tuple(float(v) for name in ("_FillValue", "missing_value")
                 for v in np.ravel(np.asarray(attrs.get(name, []) if hasattr(attrs, "get") else []))
                 if np.asarray(v).dtype.kind in "iuf" and not np.isnan(v))
    unsigned = str(_text(attrs.get("_Unsigned", "")) if hasattr(attrs, "get") else "").lower() == "true"
    if stored.kind not in "iuf" or (scale is None and offset is None and not fill and not unsigned):
        return None
    if scale is None and offset is None and not fill:
        return Packing(dtype=np.dtype(stored.str.replace("i", "u")).str, unsigned=True)
    # float32 where it holds the stored values exactly (8- and 16-bit integers, float32), else float64
    small = stored.kind in "iu" and stored.itemsize <= 2 or stored == np.float32
    return Packing(dtype="float32" if small else "float64", scale=scale, offset=offset, fill=fill, unsigned=unsigned)


@dataclass(frozen=True)
class ArrayEntry:
    """One array of a file, as its header describes it."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # as stored
    dimensions: tuple[str, ...] = ()  # NetCDF dimension names, when the file has them
    attributes: dict[str, str] = field(default_factory=dict)  # units, long_name, ...
    # What the values are when they are not plain numbers ("text", "records with fields a, b"): "" for numbers.
    holds: str = ""
    packing: Packing | None = None  # NetCDF variables packed by the CF conventions

    def describe(self) -> str:
        dims = f" ({', '.join(self.dimensions)})" if self.dimensions else ""
        return f"{self.name} {tuple(self.shape)} {self.dtype}{dims}"

    @property
    def values_dtype(self) -> np.dtype:
        """The dtype of the values as read (unpacked)."""
        return np.dtype(self.packing.dtype if self.packing else self.dtype)


def dtype_holds(dtype: Any) -> str:
    """What values of this dtype are, when they are not plain numbers ("" for numbers and booleans)."""
    import h5py

    if dtype is str or dtype is bytes:
        return "text"
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return "values of an unknown type"
    if dtype.names:
        return f"records with fields {', '.join(dtype.names)} (a compound type)"
    if h5py.check_ref_dtype(dtype) is not None:
        return "references to other objects in the file"
    if h5py.check_string_dtype(dtype) is not None or dtype.kind in "SU":
        return "text"
    if h5py.check_vlen_dtype(dtype) is not None:
        return "sequences of varying length"
    return {"O": "Python objects", "c": "complex numbers", "M": "dates and times", "m": "time spans",
            "V": "raw bytes (an opaque type)"}.get(dtype.kind, "")


# ---------------------------------------------------------------- the file itself

def path_problem(path: Path) -> str:
    """Why `path` cannot be opened as a data file, in words ("" when it can): checked with a stat
    before any open, so a FIFO never blocks and a device never feeds endless bytes."""
    from kerastui.core.user_paths import special_file_problem

    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        import errno

        if error.errno == errno.ELOOP:
            return "is a symbolic link loop: give the path of the file itself"
        if os.path.islink(path):
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        if error.errno == errno.ENOENT:
            return "does not exist"
        if error.errno == errno.EACCES:
            return "cannot be reached (permission denied on a folder above it): ask its owner for access, or copy it"
        return f"cannot be read ({error.strerror or error})"
    except ValueError as error:  # a NUL in the name
        return f"is not a usable file name ({error})"
    problem = special_file_problem(path)
    if problem:
        return problem
    import stat

    if stat.S_ISDIR(mode):
        return "is a folder, not a file: name the data file inside it"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied): ask its owner for read access (chmod a+r), or copy it"
    return ""


def file_format(path: Path) -> str:
    """npy, npz, hdf5, netcdf4 or netcdf3, from the first bytes (the suffix where they agree)."""
    problem = path_problem(path)
    if problem:
        raise DatasetError(f"{path}: {problem}")
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not head:
        raise DatasetError(f"{path}: the file is empty (0 bytes); it may not have been written out")
    suffix = path.suffix.lower()
    if head.startswith(HDF5_SIGNATURE):
        return "netcdf4" if suffix in NETCDF_SUFFIXES or _written_as_netcdf4(path) else "hdf5"
    if head.startswith(NETCDF3_SIGNATURE):
        return "netcdf3"
    if head.startswith(NPY_SIGNATURE):
        return "npy"
    if head.startswith(b"PK"):
        return "npz"
    names = {".npy": "a .npy array", ".npz": "a .npz archive", **{s: "an HDF5 file" for s in HDF5_SUFFIXES},
             **{s: "a NetCDF file" for s in NETCDF_SUFFIXES}}
    expected = names.get(suffix, "an array file")
    if head.startswith(b"\x80") and suffix in (".npz", ".npy"):
        raise DatasetError(f"{path}: a Python pickle, not {expected}; kerastui never unpickles (a pickle can run "
                           "any code): save the arrays with numpy.savez or numpy.save")
    raise DatasetError(f"{path}: not {expected} (its first bytes are {head[:8]!r}); the file may be truncated, "
                       "damaged or not what its name says")


def _written_as_netcdf4(path: Path) -> bool:
    """An HDF5 file named .h5 that the NetCDF library (or h5netcdf) wrote: it marks its root."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return "_NCProperties" in handle.attrs
    except (OSError, ValueError):
        return False  # damaged: named when it is described


def _damaged(path: Path, what: str, error: BaseException) -> DatasetError:
    return DatasetError(f"{path}: not a readable {what} ({error}); the file may be truncated or damaged")


def _size_text(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if count < 1000 or unit == "PB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


def memory_budget() -> int:
    """Bytes an array read whole into memory may take: half of what the node has available now."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


# ---------------------------------------------------------------- describing

def describe_arrays(path: Path) -> list[ArrayEntry]:
    """Every array in the file with its shape and type, from the headers alone."""
    kind = file_format(path)
    if kind == "npy":
        layout = _npy_layout(path)
        return [ArrayEntry(path.stem, layout.shape, str(layout.dtype), holds=dtype_holds(layout.dtype))]
    if kind == "npz":
        return _describe_npz(path)
    if kind == "netcdf3":
        return _describe_netcdf3(path)
    if kind == "netcdf4":
        return _describe_netcdf4(path)
    return _describe_hdf5(path)


@dataclass(frozen=True)
class Layout:
    """Where an array's bytes are in a file: C order rows from `offset`, `row_stride` apart."""

    offset: int
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool = False
    row_stride: int = 0  # 0: the rows are packed (a row's bytes apart)

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def _read_npy_header(handle: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    return tuple(int(n) for n in shape), bool(fortran_order), np.dtype(dtype)


def _npy_layout(path: Path) -> Layout:
    """A .npy's header, checked against the file's size (a truncated file is named with both)."""
    try:
        with open(path, "rb") as handle:
            shape, fortran_order, dtype = _read_npy_header(handle)
            offset = handle.tell()
    except (OSError, ValueError, EOFError, SyntaxError) as error:
        raise _damaged(path, ".npy array", error) from None
    layout = Layout(offset, shape, dtype, fortran_order)
    if not dtype.hasobject:
        size = os.stat(path).st_size
        if offset + layout.nbytes > size:
            raise DatasetError(f"{path}: truncated or damaged mid-array: its header declares {shape} {dtype} "
                               f"({_size_text(layout.nbytes)}) but the file holds {_size_text(size - offset)} of data; "
                               "write it out again (numpy.save)")
    return layout


def _describe_npz(path: Path) -> list[ArrayEntry]:
    entries = []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as handle:
                    shape, _, dtype = _read_npy_header(handle)
                entries.append(ArrayEntry(info.filename[:-4], shape, str(dtype), holds=dtype_holds(dtype)))
    except (OSError, ValueError, EOFError, SyntaxError, zipfile.BadZipFile, NotImplementedError) as error:
        raise _damaged(path, ".npz archive", error) from None
    return entries


def _open_hdf5(path: Path) -> Any:
    import h5py

    try:
        # A chunk cache that holds a batch's chunks (the default, 1 MB, holds less than one chunk
        # of most image or signal sets, so neighbouring rows would read their chunk again).
        return h5py.File(path, "r", rdcc_nbytes=64 * 1024 * 1024, rdcc_nslots=10007)
    except (OSError, ValueError) as error:
        raise _damaged(path, "HDF5 file", error) from None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _attributes(attrs: Any) -> dict[str, str]:
    wanted = ("units", "long_name", "standard_name", "description")
    out = {}
    for key in wanted:
        if key in attrs:
            out[key] = _text(attrs[key])
    return out


def _describe_hdf5(path: Path) -> list[ArrayEntry]:
    import h5py

    entries: list[ArrayEntry] = []
    with _open_hdf5(path) as handle:
        def visit(name: str, item: Any) -> None:
            if isinstance(item, h5py.Dataset) and item.shape is not None:
                entries.append(ArrayEntry(name, tuple(item.shape), str(item.dtype), attributes=_attributes(item.attrs),
                                          holds=dtype_holds(item.dtype)))

        try:
            handle.visititems(visit)
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            raise _damaged(path, "HDF5 file", error) from None
    return entries


def _describe_netcdf4(path: Path) -> list[ArrayEntry]:
    import h5netcdf

    entries: list[ArrayEntry] = []
    try:
        # phony_dims: an HDF5 file named .nc has no dimension scales; its arrays still read.
        with h5netcdf.File(path, "r", phony_dims="sort") as handle:
            def walk(group: Any, prefix: str) -> None:
                for name, variable in group.variables.items():
                    dtype = variable.dtype
                    stored = dtype if isinstance(dtype, np.dtype) else np.dtype(object)
                    entries.append(ArrayEntry(prefix + name, tuple(variable.shape), str(stored),
                                              tuple(variable.dimensions), _attributes(variable.attrs),
                                              holds=dtype_holds(dtype), packing=_packing(variable.attrs, stored)))
                for name, child in group.groups.items():
                    walk(child, f"{prefix}{name}/")

            walk(handle, "")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        raise _damaged(path, "NetCDF-4 file", error) from None
    return entries


def _open_netcdf3(path: Path) -> Any:
    from scipy.io import netcdf_file

    try:
        return netcdf_file(path, "r", mmap=True)
    except Exception as error:  # noqa: BLE001  scipy's parser fails on damaged headers with any error
        raise _damaged(path, "NetCDF-3 file", error) from None


def _close_netcdf3(handle: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mapped arrays close with the last reference
        handle.close()


def _describe_netcdf3(path: Path) -> list[ArrayEntry]:
    handle = _open_netcdf3(path)
    try:
        entries = []
        for name, variable in handle.variables.items():
            attributes = {k: _text(v) for k, v in variable._attributes.items() if k in ("units", "long_name")}
            stored = variable.data.dtype
            holds = "text (characters)" if stored.kind == "S" else dtype_holds(stored)
            entries.append(ArrayEntry(name, tuple(variable.shape), str(stored), tuple(variable.dimensions), attributes,
                                      holds=holds, packing=_packing(variable._attributes, stored)))
        return entries
    finally:
        _close_netcdf3(handle)


# ---------------------------------------------------------------- reading rows

class PositionedArray:
    """Rows of an array at a known place in a file, read with positioned reads (os.preadv): only
    slices (array[a:b]), which is all read_sorted asks. A short read (the file was truncated)
    raises OSError, which FileRows turns into a message naming the change."""

    def __init__(self, path: Path, layout: Layout):
        self.path, self.layout = Path(path), layout
        self.shape, self.dtype = layout.shape, layout.dtype
        self._descriptor = os.open(self.path, os.O_RDONLY)

    def __del__(self) -> None:
        descriptor = getattr(self, "_descriptor", None)
        if descriptor is not None:
            try:
                os.close(descriptor)
            except OSError:
                pass

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, _ = key.indices(self.shape[0])
        count = max(0, stop - start)
        row_bytes, stride = self.layout.row_bytes, self.layout.row_stride or self.layout.row_bytes
        if not count or not row_bytes:
            return np.empty((count, *self.shape[1:]), self.dtype)
        span = (count - 1) * stride + row_bytes
        buffer = np.empty(span, dtype=np.uint8)
        position = self.layout.offset + start * stride
        done = 0
        while done < span:
            got = os.preadv(self._descriptor, [memoryview(buffer)[done:]], position + done)
            if got <= 0:
                raise OSError(f"the file ends at byte {position + done:,}, inside row {start + done // stride}")
            done += got
        if stride == row_bytes:
            return buffer.view(self.dtype).reshape((count, *self.shape[1:]))
        rows = np.lib.stride_tricks.as_strided(buffer, shape=(count, row_bytes), strides=(stride, 1))
        return np.ascontiguousarray(rows).view(self.dtype).reshape((count, *self.shape[1:]))


class Hdf5Rows(FileRows):
    """An HDF5 dataset (or a NetCDF-4 variable, which is one), read with h5py."""

    packing: Packing | None = None

    def open(self) -> Any:
        return _open_hdf5(self.path)[self.key]

    def read(self, rows: np.ndarray) -> np.ndarray:
        values = super().read(rows)
        return self.packing.unpack(values) if self.packing else values


class NpyRows(FileRows):
    def open(self) -> Any:
        """The memory map, for its layout; rows are read through `readable`, not by touching it."""
        try:
            return np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise _damaged(self.path, ".npy array", error) from None

    def readable(self, handle: Any) -> Any:
        if not isinstance(handle, np.memmap) or not handle.flags.c_contiguous:
            return handle  # Fortran order: rows are not contiguous; read through the map
        return PositionedArray(self.path, Layout(int(handle.offset), tuple(handle.shape), handle.dtype))


class NpzMemberRows(FileRows):
    """A stored (uncompressed) member of an .npz, read in place like a .npy."""

    def __init__(self, path: Path, key: str, layout: Layout):
        super().__init__(path, key, layout.shape, layout.dtype)
        self.layout = layout

    def open(self) -> Any:
        return PositionedArray(self.path, self.layout)


class Netcdf3Rows(FileRows):
    packing: Packing | None = None

    def open(self) -> Any:
        handle = _open_netcdf3(self.path)
        try:
            data = handle.variables[self.key].data
            base = getattr(handle, "_mm_buf", None)
            if base is None or not data.ndim:
                self._file = handle  # kept open while its mapped variable is read
                return data
            offset = data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
            packed = data.strides[1:] == np.empty((1, *data.shape[1:]), data.dtype).strides[1:]
            if not packed:
                self._file = handle
                return data
            layout = Layout(int(offset), tuple(data.shape), data.dtype, row_stride=int(data.strides[0]))
            del data, base
        except KeyError:
            _close_netcdf3(handle)
            raise
        _close_netcdf3(handle)
        return PositionedArray(self.path, layout)

    def read(self, rows: np.ndarray) -> np.ndarray:
        values = super().read(rows)
        return self.packing.unpack(values) if self.packing else values


def missing_key(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> DatasetError:
    listed = "; ".join(e.describe() for e in entries) or "none"
    what = _not_an_array(path, key)
    if what:
        return DatasetError(f"{path}: [data] {setting} = {key!r} {what}; the file's arrays: {listed}")
    return DatasetError(f"{path}: no array or variable {key!r} (asked for by [data] {setting}); the file holds: {listed}")


def _not_an_array(path: Path, key: str) -> str:
    """What `key` names in an HDF5 file when it is there but not an array (a group, a link ...)."""
    try:
        kind = file_format(path)
    except DatasetError:
        return ""
    if kind not in ("hdf5", "netcdf4") or not key.strip("/"):
        return ""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            name = key.strip("/")
            link = handle.get(name, getlink=True)
            if link is None:
                return ""
            if isinstance(link, h5py.SoftLink) and name not in handle:
                return f"is a link to {link.path}, which is not in the file"
            if isinstance(link, h5py.ExternalLink):
                return (f"is a link into another file ({link.filename}:{link.path}), which kerastui does not follow: "
                        "name an array of this file, or open the other file itself")
            item = handle[name]
            if isinstance(item, h5py.Group):
                inner = [f"{name}/{child}" for child, value in item.items() if isinstance(value, h5py.Dataset)]
                return ("is a group, not an array" + (f": name one of its arrays ({', '.join(inner[:8])})" if inner
                                                     else " (it holds no arrays of its own)"))
            if isinstance(item, h5py.Dataset) and item.shape is None:
                return "is an empty dataset (no dataspace: it holds no values)"
    except (OSError, ValueError, KeyError, RuntimeError):
        return ""
    return ""


def _storage_problem(path: Path, key: str) -> str:
    """An HDF5 dataset whose values live in other files (a virtual dataset, external storage):
    each must be a regular file; a FIFO would block the read forever, and a missing source of a
    virtual dataset reads as its fill value without a word."""
    import h5py

    from kerastui.core.user_paths import special_file_kind

    with _open_hdf5(path) as handle:
        try:
            dataset = handle[key]
            names = [source.file_name for source in dataset.virtual_sources()] if dataset.is_virtual else []
            names += [_text(name) for name, *_ in (dataset.external or [])]
        except (OSError, ValueError, KeyError, RuntimeError, TypeError):
            return ""
        if not isinstance(dataset, h5py.Dataset):
            return ""
    for name in names:
        if name == "." or "%" in name:  # this file itself; a pattern of names (not checked)
            continue
        candidates = [Path(name)] if Path(name).is_absolute() else [path.parent / name, Path.cwd() / name]
        for candidate in candidates:
            kind = special_file_kind(candidate)
            if kind:
                return f"keeps its values in {candidate}, which is {kind}, not a file"
        if not any(candidate.is_file() for candidate in candidates):
            return (f"keeps its values in {candidates[0]}, which does not exist (its rows would read as the "
                    "fill value); put that file back, or name an array stored in this file")
    return ""


def _npz_member(path: Path, key: str) -> tuple[zipfile.ZipInfo, Layout, int]:
    """A member's zip entry, where its array's bytes are (valid for a stored member) and the
    length of its .npy header."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{key}.npy")
        with archive.open(info) as handle:
            shape, fortran_order, dtype = _read_npy_header(handle)
            header_bytes = handle.tell()
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)
        local = raw.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise ValueError(f"no local header for {info.filename}")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    offset = info.header_offset + 30 + name_length + extra_length + header_bytes
    return info, Layout(offset, shape, dtype, fortran_order), header_bytes


def _npz_rows(path: Path, key: str) -> Any:
    try:
        info, layout, header_bytes = _npz_member(path, key)
        declared = layout.nbytes
        if info.file_size < header_bytes + declared:
            raise DatasetError(f"{path}: {key} is truncated or damaged: its header declares {layout.shape} {layout.dtype} "
                               f"({_size_text(declared)}) but the archive member holds {_size_text(info.file_size)}; "
                               "write the file out again (numpy.savez)")
        if info.compress_type == zipfile.ZIP_STORED and not layout.fortran_order and not layout.dtype.hasobject:
            return NpzMemberRows(path, key, layout)
        budget = memory_budget()
        if declared > budget:
            raise DatasetError(f"{path}: {key} is compressed and {_size_text(declared)} once decompressed, more than the "
                               f"memory free for it ({_size_text(budget)}): a compressed member is read whole; save it "
                               "with numpy.savez (not savez_compressed) so it is read in place, or as .npy or HDF5")
        with np.load(path, allow_pickle=False) as archive:
            return MemoryRows(archive[key], path)
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, SyntaxError, KeyError, zipfile.BadZipFile, NotImplementedError) as error:
        raise _damaged(path, ".npz archive", error) from None


def open_rows(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> Any:
    """The rows of `key` in the file, read on demand (a compressed npz member: the array, in memory)."""
    entry = next((e for e in entries if e.name == key), None)
    if entry is None:
        raise missing_key(path, key, entries, setting)
    if not entry.shape:
        raise DatasetError(f"{path}: {key} is a single value, not an array of samples")
    if entry.holds and entry.holds not in READABLE_HOLDS:
        raise numbers_needed(path, entry, setting)  # records, references, objects: nothing to read them as
    kind = file_format(path)
    dtype = entry.values_dtype
    if kind == "npy":
        _npy_layout(path)  # a truncated file is named here, with its declared and its real size
        return NpyRows(path, key, entry.shape, dtype)
    if kind == "npz":
        return _npz_rows(path, key)
    if kind == "netcdf3":
        rows = Netcdf3Rows(path, key, entry.shape, dtype)
        rows.packing = entry.packing
        return rows
    problem = _storage_problem(path, key)
    if problem:
        raise DatasetError(f"{path}: {key} {problem}")
    rows = Hdf5Rows(path, key, entry.shape, dtype)
    rows.packing = entry.packing
    return rows


# Values that read as an array (and show in the inspector) though they are no model's numbers.
READABLE_HOLDS = ("text", "text (characters)", "complex numbers", "dates and times", "time spans")


def numbers_needed(path: Path, entry: ArrayEntry, setting: str) -> DatasetError:
    """The message for an array that cannot be inputs or labels: what it holds, and what to store."""
    role = "labels" if setting in ("y", "y_test") else "inputs"
    advice = {
        "complex numbers": "store the real and imaginary parts (or magnitude and phase) as two channels",
        "text": ("give class numbers 0..K-1 (the names can go in class_names)" if role == "labels"
                 else "convert them to numbers"),
        "text (characters)": "convert them to numbers",
        "dates and times": "store them as numbers (seconds since a start, say)",
        "time spans": "store them as numbers (seconds, say)",
        "Python objects": "kerastui never unpickles (a pickle can run any code); save an array of numbers",
    }.get(entry.holds, "store the values as an array of plain numbers (each field its own array, or stacked "
                        "as channels)" if entry.holds.startswith("records") else "store an array of plain numbers")
    return DatasetError(f"{path}: {entry.name} ([data] {setting}) holds {entry.holds} ({entry.dtype}); "
                        f"{role} must be plain numbers (whole, floating point or true/false): {advice}")


def read_whole(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> np.ndarray:
    """A small array (labels) read whole."""
    entry = next((e for e in entries if e.name == key), None)
    if entry is not None and entry.shape:
        declared = int(np.prod(entry.shape, dtype=np.int64)) * entry.values_dtype.itemsize if not entry.holds else 0
        if declared > LABELS_WHOLE_BYTES:
            raise DatasetError(f"{path}: {key} ([data] {setting}) declares {entry.shape} {entry.dtype} "
                               f"({_size_text(declared)}); labels are read whole, and more than "
                               f"{_size_text(LABELS_WHOLE_BYTES)} is past what kerastui reads: is the header right? "
                               "Use a part of the file (fewer samples) or check the array's shape")
    rows = open_rows(path, key, entries, setting)
    if isinstance(rows, MemoryRows):
        return rows.values
    values = rows.read(np.arange(rows.shape[0]))
    packing = rows.packing
    if packing and packing.scale is None and packing.offset is None and entry is not None:
        stored = np.dtype(entry.dtype)
        # Class numbers with a fill value declared but none used stay whole numbers.
        if stored.kind in "iu" and np.all(np.isfinite(values)):
            return values.astype(stored.newbyteorder("="))
    return values
