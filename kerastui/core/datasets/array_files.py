"""Files of named arrays: what they hold (read from headers, never the data) and their rows.

  .npy           one array, memory-mapped (numpy.load(mmap_mode="r"))
  .npz           a zip of arrays; each is read whole when used (zip members cannot be mapped)
  .h5, .hdf5     HDF5 datasets, by their path in the file ("group/strain"), read with h5py
  .nc, .nc4, .cdf NetCDF variables: NetCDF-4 files are HDF5 underneath and are read with h5netcdf
                 (pure Python over h5py, which Keras already installs: no C library of its own);
                 classic NetCDF-3 files with scipy's netcdf_file, memory-mapped

The format is told by the file's first bytes where the name could mislead (a NetCDF-4 file named
.h5, an HDF5 file named .nc). A missing key lists those that exist.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class ArrayEntry:
    """One array of a file, as its header describes it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    dimensions: tuple[str, ...] = ()  # NetCDF dimension names, when the file has them
    attributes: dict[str, str] = field(default_factory=dict)  # units, long_name, ...

    def describe(self) -> str:
        dims = f" ({', '.join(self.dimensions)})" if self.dimensions else ""
        return f"{self.name} {tuple(self.shape)} {self.dtype}{dims}"


def file_format(path: Path) -> str:
    """npy, npz, hdf5, netcdf4 or netcdf3, from the first bytes (the suffix where they agree)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not head:
        raise DatasetError(f"{path}: the file is empty (0 bytes); it may not have been written out")
    suffix = path.suffix.lower()
    if head.startswith(HDF5_SIGNATURE):
        return "netcdf4" if suffix in NETCDF_SUFFIXES else "hdf5"
    if head.startswith(NETCDF3_SIGNATURE):
        return "netcdf3"
    if head.startswith(NPY_SIGNATURE):
        return "npy"
    if head.startswith(b"PK"):
        return "npz"
    names = {".npy": "a .npy array", ".npz": "a .npz archive", **{s: "an HDF5 file" for s in HDF5_SUFFIXES},
             **{s: "a NetCDF file" for s in NETCDF_SUFFIXES}}
    expected = names.get(suffix, "an array file")
    raise DatasetError(f"{path}: not {expected} (its first bytes are {head[:8]!r}); the file may be truncated, "
                       "damaged or not what its name says")


def _damaged(path: Path, what: str, error: BaseException) -> DatasetError:
    return DatasetError(f"{path}: not a readable {what} ({error}); the file may be truncated or damaged")


# ---------------------------------------------------------------- describing

def describe_arrays(path: Path) -> list[ArrayEntry]:
    """Every array in the file with its shape and type, from the headers alone."""
    kind = file_format(path)
    if kind == "npy":
        array = _open_npy(path)
        return [ArrayEntry(path.stem, tuple(array.shape), str(array.dtype))]
    if kind == "npz":
        return _describe_npz(path)
    if kind == "netcdf3":
        return _describe_netcdf3(path)
    if kind == "netcdf4":
        return _describe_netcdf4(path)
    return _describe_hdf5(path)


def _open_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise _damaged(path, ".npy array", error) from None


def _describe_npz(path: Path) -> list[ArrayEntry]:
    entries = []
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(handle)
                entries.append(ArrayEntry(member[:-4], tuple(shape), str(dtype)))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
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


def _attributes(attrs: Any) -> dict[str, str]:
    wanted = ("units", "long_name", "standard_name", "description")
    out = {}
    for key in wanted:
        if key in attrs:
            value = attrs[key]
            out[key] = value.decode() if isinstance(value, bytes) else str(value)
    return out


def _describe_hdf5(path: Path) -> list[ArrayEntry]:
    import h5py

    entries: list[ArrayEntry] = []
    with _open_hdf5(path) as handle:
        def visit(name: str, item: Any) -> None:
            if isinstance(item, h5py.Dataset) and item.shape is not None:
                entries.append(ArrayEntry(name, tuple(item.shape), str(item.dtype), attributes=_attributes(item.attrs)))

        try:
            handle.visititems(visit)
        except (OSError, RuntimeError) as error:
            raise _damaged(path, "HDF5 file", error) from None
    return entries


def _describe_netcdf4(path: Path) -> list[ArrayEntry]:
    import h5netcdf

    entries: list[ArrayEntry] = []
    try:
        with h5netcdf.File(path, "r") as handle:
            def walk(group: Any, prefix: str) -> None:
                for name, variable in group.variables.items():
                    entries.append(ArrayEntry(prefix + name, tuple(variable.shape), str(variable.dtype),
                                              tuple(variable.dimensions), _attributes(variable.attrs)))
                for name, child in group.groups.items():
                    walk(child, f"{prefix}{name}/")

            walk(handle, "")
    except (OSError, ValueError, KeyError) as error:
        raise _damaged(path, "NetCDF-4 file", error) from None
    return entries


def _open_netcdf3(path: Path) -> Any:
    from scipy.io import netcdf_file

    try:
        return netcdf_file(path, "r", mmap=True)
    except (OSError, ValueError, TypeError, EOFError) as error:
        raise _damaged(path, "NetCDF-3 file", error) from None


def _describe_netcdf3(path: Path) -> list[ArrayEntry]:
    import warnings

    handle = _open_netcdf3(path)
    try:
        return [ArrayEntry(name, tuple(v.shape), str(v.data.dtype), tuple(v.dimensions),
                           {k: (val.decode() if isinstance(val, bytes) else str(val))
                            for k, val in v._attributes.items() if k in ("units", "long_name")})
                for name, v in handle.variables.items()]
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mapped arrays close with the last reference
            handle.close()


# ---------------------------------------------------------------- reading rows

class Hdf5Rows(FileRows):
    """An HDF5 dataset (or a NetCDF-4 variable, which is one), read with h5py."""

    def open(self) -> Any:
        return _open_hdf5(self.path)[self.key]


class NpyRows(FileRows):
    def open(self) -> Any:
        return _open_npy(self.path)


class Netcdf3Rows(FileRows):
    def open(self) -> Any:
        self._file = _open_netcdf3(self.path)  # kept open while its mapped variable is read
        return self._file.variables[self.key].data


def missing_key(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> DatasetError:
    listed = "; ".join(e.describe() for e in entries) or "none"
    return DatasetError(f"{path}: no array or variable {key!r} (asked for by [data] {setting}); the file holds: {listed}")


def open_rows(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> Any:
    """The rows of `key` in the file, read on demand (npz: the array, in memory)."""
    entry = next((e for e in entries if e.name == key), None)
    if entry is None:
        raise missing_key(path, key, entries, setting)
    if not entry.shape:
        raise DatasetError(f"{path}: {key} is a single value, not an array of samples")
    kind = file_format(path)
    if kind == "npy":
        return NpyRows(path, key, entry.shape, np.dtype(entry.dtype))
    if kind == "npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                return MemoryRows(archive[key], path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise _damaged(path, ".npz archive", error) from None
    if kind == "netcdf3":
        return Netcdf3Rows(path, key, entry.shape, np.dtype(entry.dtype))
    return Hdf5Rows(path, key, entry.shape, np.dtype(entry.dtype))


def read_whole(path: Path, key: str, entries: list[ArrayEntry], setting: str) -> np.ndarray:
    """A small array (labels) read whole."""
    rows = open_rows(path, key, entries, setting)
    if isinstance(rows, MemoryRows):
        return rows.values
    return rows.read(np.arange(rows.shape[0]))
