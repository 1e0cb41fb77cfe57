"""`kerastui sweep` end to end, with real (tiny) training in worker processes: a median pruner
stops the hopeless trials (a learning rate of 1e-6) and the epochs it saved are printed; a
worker SIGKILLed mid-trial costs that trial (failed, then retried) and the budget is still met."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerastui.core.runs import load_run
from kerastui.core.sweep_study import load_study, trial_run_dir

pytestmark = pytest.mark.slow

TINY = """name = "tiny"
dataset = "digits"
seed = 1
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
epochs = {epochs}
batch_size = {batch_size}
"""


def sweep_config(tmp_path: Path, table: str, epochs: int = 3, batch_size: int = 64) -> Path:
    config = tmp_path / "sweep.toml"
    config.write_text(TINY.format(epochs=epochs, batch_size=batch_size) + table)
    return config


def sweep_dir_in(runs: Path) -> Path:
    (found,) = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]  # .queue: the run queue's
    return found


def test_a_median_pruner_stops_the_hopeless_trials_and_says_what_it_saved(tmp_path):
    config = sweep_config(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                    '"compile.learning_rate" = [0.01, 0.03, 1e-6, 1e-6]\n'
                                    '[sweep.pruner]\ntype = "median"\nstartup_trials = 2\nwarmup_epochs = 1\n')
    result = subprocess.run([sys.executable, "-m", "kerastui", "sweep", str(config), "--runs-dir", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    sweep_dir = sweep_dir_in(tmp_path / "runs")
    states = [t.state.name for t in load_study(sweep_dir).get_trials()]
    assert states[:2] == ["COMPLETE", "COMPLETE"] and states[2:] == ["PRUNED", "PRUNED"]  # the 1e-6 ones
    for number in (2, 3):
        record = load_run(trial_run_dir(sweep_dir, number))
        assert record.status == "stopped" and record.epochs_done == 1 and "pruned by the sweep" in record.reason
    assert "pruning: 2 trials pruned, 4 epochs saved (33% of the 12 planned)" in result.stdout
    board = result.stdout.split("leaderboard by best val_accuracy (max):")[1]
    rows = [line.split()[:3] for line in board.splitlines() if line[:1] in "-123456789" and " pruned " in line]
    assert rows == [["-", "002", "pruned"], ["-", "003", "pruned"]]  # ranked after the finished ones, marked
    assert "study: 2 complete, 2 pruned, 0 failed, 8 epochs" in result.stdout


def test_a_worker_killed_mid_trial_costs_one_retried_trial_and_the_budget_is_still_met(tmp_path):
    config = sweep_config(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                    '"compile.learning_rate" = [0.01, 0.02, 0.03]\n', epochs=6, batch_size=16)
    sweep = subprocess.Popen([sys.executable, "-m", "kerastui", "sweep", str(config), "--runs-dir", str(tmp_path / "runs")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = None
        deadline = time.monotonic() + 120
        while first is None and time.monotonic() < deadline:  # the first trial, after its first epoch
            runs = list((tmp_path / "runs").glob("*/trial-000"))
            if runs and _epochs(runs[0]) >= 1:
                first = runs[0]
            time.sleep(0.02)
        assert first is not None, "the first trial never ended an epoch"
        worker = json.loads((first / "info.json").read_text())["pid"]
        os.kill(worker, signal.SIGKILL)
        out, err = sweep.communicate(timeout=240)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, out + err
    assert "ended with signal SIGKILL; a new one takes its place" in err
    sweep_dir = first.parent
    trials = load_study(sweep_dir).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert trials[0].user_attrs["ending"] == "killed" and load_run(first).status == "interrupted"
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert retry.params == trials[0].params and load_run(trial_run_dir(sweep_dir, retry)).status == "finished"
    assert sorted(t.params["compile.learning_rate"] for t in trials if t.state.name == "COMPLETE") == [0.01, 0.02, 0.03]


def _epochs(run_dir: Path) -> int:
    from kerastui.core.runs import read_events

    events, _ = read_events(run_dir / "metrics.jsonl")
    return sum(type(e).__name__ == "EpochEnded" for e in events)


def _wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("waited in vain")


def _queue(runs: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "kerastui", "queue", "--runs-dir", str(runs), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_local_workers_run_on_the_queue_within_its_slots_listed_and_cancelled_there(tmp_path):
    from kerastui.core.run_queue import RunQueue

    config = sweep_config(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                    '"compile.learning_rate" = [0.01, 0.02, 0.03]\n', epochs=2)
    runs = tmp_path / "runs"
    sweep = subprocess.Popen([sys.executable, "-m", "kerastui", "sweep", str(config), "--parallel", "3", "--runs-dir", str(runs)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                             env={**os.environ, "KERASTUI_SLOTS": "2"})
    try:
        queue = RunQueue(runs)
        _wait_for(lambda: sum(e.started for e in queue.entries()) == 2)
        sweep_dir = queue.entries()[0].run
        listed = _queue(runs)
        rows = [line.split() for line in listed.splitlines()]
        assert [r[:2] for r in rows] == [["-", "running"], ["-", "running"], ["1", "queued"]], listed
        assert all(f"· {sweep_dir.name}" in line for line in listed.splitlines()), listed  # sweep worker N · SWEEP
        assert "sweep worker 2" in listed.splitlines()[2]
        cancelled = _queue(runs, "--cancel", f"{sweep_dir.name}.worker-2")  # the one waiting for a slot
        assert "1 sweep worker cancelled" in cancelled, cancelled
        out, err = sweep.communicate(timeout=240)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 0, out + err
    assert "3 workers queued; the queue trains 2 at a time" in out
    trials = load_study(sweep_dir).get_trials()
    assert sorted(t.state.name for t in trials) == ["COMPLETE"] * 3
    assert not (sweep_dir / "worker-2.log").exists(), "cancelled before it started"
    _wait_for(lambda: queue.runner_pid() is None, 10)  # the budget met: the runner has exited
    assert queue.entries() == [] and "the local queue is empty" in _queue(runs)


def test_cancelling_a_sweeps_workers_in_the_queue_stops_its_trial(tmp_path):
    config = sweep_config(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                    '"compile.learning_rate" = [0.01, 0.02]\n', epochs=6, batch_size=16)
    runs = tmp_path / "runs"
    sweep = subprocess.Popen([sys.executable, "-m", "kerastui", "sweep", str(config), "--runs-dir", str(runs)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = _wait_for(lambda: next((p for p in runs.glob("*/trial-000") if _epochs(p) >= 1), None))
        assert "1 sweep worker stopping" in _queue(runs, "--cancel", first.parent.name)
        out, err = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    record = load_run(first)
    assert record.status == "stopped" and record.epochs_done < 6, out + err
    assert sweep.returncode == 1 and "--continue" in err  # the budget not met: continue it later
    assert "the local queue is empty" in _queue(runs)
