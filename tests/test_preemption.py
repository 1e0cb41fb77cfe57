"""Preemption without a cluster: a training child that believes it is in a Slurm job (SLURM_JOB_ID
set, a job scontrol does not know, so it may not be requeued) gets SIGTERM mid-epoch. It saves its
training state at that batch and ends interrupted; `kerastui train --resume` goes on from that
state, and every epoch is in the metrics once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kerastui.core.events import EpochEnded, TrainingStarted
from kerastui.core.runs import load_run

EPOCHS = 12


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env.update(KERAS_BACKEND="jax", PYTHONUNBUFFERED="1", **extra)
    return env


def _wait(predicate, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _first_epoch_ended(run_dir: Path) -> bool:
    if not (run_dir / "metrics.jsonl").is_file():
        return False
    return any(isinstance(e, EpochEnded) for e in load_run(run_dir).events)


def test_sigterm_in_a_slurm_job_saves_the_state_mid_epoch_and_the_resumed_run_goes_on_from_it(tmp_path):
    runs = tmp_path / "runs"
    # Batches of one: an epoch of digits is over a thousand batches, so the signal lands mid-epoch.
    child = subprocess.Popen(
        [sys.executable, "-m", "kerastui", "train", "--dataset", "digits", "--epochs", str(EPOCHS), "--batch-size", "1",
         "--backend", "jax", "--runs-dir", str(runs), "--plain", "--name", "pre"],
        env=_child_env(SLURM_JOB_ID="999999999"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: runs.is_dir() and any(runs.iterdir()), child)
        (run_dir,) = list(runs.iterdir())
        _wait(lambda: _first_epoch_ended(run_dir), child)
        time.sleep(0.1)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, out + err
    metadata = json.loads((run_dir / "backup" / "training_metadata.json").read_text())
    stopped_in = metadata["epoch"]
    assert metadata["saved_mid_epoch"] and 1 <= stopped_in < EPOCHS and metadata["batches_done"] > 0, metadata
    record = load_run(run_dir)
    assert record.status == "interrupted", err
    assert "may not be requeued" in err and "--resume" in err and "KillWait" in err
    assert f"at batch {metadata['batches_done']} of epoch {stopped_in + 1}" in err
    assert [e.epoch for e in record.events if isinstance(e, EpochEnded)] == list(range(stopped_in))

    resumed = subprocess.run([sys.executable, "-m", "kerastui", "train", "--resume", str(run_dir), "--plain"],
                             env=_child_env(), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    record = load_run(run_dir)
    assert record.status == "finished"
    assert [e.epoch for e in record.events if isinstance(e, EpochEnded)] == list(range(EPOCHS))  # each once
    starts = [e for e in record.events if isinstance(e, TrainingStarted)]
    assert [s.initial_epoch for s in starts] == [0, stopped_in]  # in the epoch it was stopped in
    assert len(record.metrics_history["loss"]) == EPOCHS
