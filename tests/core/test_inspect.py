"""The data inspector (kerastui.core.datasets.inspect): headers, bounded value samples, roles,
labels and a sample as its kind, for every file form; its reads stay bounded on huge files; bad
paths are DatasetErrors that say what is wrong."""

from __future__ import annotations

import os
import socket
import zipfile

import numpy as np
import pytest

from kerastui.core.datasets.base import DatasetError
from kerastui.core.datasets.inspect import (
    GRID,
    IMAGE,
    SAMPLE_BYTES,
    SIGNAL,
    TABULAR,
    block_ranges,
    inspect_path,
    npz_member_rows,
    summarise_labels,
    summarise_values,
)
from kerastui.core.datasets.settings import DataSettings


# ---------------------------------------------------------------- small files of each form

def strain(samples: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2, 200) channels-first float32 signals and 0/1 labels."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, 2, 200)).astype(np.float32), (np.arange(samples) % 2).astype(np.int64)


def write_hdf5(path, **arrays):
    import h5py

    with h5py.File(path, "w") as handle:
        for name, values in arrays.items():
            handle[name] = values
    return path


def sea_level_grid(times: int = 6) -> np.ndarray:
    """(T, lat, lon) metres with a block of NaN (land)."""
    lat, lon = np.linspace(-60, 60, 12), np.linspace(0, 360, 24, endpoint=False)
    field = np.sin(np.radians(lat))[:, None] * np.cos(np.radians(lon))[None, :]
    grid = np.stack([field * (1 + t) for t in range(times)]).astype(np.float32)
    grid[:, 2:4, 5:8] = np.nan  # 6 cells a step
    return grid


def write_netcdf4(path, grid: np.ndarray):
    import h5netcdf

    with h5netcdf.File(path, "w") as handle:
        handle.dimensions = {"time": grid.shape[0], "lat": grid.shape[1], "lon": grid.shape[2]}
        variable = handle.create_variable("sla", ("time", "lat", "lon"), data=grid)
        variable.attrs["units"] = "m"
        variable.attrs["long_name"] = "sea level anomaly"
        handle.create_variable("trend", ("time",), data=np.linspace(0.0, 1.0, grid.shape[0]).astype(np.float32))
    return path


def write_netcdf3(path, x: np.ndarray, y: np.ndarray):
    from scipy.io import netcdf_file

    with netcdf_file(path, "w") as handle:
        handle.createDimension("sample", x.shape[0])
        handle.createDimension("feature", x.shape[1])
        variable = handle.createVariable("x", x.dtype, ("sample", "feature"))
        variable[:] = x
        variable.units = "K"
        labels = handle.createVariable("y", np.int32, ("sample",))
        labels[:] = y.astype(np.int32)
    return path


# ---------------------------------------------------------------- each form

def test_hdf5_with_own_keys_channels_first(tmp_path):
    x, y = strain()
    x[3, 1, 7] = np.nan
    x[10, 0, 0] = np.inf
    x[11, 0, 1] = -np.inf
    path = write_hdf5(tmp_path / "strain.h5", strain=x, flag=y, extra=np.arange(60.0))
    found = inspect_path(path, DataSettings(x="strain", y="flag"))
    assert found.form == "hdf5" and (found.x, found.y) == ("strain", "flag")
    entry = found.array("strain")
    assert entry.shape == (60, 2, 200) and entry.dtype == "float32" and entry.role == "x"
    assert (entry.values.nan_count, entry.values.infinite_count) == (1, 2)
    assert entry.values.whole and entry.values.extent_text() == "all 60 rows"
    finite = x[np.isfinite(x)]
    assert entry.values.low == pytest.approx(float(finite.min())) and entry.values.high == pytest.approx(float(finite.max()))
    assert found.array("extra").role == "" and found.array("extra").values.high == 59.0
    labels = found.labels[0]
    assert labels.task == "binary" and [(c.name, c.count) for c in labels.classes] == [("0", 30), ("1", 30)]
    # Channels first: drawn as (T, C), and the note says which axes put the channels last.
    assert found.sample.kind == SIGNAL and found.sample.values.shape == (200, 2)
    assert found.sample.label == "0"
    assert any("--axes 0,2,1" in note for note in found.notes)
    arranged = inspect_path(path, DataSettings(x="strain", y="flag", axes=(0, 2, 1)), sample_index=1)
    assert arranged.sample.kind == SIGNAL and arranged.sample.label == "1"
    np.testing.assert_allclose(arranged.sample.values, x[1].T)
    assert not any("--axes" in note for note in arranged.notes)


