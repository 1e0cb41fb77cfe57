"""The Keras sets added for every task, read from a fake cache under the temporary KERAS_HOME that
conftest sets: imdb and reuters (word indices, with options), boston_housing and
california_housing (regression, Keras's split), cifar100. Files are tiny, in Keras's formats."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from kerastui.core.data import (
    BUILTIN_DATASETS,
    DatasetError,
    dataset_info,
    dataset_options,
    list_datasets,
    load_dataset,
    with_options,
)

RNG = np.random.default_rng(3)


def datasets_dir() -> Path:
    folder = Path(os.environ["KERAS_HOME"]) / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ragged(lengths: list[int], top: int = 60) -> np.ndarray:
    """Keras's layout: an object array of Python lists of word ranks (from 1)."""
    array = np.empty(len(lengths), dtype=object)
    array[:] = [[int(v) for v in RNG.integers(1, top, size=n)] for n in lengths]
    return array


def write_imdb(n_train: int = 6, n_test: int = 4, words: bool = True) -> Path:
    path = datasets_dir() / "imdb.npz"
    np.savez(path, x_train=ragged([3, 9, 1, 20, 5, 7][:n_train] + [4] * max(0, n_train - 6)),
             y_train=np.arange(n_train) % 2, x_test=ragged([2, 12, 6, 8][:n_test]), y_test=np.array([1, 0, 1, 0][:n_test]))
    if words:
        (datasets_dir() / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2, "film": 3, "bad": 4}))
    return path


# ---------------------------------------------------------------- registry and messages


NEW_SETS = ("diabetes", "linnerud", "cifar100", "imdb", "reuters", "boston_housing", "california_housing")


def test_every_new_set_is_listed_with_its_task_and_kind_without_loading():
    by_name = {info.name: info for info in list_datasets()}
    assert tuple(by_name) == BUILTIN_DATASETS and set(NEW_SETS) <= set(BUILTIN_DATASETS)
    expected = {
        "imdb": ("text", "binary", (200,), 2, 10000),
        "reuters": ("text", "multiclass", (200,), 46, 10000),
        "boston_housing": ("tabular", "regression", (13,), 1, 0),
        "california_housing": ("tabular", "regression", (8,), 1, 0),
        "cifar100": ("image", "multiclass", (32, 32, 3), 100, 0),
    }
    for name, (kind, task, shape, outputs, vocabulary) in expected.items():
        info = by_name[name]
        assert (info.kind, info.task, info.input_shape, info.num_classes, info.vocabulary_size) == (
            kind, task, shape, outputs, vocabulary), name
        assert not info.available and "place" in info.unavailable_reason and "offline" in info.unavailable_reason
    assert (by_name["boston_housing"].train_size, by_name["boston_housing"].test_size) == (404, 102)
    assert (by_name["reuters"].train_size, by_name["reuters"].test_size) == (8982, 2246)
    assert by_name["reuters"].class_names[:3] == ("cocoa", "grain", "veg-oil")


@pytest.mark.parametrize(
    ("name", "placed"),
    [
        ("imdb", "place imdb.npz at {d}/imdb.npz"),
        ("reuters", "place reuters.npz at {d}/reuters.npz"),
        ("boston_housing", "place boston_housing.npz at {d}/boston_housing.npz"),
        ("california_housing", "place california_housing.npz at {d}/california_housing.npz"),
        ("cifar100", "place train, test in {d}/cifar-100-python/ by extracting cifar-100-python.tar.gz"),
    ],
)
def test_missing_files_are_named_with_where_to_place_them(name, placed):
    folder = Path(os.environ["KERAS_HOME"]) / "datasets"
    with pytest.raises(DatasetError) as caught:
        load_dataset(name)
    message = str(caught.value)
    assert placed.format(d=folder) in message and "never downloads" in message and "\n" not in message
    if name in ("imdb", "reuters"):
        assert f"{name}_word_index.json beside it" in message


def test_options_are_parsed_checked_and_named_canonically():
    info = dataset_info("IMDB:num_words=5000,maxlen=100")
    assert info.name == "imdb:maxlen=100,num_words=5000"
    assert info.input_shape == (100,) and info.vocabulary_size == 5000
    assert with_options("reuters", maxlen=64) == "reuters:maxlen=64"
    assert [o.name for o in dataset_options("imdb")] == ["maxlen", "num_words"]
    assert dataset_options("imdb")[0].default == 200 and dataset_options("digits") == ()
    assert dataset_info("california_housing:version=small").train_size == 480
    assert dataset_info("cifar100:label_mode=coarse").num_classes == 20
    for bad, complaint in (
        ("imdb:maxlen=abc", "maxlen must be a whole number, got 'abc'"),
        ("imdb:maxlen=0", "maxlen must be from 1"),
        ("imdb:words=10", r"unknown option 'words'; imdb takes maxlen .* write imdb:maxlen=200,num_words=10000"),
        ("imdb:maxlen=10,maxlen=20", "maxlen is given twice"),
        ("california_housing:version=medium", "version must be one of large, small"),
        ("iris:maxlen=10", "iris takes no options"),
    ):
        with pytest.raises(DatasetError, match=complaint):
            load_dataset(bad)


