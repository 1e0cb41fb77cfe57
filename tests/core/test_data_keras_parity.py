"""kerastui reads the Keras cache with numpy; here Keras's own load_data reads the same fake files
(its download step pointed at them) and the arrays must be equal: the shuffles, Keras's split,
the word conventions and pad_sequences' "pre" padding and truncating. Imports Keras, hence slow."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from kerastui.core.data import load_dataset

pytestmark = pytest.mark.slow
RNG = np.random.default_rng(11)


def ragged(n: int) -> np.ndarray:
    array = np.empty(n, dtype=object)
    array[:] = [[int(v) for v in RNG.integers(1, 80, size=RNG.integers(1, 25))] for _ in range(n)]
    return array


@pytest.fixture
def cache(monkeypatch) -> Path:
    folder = Path(os.environ["KERAS_HOME"]) / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "imdb.npz", x_train=ragged(40), y_train=RNG.integers(0, 2, 40), x_test=ragged(30),
             y_test=RNG.integers(0, 2, 30))
    np.savez(folder / "reuters.npz", x=ragged(57), y=RNG.integers(0, 46, 57))
    np.savez(folder / "boston_housing.npz", x=RNG.normal(size=(43, 13)), y=RNG.uniform(5, 50, 43))
    np.savez(folder / "california_housing.npz", x=RNG.normal(size=(650, 8)), y=RNG.uniform(2e4, 5e5, 650))
    keras_datasets = pytest.importorskip("keras.src.datasets")
    from keras.src.datasets import boston_housing, california_housing, imdb, reuters

    del keras_datasets
    for module, file in ((imdb, "imdb.npz"), (reuters, "reuters.npz"), (boston_housing, "boston_housing.npz"),
                         (california_housing, "california_housing.npz")):
        monkeypatch.setattr(module, "get_file", lambda *args, _file=file, **kwargs: str(folder / _file))
    return folder


def test_sequences_equal_keras_load_data_then_pad_sequences(cache):
    import keras
    from keras.src.datasets import imdb, reuters

    for name, module, maxlen, num_words in (("imdb", imdb, 12, 30), ("reuters", reuters, 9, 50)):
        (x_train, y_train), (x_test, y_test) = module.load_data(num_words=num_words)
        ours = load_dataset(f"{name}:maxlen={maxlen},num_words={num_words}")
        pad = keras.utils.pad_sequences  # padding="pre", truncating="pre" are its defaults
        np.testing.assert_array_equal(ours.x_train, pad(x_train, maxlen=maxlen))
        np.testing.assert_array_equal(ours.x_test, pad(x_test, maxlen=maxlen))
        np.testing.assert_array_equal(ours.y_train, y_train)
        np.testing.assert_array_equal(ours.y_test, y_test)


def test_housing_splits_equal_keras_load_data(cache):
    from keras.src.datasets import boston_housing, california_housing

    for ours_name, (train, test) in (
        ("boston_housing", boston_housing.load_data()),
        ("california_housing", california_housing.load_data()),
        ("california_housing:version=small", california_housing.load_data(version="small")),
    ):
        ours = load_dataset(ours_name)
        np.testing.assert_allclose(ours.y_train, train[1], rtol=1e-6)
        np.testing.assert_allclose(ours.y_test, test[1], rtol=1e-6)
        # Features are standardised here: Keras's raw rows, scaled with the training statistics.
        mean, std = train[0].mean(axis=0), train[0].std(axis=0)
        np.testing.assert_allclose(ours.x_test, (test[0] - mean) / std, rtol=1e-4, atol=1e-5)