def test_netcdf4_dimensions_units_and_a_grid(tmp_path):
    grid = sea_level_grid()
    found = inspect_path(write_netcdf4(tmp_path / "sea.nc", grid), DataSettings(x="sla", y="trend"))
    assert found.form == "netcdf4"
    sla = found.array("sla")
    assert sla.dimensions == ("time", "lat", "lon") and sla.units == "m" and sla.long_name == "sea level anomaly"
    assert sla.values.nan_count == 6 * 6 and sla.values.infinite_count == 0
    assert sla.values.low == pytest.approx(float(np.nanmin(grid)))
    assert found.sample.kind == GRID and found.sample.values.shape == (12, 24)
    assert np.isnan(found.sample.values).sum() == 6
    assert found.sample.low == pytest.approx(float(np.nanmin(grid[0])))
    assert found.labels[0].task == "regression" and found.labels[0].histogram is not None
    assert sum(found.labels[0].histogram.counts) == 6


def test_netcdf3_by_the_default_names(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 5)).astype(np.float32), np.arange(40) % 4
    found = inspect_path(write_netcdf3(tmp_path / "classic.nc", x, y))
    assert found.form == "netcdf3" and (found.x, found.y) == ("x", "y")
    assert found.array("x").units == "K" and found.array("x").dimensions == ("sample", "feature")
    assert found.array("x").values.high == pytest.approx(float(x.max()))
    assert [c.count for c in found.labels[0].classes] == [10, 10, 10, 10]
    assert found.sample.kind == TABULAR and found.sample.label == "0"
    np.testing.assert_allclose(found.sample.values, x[0])


def test_npy_memory_mapped_is_the_inputs_without_labels(tmp_path):
    images = np.lib.format.open_memmap(tmp_path / "frames.npy", mode="w+", dtype=np.uint8, shape=(30, 16, 16))
    images[:] = np.arange(256, dtype=np.uint8)[:16 * 16].reshape(16, 16)
    images.flush()
    del images
    found = inspect_path(tmp_path / "frames.npy")
    assert found.form == "npy" and found.x == "frames" and found.y == "" and found.labels == ()
    assert (found.array("frames").values.low, found.array("frames").values.high) == (0.0, 255.0)
    assert found.sample.kind == IMAGE and (found.sample.low, found.sample.high) == (0.0, 255.0)
    assert any("no labels" in note for note in found.notes)


