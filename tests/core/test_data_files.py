"""Loaders that read files: a fake Keras cache (under the temporary KERAS_HOME set by conftest),
and the user's own .npz, IDX directory and CSV. Every file is tiny and written here, in its real format.
"""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from kerastui.core.data import DatasetError, dataset_info, load_dataset

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- writers in the real formats


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return (
        header
        + array.astype(">u1" if type_code == 0x08 else array.dtype.newbyteorder(">")).tobytes()
    )


def write_idx(path: Path, array: np.ndarray, gz: bool) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def images(n: int, *shape: int) -> np.ndarray:
    x = RNG.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    x[0].flat[0], x[0].flat[1] = 0, 255  # full range present, so scaling is checked at both ends
    return x


def labels(n: int, classes: int = 10) -> np.ndarray:
    return (np.arange(n) % classes).astype(np.uint8)


def write_idx_dir(
    folder: Path, gz: bool, n_train: int = 12, n_test: int = 5, side: int = 6
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", images(n_train, side, side), gz)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", labels(n_train), gz)
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", images(n_test, side, side), gz)
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", labels(n_test), gz)
    return folder


def keras_datasets_dir() -> Path:
    folder = Path(os.environ["KERAS_HOME"]) / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_cifar_batch(path: Path, n: int, protocol: int = 2) -> None:
    # The real batches are Python 2 pickles of {b"data": (N, 3072) uint8, b"labels": [int]}.
    batch = {
        b"batch_label": b"fake",
        b"data": images(n, 3072),
        b"labels": [int(v) for v in labels(n)],
    }
    path.write_bytes(pickle.dumps(batch, protocol=protocol))


def write_cifar_cache(folder: Path, n: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        write_cifar_batch(
            folder / f"data_batch_{i}", n, protocol=2 if i % 2 else pickle.HIGHEST_PROTOCOL
        )
    write_cifar_batch(folder / "test_batch", n)
    return folder


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def assert_images(data, shape):
    for x in (data.x_train, data.x_test):
        assert x.dtype == np.float32 and x.shape[1:] == shape
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert data.y_train.dtype == np.int64 and data.y_test.dtype == np.int64
    assert data.kind == "image" and data.input_shape == shape


# ---------------------------------------------------------------- Keras cache


def test_keras_sets_are_unavailable_with_an_exact_placement_message():
    datasets = Path(os.environ["KERAS_HOME"]) / "datasets"
    info = dataset_info("mnist")
    assert not info.available
    assert (info.train_size, info.test_size, info.input_shape) == (60000, 10000, (28, 28, 1))
    assert f"place mnist.npz at {datasets / 'mnist.npz'}" in info.unavailable_reason
    assert "offline" in info.unavailable_reason
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnist")
    message = str(caught.value)
    assert "\n" not in message and str(datasets / "mnist.npz") in message and "offline" in message

    with pytest.raises(DatasetError) as caught:
        load_dataset("fashion_mnist")
    assert "train-images-idx3-ubyte.gz" in str(caught.value)
    assert str(datasets / "fashion-mnist") in str(caught.value)

    with pytest.raises(DatasetError) as caught:
        load_dataset("cifar10")
    assert "data_batch_1" in str(caught.value) and "test_batch" in str(caught.value)
    assert "cifar-10-python.tar.gz" in str(caught.value)


def test_mnist_from_the_cache_npz():
    path = keras_datasets_dir() / "mnist.npz"
    np.savez(
        path,
        x_train=images(8, 28, 28),
        y_train=labels(8),
        x_test=images(4, 28, 28),
        y_test=labels(4),
    )
    info = dataset_info("mnist")
    assert info.available and info.unavailable_reason == ""
    assert info.source == f"Keras cache: {path}"
    data = load_dataset("mnist")
    assert_images(data, (28, 28, 1))
    assert data.class_names == tuple(str(i) for i in range(10))
    assert (len(data.y_train), len(data.y_test)) == (8, 4)
    assert data.source == f"Keras cache: {path}"


def test_fashion_mnist_from_the_cache_gz_idx_files():
    folder = keras_datasets_dir() / "fashion-mnist"
    write_idx_dir(folder, gz=True, side=28)
    assert dataset_info("fashion_mnist").available
    data = load_dataset("fashion_mnist")
    assert_images(data, (28, 28, 1))
    assert (
        data.class_names[:2] == ("T-shirt/top", "Trouser") and data.class_names[-1] == "Ankle boot"
    )
    np.testing.assert_array_equal(data.y_test, labels(5))


def test_fashion_mnist_partly_cached_names_the_missing_file():
    folder = keras_datasets_dir() / "fashion-mnist"
    write_idx_dir(folder, gz=True, side=28)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    info = dataset_info("fashion_mnist")
    assert not info.available
    assert "t10k-labels-idx1-ubyte.gz" in info.unavailable_reason
    assert "train-images-idx3-ubyte.gz" not in info.unavailable_reason


@pytest.mark.parametrize(
    "layout",
    [("cifar-10-batches-py",), ("cifar-10-batches-py-target", "cifar-10-batches-py")],
    ids=["classic", "keras3"],
)
def test_cifar10_from_the_cache_pickle_batches(layout):
    folder = write_cifar_cache(keras_datasets_dir().joinpath(*layout))
    info = dataset_info("cifar10")
    assert info.available and info.source == f"Keras cache: {folder}"
    data = load_dataset("cifar10")
    assert_images(data, (32, 32, 3))
    assert (len(data.y_train), len(data.y_test)) == (15, 3)
    assert data.class_names[0] == "airplane" and data.class_names[-1] == "truck"
    # Channel-first rows become channels-last pixels: pixel (0, 0) of image 0 is data[0], data[1024], data[2048].
    raw = pickle.loads((folder / "data_batch_1").read_bytes(), encoding="bytes")[b"data"][0]
    np.testing.assert_allclose(data.x_train[0, 0, 0], raw[[0, 1024, 2048]] / 255.0, rtol=1e-6)


def test_cifar10_batch_that_runs_code_on_unpickling_is_refused(tmp_path):
    folder = write_cifar_cache(keras_datasets_dir() / "cifar-10-batches-py")
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(str(marker)))
    (folder / "data_batch_3").write_bytes(payload)
    with pytest.raises(DatasetError, match="data_batch_3"):
        load_dataset("cifar10")
    assert not marker.exists()


class Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_cifar10_batch_with_wrong_shape_is_named():
    folder = write_cifar_cache(keras_datasets_dir() / "cifar-10-batches-py")
    bad = {b"data": images(2, 100), b"labels": [0, 1]}
    (folder / "test_batch").write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(DatasetError, match=r"test_batch.*\(N, 3072\)"):
        load_dataset("cifar10")


def test_corrupt_cached_mnist_names_the_file():
    path = keras_datasets_dir() / "mnist.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="mnist.npz"):
        load_dataset("mnist")


# ---------------------------------------------------------------- .npz


def test_npz_grayscale_uint8_gets_channel_axis_and_scaling(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(
        path,
        x_train=images(10, 5, 7),
        y_train=labels(10, 3),
        x_test=images(4, 5, 7),
        y_test=labels(4, 3),
    )
    data = load_dataset(str(path))
    assert_images(data, (5, 7, 1))
    assert data.class_names == ("0", "1", "2")
    assert data.name == str(path) and data.source == f"file: {path}"
    assert dataset_info(str(path)).train_size == 10


def test_npz_colour_float_images_and_class_names(tmp_path):
    path = tmp_path / "colour.npz"
    x = RNG.random((6, 4, 4, 3)).astype(np.float32)
    np.savez(
        path,
        x_train=x,
        y_train=np.array([0, 1, 0, 1, 0, 1]),
        x_test=x[:2],
        y_test=np.array([[1], [0]]),
        class_names=np.array(["cat", "dog"]),
    )
    data = load_dataset(str(path))
    assert data.input_shape == (4, 4, 3) and data.class_names == ("cat", "dog")
    np.testing.assert_allclose(data.x_train, x)  # already in [0, 1]: kept as is
    np.testing.assert_array_equal(data.y_test, [1, 0])


def test_npz_with_feature_rows_is_tabular_and_standardised(tmp_path):
    path = tmp_path / "table.npz"
    x = RNG.normal(5.0, 3.0, size=(20, 3))
    np.savez(path, x_train=x, y_train=labels(20, 2), x_test=x[:5], y_test=labels(5, 2))
    data = load_dataset(str(path))
    assert data.kind == "tabular" and data.input_shape == (3,)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)