# ---------------------------------------------------------------- imdb and reuters


def test_imdb_is_padded_and_truncated_in_front_with_keras_word_conventions():
    write_imdb()
    data = load_dataset("imdb:maxlen=6,num_words=20")
    assert data.name == "imdb:maxlen=6,num_words=20"
    assert (data.kind, data.task, data.input_shape, data.vocabulary_size) == ("text", "binary", (6,), 20)
    assert data.x_train.dtype == np.int32 and data.x_train.shape == (6, 6) and data.x_test.shape == (4, 6)
    assert data.class_names == ("negative", "positive")
    assert data.x_train.max() < 20 and data.x_train.min() >= 0
    # Each row: 0s in front of a short review, which starts with 1; a long one keeps its end (no 1).
    lengths = np.array([3, 9, 1, 20, 5, 7]) + 1
    for row in data.x_train:
        (kept,) = np.nonzero(row)
        assert kept.size and kept[-1] == 5  # right-aligned
    starts = (data.x_train == 1).sum(axis=1)
    assert sorted(starts) == sorted(int(n <= 6) for n in lengths)


def test_imdb_words_come_from_the_cached_word_index_offset_by_three():
    write_imdb()
    data = load_dataset("imdb:num_words=10")
    assert data.index_words[:3] == ("<pad>", "<start>", "<unk>")
    assert data.index_words[4:8] == ("the", "and", "film", "bad")  # rank r is index r + 3
    assert len(data.index_words) == 10 and "words from imdb_word_index.json" in data.source


def test_imdb_without_a_word_index_shows_numbers():
    write_imdb(words=False)
    data = load_dataset("imdb")
    assert data.index_words == () and "no imdb_word_index.json" in data.source
    assert data.input_shape == (200,) and data.vocabulary_size == 10000


def test_words_past_the_vocabulary_become_the_unknown_index():
    path = datasets_dir() / "imdb.npz"
    x = np.empty(2, dtype=object)
    x[:] = [[1, 2, 50], [49]]
    np.savez(path, x_train=x, y_train=np.array([0, 1]), x_test=x, y_test=np.array([1, 0]))
    data = load_dataset("imdb:maxlen=4,num_words=10")
    # Ranks 1, 2, 50, 49 are indices 4, 5, 53, 52: the last two are outside 10 words, so 2.
    assert sorted(map(tuple, data.x_train.tolist())) == [(0, 0, 1, 2), (1, 4, 5, 2)]


def test_reuters_is_split_as_keras_splits_it():
    path = datasets_dir() / "reuters.npz"
    y = np.arange(20) % 46
    np.savez(path, x=ragged([4] * 20), y=y)
    data = load_dataset("reuters:maxlen=5")
    assert data.task == "multiclass" and data.num_classes == 46 and data.class_names[3] == "earn"
    assert (len(data.y_train), len(data.y_test)) == (16, 4)
    order = np.arange(20)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(data.y_train, y[order[:16]])
    np.testing.assert_array_equal(data.y_test, y[order[16:]])


def test_a_sequence_archive_that_runs_code_on_unpickling_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    x = np.empty(2, dtype=object)
    x[:] = [Exploit(), Exploit()]
    np.savez(datasets_dir() / "imdb.npz", x_train=x, y_train=np.array([0, 1]), x_test=x, y_test=np.array([0, 1]))
    with pytest.raises(DatasetError, match=r"imdb.npz: not a Keras sequence archive \(refusing to load pathlib"):
        load_dataset("imdb")
    assert not marker.exists()


def test_an_imdb_archive_without_its_arrays_is_named():
    np.savez(datasets_dir() / "imdb.npz", x=ragged([3]), y=np.array([1]))
    with pytest.raises(DatasetError, match=r"imdb.npz: missing array\(s\) x_train, y_train, x_test, y_test"):
        load_dataset("imdb")


# ---------------------------------------------------------------- housing


def test_boston_housing_is_keras_split_regression_in_raw_units():
    x = RNG.normal(size=(25, 13)) * 10
    y = RNG.uniform(5, 50, size=25)
    np.savez(datasets_dir() / "boston_housing.npz", x=x, y=y)
    data = load_dataset("boston_housing")
    assert (data.task, data.kind, data.class_names) == ("regression", "tabular", ("median value (k$)",))
    assert (len(data.y_train), len(data.y_test)) == (20, 5)  # int(25 * 0.8) for training
    order = np.arange(25)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_allclose(data.y_train, y[order[:20]], rtol=1e-6)
    np.testing.assert_allclose(data.y_test, y[order[20:]], rtol=1e-6)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    assert data.feature_names[5] == "RM"
    # The experiment's seed does not move Keras's test set.
    np.testing.assert_array_equal(load_dataset("boston_housing", seed=9).y_test, data.y_test)


