"""A streamed data set goes everywhere a data set goes: resume, sweeps and `kerastui submit`
(its offline check reads the file with its [data] table and stores absolute paths; a real job
on the local Slurm cluster trains from it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kerastui.cli import main
from kerastui.core import slurm, spec
from kerastui.core.data import load_dataset
from kerastui.core.events import EpochEnded
from kerastui.core.pipeline import run_experiment
from kerastui.core.runs import load_run
from kerastui.core.slurm_settings import SlurmSettings
from kerastui.core.train import StopRequest
from tests.array_files import signals, write_hdf5

pytestmark = pytest.mark.slow

CONFIG = """\
name = "streamed"
dataset = "{dataset}"

[data]
x = "strain"
y = "flag"
axes = [0, 2, 1]
standardize = "per_sample"

[[layers]]
type = "Flatten"

[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"

[compile]
loss = "binary_crossentropy"
learning_rate = 0.01

[fit]
epochs = {epochs}
batch_size = 16
"""


def write_config(root: Path, epochs: int = 2, dataset: str | None = None, extra: str = "") -> Path:
    x, y = signals(96)
    write_hdf5(root / "strain.h5", strain=x, flag=y)
    config = root / "streamed.toml"
    config.write_text(CONFIG.format(dataset=dataset or root / "strain.h5", epochs=epochs) + extra)
    return config


def test_a_stopped_streamed_run_resumes_to_its_last_epoch(tmp_path):
    experiment = spec.load(write_config(tmp_path, epochs=3))
    stop = StopRequest()

    def after_first_epoch(event) -> None:
        if isinstance(event, EpochEnded) and event.epoch == 0:
            stop.request("stopped for the test")

    dataset = load_dataset(experiment.dataset, seed=experiment.seed, settings=experiment.data)
    outcome = run_experiment(experiment, dataset, runs_root=tmp_path / "runs", listeners=[after_first_epoch],
                             stop_event=stop)
    assert outcome.status == "stopped" and outcome.result.epochs_done == 1
    assert main(["train", "--resume", str(outcome.run_dir), "--plain"]) == 0
    record = load_run(outcome.run_dir)
    assert record.status == "finished" and record.epochs_done == 3
    assert json.loads((outcome.run_dir / "preprocessing.json").read_text())["standardize"] == "per_sample"


def test_a_sweep_over_a_streamed_file_trains_each_trial_from_it(tmp_path, capsys):
    config = write_config(tmp_path, epochs=1, extra='\n[sweep]\nmethod = "grid"\nobjective = "val_auc"\n'
                                                  '[sweep.parameters]\n"data.standardize" = ["per_sample", "per_feature"]\n')
    assert main(["sweep", str(config), "--parallel", "1", "--runs-dir", str(tmp_path / "runs")]) == 0
    trials = sorted((tmp_path / "runs").glob("*sweep*/*/preprocessing.json"))
    assert [json.loads(p.read_text())["standardize"] for p in trials] == ["per_sample", "per_feature"]


def test_submit_checks_the_file_with_its_table_and_stores_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment = spec.load(write_config(tmp_path, dataset="strain.h5"))
    run_dir = slurm.prepare_submission(experiment, SlurmSettings(), runs_root=tmp_path / "runs")
    stored = spec.load(run_dir / "config.toml")
    assert stored.dataset == str(tmp_path / "strain.h5") and stored.data.x == "strain"
    from dataclasses import replace

    for bad, words in ((replace(experiment, dataset="missing.h5"), "no such file"),
                       (replace(experiment, data=replace(experiment.data, x="strains")), "no array or variable 'strains'")):
        with pytest.raises(slurm.SlurmError, match=words):
            slurm.prepare_submission(bad, SlurmSettings(), runs_root=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()  # nothing queued, no run directory left


@pytest.mark.slurm
def test_a_submitted_job_trains_from_the_hdf5_file(tmp_path):
    from slurm_jobs import wait_for_job

    config = write_config(tmp_path, epochs=1, dataset="strain.h5")
    result = subprocess.run([sys.executable, "-m", "kerastui", "submit", str(config), "--runs-dir", str(tmp_path / "runs"),
                             "--time", "00:05:00", "--cpus", "1", "--mem", "2G"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    job_id = json.loads((run_dir / "info.json").read_text())["slurm_job_id"]
    state = wait_for_job(job_id, timeout=240, poll_interval=1.0)
    output = "\n".join(p.read_text(errors="replace") for p in run_dir.glob("slurm-*.out"))
    assert state.state == "COMPLETED", output
    assert load_run(run_dir).status == "finished" and (run_dir / "preprocessing.json").exists()