@pytest.mark.parametrize(
    ("arrays", "complaint"),
    [
        (
            {"x_train": np.zeros((4, 3, 3)), "y_train": np.zeros(4), "x_test": np.zeros((2, 3, 3))},
            "missing array.*y_test",
        ),
        (
            {
                "x_train": np.zeros((4, 3, 3)),
                "y_train": np.zeros(3),
                "x_test": np.zeros((2, 3, 3)),
                "y_test": np.zeros(2),
            },
            "x_train has 4 samples but y_train has 3",
        ),
        (
            {
                "x_train": np.zeros((4, 3, 3)),
                "y_train": np.zeros(4),
                "x_test": np.zeros((2, 3, 4)),
                "y_test": np.zeros(2),
            },
            "train samples have shape",
        ),
        (
            {
                "x_train": np.zeros(4),
                "y_train": np.zeros(4),
                "x_test": np.zeros(2),
                "y_test": np.zeros(2),
            },
            "x_train must have shape",
        ),
        (
            {
                "x_train": np.zeros((4, 3, 3)),
                "y_train": np.array([0, -1, 0, 1]),
                "x_test": np.zeros((2, 3, 3)),
                "y_test": np.zeros(2),
            },
            # The task registry's reason (kerastui.core.tasks.TaskError), at the file.
            "integer labels from -1 to 1 .* not classes 0..K-1",
        ),
        (
            {
                "x_train": np.full((4, 3, 3), 300.0),
                "y_train": np.zeros(4),
                "x_test": np.zeros((2, 3, 3)),
                "y_test": np.zeros(2),
            },
            "pixels must lie",
        ),
        (
            {
                "x_train": np.zeros((4, 3, 3)),
                "y_train": np.zeros((4, 2)),
                "x_test": np.zeros((2, 3, 3)),
                "y_test": np.zeros(2),
            },
            "one label per sample",
        ),
    ],
    ids=[
        "missing-key",
        "length-mismatch",
        "shape-mismatch",
        "1d-x",
        "negative-label",
        "pixel-range",
        "label-shape",
    ],
)
def test_malformed_npz_names_file_and_fault(tmp_path, arrays, complaint):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=complaint) as caught:
        load_dataset(str(path))
    assert str(path) in str(caught.value)