def test_california_housing_small_takes_the_first_600_districts():
    x = RNG.normal(size=(700, 8))
    y = np.arange(700, dtype=np.float32) * 1000.0
    np.savez(datasets_dir() / "california_housing.npz", x=x, y=y)
    small = load_dataset("california_housing:version=small")
    assert (len(small.y_train), len(small.y_test)) == (480, 120)
    assert np.concatenate([small.y_train, small.y_test]).max() < 600_000  # only the first 600
    large = load_dataset("california_housing")
    assert len(large.y_train) + len(large.y_test) == 700 and large.class_names == ("median value ($)",)


def test_a_housing_file_without_x_and_y_is_named():
    np.savez(datasets_dir() / "boston_housing.npz", features=np.zeros((3, 13)))
    with pytest.raises(DatasetError, match=r"boston_housing.npz: missing array\(s\) x, y"):
        load_dataset("boston_housing")


# ---------------------------------------------------------------- cifar100


def write_cifar100(folder: Path, n: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        batch = {
            b"filenames": [b"x.png"] * n,
            b"batch_label": b"fake",
            b"fine_labels": [int(v) for v in (np.arange(n) * 33) % 100],
            b"coarse_labels": [int(v) for v in np.arange(n) % 20],
            b"data": RNG.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        }
        (folder / split).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


@pytest.mark.parametrize(
    "layout", [("cifar-100-python-target", "cifar-100-python"), ("cifar-100-python",)], ids=["keras3", "classic"]
)
def test_cifar100_fine_and_coarse_labels_from_the_cache(layout):
    folder = write_cifar100(datasets_dir().joinpath(*layout))
    info = dataset_info("cifar100")
    assert info.available and info.source == f"Keras cache: {folder}"
    fine = load_dataset("cifar100")
    assert fine.input_shape == (32, 32, 3) and fine.num_classes == 100 and fine.task == "multiclass"
    np.testing.assert_array_equal(fine.y_train, [0, 33, 66, 99])
    assert fine.class_names[99] == "worm" and fine.class_names[0] == "apple"
    coarse = load_dataset("cifar100:label_mode=coarse")
    assert coarse.num_classes == 20 and coarse.class_names[-1] == "vehicles_2"
    np.testing.assert_array_equal(coarse.y_test, [0, 1, 2, 3])
    raw = pickle.loads((folder / "train").read_bytes(), encoding="bytes")[b"data"][1]
    np.testing.assert_allclose(fine.x_train[1, 0, 0], raw[[0, 1024, 2048]] / 255.0, rtol=1e-6)


def test_cifar100_with_only_the_training_file_names_the_test_file():
    folder = write_cifar100(datasets_dir() / "cifar-100-python")
    (folder / "test").unlink()
    info = dataset_info("cifar100")
    assert not info.available and "place test in" in info.unavailable_reason


def _padded_by_hand(sequences, maxlen: int, num_words: int) -> np.ndarray:
    out = np.zeros((len(sequences), maxlen), dtype=np.int32)
    for i, words in enumerate(sequences):
        tokens = [1] + [w + 3 if w + 3 < num_words else 2 for w in words]
        tokens = tokens[-maxlen:]
        out[i, maxlen - len(tokens):] = tokens
    return out


@pytest.mark.parametrize("maxlen", [1, 2, 7, 300_000], ids=["one", "two", "seven", "blocks"])
def test_padding_matches_a_plain_loop_including_empty_reviews(maxlen):
    from kerastui.core.datasets.keras_cache import pad_word_sequences

    sequences = ragged([0, 1, 5, 12, 3, 0, 9, 30, 2, 6], top=40)
    np.testing.assert_array_equal(pad_word_sequences(sequences, maxlen, 25, "test"),
                                  _padded_by_hand(sequences, maxlen, 25))


def test_reading_the_new_keras_sets_never_imports_tensorflow_or_keras():
    import json as json_module
    import subprocess
    import sys

    write_imdb()
    np.savez(datasets_dir() / "boston_housing.npz", x=RNG.normal(size=(10, 13)), y=RNG.uniform(5, 50, 10))
    probe = (
        "import sys, json\n"
        "from kerastui.core.data import load_dataset, list_datasets\n"
        "assert load_dataset('imdb:maxlen=5').kind == 'text'\n"
        "assert load_dataset('boston_housing').task == 'regression'\n"
        "list_datasets()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    loaded = set(json_module.loads(result.stdout.strip().splitlines()[-1]))
    assert "sklearn" in loaded and not loaded & {"tensorflow", "keras", "jax", "torch"}
