"""Image preprocessing and augmentation layers (issue 18): Rescaling, Resizing, RandomFlip,
RandomRotation, RandomZoom, RandomTranslation, RandomContrast. Each is described once in the
registry; its pure shape rule agrees with the shape Keras builds, bad parameters are Problems at
their field, the TOML keeps them, and the Random* layers change images only while training."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from kerastui.core.layers import LAYERS, LayerSpec, output_shape_of, parse_value_range, shape_problems
from kerastui.core.spec import Experiment, dumps, loads

L = LayerSpec
NEW_TYPES = ("Rescaling", "Resizing", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
             "RandomContrast")
AUGMENTATIONS = tuple(name for name in NEW_TYPES if name.startswith("Random"))


# ---- the registry: one entry each, grouped together for the type picker ------------------------


def test_the_new_types_sit_together_in_the_registry_and_take_images_except_rescaling():
    names = list(LAYERS)
    start = names.index("Rescaling")
    assert tuple(names[start:start + len(NEW_TYPES)]) == NEW_TYPES
    assert LAYERS["Rescaling"].input_rank is None
    assert all(LAYERS[name].needs_image for name in NEW_TYPES if name != "Rescaling")
    for name in NEW_TYPES:
        for param, rule in LAYERS[name].params.items():
            assert rule.problem(rule.default) is None, (name, param)


def test_labels_and_short_names_say_the_settings_that_matter():
    assert L("Rescaling", {"scale": 0.5, "offset": 0.0}).describe() == "Rescaling x0.5"
    assert L("Rescaling").describe() == "Rescaling x2 -1"
    assert L("Resizing", {"height": 32, "width": 48, "crop_to_aspect_ratio": True}).describe() == (
        "Resizing 32x48 bilinear crop")
    assert L("RandomFlip").describe() == "RandomFlip horizontal"
    assert L("RandomRotation", {"fill_mode": "constant"}).describe() == "RandomRotation 0.1 constant"
    assert L("RandomZoom", {"height_factor": 0.2}).describe() == "RandomZoom 0.2x0.1"
    assert L("RandomContrast").describe() == "RandomContrast 0.2"
    assert L("RandomContrast", {"value_range": "0,255"}).describe() == "RandomContrast 0.2 range 0,255"
    short = LAYERS["RandomFlip"].abbreviation
    assert short(L("RandomFlip", {"mode": "vertical"}).param) == "FlipV"
    assert short(L("RandomFlip", {"mode": "horizontal_and_vertical"}).param) == "FlipHV"


# ---- the pure shape rule ----------------------------------------------------------------------


def test_resizing_sets_height_and_width_and_the_others_keep_the_shape():
    assert output_shape_of((L("Resizing", {"height": 5, "width": 7}),), (9, 4, 3)) == (5, 7, 3)
    for name in AUGMENTATIONS:
        assert output_shape_of((L(name),), (9, 4, 3)) == (9, 4, 3), name
    # Rescaling takes any shape: tabular rows and signals too.
    assert output_shape_of((L("Rescaling"),), (4,)) == (4,)
    assert output_shape_of((L("Rescaling"),), (200, 2)) == (200, 2)


@pytest.mark.parametrize("name", NEW_TYPES[1:])
def test_an_image_layer_on_other_data_names_the_layer_and_the_shape(name):
    (problem,) = shape_problems((L("Dense", {"units": 8}), L(name)), (4,))
    assert problem.field == "layers[1].type" and problem.value == name
    assert problem.message == "needs image input (height, width, channels), but receives shape (8,)"
    (problem,) = shape_problems((L(name),), (200, 2))
    assert "receives shape (200, 2)" in problem.message


# ---- bad parameters are Problems at their field --------------------------------------------------

# (layer, the failing field, words the message must hold)
BAD_PARAMS = {
    "Rescaling scale 0": (L("Rescaling", {"scale": 0.0}), "scale", "must not be 0"),
    "Rescaling offset as text": (L("Rescaling", {"offset": "-1"}), "offset", "must be a number"),
    "Resizing height 0": (L("Resizing", {"height": 0}), "height", "must be at least 1"),
    "Resizing width a fraction": (L("Resizing", {"width": 2.5}), "width", "must be a whole number"),
    "Resizing lanczos (not on every backend)": (
        L("Resizing", {"interpolation": "lanczos3"}), "interpolation", "must be one of bilinear, nearest, bicubic"),
    "Resizing crop as a word": (L("Resizing", {"crop_to_aspect_ratio": "yes"}), "crop_to_aspect_ratio",
                                "must be true or false"),
    "RandomFlip diagonal": (L("RandomFlip", {"mode": "diagonal"}), "mode", "must be one of horizontal, vertical"),
    "RandomRotation more than a turn": (L("RandomRotation", {"factor": 1.5}), "factor", "must be at most 1"),
    "RandomRotation negative": (L("RandomRotation", {"factor": -0.1}), "factor", "must be at least 0"),
    "RandomRotation fill unknown": (L("RandomRotation", {"fill_mode": "mirror"}), "fill_mode",
                                    "must be one of reflect, wrap, constant, nearest"),
    "RandomZoom by the whole image": (L("RandomZoom", {"height_factor": 1.0}), "height_factor", "must be less than 1"),
    "RandomZoom width negative": (L("RandomZoom", {"width_factor": -0.2}), "width_factor", "must be at least 0"),
    "RandomTranslation beyond the image": (L("RandomTranslation", {"width_factor": 1.2}), "width_factor",
                                           "must be at most 1"),
    "RandomContrast factor 2": (L("RandomContrast", {"factor": 2.0}), "factor", "must be at most 1"),
    "RandomContrast range reversed": (L("RandomContrast", {"value_range": "1,0"}), "value_range",
                                      "the lowest value (1) must be below the highest (0)"),
    "RandomContrast range of one number": (L("RandomContrast", {"value_range": "255"}), "value_range",
                                           'such as "0,1" or "0,255"'),
    "RandomZoom seed (not taken)": (L("RandomZoom", {"seed": 3}), "seed", "RandomZoom takes height_factor"),
}


@pytest.mark.parametrize("case", BAD_PARAMS, ids=list(BAD_PARAMS))
def test_a_bad_parameter_is_a_problem_at_its_field(case):
    layer, field, words = BAD_PARAMS[case]
    experiment = Experiment(layers=(layer, L("Flatten"), L("Dense", {"units": 10, "activation": "softmax"})))
    problems = [p for p in experiment.problems((8, 8, 1), 10) if p.field.startswith("layers")]
    assert [p.field for p in problems] == [f"layers[0].{field}"], problems
    assert words in problems[0].message, problems[0].message


def test_the_value_range_reads_as_keras_wants_it():
    assert parse_value_range("0,1") == (0.0, 1.0)
    assert parse_value_range(" (-1.5, 2) ") == (-1.5, 2.0)
    for text in ("", "0,1,2", "a,b", "0,inf"):
        with pytest.raises(ValueError):
            parse_value_range(text)


def test_the_toml_keeps_every_new_layer_and_its_settings(tmp_path):
    from kerastui.core import spec

    experiment = Experiment(name="augmented", dataset="photos", layers=(
        L("Resizing", {"height": 16, "width": 12, "interpolation": "nearest", "crop_to_aspect_ratio": True}),
        L("Rescaling", {"scale": 0.5, "offset": 0.25}),
        L("RandomFlip", {"mode": "horizontal_and_vertical"}),
        L("RandomRotation", {"factor": 0.25, "fill_mode": "nearest"}),
        L("RandomZoom", {"height_factor": 0.3, "width_factor": 0.0}),
        L("RandomTranslation", {"height_factor": 0.05, "width_factor": 0.2, "fill_mode": "constant"}),
        L("RandomContrast", {"factor": 0.4, "value_range": "-1,1"}),
        L("GlobalAveragePooling2D"),
        L("Dense", {"units": 3, "activation": "softmax"}),
    ))
    text = dumps(experiment)
    assert 'value_range = "-1,1"' in text and "crop_to_aspect_ratio = true" in text
    assert 'mode = "horizontal_and_vertical"' in text
    assert loads(text) == experiment
    assert spec.load(spec.save(experiment, tmp_path / "augmented.toml")) == experiment
    assert experiment.problems((20, 20, 3), 3) == []
    bad = loads(text.replace("factor = 0.25", "factor = 3.0"))
    (problem,) = bad.problems((20, 20, 3), 3)
    assert problem.field == "layers[3].factor"


# ---- against Keras: one import shared by the tests below ----------------------------------------

KERAS_CASES = [
    (L("Rescaling"), (5, 4, 3)), (L("Rescaling", {"scale": 1 / 255, "offset": 0.0}), (6,)),
    (L("Rescaling", {"scale": 0.5}), (10, 2)),
    (L("Resizing", {"height": 6, "width": 9}), (8, 5, 3)),
    (L("Resizing", {"height": 3, "width": 3, "interpolation": "nearest", "crop_to_aspect_ratio": True}), (8, 4, 1)),
    (L("Resizing", {"height": 12, "width": 10, "interpolation": "bicubic"}), (5, 5, 2)),
    (L("RandomFlip"), (6, 5, 3)), (L("RandomFlip", {"mode": "vertical"}), (4, 7, 1)),
    (L("RandomRotation"), (6, 5, 3)), (L("RandomRotation", {"factor": 0.5, "fill_mode": "constant"}), (7, 7, 1)),
    (L("RandomZoom"), (6, 5, 3)), (L("RandomZoom", {"height_factor": 0.5, "width_factor": 0.0}), (8, 4, 2)),
    (L("RandomTranslation"), (6, 5, 3)),
    (L("RandomTranslation", {"height_factor": 0.0, "width_factor": 0.3, "fill_mode": "wrap"}), (5, 9, 1)),
    (L("RandomContrast"), (6, 5, 3)), (L("RandomContrast", {"factor": 0.9, "value_range": "0,255"}), (4, 4, 1)),
]


def test_every_new_type_is_checked_against_keras():
    assert {spec.type for spec, _ in KERAS_CASES} == set(NEW_TYPES)


@pytest.mark.slow
def test_the_pure_output_shape_is_the_one_keras_builds():
    from kerastui.core.build import preview_model

    for spec, shape in KERAS_CASES:
        assert shape_problems((spec,), shape) == [], spec
        (row,) = preview_model((spec,), shape).layers
        assert row.output_shape == (None, *output_shape_of((spec,), shape)), spec
        assert row.description == spec.describe() and row.params == 0


@pytest.mark.slow
def test_keras_gets_the_parameters_as_the_registry_names_them():
    from kerastui.core.backend import import_keras
    from kerastui.core.build import keras_layer

    keras = import_keras()
    for name in NEW_TYPES:  # RandomContrast too: only its value_range is read from text first
        accepted = inspect.signature(getattr(keras.layers, name).__init__).parameters
        assert set(LAYERS[name].params) <= set(accepted), name
    contrast = keras_layer(keras, L("RandomContrast", {"factor": 0.3, "value_range": "-2,2"}), 6)
    assert isinstance(contrast, keras.layers.RandomContrast) and contrast.name == "random_contrast_6"
    assert tuple(contrast.value_range) == (-2.0, 2.0) and tuple(contrast.factor) == (0.0, 0.3)
    resizing = keras_layer(keras, L("Resizing", {"height": 4, "width": 5, "crop_to_aspect_ratio": True}), 0)
    assert (resizing.height, resizing.width, resizing.crop_to_aspect_ratio) == (4, 5, True)
    flip = keras_layer(keras, L("RandomFlip"), 1)
    assert flip.mode == "horizontal"


@pytest.mark.slow
def test_augmentation_changes_images_only_while_training_and_the_model_saves(tmp_path):
    from kerastui.core.backend import import_keras
    from kerastui.core.build import build_model

    keras = import_keras()
    experiment = Experiment(name="augmented", seed=3, layers=(
        L("Rescaling", {"scale": 1.0, "offset": 0.0}),
        L("RandomFlip", {"mode": "horizontal_and_vertical"}),
        L("RandomRotation", {"factor": 0.3}),
        L("RandomZoom", {"height_factor": 0.3, "width_factor": 0.3}),
        L("RandomTranslation", {"height_factor": 0.3, "width_factor": 0.3}),
        L("RandomContrast", {"factor": 0.5}),
        L("Resizing", {"height": 4, "width": 4}),
        L("Flatten"),
        L("Dense", {"units": 3, "activation": "softmax"}),
    ))
    model = build_model(experiment, (8, 8, 1), 3)
    augment = keras.Model(model.inputs[0], model.get_layer("random_contrast_5").output)
    images = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    assert np.allclose(np.asarray(augment(images, training=False)), images)
    assert not np.allclose(np.asarray(augment(images, training=True)), images)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert np.allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    assert tuple(loaded.get_layer("random_contrast_5").value_range) == (0.0, 1.0)
