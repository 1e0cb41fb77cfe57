"""Files of named arrays, streamed: keys, axes, standardisation, splits as views, and their faults."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from kerastui.core.data import DatasetError, load_dataset
from kerastui.core.datasets.keyed_arrays import is_streamed, prepare_dataset
from kerastui.core.datasets.settings import DataSettings
from kerastui.core.datasets.streamed import Preprocessing, StreamedArray
from tests.array_files import signals, write_hdf5, write_netcdf3, write_netcdf4

GW = DataSettings(x="strain", y="flag", axes=(0, 2, 1), standardize="per_sample")


@pytest.fixture
def strain_h5(tmp_path):
    x, y = signals()
    return write_hdf5(tmp_path / "strain.h5", strain=x, flag=y), x, y


def test_an_hdf5_file_with_its_own_keys_and_channels_first_loads_as_signals_in_the_models_order(strain_h5):
    path, x, y = strain_h5
    data = load_dataset(str(path), settings=GW)
    assert is_streamed(data)
    assert (data.kind, data.task, data.input_shape) == ("signal", "binary", (32, 2))
    assert len(data.x_train) + len(data.x_test) == len(x)
    # The splits are views of index arrays over the same file: together every sample once.
    rows = np.concatenate([data.x_train.rows, data.x_test.rows])
    assert sorted(rows.tolist()) == list(range(len(x)))
    first = data.x_train.rows[0]
    sample = data.x_train[0]
    raw = x[first].T  # (T, C)
    expected = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    np.testing.assert_allclose(sample, expected, rtol=1e-4, atol=1e-4)
    assert np.array_equal(data.y_train, y[data.x_train.rows])


def test_per_feature_statistics_come_from_the_training_split_only(strain_h5):
    path, x, _ = strain_h5
    data = prepare_dataset(load_dataset(str(path), settings=DataSettings(x="strain", y="flag", axes=(0, 2, 1),
                                                                         standardize="per_feature")))
    train = x[data.x_train.rows].transpose(0, 2, 1).astype(np.float64)
    prep = data.x_train.preprocessing
    np.testing.assert_allclose(prep.mean, train.mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(prep.deviation, train.std(axis=(0, 1)), rtol=1e-4)
    assert data.x_test.preprocessing == prep  # the test split is scaled with the training numbers
    whole = data.x_train[np.arange(len(data.x_train))]
    assert abs(float(whole.mean())) < 1e-3 and abs(float(whole.std()) - 1) < 1e-2


def test_the_same_seed_holds_out_the_same_test_rows_and_another_seed_others(strain_h5):
    path = str(strain_h5[0])
    a, b, c = (load_dataset(path, settings=GW, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.x_test.rows, b.x_test.rows)
    assert not np.array_equal(a.x_test.rows, c.x_test.rows)


def test_given_test_keys_are_used_as_the_test_split(tmp_path):
    x, y = signals(80)
    path = write_hdf5(tmp_path / "two.h5", train_x=x[:60], train_y=y[:60], test_x=x[60:], test_y=y[60:])
    data = load_dataset(str(path), settings=DataSettings(x="train_x", y="train_y", x_test="test_x", y_test="test_y",
                                                         axes=(0, 2, 1)))
    assert (len(data.x_train), len(data.x_test)) == (60, 20)
    assert np.array_equal(data.y_test, y[60:])


def test_netcdf4_and_netcdf3_variables_load_alike(tmp_path):
    x, y = signals(60)
    for writer, name in ((write_netcdf4, "four.nc"), (write_netcdf3, "three.nc")):
        data = load_dataset(str(writer(tmp_path / name, x, y)), settings=GW)
        assert (data.kind, data.input_shape, len(data.x_train) + len(data.x_test)) == ("signal", (32, 2), 60)
        assert data.x_train[0].shape == (32, 2)


def test_a_memory_mapped_npy_with_labels_from_a_csv(tmp_path):
    x = np.random.default_rng(0).random((50, 6)).astype(np.float32)
    np.save(tmp_path / "rows.npy", x)
    (tmp_path / "labels.csv").write_text("id,kind\n" + "".join(f"{i},{i % 3}\n" for i in range(50)))
    data = load_dataset(str(tmp_path / "rows.npy"), settings=DataSettings(labels="labels.csv", y="kind"))
    assert (data.kind, data.task, data.num_classes) == ("tabular", "multiclass", 3)
    assert isinstance(data.x_train.source.open(), np.memmap)


def test_an_npz_with_its_own_key_names(tmp_path):
    x, y = signals(40)
    np.savez(tmp_path / "own.npz", waves=x, truth=y)
    data = load_dataset(str(tmp_path / "own.npz"), settings=DataSettings(x="waves", y="truth", axes=(0, 2, 1)))
    assert data.input_shape == (32, 2)


def test_a_view_pickles_as_its_path_and_reads_again_in_another_process(strain_h5):
    data = load_dataset(str(strain_h5[0]), settings=GW)
    data.x_train[0]  # opens the file in this process
    copy = pickle.loads(pickle.dumps(data.x_train))
    np.testing.assert_array_equal(copy[[2, 0, 1]], data.x_train[[2, 0, 1]])


def test_rows_come_back_in_the_order_asked_even_when_repeated():
    source_values = np.arange(20, dtype=np.float32).reshape(10, 2)
    from kerastui.core.datasets.streamed import MemoryRows

    view = StreamedArray(MemoryRows(source_values), np.arange(10)[::-1].copy(), Preprocessing())
    np.testing.assert_array_equal(view[[0, 3, 0]][:, 0], [18, 12, 18])


@pytest.mark.parametrize("settings, words", [
    (DataSettings(x="nope", y="flag"), ["no array or variable 'nope'", "strain (120, 2, 32) float32", "flag (120,) int64"]),
    (DataSettings(x="strain", y="flag", axes=(1, 0, 2)), ["must start with 0"]),
    (DataSettings(x="strain", y="flag", axes=(0, 1)), ["orders 2 axes but the inputs have 3"]),
    (DataSettings(), ["which array holds the inputs", "strain (120, 2, 32)"]),
])
def test_a_key_or_axis_order_that_does_not_fit_names_what_the_file_holds(strain_h5, settings, words):
    with pytest.raises(DatasetError) as raised:
        load_dataset(str(strain_h5[0]), settings=settings)
    for word in words:
        assert word in str(raised.value)


def test_inputs_and_labels_of_different_lengths(tmp_path):
    x, y = signals(30)
    path = write_hdf5(tmp_path / "short.h5", strain=x, flag=y[:29])
    with pytest.raises(DatasetError, match="strain has 30 samples but the labels have 29"):
        load_dataset(str(path), settings=GW)


def test_nan_values_are_counted_with_the_first_sample_not_shown_as_a_range(tmp_path):
    x, y = signals(40)
    x[7, 1, 3] = np.nan
    x[9, 0, 0] = np.inf
    path = write_hdf5(tmp_path / "nan.h5", strain=x, flag=y)
    data = load_dataset(str(path), settings=GW)
    split = "x_train" if 7 in data.x_train.rows else "x_test"
    with pytest.raises(DatasetError, match=r"has \d+ NaN or infinite value"):
        prepare_dataset(data)
    try:
        prepare_dataset(data)
    except DatasetError as error:
        assert split in str(error) and "sample" in str(error)


@pytest.mark.parametrize("content, words", [
    (b"", "the file is empty"),
    (b"<html>not found</html>", "not an HDF5 file"),
])
def test_empty_or_foreign_files_are_named(tmp_path, content, words):
    path = tmp_path / "bad.h5"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=words):
        load_dataset(str(path), settings=GW)


def test_a_truncated_hdf5_file_is_named_not_a_traceback(strain_h5, tmp_path):
    path = strain_h5[0]
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match="truncated or damaged"):
        load_dataset(str(cut), settings=GW)


def test_a_truncated_npy_is_named(tmp_path):
    np.save(tmp_path / "whole.npy", np.zeros((100, 8), np.float32))
    data = (tmp_path / "whole.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[: len(data) // 2])
    (tmp_path / "labels.csv").write_text("\n".join(str(i % 2) for i in range(100)))
    with pytest.raises(DatasetError, match="truncated or damaged"):
        load_dataset(str(tmp_path / "cut.npy"), settings=DataSettings(labels="labels.csv"))


def test_a_file_that_changes_while_in_use_is_named(strain_h5):
    path, x, y = strain_h5
    data = load_dataset(str(path), settings=GW)
    data.x_train[0]
    os.utime(path, ns=(0, 0))  # as a rewrite would change it
    with pytest.raises(DatasetError, match="changed while it was in use"):
        data.x_train.source.check_unchanged()


def test_a_fifo_as_the_data_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.h5"
    os.mkfifo(fifo)
    with pytest.raises(DatasetError, match="FIFO|pipe"):
        load_dataset(str(fifo), settings=GW)


def test_a_fifo_as_the_labels_file_is_refused_without_blocking(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((10, 3), np.float32))
    os.mkfifo(tmp_path / "labels.csv")
    with pytest.raises(DatasetError, match="labels"):
        load_dataset(str(tmp_path / "x.npy"), settings=DataSettings(labels="labels.csv"))


def test_the_data_table_round_trips_through_toml_and_bad_values_are_listed_together():
    from kerastui.core import spec

    experiment = spec.Experiment(dataset="strain.h5", data=GW)
    text = spec.dumps(experiment)
    assert "[data]" in text and 'x = "strain"' in text
    assert spec.loads(text).data == GW
    assert "[data]" not in spec.dumps(spec.Experiment())
    with pytest.raises(spec.SpecError) as raised:
        spec.loads('[data]\nx = 3\naxes = [0, 0]\nstandardize = "zscore"\nimage_size = [0, 5]\ncolour = "rgb"\n')
    fields = {p.field for p in raised.value.problems}
    assert {"data.x", "data.axes", "data.standardize", "data.image_size", "data.colour"} <= fields
