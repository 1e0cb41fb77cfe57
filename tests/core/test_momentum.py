"""The optimizer's momentum, end to end: checked by the experiment (0 <= m < 1; only for the
optimizers that take one), read from and written to TOML (old files without it still load), built
into SGD and RMSprop, written into the export, set by `kerastui train --momentum`, and swept as a
conditional parameter (only for the SGD trials)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import pytest

from kerastui.cli.train import _with_options, add_experiment_options
from kerastui.core import spec
from kerastui.core.build import build_model
from kerastui.core.export import load_run_source, preview
from kerastui.core.optimizers import MOMENTUM_OPTIMIZERS, OPTIMIZER_TYPES
from kerastui.core.spec import CompileSettings, Experiment, SpecError, preset_experiment
from kerastui.core.sweep import loads_sweep, trial_experiment

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep.toml"
BASE = EXAMPLE.read_text().split("[sweep]")[0]


def with_compile(**settings) -> Experiment:
    experiment = Experiment()
    return replace(experiment, compile=replace(experiment.compile, **settings))


def momentum_problems(experiment: Experiment) -> list[str]:
    return [p.message for p in experiment.problems() if p.field == "compile.momentum"]


def test_the_registry_says_which_optimizers_take_a_momentum():
    assert MOMENTUM_OPTIMIZERS == ("sgd", "rmsprop")
    assert tuple(OPTIMIZER_TYPES) == spec.OPTIMIZERS  # one list: the check and the registry agree


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
@pytest.mark.parametrize("momentum", [0.0, 0, 0.5, 0.99])
def test_a_momentum_from_0_to_below_1_is_allowed_for_sgd_and_rmsprop(optimizer, momentum):
    assert with_compile(optimizer=optimizer, momentum=momentum).problems() == []


@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1, float("nan"), float("inf"), True, "0.9", None])
def test_a_bad_momentum_is_refused_with_what_is_allowed(momentum):
    [message] = momentum_problems(with_compile(optimizer="sgd", momentum=momentum))
    assert "at least 0 and less than 1" in message


def test_a_momentum_on_an_optimizer_that_has_none_is_refused_and_zero_is_not():
    [message] = momentum_problems(with_compile(optimizer="adam", momentum=0.9))
    assert message.startswith("momentum applies to sgd and rmsprop; adam has none (its beta_1 plays that part)")
    for name in ("adamw", "adagrad", "nadam"):
        assert f"{name} has none" in momentum_problems(with_compile(optimizer=name, momentum=0.5))[0]
        assert with_compile(optimizer=name, momentum=0.0).problems() == []
    # An unknown optimizer is the one problem: whether it takes a momentum is not guessed.
    problems = with_compile(optimizer="magic", momentum=0.9).problems()
    assert [p.field for p in problems] == ["compile.optimizer"]


def test_momentum_round_trips_through_toml_and_an_old_file_without_it_loads(tmp_path):
    experiment = with_compile(optimizer="sgd", momentum=0.9)
    text = spec.dumps(experiment)
    assert "momentum = 0.9" in text
    assert spec.loads(text) == experiment
    old = tmp_path / "old.toml"
    old.write_text('name = "old"\n[compile]\noptimizer = "sgd"\nlearning_rate = 0.01\n')
    assert spec.load(old).compile.momentum == 0.0
    with pytest.raises(SpecError) as caught:
        spec.loads(spec.dumps(Experiment()).replace("momentum = 0.0", "momentum = 0.9")).validated()  # adam's
    assert [p.field for p in caught.value.problems] == ["compile.momentum"]


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_the_optimizer_is_built_with_its_momentum(optimizer):
    experiment = replace(preset_experiment("mlp", "iris", (4,), 3),
                         compile=CompileSettings(optimizer=optimizer, learning_rate=0.05, momentum=0.8))
    model = build_model(experiment, (4,))
    assert type(model.optimizer).__name__ == {"sgd": "SGD", "rmsprop": "RMSprop"}[optimizer]
    assert float(np.asarray(model.optimizer.momentum)) == pytest.approx(0.8)
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(0.05)


def test_a_momentum_on_adam_is_refused_before_keras_builds_anything():
    experiment = replace(preset_experiment("mlp", "iris", (4,), 3), compile=CompileSettings(optimizer="adam", momentum=0.9))
    with pytest.raises(SpecError, match="compile.momentum"):
        build_model(experiment, (4,))


def test_the_export_writes_the_momentum_where_it_was_set(tmp_path):
    layers = (spec.LayerSpec("Dense", {"units": 3, "activation": "softmax"}),)
    texts = {}
    for momentum in (0.9, 0.0):
        run_dir = tmp_path / f"run-{momentum}"
        spec.save(Experiment(dataset="iris", layers=layers, compile=CompileSettings(optimizer="sgd", learning_rate=0.05,
                                                                                    momentum=momentum)),
                  run_dir / "config.toml")
        texts[momentum] = preview(load_run_source(run_dir))
    assert "optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)," in texts[0.9]
    assert "optimizer=keras.optimizers.SGD(learning_rate=0.05)," in texts[0.0]  # Keras's default left out


def test_kerastui_train_momentum_sets_it_over_the_file():
    import argparse

    parser = argparse.ArgumentParser()
    add_experiment_options(parser)
    args = parser.parse_args(["--optimizer", "sgd", "--momentum", "0.9"])
    assert _with_options(Experiment(), args).compile == replace(CompileSettings(), optimizer="sgd", momentum=0.9)
    kept = _with_options(with_compile(optimizer="sgd", momentum=0.5), parser.parse_args([]))
    assert kept.compile.momentum == 0.5


@pytest.mark.parametrize("given, words", [(["--momentum", "0.9"], "adam has none"),
                                          (["--optimizer", "sgd", "--momentum", "1"], "less than 1")])
def test_kerastui_train_refuses_a_bad_momentum_as_bad_input_before_anything_runs(tmp_path, capsys, given, words):
    from kerastui.cli import main

    assert main(["train", *given, "--runs-dir", str(tmp_path / "runs"), "--plain"]) == 2
    error = capsys.readouterr().err
    assert "compile.momentum" in error and words in error and "Traceback" not in error
    assert not (tmp_path / "runs").exists()


def test_a_momentum_swept_only_for_sgd_is_set_on_the_sgd_trials_only():
    base, sweep = loads_sweep(EXAMPLE.read_text())  # the example: adam, or sgd with a momentum
    assert base.compile.optimizer == "adam"  # checked on sgd, as its condition asks, not on the base's adam
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=sweep.sampler())
    trials = [trial_experiment(base, sweep.suggest(study.ask()), number) for number in range(16)]
    assert {t.compile.optimizer for t in trials} == {"adam", "sgd"}
    for trial in trials:
        if trial.compile.optimizer == "sgd":
            assert 0.5 <= trial.compile.momentum <= 0.99
        else:
            assert trial.compile.momentum == 0.0
        assert trial.problems() == []  # every trial is a valid experiment


def test_a_momentum_conditional_on_an_optimizer_not_swept_or_unconditional_on_adam_is_refused():
    lines = {
        "parent not swept": '"compile.momentum" = { min = 0.5, max = 0.99, when = { "compile.optimizer" = "sgd" } }\n',
        "no condition": '"compile.optimizer" = ["adam", "sgd"]\n"compile.momentum" = { min = 0.5, max = 0.99 }\n',
        "too high": '"compile.optimizer" = ["adam", "sgd"]\n'
                    '"compile.momentum" = { min = 0.5, max = 1.5, when = { "compile.optimizer" = "sgd" } }\n',
    }
    for case, parameters in lines.items():
        with pytest.raises(SpecError) as caught:
            loads_sweep(BASE + '[sweep]\nmethod = "tpe"\ntrials = 4\n[sweep.parameters]\n' + parameters)
        messages = [f"{p.field} {p.message}" for p in caught.value.problems]
        assert all(p.field == "sweep.parameters.compile.momentum" for p in caught.value.problems), (case, messages)
        words = {"parent not swept": "not a swept parameter; add compile.optimizer to [sweep.parameters]",
                 "no condition": "adam has none", "too high": "less than 1"}[case]
        assert any(words in message for message in messages), (case, messages)
