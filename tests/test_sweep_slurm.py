"""On the real local Slurm cluster: `kerastui sweep --slurm --parallel 3` submits a 3-task job
array whose tasks are workers of one TPE study; they run it to its budget of 8 trials. The journal
holds 8 ended trials, each with its run directory, and the leaderboard agrees with the runs'
metrics and evaluations. Skipped, with the reason, where there is no responsive cluster."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

from kerastui.core.runs import load_run
from kerastui.core.sweep_runs import leaderboard
from kerastui.core.sweep_study import load_study, trial_run_dir

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

CONFIG = """name = "array-sweep"
dataset = "digits"
seed = 2
[[layers]]
type = "Flatten"
[[layers]]
type = "Dense"
units = 16
activation = "relu"
[[layers]]
type = "Dense"
units = 10
activation = "softmax"
[fit]
epochs = 2
batch_size = 64
[sweep]
method = "tpe"
trials = 8
seed = 5
[sweep.parameters]
"compile.learning_rate" = { min = 1e-3, max = 5e-2, scale = "log" }
"layers[1].units" = { min = 8, max = 32 }
"""


def wait_until_gone(job_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True, timeout=30)
        if listed.returncode == 0 and not listed.stdout.strip():
            return True
        time.sleep(1.0)
    return False


def test_a_three_task_array_runs_a_tpe_study_to_its_budget(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(CONFIG)
    result = subprocess.run([sys.executable, "-m", "kerastui", "sweep", str(config), "--slurm", "--parallel", "3",
                             "--runs-dir", str(tmp_path / "runs"), "--time", "00:10:00", "--cpus", "1", "--mem", "2G"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    job_id = re.search(r"as job array (\d+)", result.stdout).group(1)
    (sweep_dir,) = (tmp_path / "runs").iterdir()
    script = (sweep_dir / "job.sbatch").read_text()
    assert "#SBATCH --array=0-2" in script and "sweep --worker" in script
    gone = wait_until_gone(job_id, timeout=300)
    outputs = "\n".join(p.read_text(errors="replace") for p in sorted(sweep_dir.glob("slurm-*.out")))
    assert gone, f"job array {job_id} still queued or running:\n{outputs}"

    trials = load_study(sweep_dir).get_trials()
    assert len(trials) == 8 and {t.state.name for t in trials} == {"COMPLETE"}, outputs
    _, rows = leaderboard(sweep_dir)
    by_number = {row.trial: row for row in rows}
    tasks = set()
    for trial in trials:
        record = load_run(trial_run_dir(sweep_dir, trial))
        assert record.status == "finished" and record.epochs_done == 2
        evaluation = json.loads((record.path / "evaluation.json").read_text())
        row = by_number[trial.number]
        assert row.objective == trial.value == max(record.metrics_history["val_accuracy"])
        assert row.record.test_accuracy == pytest.approx(evaluation["test_accuracy"])
        assert record.info["trial_params"] == trial.params
        tasks.add(record.info["slurm_job_id"])
    assert len(tasks) >= 2, "the array's tasks shared the study"  # 2 CPUs: two tasks train at once
    assert [row.objective for row in rows] == sorted((t.value for t in trials), reverse=True)
    shown = subprocess.run([sys.executable, "-m", "kerastui", "sweep", "--show", str(sweep_dir), "--plain"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert shown.returncode == 0 and "study: 8 complete, 0 pruned, 0 failed, 16 epochs" in shown.stdout, shown.stderr
