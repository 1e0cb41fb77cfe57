"""Hostile files of named arrays: each class of bad input named where it enters, never a traceback
or a silent wrong value (NetCDF packing, text and record arrays, labels CSVs, truncation, pickles,
links, files replaced mid-run)."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

from kerastui.core.data import DatasetError, load_dataset
from kerastui.core.datasets.keyed_arrays import prepare_dataset
from kerastui.core.datasets.settings import DataSettings
from tests.array_files import signals, write_hdf5


def _labels_csv(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def inputs_npy(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32))
    return tmp_path / "x.npy"


def test_netcdf_packing_is_undone_and_fill_values_are_named_as_missing(tmp_path):
    import h5netcdf

    stored = np.arange(40 * 3, dtype=np.int16).reshape(40, 3)
    path = tmp_path / "packed.nc"
    with h5netcdf.File(path, "w") as handle:
        handle.dimensions = {"sample": 40, "feature": 3}
        variable = handle.create_variable("level", ("sample", "feature"), data=stored)
        variable.attrs["scale_factor"] = np.float32(0.5)
        variable.attrs["add_offset"] = np.float32(10.0)
        handle.create_variable("flood", ("sample",), data=(np.arange(40) % 2).astype(np.int8))
    data = load_dataset(str(path), settings=DataSettings(x="level", y="flood", standardize="none"))
    rows = np.sort(data.x_train.rows)[:2]
    got = data.x_train.source.read(rows)
    np.testing.assert_allclose(got, stored[rows] * 0.5 + 10.0)
    assert set(np.unique(data.y_train)) == {0, 1} and data.y_train.dtype.kind in "iu"

    filled = tmp_path / "filled.nc"
    with h5netcdf.File(filled, "w") as handle:
        handle.dimensions = {"sample": 40, "feature": 3}
        variable = handle.create_variable("level", ("sample", "feature"), data=stored, fillvalue=np.int16(7))
        handle.create_variable("flood", ("sample",), data=(np.arange(40) % 2).astype(np.int8))
    with pytest.raises(DatasetError, match="_FillValue") as raised:  # row 2, column 1 holds 7
        prepare_dataset(load_dataset(str(filled), settings=DataSettings(x="level", y="flood", standardize="none")))
    assert "sample 2" in str(raised.value)


def test_text_and_record_arrays_are_refused_with_what_they_hold(tmp_path):
    x, y = signals(40)
    records = np.zeros(40, dtype=[("a", "f4"), ("b", "f4")])
    path = write_hdf5(tmp_path / "mixed.h5", strain=x, flag=y, names=np.array([b"cat"] * 40), table=records)
    with pytest.raises(DatasetError, match="fit no task.*class numbers 0..K-1"):
        load_dataset(str(path), settings=DataSettings(x="strain", y="names"))
    with pytest.raises(DatasetError, match="records with fields a, b"):
        load_dataset(str(path), settings=DataSettings(x="table", y="flag"))


@pytest.mark.parametrize("lines, y, words", [
    (["id,label", *(f"{i},{i % 2}" for i in range(20))], "", r"name the label column.*y = \"label\""),
    (["label", *(str(i % 2) for i in range(19)), "cat"], "", r"line 21, column label: 'cat' is not a number"),
    (["label"], "", "a header .* but no rows"),
    (["a,b", *(f"{i},{i % 2}" for i in range(20))], "c", "no column 'c'"),
    (["a,b", *(f"{i},{i % 2}" for i in range(20))], "b,b", "names a column twice"),
    (["label", *(str(i % 2) for i in range(19)), "nan"], "", "NaN or infinite"),
])
def test_a_labels_csv_that_does_not_fit_names_the_line_or_column(inputs_npy, lines, y, words):
    _labels_csv(inputs_npy.parent / "labels.csv", lines)
    with pytest.raises(DatasetError, match=words):
        load_dataset(str(inputs_npy), settings=DataSettings(labels="labels.csv", y=y))


def test_a_labels_csv_with_a_byte_order_mark_and_blank_lines_reads(inputs_npy):
    path = inputs_npy.parent / "labels.csv"
    path.write_bytes(b"\xef\xbb\xbflabel\n" + b"".join(f"{i % 3}\n\n".encode() for i in range(20)))
    data = load_dataset(str(inputs_npy), settings=DataSettings(labels="labels.csv"))
    assert len(data.y_train) + len(data.y_test) == 20 and data.y_train.dtype == np.int64


@pytest.mark.parametrize("make, words", [
    (lambda p: os.symlink(p.parent / "nowhere.csv", p), "symbolic link to .*does not exist"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: os.symlink(p, p), "symbolic link loop"),
])
def test_a_labels_path_of_the_wrong_kind_is_named(inputs_npy, make, words):
    make(inputs_npy.parent / "labels.csv")
    with pytest.raises(DatasetError, match=words):
        load_dataset(str(inputs_npy), settings=DataSettings(labels="labels.csv"))


def test_a_pickle_is_never_unpickled(tmp_path):
    import pickle

    path = tmp_path / "data.npz"
    path.write_bytes(pickle.dumps({"x": [1, 2, 3]}))
    with pytest.raises(DatasetError, match="never unpickles"):
        load_dataset(str(path))


def test_an_npz_member_cut_short_is_named_with_its_sizes(tmp_path):
    path = tmp_path / "cut.npz"
    np.savez(path, x_train=np.zeros((50, 8), np.float32), y_train=np.zeros(50, np.int64))
    # A member whose header declares more rows than it holds: rewrite the archive with a short x_train.
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content[: len(content) // 2] if name == "x_train.npy" else content)
    with pytest.raises(DatasetError, match="truncated or damaged"):
        load_dataset(str(path), settings=DataSettings(x="x_train", y="y_train"))


def test_a_stored_npz_member_is_read_in_place_not_loaded_whole(tmp_path):
    path = tmp_path / "stored.npz"
    x = np.arange(60 * 5, dtype=np.float32).reshape(60, 5)
    np.savez(path, x_train=x, y_train=np.arange(60) % 2)
    data = load_dataset(str(path), settings=DataSettings(standardize="none"))
    source = data.x_train.source
    assert type(source).__name__ == "NpzMemberRows"
    rows = np.sort(data.x_train.rows)[:3]
    np.testing.assert_array_equal(source.read(rows), x[rows])


def test_a_file_replaced_under_the_same_name_is_named_as_replaced(tmp_path):
    x, y = signals(40)
    path = write_hdf5(tmp_path / "strain.h5", strain=x, flag=y)
    data = load_dataset(str(path), settings=DataSettings(x="strain", y="flag"))
    data.x_train.source.read(np.array([0]))
    fresh = write_hdf5(tmp_path / "new.h5", strain=x, flag=y)
    os.replace(fresh, path)
    with pytest.raises(DatasetError, match="replaced by another file"):
        data.x_train.source.read(np.array([1]))


def test_test_labels_without_test_inputs_and_mismatched_test_shapes_are_named(tmp_path):
    x, y = signals(40)
    path = write_hdf5(tmp_path / "s.h5", strain=x, flag=y, other=x[:, :1], other_y=y)
    with pytest.raises(DatasetError, match="names test labels but no test inputs"):
        load_dataset(str(path), settings=DataSettings(x="strain", y="flag", y_test="other_y"))
    with pytest.raises(DatasetError, match="the test samples need the training samples' shape"):
        load_dataset(str(path), settings=DataSettings(x="strain", y="flag", x_test="other", y_test="other_y"))


def test_an_hdf5_group_named_as_inputs_lists_its_arrays(tmp_path):
    import h5py

    x, y = signals(30)
    path = tmp_path / "grouped.h5"
    with h5py.File(path, "w") as handle:
        handle["run1/strain"] = x
        handle["flag"] = y
    with pytest.raises(DatasetError, match="is a group, not an array: name one of its arrays \\(run1/strain\\)"):
        load_dataset(str(path), settings=DataSettings(x="run1", y="flag"))
