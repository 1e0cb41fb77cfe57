"""Against a real Slurm cluster (the single-node localhost one .ci/slurm-up.sh starts):
submit a tiny experiment and follow it to COMPLETED, then submit one that stays pending and
cancel it. Skipped, with the reason, where there is no responsive cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from slurm_jobs import wait_for_job

from kerastui.core import slurm, spec
from kerastui.core.events import EpochEnded
from kerastui.core.follower import RunFollower
from kerastui.core.runs import load_run
from kerastui.core.slurm_settings import SlurmSettings
from kerastui.core.spec import Experiment, FitSettings, LayerSpec

JOB_TIMEOUT = 180


pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
]

# Every user-controlled value that reaches the script tries to create this file (relative to
# the job's working directory, which is the directory submit ran in).
INJECTION = "; touch INJECTED $(touch INJECTED) `touch INJECTED` '\"; touch INJECTED"


def tiny_config(tmp_path: Path, epochs: int = 1) -> Path:
    experiment = Experiment(
        name=f"tiny{INJECTION}",
        dataset="digits",
        layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 8}), LayerSpec("Dense", {"units": 10, "activation": "softmax"})),
        fit=FitSettings(epochs=epochs, batch_size=64),
    )
    return spec.save(experiment, tmp_path / "tiny.toml")


def job_output(run_dir: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(run_dir.glob("slurm-*.out")))


def test_submitted_experiment_runs_to_completion_and_fills_its_run_dir(tmp_path):
    config = tiny_config(tmp_path)
    runs_root = tmp_path / f"runs{INJECTION}".replace("/", "_")
    result = subprocess.run(
        [sys.executable, "-m", "kerastui", "submit", str(config), "--runs-dir", str(runs_root),
         "--time", "00:05:00", "--cpus", "1", "--mem", "2G", f"--sbatch-option=--comment={INJECTION}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run_dirs = [path for path in runs_root.iterdir() if path.is_dir()]
    assert len(run_dirs) == 1
    run_dir = run_dirs[0]
    info = json.loads((run_dir / "info.json").read_text())
    job_id = info["slurm_job_id"]
    assert str(run_dir) in result.stdout and str(run_dir / "job.sbatch") in result.stdout and job_id in result.stdout

    state = wait_for_job(job_id, timeout=JOB_TIMEOUT, poll_interval=1.0)
    assert state.state == "COMPLETED", f"job {job_id} ended {state}:\n{job_output(run_dir)}"

    record = load_run(run_dir)
    assert record.status == "finished", job_output(run_dir)
    assert record.epochs_done == 1
    assert "val_accuracy" in record.metrics_history
    assert (run_dir / "evaluation.json").is_file() and record.evaluation is not None
    assert record.slurm_job_id == job_id
    output = job_output(run_dir)
    assert f"kerastui job {job_id}" in output
    assert "\r" not in output  # plain, line-per-epoch output: no progress bars in the .out file
    # What seff would print, from the job's own samples: 1 CPU and the 2G asked for.
    used = record.resources
    assert used["cpus"] == 1 and used["memory_limit_bytes"] == 2 * 2**30 and 0 < used["peak_rss_bytes"] < 2 * 2**30
    assert 0 < used["cpu_efficiency"] <= 1
    assert "resources: CPU efficiency" in output and "of 1 cores" in output and "of 2.0 GiB requested" in output
    assert not (tmp_path / "INJECTED").exists()
    assert not list(tmp_path.rglob("INJECTED"))


def test_pending_job_reports_reason_and_can_be_cancelled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment = spec.load(tiny_config(tmp_path, epochs=50))
    # Held back an hour, so it stays PENDING whatever else the cluster is doing.
    settings = SlurmSettings(time_limit="00:05:00", extra_options=("--begin=now+1hour", f"--comment={INJECTION}"))
    run_dir = slurm.prepare_submission(experiment, settings, runs_root=tmp_path / "runs")
    job_id = slurm.submit(run_dir)

    state = wait_for_job(job_id, timeout=30, poll_interval=0.5, until=lambda s: s.state == "PENDING" and bool(s.reason))
    assert (state.state, state.reason) == ("PENDING", "BeginTime")
    assert str(state) == "PENDING (BeginTime)"
    assert load_run(run_dir).status == slurm.SUBMITTED

    slurm.cancel(job_id, run_dir)
    state = wait_for_job(job_id, timeout=30, poll_interval=0.5)
    assert state.state == "CANCELLED"
    assert load_run(run_dir).status == slurm.CANCELLED
    assert not (tmp_path / "INJECTED").exists()


def test_job_cancelled_outside_kerastui_is_shown_and_recorded_as_cancelled_by_kerastui_runs(tmp_path, monkeypatch, capsys):
    # Cancelled with plain scancel, the job never ran, so nothing wrote the run's end: the
    # listing used to say "submitted" until the run was opened.
    from kerastui.cli import main

    monkeypatch.chdir(tmp_path)
    experiment = spec.load(tiny_config(tmp_path, epochs=50))
    settings = SlurmSettings(time_limit="00:05:00", extra_options=("--begin=now+1hour",))
    runs_root = tmp_path / "runs"
    run_dir = slurm.prepare_submission(experiment, settings, runs_root=runs_root)
    job_id = slurm.submit(run_dir)
    wait_for_job(job_id, timeout=30, poll_interval=0.5, until=lambda s: s.state == "PENDING")

    result = subprocess.run(["scancel", job_id], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert wait_for_job(job_id, timeout=30, poll_interval=0.5).state == "CANCELLED"
    assert load_run(run_dir).status == slurm.SUBMITTED   # nothing has told the run yet

    assert main(["runs", "--runs-dir", str(runs_root)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if run_dir.name in line)
    assert "cancelled" in row and "submitted" not in row, row
    assert (run_dir / "status").read_text().strip() == slurm.CANCELLED
    assert json.loads((run_dir / "info.json").read_text())["slurm_state"] == "CANCELLED"


def test_running_job_is_followed_live_then_cancelled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment = spec.load(tiny_config(tmp_path, epochs=500))
    run_dir = slurm.prepare_submission(experiment, SlurmSettings(time_limit="00:05:00"), runs_root=tmp_path / "runs")
    job_id = slurm.submit(run_dir)
    try:
        # The metrics file of the running job yields epoch events while the job is RUNNING.
        epochs = []
        for event in RunFollower(run_dir, quiet_after=JOB_TIMEOUT).follow(poll_interval=0.2):
            if isinstance(event, EpochEnded):
                epochs.append(event.epoch)
                if len(epochs) == 2:
                    break
        assert epochs == [0, 1], job_output(run_dir)
        assert slurm.job_state(job_id).state == "RUNNING"
    finally:
        slurm.cancel(job_id, run_dir)
    state = wait_for_job(job_id, timeout=60, poll_interval=0.5)
    assert state.state == "CANCELLED"
    # Either kerastui stopped gracefully on Slurm's SIGTERM, or the run is settled as cancelled.
    assert slurm.sync_run_status(run_dir, state) in ("stopped", slurm.CANCELLED)
    assert load_run(run_dir).status in ("stopped", slurm.CANCELLED)


def test_job_state_of_an_unknown_job_is_unknown():
    assert slurm.job_state("999999999").state == "UNKNOWN"


def test_sbatch_errors_come_back_as_slurm_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment = spec.load(tiny_config(tmp_path))
    run_dir = slurm.prepare_submission(experiment, SlurmSettings(partition="no-such-partition"), runs_root=tmp_path / "runs")
    with pytest.raises(slurm.SlurmError, match="(?i)partition"):
        slurm.submit(run_dir)
    assert "slurm_job_id" not in json.loads((run_dir / "info.json").read_text())
    assert os.environ.get("SLURM_JOB_ID") is None


def test_a_job_warned_of_its_time_limit_saves_requeues_itself_and_resumes(tmp_path):
    """sbatch --signal=B:USR1@N --requeue: at the warning (sent here at once with scancel
    --signal=USR1 --batch, instead of waiting for a real time limit) the run stops after its
    batch, says requeued, and requeues its job; Slurm starts the job again and the run resumes
    from its last saved epoch to the end. Every epoch is in metrics.jsonl once, and a follower
    goes on across the requeue to the run's real end."""
    import threading
    import time

    from kerastui.core.events import TrainingStarted
    from kerastui.core.follower import RunEnded
    from kerastui.core.runs import read_status, writer_alive

    config = tiny_config(tmp_path, epochs=150)
    runs_root = tmp_path / "runs"
    result = subprocess.run(
        [sys.executable, "-m", "kerastui", "submit", str(config), "--runs-dir", str(runs_root),
         "--time", "00:10:00", "--cpus", "1", "--requeue-warning", "120"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [path for path in runs_root.iterdir() if path.is_dir()]
    script = (run_dir / "job.sbatch").read_text()
    assert "#SBATCH --signal=B:USR1@120" in script and "#SBATCH --requeue" in script
    job_id = json.loads((run_dir / "info.json").read_text())["slurm_job_id"]

    followed: list = []
    follower = RunFollower(run_dir, quiet_after=600, job_state=slurm.job_state, settle_job=slurm.sync_run_status,
                           job_poll_interval=1.0)
    stop = threading.Event()
    watcher = threading.Thread(target=lambda: followed.extend(follower.follow(stop, poll_interval=0.2)), daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + JOB_TIMEOUT
        while sum(isinstance(e, EpochEnded) for e in load_run(run_dir).events) < 3:
            assert time.monotonic() < deadline, job_output(run_dir)
            assert slurm.job_state(job_id).state in ("PENDING", "RUNNING"), job_output(run_dir)
            time.sleep(0.2)
        warned = subprocess.run(["scancel", "--signal=USR1", "--batch", job_id], capture_output=True, text=True)
        assert warned.returncode == 0, warned.stderr
        while read_status(run_dir) != "requeued":
            assert time.monotonic() < deadline, job_output(run_dir)
            time.sleep(0.2)
        epochs_before = len({e.epoch for e in load_run(run_dir).events if isinstance(e, EpochEnded)})
        # A requeued job waits out Slurm's own delay (about two minutes): start it now instead, once
        # the first instance has gone (started at once while it was still being cleaned up, a
        # requeued job on this one-node cluster failed without running).
        while slurm.job_state(job_id).state != "PENDING" or writer_alive(run_dir):
            assert time.monotonic() < deadline, job_output(run_dir)
            time.sleep(0.2)
        time.sleep(3)
        subprocess.run(["scontrol", "update", f"jobid={job_id}", "StartTime=now"], capture_output=True, text=True)
        state = wait_for_job(job_id, timeout=JOB_TIMEOUT, poll_interval=1.0)
        assert state.state == "COMPLETED", f"job {job_id} ended {state}:\n{job_output(run_dir)}"
        watcher.join(60)
    finally:
        stop.set()

    record = load_run(run_dir)
    assert record.status == "finished", job_output(run_dir)
    epochs = [e.epoch for e in record.events if isinstance(e, EpochEnded)]
    assert sorted(epochs) == list(range(150)) and len(epochs) == 150  # each epoch once, none lost
    starts = [e for e in record.events if isinstance(e, TrainingStarted)]
    assert len(starts) == 2 and starts[1].initial_epoch == epochs_before > 0
    output = job_output(run_dir)
    assert output.count(f"kerastui job {job_id}") == 2 and "requeued job" in output
    assert record.evaluation is not None and "requeued" in record.info
    assert isinstance(followed[-1], RunEnded) and followed[-1].status == "finished"  # followed across the requeue
    assert sum(isinstance(e, EpochEnded) for e in followed) == 150
