"""Distribution strategies: default is a no-op, mirrored trains on a CPU, chief detection from env."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace

import pytest

from kerastui.core.distribute import StrategyError, global_batch_size, is_chief, strategy_scope
from kerastui.core.spec import Experiment, FitSettings


def test_default_strategy_is_a_no_op_and_keeps_the_batch_size():
    experiment = Experiment(fit=FitSettings(batch_size=48))
    assert isinstance(strategy_scope(experiment), contextlib.nullcontext)
    assert global_batch_size(experiment) == 48


def test_tf_distribute_strategies_need_the_tensorflow_backend():
    with pytest.raises(StrategyError, match="tensorflow backend"):
        strategy_scope(Experiment(strategy="mirrored", backend="jax"))


@pytest.mark.parametrize(
    ("env", "chief"),
    [
        ({}, True),
        ({"SLURM_NTASKS": "4", "SLURM_PROCID": "0"}, True),
        ({"SLURM_NTASKS": "4", "SLURM_PROCID": "2"}, False),
        ({"SLURM_NTASKS": "1", "SLURM_PROCID": "3"}, True),  # one task: it is alone, so it is chief
        ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}})}, False),
        ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}})}, True),
        ({"TF_CONFIG": json.dumps({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}})}, False),
    ],
)
def test_is_chief_follows_slurm_and_tf_config(monkeypatch, env, chief):
    for name in ("TF_CONFIG", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert is_chief() is chief


@pytest.mark.slow
def test_mirrored_strategy_builds_and_trains_on_cpu():
    from kerastui.core.data import load_dataset
    from kerastui.core.spec import preset_experiment
    from kerastui.core.train import Trainer

    full = load_dataset("digits")
    data = replace(full, x_train=full.x_train[:160], y_train=full.y_train[:160])
    experiment = preset_experiment("mlp", "digits", data.input_shape, data.num_classes, strategy="mirrored")
    experiment = replace(experiment, fit=replace(experiment.fit, epochs=1))
    assert global_batch_size(experiment) == 32  # one CPU replica
    events = []
    result = Trainer(experiment, data, [events.append]).run()
    assert result.status == "finished", result.reason
    assert result.epochs_done == 1
    assert type(result.model.distribute_strategy).__name__ == "MirroredStrategy"


def test_the_multiworker_patch_is_in_place_only_around_the_block():
    pytest.importorskip("tensorflow")
    from keras.src.backend.tensorflow import trainer as tf_trainer

    from kerastui.core.distribute import multiworker_patches

    keras_reduce = tf_trainer.reduce_per_replica
    with multiworker_patches(Experiment()):  # the default strategy: nothing is touched
        assert tf_trainer.reduce_per_replica is keras_reduce
    with multiworker_patches(Experiment(strategy="multiworker")):
        assert tf_trainer.reduce_per_replica is not keras_reduce
    assert tf_trainer.reduce_per_replica is keras_reduce
    with pytest.raises(ZeroDivisionError), multiworker_patches(Experiment(strategy="multiworker")):
        1 / 0
    assert tf_trainer.reduce_per_replica is keras_reduce  # put back after a failed fit too


def test_a_keras_without_the_patched_internals_fails_naming_the_issue(monkeypatch):
    pytest.importorskip("tensorflow")
    from keras.src.backend.tensorflow import trainer as tf_trainer

    from kerastui.core.distribute import adapt_model, multiworker_patches

    monkeypatch.delattr(tf_trainer, "_collective_all_reduce_multi_worker")
    with pytest.raises(StrategyError, match="keras-team/keras#20585"), multiworker_patches(Experiment(strategy="multiworker")):
        pass
    with pytest.raises(StrategyError, match="keras-team/keras#20585.*_maybe_symbolic_build"):
        adapt_model(object(), Experiment(strategy="multiworker"))


def test_a_keras_other_than_3_is_refused_and_a_newer_3_is_logged(caplog):
    from types import SimpleNamespace

    from kerastui.core.distribute import KERAS_CHECKED, check_keras_for_workarounds, keras_version

    assert keras_version(SimpleNamespace(__version__="3.16.0.dev2026")) == (3, 16)
    with pytest.raises(StrategyError, match="keras-team/keras#20585.*Keras 4.0"):
        check_keras_for_workarounds(SimpleNamespace(__version__="4.0.0"))
    with caplog.at_level("INFO", logger="kerastui.core.distribute"):
        check_keras_for_workarounds(SimpleNamespace(__version__=f"3.{KERAS_CHECKED[1] + 1}.0"))
    assert "checked with Keras" in caplog.text
