"""Against the real local Slurm cluster: a two-task multiworker job (MultiWorkerMirroredStrategy
over loopback, on CPU) trains the tiny digits MLP and leaves exactly one run directory, written
by the chief. Skipped, with the reason, where there is no responsive cluster."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from slurm_jobs import wait_for_job
from test_slurm_cluster import (  # tests/ is on sys.path (rootdir-less test modules)
    job_output,
)

from kerastui.core import spec
from kerastui.core.events import TrainingStarted
from kerastui.core.runs import load_run
from kerastui.core.spec import Experiment, FitSettings, LayerSpec

JOB_TIMEOUT = 180
TASKS = 2

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
]


def test_two_task_multiworker_job_trains_together_and_writes_one_run(tmp_path):
    experiment = Experiment(
        name="multiworker",
        dataset="digits",
        layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 8}), LayerSpec("Dense", {"units": 10, "activation": "softmax"})),
        fit=FitSettings(epochs=2, batch_size=32),
        strategy="multiworker",
    )
    config = spec.save(experiment, tmp_path / "multiworker.toml")
    runs_root = tmp_path / "runs"
    scratch_before = set(Path(tempfile.gettempdir()).glob("kerastui-worker-*"))
    result = subprocess.run(
        [sys.executable, "-m", "kerastui", "submit", str(config), "--runs-dir", str(runs_root),
         "--tasks", str(TASKS), "--cpus", "1", "--time", "00:05:00", "--mem", "2G"],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [path for path in runs_root.iterdir() if path.is_dir()]
    script = (run_dir / "job.sbatch").read_text()
    assert f"#SBATCH --ntasks={TASKS}" in script and "exec srun " in script

    job_id = json.loads((run_dir / "info.json").read_text())["slurm_job_id"]
    state = wait_for_job(job_id, timeout=JOB_TIMEOUT, poll_interval=1.0)
    assert state.state == "COMPLETED", f"job {job_id} ended {state}:\n{job_output(run_dir)}"

    # Only the chief wrote a run; the other worker's scratch run was removed.
    assert [path for path in runs_root.iterdir() if path.is_dir()] == [run_dir]
    assert set(Path(tempfile.gettempdir()).glob("kerastui-worker-*")) <= scratch_before
    record = load_run(run_dir)
    output = job_output(run_dir)
    assert record.status == "finished", output
    assert record.epochs_done == 2
    assert len(record.metrics_history["val_accuracy"]) == 2
    assert record.evaluation is not None and (run_dir / "evaluation.json").is_file()
    # Predictions gathered from both workers come back in test-set order: the saved predictions
    # agree with the accuracy Keras measured.
    evaluation = record.evaluation
    correct = sum(evaluation.confusion[i][i] for i in range(len(evaluation.confusion)))
    assert len(evaluation.predictions) == sum(map(sum, evaluation.confusion))
    assert correct / len(evaluation.predictions) == pytest.approx(evaluation.test_accuracy, abs=1e-6)
    assert record.slurm_job_id == job_id

    # Both tasks trained as one: 2 workers, 2 replicas, and the per-replica batch of 32 scaled to 64.
    (started,) = [event for event in record.events if isinstance(event, TrainingStarted)]
    assert (started.workers, started.replicas, started.batch_size) == (TASKS, TASKS, 32 * TASKS)
    assert f"32 per replica x {TASKS} replicas on {TASKS} workers" in output
    # The second worker trains silently: each epoch line appears once, from the chief.
    assert output.count("epoch 1/2") == 1 and output.count("epoch 2/2") == 1, output
