"""Small generated files of named arrays for the streamed-data tests: HDF5, NetCDF-4, NetCDF-3,
.npy and .npz, with their own key names and channels-first signals (the gravitational-wave
challenge's (N, 2, T) layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def signals(samples: int = 120, steps: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2, T) float32 two-channel series, channels first, and 0/1 labels a model can learn
    (a bump in the middle of positives), at strain's scale (1e-21)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(samples) % 2).astype(np.int64)
    x = rng.normal(size=(samples, 2, steps)).astype(np.float32)
    x[y == 1, :, steps // 3: 2 * steps // 3] += 2.0
    return (x * 1e-21).astype(np.float32), y


def write_hdf5(path: Path, **arrays: np.ndarray) -> Path:
    import h5py

    with h5py.File(path, "w") as handle:
        for name, values in arrays.items():
            handle[name] = values
    return path


def write_netcdf4(path: Path, x: np.ndarray, y: np.ndarray, x_name: str = "strain", y_name: str = "flag") -> Path:
    import h5netcdf

    with h5netcdf.File(path, "w") as handle:
        handle.dimensions = {"sample": x.shape[0], **{f"d{i}": n for i, n in enumerate(x.shape[1:], 1)}}
        variable = handle.create_variable(x_name, ("sample", *(f"d{i}" for i in range(1, x.ndim))), data=x)
        variable.attrs["units"] = "strain"
        handle.create_variable(y_name, ("sample",), data=y)
    return path


def write_netcdf3(path: Path, x: np.ndarray, y: np.ndarray, x_name: str = "strain", y_name: str = "flag") -> Path:
    from scipy.io import netcdf_file

    with netcdf_file(path, "w") as handle:
        handle.createDimension("sample", x.shape[0])
        for i, n in enumerate(x.shape[1:], 1):
            handle.createDimension(f"d{i}", n)
        variable = handle.createVariable(x_name, x.dtype, ("sample", *(f"d{i}" for i in range(1, x.ndim))))
        variable[:] = x
        labels = handle.createVariable(y_name, np.int32, ("sample",))
        labels[:] = y.astype(np.int32)
    return path
