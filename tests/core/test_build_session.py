"""The build session's rules, without an app: what a dataset, a preset or ctrl+r does to the design."""

from __future__ import annotations

from dataclasses import replace

from kerastui.core.build_session import WAIT_FOR_DATASET, BuildSession, read_experiment
from kerastui.core.data import load_dataset
from kerastui.core.layers import LayerSpec
from kerastui.core.spec import preset_experiment


def digits_session() -> BuildSession:
    session = BuildSession(preset_experiment("mlp", "digits", (8, 8, 1), 10))
    request = session.dataset_to_load()
    assert request is not None and (request.name, request.seed) == ("digits", 42)
    assert session.dataset_loaded(request, load_dataset("digits", seed=request.seed))
    return session


def test_the_dataset_is_loaded_once_and_a_stale_load_is_dropped():
    session = BuildSession(preset_experiment("mlp", "digits", (8, 8, 1), 10))
    first = session.dataset_to_load()
    assert session.dataset_to_load() is None  # already loading
    session.edit(replace(session.experiment, seed=7))
    second = session.dataset_to_load()
    assert second is not None and second.seed == 7
    assert not session.dataset_loaded(first, load_dataset("digits", seed=first.seed))
    assert session.dataset is None
    assert session.dataset_loaded(second, load_dataset("digits", seed=7))
    assert session.dataset.seed == 7 and session.dataset_info.num_classes == 10
    assert session.dataset_to_load() is None


def test_training_waits_for_the_data_then_is_refused_with_reasons():
    session = BuildSession(preset_experiment("mlp", "digits", (8, 8, 1), 10))
    request = session.dataset_to_load()
    assert session.training_refusal([]) is WAIT_FOR_DATASET and session.training_pending
    session.dataset_failed(request, "digits: cannot read")
    assert not session.training_pending
    assert session.training_refusal([]).message == "digits: cannot read"

    session = digits_session()
    assert session.training_refusal([]) is None
    refused = session.training_refusal(['epochs "x": must be a whole number'])
    assert refused.title == "Cannot train yet" and 'epochs "x"' in refused.message
    session.preview_error = "Dense: incompatible shapes"
    assert session.training_refusal([]).message == "Dense: incompatible shapes"
    session.edit(replace(session.experiment, layers=session.experiment.layers[:-1]))
    assert session.preview_error == ""  # Keras has not looked at the new layers yet
    assert "10 classes" in session.training_refusal([]).message


def test_a_new_dataset_fits_the_output_layer_and_rebuilds_an_unedited_preset():
    session = digits_session()
    iris = load_dataset("iris")
    assert session.choose_dataset(iris.info()) == ""
    assert session.experiment.dataset == "iris"
    assert session.experiment.layers[-1].params["units"] == 3

    session = digits_session()
    cnn = session.apply_preset("cnn")
    assert cnn.applied and "7 layers" in cnn.message
    warning = session.choose_dataset(iris.info())  # a CNN cannot take a table: the layers stay, fitted
    assert "tabular" in warning
    assert session.experiment.layers[-1].params["units"] == 3


def test_a_preset_asks_before_replacing_the_users_own_layers():
    session = digits_session()
    assert not session.preset_would_discard_edits()
    session.edit(replace(session.experiment, layers=(*session.experiment.layers[:-1], LayerSpec("Dropout", {"rate": 0.5}),
                                                      session.experiment.layers[-1])))
    assert session.preset_would_discard_edits()
    assert not session.apply_preset("nope").applied


def test_save_and_open_keep_the_path_and_say_what_is_wrong(tmp_path):
    session = digits_session()
    assert session.suggested_path() == "mlp-digits.toml"
    assert "is a directory" in session.save(str(tmp_path))
    assert session.save(str(tmp_path / "e.toml")) is None
    assert session.suggested_path() == str(tmp_path / "e.toml")
    experiment, problems = read_experiment(tmp_path / "e.toml")
    assert problems == [] and experiment == session.experiment
    (tmp_path / "bad.toml").write_text("[fit]\nepochs = 0\n")
    experiment, problems = read_experiment(tmp_path / "bad.toml")
    assert any("epochs" in p for p in problems)  # opened only once fixed
