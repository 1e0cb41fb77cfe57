"""Every experiment in examples/ is valid on the data it names: the layers' shapes, the output, the
loss and the monitor of its task (the check the build screen and `kerastui train` run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kerastui.core import spec
from kerastui.core.data import dataset_info
from kerastui.core.sweep import load_sweep

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TASK_EXAMPLES = {
    "breast_cancer_binary.toml": "binary",
    "signals_resnet1d.toml": "binary",
    "strain_h5.toml": "binary",
    "imdb_lstm.toml": "binary",
    "diabetes_regression.toml": "regression",
    "sweep.toml": "multiclass",
}


def test_every_example_is_listed_here():
    assert {path.name for path in EXAMPLES.glob("*.toml")} == set(TASK_EXAMPLES)


@pytest.mark.parametrize("name", sorted(TASK_EXAMPLES))
def test_the_example_fits_its_data_and_task(name, tmp_path, monkeypatch):
    # A sweep's file is its base experiment plus [sweep] (checked against it by load_sweep).
    experiment = load_sweep(EXAMPLES / name)[0] if name == "sweep.toml" else spec.load(EXAMPLES / name)
    if experiment.dataset in ("signals.npz", "strain.h5"):  # the files make_signals.py writes, as the comments say
        subprocess.run([sys.executable, str(EXAMPLES / "make_signals.py"), str(tmp_path / experiment.dataset),
                        "--samples", "300"], check=True, capture_output=True, timeout=120)
        monkeypatch.chdir(tmp_path)
    info = dataset_info(experiment.dataset, settings=experiment.data)  # imdb: known without its (uncached) file
    task = experiment.task_for(info.task).name
    assert task == TASK_EXAMPLES[name]
    problems = experiment.problems(info.input_shape, info.outputs_for(task), info.task,
                                   getattr(info, "vocabulary_size", 0))
    assert problems == [], problems
    assert experiment.fit.monitor in ("val_loss", *experiment.task_for(info.task).monitors())
