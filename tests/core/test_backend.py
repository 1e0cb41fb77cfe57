"""Keras backend choice: select_backend's errors, what is installed, and a real headless run on a
non-default backend (jax, torch) when it is installed."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from kerastui.cli import main
from kerastui.core import backend, spec
from kerastui.core.backend import BackendError, installed_backends, select_backend
from kerastui.core.slurm import prepare_submission
from kerastui.core.slurm_settings import SlurmSettings

REPO = Path(__file__).resolve().parents[2]
TINY_LAYERS = (
    spec.LayerSpec("Flatten"),
    spec.LayerSpec("Dense", {"units": 8, "activation": "relu"}),
    spec.LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
)


@pytest.fixture
def keras_not_loaded(monkeypatch):
    """select_backend as it runs in a fresh process; KERAS_BACKEND restored afterwards."""
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")


def fake_keras(monkeypatch, loaded_backend: str) -> None:
    monkeypatch.setitem(sys.modules, "keras", types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: loaded_backend)))


def test_installed_backends_reports_each_backend_without_importing_it():
    installed = installed_backends()
    assert set(installed) == {"tensorflow", "jax", "torch"}
    assert installed["tensorflow"] is True  # a hard dependency of kerastui
    for name, present in installed.items():
        assert present == (importlib.util.find_spec(name) is not None)
    assert "torch" not in sys.modules or installed["torch"]


def test_unknown_backend_is_refused_naming_the_choices(keras_not_loaded):
    with pytest.raises(BackendError, match="unknown backend 'theano'.*tensorflow, jax, torch"):
        select_backend("theano")
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_backend_not_installed_says_how_to_install_it(keras_not_loaded, monkeypatch):
    monkeypatch.setattr(backend, "installed_backends", lambda: {"tensorflow": True, "jax": False, "torch": False})
    with pytest.raises(BackendError, match=r"torch backend is not installed: pip install 'kerastui\[torch\]'"):
        select_backend("torch")
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_selecting_before_keras_is_imported_sets_keras_backend(keras_not_loaded, monkeypatch):
    monkeypatch.setattr(backend, "installed_backends", lambda: {"tensorflow": True, "jax": True, "torch": True})
    select_backend("jax")
    assert os.environ["KERAS_BACKEND"] == "jax"
    select_backend(None)  # no choice leaves it alone
    assert os.environ["KERAS_BACKEND"] == "jax"


def test_keras_already_loaded_with_another_backend_needs_a_new_process(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    fake_keras(monkeypatch, "tensorflow")
    with pytest.raises(BackendError, match="already loaded with the tensorflow backend.*jax needs a new process"):
        select_backend("jax")
    select_backend("tensorflow")  # the one already loaded is fine
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_cli_reports_a_backend_keras_cannot_switch_to(monkeypatch, capsys, tmp_path):
    fake_keras(monkeypatch, "tensorflow")
    monkeypatch.setattr(backend, "installed_backends", lambda: {"tensorflow": True, "jax": True, "torch": True})
    code = main(["train", "--preset", "mlp", "--dataset", "digits", "--epochs", "1", "--backend", "jax",
                 "--runs-dir", str(tmp_path / "runs"), "--plain"])
    assert code == 2
    assert "already loaded with the tensorflow backend" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("strategy", ["mirrored", "multiworker"])
def test_tf_distribute_strategies_are_refused_with_other_backends(strategy, capsys, tmp_path):
    experiment = spec.Experiment(layers=TINY_LAYERS, strategy=strategy, backend="jax")
    (problem,) = experiment.problems()
    assert problem.field == "strategy" and "tensorflow backend" in problem.message
    code = main(["train", "--preset", "mlp", "--epochs", "1", "--backend", "jax", "--strategy", strategy,
                 "--runs-dir", str(tmp_path / "runs"), "--plain"])
    assert code == 2
    assert "needs the tensorflow backend" in capsys.readouterr().err
    assert spec.Experiment(layers=TINY_LAYERS, strategy=strategy).problems() == []


def test_slurm_job_script_exports_the_experiments_backend(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment = spec.Experiment(name="tiny", layers=TINY_LAYERS, backend="jax")
    run_dir = prepare_submission(experiment, SlurmSettings(), runs_root=tmp_path / "runs", check_dataset=lambda *given: None)
    script = (run_dir / "job.sbatch").read_text()
    assert "\nexport KERAS_BACKEND=jax\n" in script
    assert spec.load(run_dir / "config.toml").backend == "jax"  # what the job's `kerastui train` reads


def _backend_param(name: str):
    reason = f"the {name} backend is not installed (pip install 'kerastui[{name}]')"
    return pytest.param(name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None, reason=reason))


@pytest.mark.slow
@pytest.mark.parametrize("name", [_backend_param("jax"), _backend_param("torch")])
@pytest.mark.parametrize("chosen_by", ["flag", "config"])
def test_headless_train_runs_on_the_chosen_backend(name, chosen_by, tmp_path):
    """`kerastui train` in a fresh process trains on `name` although KERAS_BACKEND says tensorflow."""
    experiment = spec.Experiment(name="tiny", dataset="digits", layers=TINY_LAYERS, fit=spec.FitSettings(epochs=1, batch_size=64),
                                 backend=name if chosen_by == "config" else "tensorflow")
    config = spec.save(experiment, tmp_path / "tiny.toml")
    argv = ["train", str(config), "--runs-dir", str(tmp_path / "runs"), "--plain"]
    if chosen_by == "flag":
        argv += ["--backend", name]
    # Ask the same process which backend Keras really used once the run is over.
    probe = (
        "import sys; from kerastui.cli import main; code = main(sys.argv[1:]); import keras; "
        "print('keras backend used:', keras.backend.backend()); sys.exit(code)"
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", probe, *argv], check=False, capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"keras backend used: {name}" in result.stdout

    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "status").read_text().strip() == "finished"
    assert spec.load(run_dir / "config.toml").backend == name
    assert json.loads((run_dir / "info.json").read_text())["backend"] == name
    events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [0]
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert 0.0 <= evaluation["test_accuracy"] <= 1.0
    assert (run_dir / "model.keras").is_file()
