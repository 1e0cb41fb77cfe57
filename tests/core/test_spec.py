"""The experiment spec: defaults, validation that reports every problem, TOML round trip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kerastui.core import spec
from kerastui.core.presets import presets_for
from kerastui.core.spec import (
    CompileSettings,
    Experiment,
    FitSettings,
    LayerSpec,
    SpecError,
    preset_experiment,
)

SHAPES = {"digits": (8, 8, 1), "mnist": (28, 28, 1), "cifar10": (32, 32, 3), "iris": (4,)}


def test_defaults_follow_the_classic_mnist_example():
    experiment = Experiment()
    assert experiment.compile.optimizer == "adam"
    assert experiment.compile.loss == "sparse_categorical_crossentropy"
    assert experiment.fit.epochs == 10
    assert experiment.fit.batch_size == 32
    assert experiment.fit.validation_split == 0.2
    assert experiment.dataset == "digits"
    assert [layer.describe() for layer in experiment.layers] == ["Flatten", "Dense 128 relu", "Dense 64 relu", "Dense 10 softmax"]
    assert experiment.problems((8, 8, 1)) == []


@pytest.mark.parametrize(("preset", "dataset"), [(preset, dataset) for dataset in ("digits", "mnist", "cifar10")
                                                  for preset in presets_for(SHAPES[dataset])])
def test_every_preset_round_trips_through_toml(preset, dataset, tmp_path):
    experiment = preset_experiment(preset, dataset, SHAPES[dataset], 10, seed=7)
    path = spec.save(experiment, tmp_path / "experiment.toml")
    assert spec.load(path) == experiment
    assert spec.loads(spec.dumps(experiment)) == experiment


def test_round_trip_keeps_non_default_settings(tmp_path):
    experiment = Experiment(
        name="tuned",
        dataset="/data/my set.npz",
        layers=(LayerSpec("Flatten"), LayerSpec("Dropout", {"rate": 0.25}), LayerSpec("Dense", {"units": 3, "activation": "softmax"})),
        compile=CompileSettings(optimizer="sgd", learning_rate=0.05),
        fit=FitSettings(epochs=3, batch_size=64, validation_split=0.0, early_stopping_patience=2, monitor="val_accuracy"),
        seed=123,
        strategy="mirrored",
        backend="jax",
    )
    assert spec.load(spec.save(experiment, tmp_path / "x.toml")) == experiment


def test_validation_reports_every_problem_at_once():
    experiment = replace(
        Experiment(layers=(LayerSpec("Dense", {"units": 0}), LayerSpec("Wobble"))),
        compile=CompileSettings(optimizer="adamm", learning_rate=-0.1),
        fit=FitSettings(batch_size=0, validation_split=1.0, epochs=0),
    )
    problems = {p.field: p for p in experiment.problems()}
    assert set(problems) == {
        "layers[0].units",
        "layers[1].type",
        "compile.optimizer",
        "compile.learning_rate",
        "fit.batch_size",
        "fit.validation_split",
        "fit.epochs",
    }
    assert problems["compile.learning_rate"].value == -0.1
    assert "greater than 0" in problems["compile.learning_rate"].message
    assert "adam" in problems["compile.optimizer"].message  # says what is allowed
    assert "Dense" in problems["layers[1].type"].message
    with pytest.raises(SpecError) as raised:
        experiment.validated()
    assert len(raised.value.problems) == 7


def test_kernel_larger_than_its_input_is_reported_with_both_sizes():
    layers = (
        LayerSpec("Conv2D", {"filters": 8, "kernel_size": 5}),
        LayerSpec("Conv2D", {"filters": 8, "kernel_size": 5}),
    )
    problems = Experiment(layers=layers).problems(input_shape=(8, 8, 1))
    assert [p.field for p in problems] == ["layers[1].kernel_size"]
    assert "5x5" in problems[0].message and "4x4" in problems[0].message


def test_a_kernel_too_big_is_listed_with_an_unknown_layer_type_further_on():
    # Before: any layer problem turned the shape check off, so the user fixed 'Flattenz', re-ran,
    # and only then heard that the first kernel cannot fit.
    layers = (
        LayerSpec("Conv2D", {"filters": 8, "kernel_size": 30}),
        LayerSpec("Flattenz"),
        LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
    )
    fields = [p.field for p in Experiment(layers=layers).problems(input_shape=(8, 8, 1), num_classes=10)]
    assert fields == ["layers[1].type", "layers[0].kernel_size"]
    # Shapes are not followed past the broken layer: a kernel after it is not guessed at.
    later = (LayerSpec("Wobble"), LayerSpec("Conv2D", {"kernel_size": 30}))
    assert [p.field for p in Experiment(layers=later).problems(input_shape=(8, 8, 1))] == ["layers[0].type"]


def test_an_output_that_cannot_classify_the_dataset_is_a_problem_before_keras():
    flat = LayerSpec("Flatten")
    image_out = Experiment(layers=(LayerSpec("Dense", {"units": 10, "activation": "softmax"}),))
    (problem,) = image_out.problems(input_shape=(8, 8, 1), num_classes=10)
    assert problem.field == "layers[0].type" and "(8, 8, 10)" in problem.message and "Flatten" in problem.message
    too_few = Experiment(layers=(flat, LayerSpec("Dense", {"units": 5, "activation": "softmax"})))
    (problem,) = too_few.problems(input_shape=(8, 8, 1), num_classes=10)
    assert problem.field == "layers[1].units" and problem.value == 5 and "10 classes" in problem.message
    right = Experiment(layers=(flat, LayerSpec("Dense", {"units": 10, "activation": "softmax"})))
    assert right.problems(input_shape=(8, 8, 1), num_classes=10) == []
    assert too_few.problems(input_shape=(8, 8, 1)) == []  # without a class count, no opinion
    for dataset, shape in SHAPES.items():
        for name in presets_for(shape):
            classes = 3 if dataset == "iris" else 10
            if name == "cnn" and len(shape) != 3:
                continue
            assert preset_experiment(name, dataset, shape, classes).problems(shape, classes) == []


def test_spatial_layer_on_flat_input_is_reported():
    problems = Experiment(layers=(LayerSpec("Conv2D"),)).problems(input_shape=(4,))
    assert problems and "image input" in problems[0].message


def test_layer_parameter_rules():
    assert LayerSpec("Dropout", {"rate": 1.0}).problems(0)[0].message == "must be less than 1"
    assert LayerSpec("Dense", {"units": "many"}).problems(0)[0].message == "must be a whole number"
    assert LayerSpec("Dense", {"units": 4, "kernel": 3}).problems(0)[0].field == "layers[0].kernel"
    assert LayerSpec("Dense", {"units": 4, "activation": "relu"}).problems(0) == []


def test_toml_with_unknown_keys_and_bad_syntax_names_them(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\ncolour = "red"\n[fit]\nepochz = 3\n')
    with pytest.raises(SpecError) as raised:
        spec.load(path)
    fields = {p.field for p in raised.value.problems}
    assert fields == {"colour", "fit.epochz"}
    assert str(path) in str(raised.value)
    path.write_text("name = \n")
    with pytest.raises(SpecError, match="not valid TOML"):
        spec.load(path)
    with pytest.raises(SpecError, match="cannot be read"):
        spec.load(tmp_path / "missing.toml")


def test_layer_descriptions_are_short_and_readable():
    assert LayerSpec("Conv2D", {"filters": 32, "kernel_size": 3}).describe() == "Conv2D 32 3x3 relu"
    assert LayerSpec("MaxPooling2D").describe() == "MaxPooling2D 2x2"
    assert LayerSpec("Dense", {"units": 10, "activation": "softmax"}).describe() == "Dense 10 softmax"