def test_npz_that_is_not_a_zip_or_holds_objects_is_refused(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK nonsense")
    with pytest.raises(DatasetError, match="broken.npz") as raised:
        load_dataset(str(broken))
    # Not numpy's "contains pickled (object) data", which points at the wrong problem.
    assert "not a .npz archive" in str(raised.value) and "pickle" not in str(raised.value)
    objects = tmp_path / "objects.npz"
    ragged = np.empty(2, dtype=object)
    ragged[:] = [[1], [1, 2]]
    np.savez(objects, x_train=ragged, y_train=np.zeros(2), x_test=ragged, y_test=np.zeros(2))
    with pytest.raises(DatasetError, match="objects.npz"):
        load_dataset(str(objects))


# ---------------------------------------------------------------- IDX directory


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_idx_directory(tmp_path, gz):
    folder = write_idx_dir(tmp_path / "digits-idx", gz=gz)
    data = load_dataset(str(folder))
    assert_images(data, (6, 6, 1))
    assert (len(data.y_train), len(data.y_test)) == (12, 5)
    assert data.class_names == tuple(str(i) for i in range(10))
    raw = np.frombuffer(
        gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
        if gz
        else (folder / "train-images-idx3-ubyte").read_bytes(),
        np.uint8,
        offset=16,
    )
    np.testing.assert_allclose(data.x_train.ravel(), raw / 255.0, rtol=1e-6)


def test_idx_directory_without_test_files_gets_a_seeded_split(tmp_path):
    folder = tmp_path / "only-train"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", images(40, 4, 4), gz=False)
    write_idx(folder / "train-labels-idx1-ubyte", labels(40, 4), gz=False)
    first = load_dataset(str(folder), seed=1, test_fraction=0.25)
    again = load_dataset(str(folder), seed=1, test_fraction=0.25)
    assert (len(first.y_train), len(first.y_test)) == (30, 10)
    np.testing.assert_array_equal(first.x_test, again.x_test)


def corrupt(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(gzip.compress(data))


@pytest.mark.parametrize(
    ("file", "make_bytes", "complaint"),
    [
        ("train-images-idx3-ubyte.gz", lambda: b"\x01\x02\x08\x03" + bytes(100), "bad IDX magic"),
        (
            "train-images-idx3-ubyte.gz",
            lambda: idx_bytes(images(12, 6, 6))[:-7],
            "header announces shape",
        ),
        ("train-labels-idx1-ubyte.gz", lambda: idx_bytes(images(12, 6, 6)), "3 dimensions"),
        ("train-labels-idx1-ubyte.gz", lambda: idx_bytes(labels(11)), "12 images but .* 11 labels"),
        (
            "t10k-images-idx3-ubyte.gz",
            lambda: idx_bytes(images(5, 7, 7)),
            "train samples have shape",
        ),
        ("train-images-idx3-ubyte.gz", lambda: b"\x00\x00", "not an IDX file"),
    ],
    ids=["magic", "truncated", "wrong-ndim", "count-mismatch", "dims-mismatch", "tiny"],
)
def test_malformed_idx_names_file_and_fault(tmp_path, file, make_bytes, complaint):
    folder = write_idx_dir(tmp_path / "idx", gz=True)
    corrupt(folder, file, make_bytes())
    with pytest.raises(DatasetError, match=complaint) as caught:
        load_dataset(str(folder))
    assert str(folder) in str(caught.value)


def test_idx_file_that_is_not_gzip_despite_its_name(tmp_path):
    folder = write_idx_dir(tmp_path / "idx", gz=True)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"plain bytes")
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset(str(folder))


def test_directory_without_idx_files_says_what_it_expected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte"):
        load_dataset(str(tmp_path / "empty"))


# ---------------------------------------------------------------- CSV


def test_csv_with_label_column_and_held_out_split(tmp_path):
    rows = [f"{i},{i * 2 % 7},{'ab'[i % 2]}" for i in range(30)]
    path = write_csv(tmp_path / "data.csv", "a,b,class", rows)
    data = load_dataset(str(path), seed=5, test_fraction=0.2)
    assert data.kind == "tabular" and data.input_shape == (2,)
    assert data.class_names == ("a", "b")
    assert (len(data.y_train), len(data.y_test)) == (24, 6)
    assert data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    again = load_dataset(str(path), seed=5, test_fraction=0.2)
    np.testing.assert_array_equal(data.x_test, again.x_test)
    assert "held out" in data.source
    assert data.feature_names == ("a", "b")  # the header, less the label column


def test_csv_label_column_found_by_name_anywhere_else_last(tmp_path):
    named = write_csv(
        tmp_path / "named.csv", "Target,x,y", [f"{i % 3},{i},{i * i}" for i in range(12)]
    )
    data = load_dataset(str(named))
    assert data.input_shape == (2,) and data.class_names == ("0", "1", "2")
    last = write_csv(
        tmp_path / "last.csv", "x,y,kind", [f"{i},{i * i},{'zyx'[i % 3]}" for i in range(12)]
    )
    data = load_dataset(str(last))
    assert data.class_names == ("x", "y", "z")  # text labels: class names sorted
    assert data.input_shape == (2,)


@pytest.mark.parametrize(
    ("train_name", "test_name"),
    [("train.csv", "test.csv"), ("iris.csv", "iris_test.csv"), ("iris_train.csv", "iris_test.csv")],
)
def test_csv_companion_test_file_is_used(tmp_path, train_name, test_name):
    train = write_csv(
        tmp_path / train_name, "f1,f2,label", [f"{i},{i % 4},{i % 2}" for i in range(10)]
    )
    write_csv(tmp_path / test_name, "f1,f2,label", ["100,1,0", "200,2,1", "300,3,1"])
    data = load_dataset(str(train))
    assert (len(data.y_train), len(data.y_test)) == (10, 3)
    np.testing.assert_array_equal(data.y_test, [0, 1, 1])
    assert test_name in data.source
    # Test rows are scaled with the training statistics: 100 is far above the train mean of 4.5.
    assert data.x_test[0, 0] > 10


def test_csv_test_file_with_other_columns_is_refused(tmp_path):
    train = write_csv(tmp_path / "train.csv", "a,b,label", ["1,2,0", "3,4,1", "5,6,0", "7,8,1"])
    write_csv(tmp_path / "test.csv", "a,c,label", ["1,2,0"])
    with pytest.raises(DatasetError, match="test.csv.*differ"):
        load_dataset(str(train))


@pytest.mark.parametrize(
    ("header", "rows", "complaint"),
    [
        ("a,b,label", ["1,2,0", "3,x,1", "5,6,0"], "line 3, column 'b': 'x' is not a number"),
        ("a,b,label", ["1,2,0", "3,4", "5,6,0"], "line 3: 2 fields"),
        ("a,b,label", ["1,2,0", "3,4,-1", "5,6,0"], "line 3: label '-1' in column 'label' is not a class number"),
        ("a,b,label", ["1,2,0", "3,4,1", "5,6,90"], "line 4: label '90' .*not a class number"),
        ("a,b,label", ["1,2,0", "3,4,", "5,6,1"], "line 3: the label .* is empty"),
        ("1,2,0", ["3,4,1"], "header"),
        ("a,b,label", [], "no data rows"),
        ("label", ["1", "2"], "at least one feature column"),
    ],
    ids=[
        "text-feature",
        "short-row",
        "negative-label",
        "far-label",
        "empty-label",
        "no-header",
        "no-rows",
        "no-features",
    ],
)
def test_malformed_csv_names_file_line_and_fault(tmp_path, header, rows, complaint):
    path = write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(DatasetError, match=complaint) as caught:
        load_dataset(str(path))
    assert str(path) in str(caught.value)


def test_csv_value_too_large_to_standardise_is_named_not_left_to_become_a_nan_loss(tmp_path, recwarn):
    # Before: scikit-learn's overflow warnings on stderr, then "loss became NaN ...; try a lower
    # learning rate" (exit 1), advice that cannot help.
    rows = [f"{1e300 if i == 5 else i / 10},{i % 3},{i % 2}" for i in range(40)]
    path = tmp_path / "huge.csv"
    path.write_text("size,kind,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=r"huge.csv: feature column 0 has values too large to standardise \(largest magnitude 1e\+300"):
        load_dataset(str(path))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_empty_and_binary_csv_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match="empty.csv.*empty"):
        load_dataset(str(empty))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x82")
    with pytest.raises(DatasetError, match="binary.csv"):
        load_dataset(str(binary))


def test_unsupported_file_type_says_what_is_supported(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(DatasetError, match=r"notes.txt.*'\.txt'.*\.npz.*\.csv.*IDX"):
        load_dataset(str(path))


def test_csv_fast_numeric_reader_agrees_with_the_careful_reader(tmp_path):
    from kerastui.core.datasets.csv_file import read_csv_table, read_numeric_table

    rows = [f"{i * 0.5},{i % 3},{(i * 7) % 11}" for i in range(25)]
    fast_file = write_csv(tmp_path / "fast.csv", "x,label,y", rows)
    # A blank first line moves the header to line 2, which only the careful reader accepts.
    careful_file = tmp_path / "careful.csv"
    careful_file.write_text("\n" + fast_file.read_text())
    header = ("x", "label", "y")
    assert read_numeric_table(fast_file, header, 1) is not None
    fast, careful = read_csv_table(fast_file), read_csv_table(careful_file)
    np.testing.assert_array_equal(fast.features, careful.features)
    assert fast.labels == careful.labels and fast.header == careful.header
    assert fast.features.shape == (25, 2)
    # Text labels are not for the fast reader.
    text_file = write_csv(tmp_path / "text.csv", "x,label", ["1,cat", "2,dog"])
    assert read_numeric_table(text_file, ("x", "label"), 1) is None
