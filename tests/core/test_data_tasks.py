"""Every loader gives targets in its task's form and the kind its inputs are, and names bad input
(NaN, labels that fit no task) where it enters. Tiny files written here; no network, no Keras."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kerastui.core.data import DatasetError, dataset_info, load_dataset
from kerastui.core.tasks import infer_task

RNG = np.random.default_rng(0)


def write_npz(path: Path, **arrays: np.ndarray) -> str:
    np.savez(path, **arrays)
    return str(path)


def write_csv(path: Path, header: str, rows: list[str]) -> str:
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


# ---------------------------------------------------------------- embedded sets


def test_breast_cancer_is_binary_by_inference_too_with_malignant_positive():
    import sklearn.datasets

    data = load_dataset("breast_cancer")
    assert data.task == "binary" and infer_task(np.concatenate([data.y_train, data.y_test])) == "binary"
    assert data.class_names == ("benign", "malignant")
    # 212 malignant tumours in scikit-learn's set (its label 0): here they are the 1s.
    total = np.concatenate([data.y_train, data.y_test])
    assert int(total.sum()) == int((sklearn.datasets.load_breast_cancer().target == 0).sum()) == 212


def test_diabetes_is_one_regression_target_in_raw_units_on_standardised_features():
    data = load_dataset("diabetes")
    assert data.task == "regression" and data.kind == "tabular" and data.input_shape == (10,)
    assert data.class_names == ("progression",) and data.num_classes == 1
    assert data.y_train.dtype == np.float32 and data.y_train.shape == (len(data.x_train),)
    both = np.concatenate([data.y_train, data.y_test])
    assert both.min() == 25.0 and both.max() == 346.0  # not standardised
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    assert data.feature_names[:3] == ("age", "sex", "bmi")


def test_linnerud_maps_three_exercises_to_three_named_body_measurements():
    data = load_dataset("linnerud")
    assert data.task == "regression" and data.input_shape == (3,)
    assert data.class_names == ("Weight", "Waist", "Pulse")
    assert data.y_train.shape == (16, 3) and data.y_test.shape == (4, 3) and data.y_train.dtype == np.float32
    assert data.feature_names == ("Chins", "Situps", "Jumps")
    # Raw units: weights in pounds, well above the standardised features' scale.
    assert np.concatenate([data.y_train, data.y_test])[:, 0].min() > 100
    assert infer_task(data.y_train) == "regression"


@pytest.mark.parametrize("name", ["digits", "iris", "wine", "breast_cancer", "diabetes", "linnerud"])
def test_cheap_info_of_embedded_sets_matches_loading_with_task(name):
    info, loaded = dataset_info(name), load_dataset(name).info()
    for field in ("kind", "input_shape", "num_classes", "class_names", "train_size", "test_size", "task",
                  "vocabulary_size"):
        assert getattr(info, field) == getattr(loaded, field), field


def test_a_regression_split_is_not_stratified_and_follows_the_seed():
    first, again, other = (load_dataset("diabetes", seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(first.y_test, again.y_test)
    assert not np.array_equal(first.y_test, other.y_test)
    assert len(first.y_test) == 89  # ceil(0.2 * 442)


# ---------------------------------------------------------------- .npz: targets of every task


def test_npz_float_targets_are_regression_named_target(tmp_path):
    x = RNG.normal(size=(20, 4))
    path = write_npz(tmp_path / "r.npz", x_train=x, y_train=RNG.normal(size=20) * 3, x_test=x[:5],
                     y_test=np.array([0.5, 1.5, 2.5, 3.5, 4.5]))
    data = load_dataset(path)
    assert data.task == "regression" and data.class_names == ("target",)
    assert data.y_train.dtype == np.float32 and data.y_train.shape == (20,)
    np.testing.assert_allclose(data.y_test, [0.5, 1.5, 2.5, 3.5, 4.5])


def test_npz_several_float_targets_take_label_names(tmp_path):
    x = RNG.normal(size=(12, 3))
    path = write_npz(tmp_path / "r3.npz", x_train=x, y_train=RNG.normal(size=(12, 2)), x_test=x[:4],
                     y_test=RNG.normal(size=(4, 2)), label_names=np.array(["height", "mass"]))
    data = load_dataset(path)
    assert data.task == "regression" and data.class_names == ("height", "mass") and data.y_test.shape == (4, 2)
    unnamed = write_npz(tmp_path / "r4.npz", x_train=x, y_train=RNG.normal(size=(12, 2)), x_test=x[:4],
                        y_test=RNG.normal(size=(4, 2)))
    assert load_dataset(unnamed).class_names == ("target_0", "target_1")


def test_npz_label_matrix_is_multilabel_int64_with_names(tmp_path):
    x = RNG.normal(size=(10, 3)).astype(np.float32)
    y = (RNG.random((10, 3)) < 0.5).astype(np.float64)  # floats 0.0/1.0 are labels too
    path = write_npz(tmp_path / "ml.npz", x_train=x, y_train=y, x_test=x[:4], y_test=y[:4],
                     class_names=np.array(["a", "b", "c"]))
    data = load_dataset(path)
    assert data.task == "multilabel" and data.y_train.dtype == np.int64 and data.y_train.shape == (10, 3)
    assert data.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(data.y_train, y.astype(np.int64))


def test_npz_wrong_number_of_label_names_is_named(tmp_path):
    x = RNG.normal(size=(10, 3))
    y = (RNG.random((10, 3)) < 0.5).astype(np.int64)
    path = write_npz(tmp_path / "ml.npz", x_train=x, y_train=y, x_test=x[:4], y_test=y[:4],
                     label_names=np.array(["a", "b"]))
    with pytest.raises(DatasetError, match=r"ml.npz: 2 label names are given for 3 label column"):
        load_dataset(path)


def test_npz_binary_and_multiclass_by_inference(tmp_path):
    x = RNG.normal(size=(8, 2))
    binary = write_npz(tmp_path / "b.npz", x_train=x, y_train=np.array([0, 1] * 4), x_test=x[:2],
                       y_test=np.zeros(2))  # a float test split of whole numbers reads as the same labels
    data = load_dataset(binary)
    assert data.task == "binary" and data.y_test.dtype == np.int64 and data.class_names == ("0", "1")
    three = write_npz(tmp_path / "m.npz", x_train=x, y_train=np.arange(8) % 3, x_test=x[:2], y_test=np.array([2, 0]))
    assert load_dataset(three).task == "multiclass"


def test_named_classes_decide_even_when_some_are_unseen(tmp_path):
    x = RNG.normal(size=(6, 2))
    names = np.array([f"c{i}" for i in range(30)])
    path = write_npz(tmp_path / "n.npz", x_train=x, y_train=np.array([0, 1, 29, 0, 1, 29]), x_test=x[:2],
                     y_test=np.array([0, 29]), class_names=names)
    data = load_dataset(path)
    assert data.task == "multiclass" and data.num_classes == 30


# ---------------------------------------------------------------- .npz: kinds


def test_npz_signals_are_standardised_per_channel_not_judged_as_pixels(tmp_path):
    # Strain-like values (1e-21) on one channel, volts (1e3) on the other: pixels they are not.
    x = np.stack([RNG.normal(size=(30, 50)) * 1e-21, 1000 + 5 * RNG.normal(size=(30, 50))], axis=-1)
    path = write_npz(tmp_path / "s.npz", x_train=x[:24].astype(np.float32), y_train=np.arange(24) % 2,
                     x_test=x[24:].astype(np.float32), y_test=np.array([0, 1] * 3), class_names=np.array(["noise", "signal"]))
    data = load_dataset(path)
    assert data.kind == "signal" and data.input_shape == (50, 2) and data.task == "binary"
    assert data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train.mean(axis=(0, 1)), 0.0, atol=1e-4)
    np.testing.assert_allclose(data.x_train.std(axis=(0, 1)), 1.0, atol=1e-3)
    # Test signals use the training statistics.
    raw_test = x[24:, :, 1]
    expected = (raw_test - x[:24, :, 1].astype(np.float32).mean()) / x[:24, :, 1].astype(np.float32).std()
    np.testing.assert_allclose(data.x_test[:, :, 1], expected, rtol=1e-3, atol=1e-3)


def test_the_example_signal_maker_gives_a_binary_signal_set(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_signals", Path(__file__).parents[2] / "examples" / "make_signals.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = module.make_signals(50, seed=0)
    path = write_npz(tmp_path / "gw.npz", x_train=x[10:], y_train=y[10:], x_test=x[:10], y_test=y[:10])
    data = load_dataset(path)
    assert (data.kind, data.task, data.input_shape) == ("signal", "binary", (200, 2))


def test_npz_integer_sequences_are_text_with_a_vocabulary(tmp_path):
    x = RNG.integers(0, 40, size=(10, 12)).astype(np.int64)
    x[0, 0] = 57
    words = np.array(["<pad>", "<start>", "<unk>"] + [f"w{i}" for i in range(3, 58)])
    path = write_npz(tmp_path / "t.npz", x_train=x, y_train=np.arange(10) % 2, x_test=x[:3],
                     y_test=np.array([0, 1, 1]), index_words=words)
    data = load_dataset(path)
    assert data.kind == "text" and data.x_train.dtype == np.int32 and data.input_shape == (12,)
    assert data.vocabulary_size == 58 and data.info().vocabulary_size == 58
    assert data.index_words[57] == "w57"
    np.testing.assert_array_equal(data.x_train, x)  # indices kept as they are, never standardised


def test_npz_kind_rules_for_ambiguous_shapes(tmp_path):
    def kind(x: np.ndarray, **extra) -> str:
        path = write_npz(tmp_path / "k.npz", x_train=x, y_train=np.arange(len(x)) % 2, x_test=x[:2],
                         y_test=np.array([0, 1]), **extra)
        return load_dataset(path).kind

    assert kind(RNG.normal(size=(6, 5))) == "tabular"  # float rows
    assert kind(RNG.integers(-3, 3, size=(6, 5))) == "tabular"  # negative integers are no word indices
    assert kind(RNG.integers(0, 256, size=(6, 784)).astype(np.uint8)) == "tabular"  # flattened pixels
    assert kind(RNG.random((6, 28, 28))) == "image"  # (N, H, W) grey images
    assert kind(RNG.random((6, 9, 9))) == "image"  # square: images
    assert kind(RNG.integers(0, 256, size=(6, 40, 3)).astype(np.uint8)) == "image"  # uint8: pixels
    assert kind(RNG.normal(size=(6, 40, 3))) == "signal"
    # The npz may say what it holds.
    assert kind(RNG.random((6, 10, 4)), kind=np.array("image")) == "image"
    assert kind(RNG.normal(size=(6, 20, 64)), kind=np.array("signal")) == "signal"
    assert kind(RNG.integers(0, 5, size=(6, 4)), kind=np.array("tabular")) == "tabular"
    one_channel = write_npz(tmp_path / "one.npz", x_train=RNG.normal(size=(6, 30)), y_train=np.arange(6) % 2,
                            x_test=RNG.normal(size=(2, 30)), y_test=np.array([0, 1]), kind=np.array("signal"))
    assert load_dataset(one_channel).input_shape == (30, 1)  # (N, T) signals get their channel axis


def test_npz_unknown_kind_and_float_text_are_refused(tmp_path):
    x = RNG.normal(size=(6, 4))
    path = write_npz(tmp_path / "k.npz", x_train=x, y_train=np.arange(6) % 2, x_test=x[:2], y_test=np.array([0, 1]),
                     kind=np.array("audio"))
    with pytest.raises(DatasetError, match="kind must be one of image, tabular, signal, text"):
        load_dataset(path)
    path = write_npz(tmp_path / "f.npz", x_train=x, y_train=np.arange(6) % 2, x_test=x[:2], y_test=np.array([0, 1]),
                     kind=np.array("text"))
    with pytest.raises(DatasetError, match=r"fractional values .* at sample 0, position 0.*Embedding"):
        load_dataset(path)


# ---------------------------------------------------------------- NaN and infinite values


@pytest.mark.parametrize(
    ("x", "y", "complaint"),
    [
        (np.where(np.arange(40).reshape(10, 4) == 9, np.nan, 1.0), None,
         r"x_train has 1 NaN or infinite value; the first at sample 2, column 1"),
        (np.full((10, 30, 2), 1.0).copy(), None, None),  # filled below: a signal
        (None, np.array([0.5, np.inf, 1, np.nan, 2, 3, 1, 2, 3, 4]),
         r"y_train has 2 NaN or infinite values; the first at sample 1"),
        (None, np.where(np.arange(20).reshape(10, 2) == 7, np.nan, 0.5),
         r"y_train has 1 NaN or infinite value; the first at sample 3, column 1"),
    ],
    ids=["tabular-x", "signal-x", "targets", "target-matrix"],
)
def test_non_finite_values_are_counted_and_the_first_is_placed(tmp_path, x, y, complaint):
    if x is None:
        x = RNG.normal(size=(10, 4))
    if y is None:
        y = np.arange(10) % 2
    if x.ndim == 3:
        x[4, 17, 1] = np.inf
        x[6, 0, 0] = np.nan
        complaint = r"x_train has 2 NaN or infinite values; the first at sample 4, time step 17, channel 1"
    path = write_npz(tmp_path / "nan.npz", x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    with pytest.raises(DatasetError, match=complaint) as caught:
        load_dataset(path)
    assert str(tmp_path / "nan.npz") in str(caught.value) and "\n" not in str(caught.value)


def test_nan_in_an_image_names_the_pixel(tmp_path):
    x = RNG.random((5, 6, 6, 3))
    x[3, 2, 4, 1] = np.nan
    path = write_npz(tmp_path / "img.npz", x_train=x, y_train=np.arange(5) % 2, x_test=x[:2], y_test=np.array([0, 1]))
    with pytest.raises(DatasetError, match=r"the first at sample 3, pixel \(row 2, column 4\), channel 1"):
        load_dataset(path)


def test_nan_in_the_test_split_names_x_test(tmp_path):
    x = RNG.normal(size=(10, 3))
    x_test = x[:3].copy()
    x_test[2, 0] = -np.inf
    path = write_npz(tmp_path / "t.npz", x_train=x, y_train=np.arange(10) % 2, x_test=x_test, y_test=np.array([0, 1, 0]))
    with pytest.raises(DatasetError, match=r"x_test has 1 NaN or infinite value; the first at sample 2, column 0"):
        load_dataset(path)


# ---------------------------------------------------------------- labels that fit no task


@pytest.mark.parametrize(
    ("y_train", "y_test", "complaint"),
    [
        (np.array(["cat", "dog"] * 3), np.array(["cat", "dog"]), r"y_train: labels of type <U3 fit no task.*names in class_names"),
        (np.zeros((6, 2, 2)), np.zeros((2, 2, 2)), r"y_train: labels of shape \(6, 2, 2\) fit no task"),
        (np.array([0, 1, 2, 0, 1, -4]), np.array([0, 1]), r"integer labels from -4 to 2 .*not classes 0..K-1"),
        (np.array([0, 1, 2, 0, 1, 500]), np.array([0, 1]), r"label 500 is far outside the others \(0 to 2\), so these are not classes 0..K-1"),
    ],
    ids=["strings", "3d", "negative", "far-apart"],
)
def test_labels_that_fit_no_task_get_the_task_registrys_reason(tmp_path, y_train, y_test, complaint):
    x = RNG.normal(size=(6, 3))
    path = write_npz(tmp_path / "y.npz", x_train=x, y_train=y_train, x_test=x[:2], y_test=y_test)
    with pytest.raises(DatasetError, match=complaint) as caught:
        load_dataset(path)
    assert str(caught.value).startswith(str(tmp_path / "y.npz"))


def test_counts_that_are_no_classes_load_as_regression_when_the_experiment_says_so(tmp_path):
    from dataclasses import replace

    from kerastui.core.data import experiment_dataset
    from kerastui.core.spec import Experiment

    x = RNG.normal(size=(6, 3))
    path = write_npz(tmp_path / "counts.npz", x_train=x, y_train=np.array([0, 1, 2, 0, 1, 500]), x_test=x[:2],
                     y_test=np.array([3, 7]))
    data = load_dataset(path, task="regression")
    assert data.task == "regression" and data.y_train.dtype == np.float32 and data.y_train[-1] == 500.0
    assert dataset_info(path, task="regression").task == "regression"
    trained_on = experiment_dataset(replace(Experiment(), dataset=path, task="regression"))
    assert trained_on.task == "regression" and trained_on.class_names == ("target",)


def test_for_task_reads_class_numbers_as_a_regression_target_and_back():
    iris = load_dataset("iris")
    as_numbers = iris.for_task("regression")
    assert as_numbers.task == "regression" and as_numbers.y_train.dtype == np.float32
    assert as_numbers.info().outputs_for("regression") == 1
    back = as_numbers.for_task("multiclass")
    assert back.task == "multiclass" and back.num_classes == 3
    with pytest.raises(DatasetError, match="binary"):
        iris.for_task("binary")
    with pytest.raises(DatasetError, match="one label per sample"):
        load_dataset("linnerud").for_task("binary")


# ---------------------------------------------------------------- CSV: several label columns


def test_csv_prefixed_columns_are_several_regression_targets(tmp_path):
    rows = [f"{i},{i % 5},{60 + i * 1.5},{140 + i % 7}" for i in range(30)]
    path = write_csv(tmp_path / "body.csv", "chins,situps,target_weight,target_pulse", rows)
    data = load_dataset(path)
    assert data.task == "regression" and data.class_names == ("weight", "pulse")
    assert data.feature_names == ("chins", "situps") and data.input_shape == (2,)
    assert data.y_train.shape == (24, 2) and data.y_train.dtype == np.float32
    assert np.concatenate([data.y_train, data.y_test])[:, 1].max() == 146.0  # raw units


def test_csv_prefixed_zero_one_columns_are_multilabel(tmp_path):
    rows = [f"{i * 0.1},{i % 3},{i % 2},{(i // 2) % 2},{int(i % 5 == 0)}" for i in range(40)]
    path = write_csv(tmp_path / "floods.csv", "level,wind,label_dover,label_hull,label_wick", rows)
    data = load_dataset(path)
    assert data.task == "multilabel" and data.class_names == ("dover", "hull", "wick")
    assert data.y_train.dtype == np.int64 and data.y_train.shape == (32, 3)
    assert data.feature_names == ("level", "wind")


def test_csv_label_columns_named_after_the_path(tmp_path):
    rows = [f"{i},{i % 2},{int(i % 3 == 0)},{i * 0.5}" for i in range(20)]
    path = write_csv(tmp_path / "mine.csv", "x,y1,y2,y3", rows)
    labels = load_dataset(f"{path}:label=y1,y2")
    assert labels.task == "multilabel" and labels.class_names == ("y1", "y2")
    assert labels.feature_names == ("x", "y3")
    one = load_dataset(f"{path}:label=y3")
    assert one.task == "regression" and one.class_names == ("y3",) and one.y_train.shape == (16,)
    assert dataset_info(f"{path}:label=y1").task == "binary"
    with pytest.raises(DatasetError, match=r"no column named 'nope' for the labels .*x, y1, y2, y3"):
        load_dataset(f"{path}:label=y1,nope")
    with pytest.raises(DatasetError, match="every column is a label column"):
        load_dataset(f"{path}:label=x,y1,y2,y3")


def test_csv_single_fractional_column_is_a_regression_target_named_after_it(tmp_path):
    rows = [f"{i},{i % 4},{i * 1.25 + 0.1}" for i in range(20)]
    path = write_csv(tmp_path / "price.csv", "rooms,age,price", rows)
    data = load_dataset(path)
    assert data.task == "regression" and data.class_names == ("price",)
    np.testing.assert_allclose(np.sort(np.concatenate([data.y_train, data.y_test])),
                               [i * 1.25 + 0.1 for i in range(20)], rtol=1e-6)


def test_csv_text_and_nan_in_several_label_columns_are_named_by_line(tmp_path):
    rows = ["1,0,1", "2,yes,0", "3,1,1"]
    path = write_csv(tmp_path / "t.csv", "x,label_a,label_b", rows)
    with pytest.raises(DatasetError, match=r"t.csv line 3, column 'label_a': 'yes' is not a number"):
        load_dataset(path)
    path = write_csv(tmp_path / "n.csv", "x,target_a,target_b", ["1,0.5,1", "2,0.25,0", "3,nan,1", "4,1,2"])
    with pytest.raises(DatasetError, match=r"n.csv: 1 NaN or infinite label value; the first at line 4 \(sample 2\), "
                                           r"column 'target_a': 'nan'"):
        load_dataset(path)


def test_csv_negative_label_is_named_at_its_true_line_despite_blank_lines(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("a,b,label\n1,2,0\n\n3,4,1\n5,6,-2\n")
    with pytest.raises(DatasetError, match=r"blank.csv line 5: label '-2'"):
        load_dataset(str(path))