def test_npz_stored_members_are_mapped_and_compressed_ones_read(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.random((50, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "stored.npz", x_train=x, y_train=np.arange(50) % 3, class_names=np.array(["a", "b", "c"]))
    np.savez_compressed(tmp_path / "packed.npz", inputs=x, targets=x.mean(axis=(1, 2)))
    assert isinstance(npz_member_rows(tmp_path / "stored.npz", "x_train").values, np.memmap)
    np.testing.assert_array_equal(npz_member_rows(tmp_path / "stored.npz", "x_train").read(np.arange(50)), x)
    stored = inspect_path(tmp_path / "stored.npz")
    assert stored.array("x_train").values.high == pytest.approx(float(x.max()))
    assert [(c.name, c.count) for c in stored.labels[0].classes] == [("a", 17), ("b", 17), ("c", 16)]
    assert stored.sample.kind == IMAGE and stored.sample.label == "a"
    packed = inspect_path(tmp_path / "packed.npz")
    assert (packed.x, packed.y) == ("inputs", "targets")
    assert packed.labels[0].task == "regression" and sum(packed.labels[0].histogram.counts) == 50
    np.testing.assert_array_equal(packed.sample.values, x[0])


def test_labels_kept_in_a_csv_of_their_own(tmp_path):
    np.save(tmp_path / "features.npy", np.zeros((6, 3), np.float32))
    (tmp_path / "labels.csv").write_text("id,label\n" + "".join(f"{i},{int(i >= 4)}\n" for i in range(6)))
    found = inspect_path(tmp_path / "features.npy", DataSettings(labels="labels.csv", y="label"), sample_index=5)
    assert found.y == "" and found.labels[0].array == "labels.csv"
    assert [c.count for c in found.labels[0].classes] == [4, 2] and found.sample.label == "1"


def test_a_key_the_settings_name_must_exist(tmp_path):
    x, y = strain(10)
    path = write_hdf5(tmp_path / "s.h5", strain=x, flag=y)
    with pytest.raises(DatasetError, match=r"no array or variable 'signal'.*strain \(10, 2, 200\)"):
        inspect_path(path, DataSettings(x="signal"))
    with pytest.raises(DatasetError, match="axes"):
        inspect_path(path, DataSettings(x="strain", axes=(0, 1)))
    with pytest.raises(DatasetError, match="sample 10 is outside"):
        inspect_path(path, DataSettings(x="strain"), sample_index=10)
    found = inspect_path(path)  # no default names: no roles, and the note says how to give them
    assert found.x == "" and found.sample is None and any("--x KEY" in n for n in found.notes)


# ---------------------------------------------------------------- bounded reads

class CountingRows:
    """A RowSource of any (virtual) size that counts what is read and checks reads are sorted."""

    def __init__(self, shape, dtype=np.float32):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.reads: list[tuple[int, int]] = []

    def read(self, rows):
        assert np.all(np.diff(rows) == 1), "each block is one contiguous read"
        self.reads.append((int(rows[0]), int(rows[-1]) + 1))
        values = np.zeros((len(rows), *self.shape[1:]), dtype=self.dtype)
        values[rows == self.shape[0] - 1] = 5.0  # the last row holds the maximum
        return values


def test_block_ranges_spread_over_the_file_without_overlap():
    assert block_ranges(100, 500) == [(0, 100)]
    assert block_ranges(0, 10) == []
    blocks = block_ranges(1_000_000, 2000)
    assert blocks == [(0, 667), (499_667, 500_334), (999_334, 1_000_000)]  # start, middle, end: 2,000 rows
    spread = block_ranges(10_000, 3200, blocks=32)
    assert len(spread) == 32 and all(b[1] <= n[0] for b, n in zip(spread, spread[1:])) and spread[-1][1] == 10_000


def test_a_huge_array_is_read_in_three_bounded_blocks():
    source = CountingRows((10**9, 2, 200))  # 1.6 TB if it were real
    values = summarise_values(source)
    assert len(source.reads) == 3 and source.reads[0][0] == 0 and source.reads[-1][1] == 10**9
    assert values.rows_read == sum(b - a for a, b in source.reads) <= 2000
    assert values.bytes_read <= SAMPLE_BYTES and values.high == 5.0
    assert values.extent_text() == f"from {values.rows_read:,} of 1,000,000,000 rows"
    wide = CountingRows((10**6, 1024, 1024))  # 4 MB a row: the byte budget decides
    assert summarise_values(wide).rows_read == SAMPLE_BYTES // (4 * 1024 * 1024) == 4


def test_a_50_gb_sparse_npy_is_inspected_from_a_sample(tmp_path):
    path = tmp_path / "huge.npy"
    rows = 25_000_000
    big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, 500))  # 50 GB, sparse
    big[-1, -1] = np.nan
    big.flush()
    del big
    if os.stat(path).st_blocks * 512 > 64 * 1024 * 1024:
        pytest.skip("this file system does not keep sparse files sparse")
    found = inspect_path(path)
    values = found.array("huge").values
    assert values.rows_total == rows and 0 < values.rows_read <= 2000
    assert found.bytes_read <= SAMPLE_BYTES and values.nan_count == 1  # the end block reached the last row
    assert values.extent_text().startswith("from ") and not values.whole


def test_a_huge_chunked_hdf5_reads_a_sample_of_values_and_labels(tmp_path):
    import h5py

    rows = 20_000_000  # 32 GB of strain, allocated lazily: unwritten chunks take no space
    with h5py.File(tmp_path / "big.h5", "w") as handle:
        handle.create_dataset("strain", shape=(rows, 2, 200), dtype="f4", chunks=(500, 2, 200))[-3:] = 1.0
        labels = handle.create_dataset("label", shape=(rows,), dtype="i1", chunks=(1_000_000,))
        labels[-10:] = 1
    found = inspect_path(tmp_path / "big.h5", DataSettings(x="strain", y="label"))
    assert found.array("strain").values.rows_read <= 2000 and found.array("strain").values.high == 1.0
    assert found.bytes_read <= 2 * SAMPLE_BYTES
    labels = found.labels[0]
    assert not labels.whole and 0 < labels.rows_read <= 2_000_000 and labels.rows_total == rows
    assert [c.name for c in labels.classes] == ["0", "1"]


