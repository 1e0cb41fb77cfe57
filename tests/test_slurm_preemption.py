"""Preemption on the local Slurm cluster: a requeueable job sent SIGTERM mid-epoch (what a
preemption, or `scancel --signal=TERM`, sends) saves its training state at that batch, says
"requeued: preempted", requeues itself, resumes from the saved state and finishes with every
epoch in its metrics once. Skipped, with the reason, where there is no responsive cluster."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from slurm_jobs import wait_for_job

from kerastui.core import slurm, spec
from kerastui.core.events import EpochEnded, TrainingStarted
from kerastui.core.runs import load_run, pid_exists, read_status, writer_alive
from kerastui.core.spec import Experiment, FitSettings, LayerSpec

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

JOB_TIMEOUT = 180
EPOCHS = 4


def _node_state() -> str:
    states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout.split()
    return states[0].rstrip("*~#$@+") if states else ""


def _mid_epoch(run_dir) -> bool:
    if not (run_dir / "metrics.jsonl").is_file():
        return False
    # After the first epoch: the signal then lands within one of the next epochs' thousand batches.
    return any(isinstance(e, EpochEnded) for e in load_run(run_dir).events)


def test_a_requeueable_job_sent_sigterm_mid_epoch_saves_requeues_resumes_and_repeats_no_epoch(tmp_path, capsys):
    from kerastui.cli import main

    experiment = Experiment(
        name="preempted", dataset="digits",
        layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 8}), LayerSpec("Dense", {"units": 10, "activation": "softmax"})),
        fit=FitSettings(epochs=EPOCHS, batch_size=1),  # batches of one: an epoch lasts a few seconds
    )
    config = spec.save(experiment, tmp_path / "tiny.toml")
    runs_root = tmp_path / "runs"
    result = subprocess.run(
        [sys.executable, "-m", "kerastui", "submit", str(config), "--runs-dir", str(runs_root),
         "--time", "00:10:00", "--cpus", "1", "--sbatch-option=--requeue"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (run_dir,) = [path for path in runs_root.iterdir() if path.is_dir()]
    job_id = json.loads((run_dir / "info.json").read_text())["slurm_job_id"]
    output = lambda: "\n".join(p.read_text(errors="replace") for p in sorted(run_dir.glob("slurm-*.out")))  # noqa: E731
    try:
        deadline = time.monotonic() + JOB_TIMEOUT
        while not _mid_epoch(run_dir):
            assert time.monotonic() < deadline, output()
            assert slurm.job_state(job_id).state in ("PENDING", "RUNNING"), output()
            time.sleep(0.1)
        time.sleep(0.2)
        # What preemption sends the batch script (which exec made kerastui itself).
        sent = subprocess.run(["scancel", "--signal=TERM", "--batch", job_id], capture_output=True, text=True)
        assert sent.returncode == 0, sent.stderr
        while read_status(run_dir) != "requeued":
            assert time.monotonic() < deadline, output()
            time.sleep(0.1)
        metadata = json.loads((run_dir / "backup" / "training_metadata.json").read_text())
        assert metadata.get("saved_mid_epoch") and metadata["batches_done"] > 0, metadata
        saved_epoch = metadata["epoch"]
        while "requeued_for" not in load_run(run_dir).info:
            assert time.monotonic() < deadline, output()
            time.sleep(0.1)
        assert load_run(run_dir).status_label == "requeued: preempted"
        assert main(["runs", "--runs-dir", str(runs_root)]) == 0
        assert "requeued: preempted" in capsys.readouterr().out
        # Slurm's own delay before a requeued job starts again is about two minutes: start it now,
        # once the first instance has gone.
        # once the first instance has gone: its process, and the node back to idle (a job started
        # on it while the last one was being cleaned up hung before training).
        first_pid = int(load_run(run_dir).info["pid"])
        while (slurm.job_state(job_id).state != "PENDING" or writer_alive(run_dir) or pid_exists(first_pid)
               or _node_state() != "idle"):
            assert time.monotonic() < deadline, output()
            time.sleep(0.2)
        time.sleep(2)
        subprocess.run(["scontrol", "update", f"jobid={job_id}", "StartTime=now"], capture_output=True, text=True)
        state = wait_for_job(job_id, timeout=JOB_TIMEOUT, poll_interval=1.0)
        assert state.state == "COMPLETED", f"job {job_id} ended {state}:\n{output()}"
    finally:
        subprocess.run(["scancel", job_id], capture_output=True, text=True)

    record = load_run(run_dir)
    assert record.status == "finished", output()
    epochs = [e.epoch for e in record.events if isinstance(e, EpochEnded)]
    assert epochs == list(range(EPOCHS)), epochs  # each epoch once, in order
    starts = [e for e in record.events if isinstance(e, TrainingStarted)]
    assert [s.initial_epoch for s in starts] == [0, saved_epoch]  # resumed in the epoch it was stopped in
    text = output()
    assert "requeued: preempted" in text and f"at batch {metadata['batches_done']} of epoch {saved_epoch + 1}" in text
    assert text.count(f"kerastui job {job_id}") == 2
