"""Embedded datasets, the registry and name resolution (no files, no network)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kerastui.core.data import (
    BUILTIN_DATASETS,
    Dataset,
    DatasetError,
    dataset_info,
    list_datasets,
    load_dataset,
)

TABULAR = {"iris": (4, 3), "wine": (13, 3), "breast_cancer": (30, 2)}


def test_digits_are_8x8_images_in_unit_range_with_digit_names():
    data = load_dataset("digits")
    assert isinstance(data, Dataset)
    assert data.kind == "image" and data.input_shape == (8, 8, 1)
    assert data.x_train.shape[1:] == (8, 8, 1) and data.x_test.shape[1:] == (8, 8, 1)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0  # 0..16 divided by 16
    assert data.class_names == tuple(str(i) for i in range(10))
    assert data.num_classes == 10
    assert set(np.unique(data.y_test)) == set(range(10))
    assert data.source == "embedded (scikit-learn)"


def test_digits_split_covers_all_1797_samples_and_is_deterministic():
    first = load_dataset("digits", seed=3)
    again = load_dataset("digits", seed=3)
    other = load_dataset("digits", seed=4)
    assert len(first.y_train) + len(first.y_test) == 1797
    assert len(first.y_test) == 360  # ceil(0.2 * 1797)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert not np.array_equal(first.y_test, other.y_test)


def test_digits_split_is_stratified_and_follows_test_fraction():
    data = load_dataset("digits", test_fraction=0.5)
    assert len(data.y_train) + len(data.y_test) == 1797
    assert abs(len(data.y_test) - 899) <= 1
    train_share = np.bincount(data.y_train) / len(data.y_train)
    test_share = np.bincount(data.y_test) / len(data.y_test)
    assert np.abs(train_share - test_share).max() < 0.01


@pytest.mark.parametrize("name", sorted(TABULAR))
def test_tabular_sets_are_standardised_with_train_statistics(name):
    features, classes = TABULAR[name]
    data = load_dataset(name)
    assert data.kind == "tabular" and data.input_shape == (features,)
    assert data.x_train.dtype == np.float32 and data.x_train.shape[1] == features
    assert data.num_classes == classes and len(data.class_names) == classes
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1.0, atol=1e-4)
    # The test split is scaled with the train statistics, so it is near but not exactly standard.
    assert not np.allclose(data.x_test.mean(axis=0), 0.0, atol=1e-5)


def test_tabular_class_names_come_from_scikit_learn():
    assert load_dataset("iris").class_names == ("setosa", "versicolor", "virginica")
    # Malignant is the positive class (1) of the binary task: scikit-learn numbers it 0.
    assert load_dataset("breast_cancer").class_names == ("benign", "malignant")
    assert load_dataset("wine").class_names == ("class_0", "class_1", "class_2")


@pytest.mark.parametrize("name", ["digits", "iris", "wine", "breast_cancer"])
def test_cheap_info_of_embedded_sets_matches_what_loading_gives(name):
    info = dataset_info(name)
    loaded = load_dataset(name).info()
    assert info.available and info.unavailable_reason == ""
    for field in (
        "name",
        "title",
        "kind",
        "input_shape",
        "num_classes",
        "class_names",
        "train_size",
        "test_size",
        "source",
    ):
        assert getattr(info, field) == getattr(loaded, field), field


def test_list_datasets_names_every_builtin_in_order_with_availability():
    infos = list_datasets()
    assert tuple(i.name for i in infos) == BUILTIN_DATASETS
    by_name = {i.name: i for i in infos}
    assert all(by_name[n].available for n in ("digits", "iris", "wine", "breast_cancer", "diabetes", "linnerud"))
    # conftest points KERAS_HOME at an empty temporary folder
    for name in ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
                 "california_housing"):
        assert not by_name[name].available
        assert "place" in by_name[name].unavailable_reason


def test_unknown_name_lists_the_builtins():
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnsit")
    message = str(caught.value)
    assert "mnsit" in message
    for name in BUILTIN_DATASETS:
        assert name in message
    with pytest.raises(DatasetError, match="digits"):
        dataset_info("no/such/file.npz")


def test_names_forgive_case_and_dashes():
    assert dataset_info("Fashion-MNIST").name == "fashion_mnist"
    assert dataset_info("CIFAR-10").name == "cifar10"
    assert load_dataset("Breast-Cancer").name == "breast_cancer"


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_impossible_test_fraction_is_refused(fraction):
    with pytest.raises(DatasetError, match="test_fraction"):
        load_dataset("iris", test_fraction=fraction)


def test_info_of_a_loaded_dataset_reflects_its_arrays():
    data = load_dataset("wine", test_fraction=0.25)
    info = data.info()
    assert (info.train_size, info.test_size) == (len(data.y_train), len(data.y_test))
    assert info.available and info.title == "Wine cultivars"


def test_embedded_loaders_never_import_tensorflow_or_keras():
    probe = (
        "import sys, json\n"
        "from kerastui.core.data import load_dataset, list_datasets\n"
        "for name in ('digits', 'iris', 'wine', 'breast_cancer', 'diabetes', 'linnerud'):\n"
        "    load_dataset(name)\n"
        "list_datasets()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "sklearn" in loaded  # the probe really loaded the data
    assert not loaded & {"tensorflow", "keras", "jax", "torch"}


def test_tabular_sets_carry_their_feature_names_and_images_none():
    iris = load_dataset("iris")
    assert iris.feature_names[0] == "sepal length (cm)" and len(iris.feature_names) == iris.input_shape[0]
    assert load_dataset("digits").feature_names == ()


def test_an_experiment_is_trained_and_evaluated_on_the_split_its_seed_makes():
    from dataclasses import replace

    from kerastui.core.data import experiment_dataset
    from kerastui.core.spec import Experiment

    first = experiment_dataset(replace(Experiment(), seed=7))
    again = experiment_dataset(replace(Experiment(), seed=7))
    other = experiment_dataset(replace(Experiment(), seed=8))
    assert first.seed == again.seed == 7 and other.seed == 8
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert not np.array_equal(first.x_test, other.x_test)