# ---------------------------------------------------------------- labels

def test_label_summaries_of_each_task():
    multiclass = summarise_labels(np.array([0, 1, 1, 2, 2, 2]), "y", class_names=("a", "b", "c"))
    assert multiclass.task == "multiclass" and [(c.name, c.count) for c in multiclass.classes] == [
        ("a", 1), ("b", 2), ("c", 3)]
    multilabel = summarise_labels(np.array([[1, 0], [1, 1], [0, 0]]), "y")
    assert multilabel.task == "multilabel" and [c.count for c in multilabel.classes] == [2, 1]
    targets = summarise_labels(np.array([0.5, 1.5, np.nan, 2.5]), "y")
    assert targets.classes == () and sum(targets.histogram.counts) == 3 and "1 NaN" in targets.note


# ---------------------------------------------------------------- other forms

def test_a_builtin_and_a_csv_are_inspected_as_loaded(tmp_path):
    digits = inspect_path("digits")
    assert digits.form == "builtin" and digits.array("x_train").shape[1:] == (8, 8, 1)
    assert len(digits.labels[0].classes) == 10 and digits.sample.kind == IMAGE
    csv = tmp_path / "table.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(20)))
    table = inspect_path(csv)
    assert table.form == "csv" and table.sample.kind == TABULAR and table.sample.names == ("a", "b")
    assert sum(c.count for s in table.labels for c in s.classes) == 20


def test_an_image_folder_is_summarised(tmp_path):
    from PIL import Image

    for name in ("cat", "dog"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((10, 12, 3), 40 * i, dtype=np.uint8)).save(tmp_path / "pets" / name / f"{i}.png")
    found = inspect_path(tmp_path / "pets")
    assert found.form == "image_folder"
    assert [(c.name, c.count) for c in found.labels[0].classes] == [("cat", 2), ("dog", 2)]
    assert found.sample.kind == IMAGE and found.sample.values.shape == (10, 12, 3) and found.sample.label == "cat"


# ---------------------------------------------------------------- bad paths

def test_special_files_are_refused_unopened(tmp_path):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    with pytest.raises(DatasetError, match="FIFO"):
        inspect_path(fifo)  # never opened: it would block
    sock_path = tmp_path / "s.nc"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        with pytest.raises(DatasetError, match="socket"):
            inspect_path(sock_path)
    finally:
        server.close()
    with pytest.raises(DatasetError, match="device"):
        inspect_path("/dev/null")


def test_bad_paths_each_say_what_is_wrong(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(DatasetError, match="symbolic link that leads nowhere"):
        inspect_path(tmp_path / "a")
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(DatasetError, match="empty"):
        inspect_path(tmp_path / "empty.h5")
    (tmp_path / "folder").mkdir()
    with pytest.raises(DatasetError, match="folder"):
        inspect_path(tmp_path / "folder")
    with pytest.raises(DatasetError, match="no such file"):
        inspect_path(tmp_path / "missing.h5")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="unsupported file type"):
        inspect_path(tmp_path / "notes.txt")


@pytest.mark.parametrize("suffix", [".h5", ".npy", ".npz", ".nc", "4.nc"])
def test_a_truncated_file_is_named(tmp_path, suffix):
    x, y = strain(200)
    x = x.reshape(200, -1)
    whole = tmp_path / f"whole{suffix}"
    if suffix == ".h5":
        write_hdf5(whole, x=x, y=y)
    elif suffix == ".npy":
        np.save(whole, x)
    elif suffix == ".npz":
        np.savez(whole, x=x, y=y)
    elif suffix == ".nc":
        write_netcdf3(whole, x, y)
    else:
        write_netcdf4(whole, sea_level_grid(40))
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="truncated"):
        inspect_path(cut)


def test_an_npz_member_that_is_not_npy_is_ignored_and_pickles_refused(tmp_path):
    path = tmp_path / "mixed.npz"
    np.savez(path, x=np.ones((4, 3)), names=np.array([{"a": 1}], dtype=object))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("README.txt", "not an array")
    found = inspect_path(path)
    assert found.array("x").values.high == 1.0 and "README" not in [a.name for a in found.arrays]
    assert found.array("names").values is None  # object arrays are never unpickled
