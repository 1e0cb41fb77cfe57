"""Sweeps: a [sweep] table validated at once, trials as ordinary run directories on the local run
queue, a leaderboard by the objective, and a sweep interrupted and continued running only the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kerastui.core.runs import list_runs, load_run, read_status
from kerastui.core.spec import SpecError
from kerastui.core.sweep import Range, dumps_sweep, load_sweep, loads_sweep, trials
from kerastui.core.sweep_runs import leaderboard, mean_objective_by_value, read_trials

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sweep.toml"
BASE = EXAMPLE.read_text().split("[sweep]")[0]


def sweep_text(table: str) -> str:
    return BASE + "[sweep]\n" + table


def test_the_example_is_four_trials_of_learning_rate_by_width():
    base, sweep = load_sweep(EXAMPLE)
    made = trials(base, sweep)
    assert sweep.size == 4 and len(made) == 4
    assert {(t.experiment.compile.learning_rate, t.experiment.layers[1].params["units"]) for t in made} == {
        (0.001, 32), (0.001, 128), (0.01, 32), (0.01, 128)}
    assert all(t.experiment.fit.epochs == 2 for t in made)
    again = loads_sweep(dumps_sweep(base, sweep))  # round-trips through TOML
    assert again == (base, sweep)


def test_bad_sweeps_are_refused_with_every_problem_at_once(tmp_path):
    text = sweep_text(
        '[sweep.parameters]\n'
        '"compile.learnin_rate" = [0.1]\n'          # an unknown field
        '"fit.batch_size" = []\n'                   # an empty list
        '"layers[9].units" = [8]\n'                 # no such layer
        '"compile.optimizer" = ["adam", "lbfgs"]\n'  # a value not allowed
        + "".join(f'"layers[{i}].units" = [{", ".join(str(n) for n in range(1, 11))}]\n' for i in (1, 2, 3))
        + '"seed" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n'
    )
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_sweep(config)
    messages = [str(p) for p in caught.value.problems]
    assert any("learnin_rate" in m and "unknown field" in m for m in messages), messages
    assert any("fit.batch_size" in m and "empty" in m for m in messages)
    assert any("layers[9]" in m and "no layer 9" in m for m in messages)
    assert any("lbfgs" in m and "optimizer" in m for m in messages)
    assert any("20,000 combinations" in m and "more than 1000" in m for m in messages)  # too large to mean it
    from test_faults import run_cli

    result = run_cli(["sweep", str(config), "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2 and "lbfgs" in result["err"] and "learnin_rate" in result["err"]
    assert not (tmp_path / "runs").exists(), "nothing runs"


def test_random_search_is_seeded_and_samples_log_uniform_ranges():
    text = sweep_text('method = "random"\ntrials = 20\nseed = 7\n[sweep.parameters]\n'
                      '"compile.learning_rate" = { min = 1e-4, max = 1e-1, scale = "log" }\n'
                      '"fit.batch_size" = [16, 64]\n')
    base, sweep = loads_sweep(text)
    assert sweep.parameters[0][1] == Range(1e-4, 1e-1, "log")
    first, second = trials(base, sweep), trials(*loads_sweep(text))
    assert [t.params for t in first] == [t.params for t in second] and len(first) == 20
    rates = [t.params["compile.learning_rate"] for t in first]
    assert all(1e-4 <= r <= 1e-1 for r in rates)
    assert sum(r < 1e-2 for r in rates) >= 8  # log-uniform: about two thirds below 1e-2
    with pytest.raises(SpecError, match="needs method"):
        loads_sweep(sweep_text('[sweep.parameters]\n"compile.learning_rate" = { min = 1e-4, max = 1e-1 }\n'))


def run_sweep(args: list[str], cwd: Path, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    return subprocess.Popen([sys.executable, "-m", "kerastui", "sweep", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_example_runs_two_at_a_time_into_four_run_directories_and_a_leaderboard(tmp_path, capsys):
    process = run_sweep([str(EXAMPLE), "--parallel", "2", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    out, err = process.communicate(timeout=280)
    assert process.returncode == 0, err[-2000:]
    (sweep_dir,) = list((tmp_path / "runs").iterdir())
    runs = [sweep_dir / row["run"] for row in read_trials(sweep_dir).values()]
    assert len(runs) == 4 and all(load_run(r).status == "finished" and load_run(r).evaluation for r in runs)
    starts = sorted((load_run(r).info["started_time"], load_run(r).info["ended_time"]) for r in runs)
    assert starts[1][0] < starts[0][1], "two trials trained at once"
    sweep, rows = leaderboard(sweep_dir)
    best = [max(load_run(sweep_dir / read_trials(sweep_dir)[r.trial]["run"]).metrics_history["val_accuracy"]) for r in rows]
    assert [r.objective for r in rows] == best and best == sorted(best, reverse=True)
    assert "leaderboard by best val_accuracy" in out and out.count("finished") >= 8
    means = mean_objective_by_value(sweep, rows)
    assert {value for value, _, _ in means["compile.learning_rate"]} == {0.001, 0.01}
    listed = [r for r in list_runs(tmp_path / "runs")]
    assert len(listed) == 4 and {r.sweep for r in listed} == {sweep_dir.name}  # the runs list shows the trials

    from kerastui.cli import main

    assert main(["runs", "--runs-dir", str(tmp_path / "runs")]) == 0  # the sweep as one row
    table = capsys.readouterr().out
    assert sweep_dir.name in table and "4/4" in table and "0 run(s) and 1 sweep(s)" in table
    assert not any(r.name in table for r in listed)
    assert main(["runs", "--runs-dir", str(tmp_path / "runs"), "--trials"]) == 0
    table = capsys.readouterr().out
    assert all(r.name in table for r in listed) and "4 run(s)" in table


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_an_interrupted_sweep_continues_with_only_the_trials_not_finished(tmp_path):
    process = run_sweep([str(EXAMPLE), "--parallel", "1", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    deadline = time.monotonic() + 200
    while True:
        dirs = list((tmp_path / "runs").glob("*/trial-*"))
        if sum(read_status(d) == "finished" and (d / "evaluation.json").exists() for d in dirs) >= 2:
            break
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()[1][-2000:]
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "sweep --continue" in err
    (sweep_dir,) = list((tmp_path / "runs").iterdir())
    finished = {d.name: (d / "metrics.jsonl").read_bytes() for d in sweep_dir.glob("trial-*") if read_status(d) == "finished"}
    assert len(finished) >= 2

    again = run_sweep(["--continue", str(sweep_dir), "--parallel", "2"], tmp_path)
    out, err = again.communicate(timeout=280)
    assert again.returncode == 0, err[-2000:]
    assert f"{4 - len(finished)} to run" in out
    for name, metrics in finished.items():
        assert (sweep_dir / name / "metrics.jsonl").read_bytes() == metrics, f"{name} ran again"
    table = read_trials(sweep_dir)
    assert all(read_status(sweep_dir / row["run"]) == "finished" for row in table.values())
    assert json.loads((sweep_dir / "trials.json").read_text())[0]["params"]


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_the_example_runs_as_one_slurm_job_array_and_every_trial_finishes(tmp_path):
    process = run_sweep([str(EXAMPLE), "--slurm", "--parallel", "2", "--time", "00:10:00", "--cpus", "1",
                         "--mem", "2G", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    (sweep_dir,) = list((tmp_path / "runs").iterdir())
    script = (sweep_dir / "job.sbatch").read_text()
    assert "#SBATCH --array=0-3%2" in script and "SLURM_ARRAY_TASK_ID" in script
    job_id = out.split("job array ")[1].split()[0]
    table = read_trials(sweep_dir)
    assert [row["slurm_job_id"] for row in table.values()] == [f"{job_id}_{i}" for i in range(4)]
    deadline = time.monotonic() + 300
    runs = [sweep_dir / row["run"] for row in table.values()]
    while not all((r / "evaluation.json").exists() for r in runs):
        assert time.monotonic() < deadline, [read_status(r) for r in runs]
        time.sleep(1)
    assert all(load_run(r).status == "finished" and load_run(r).epochs_done == 2 for r in runs)
    assert len(list(sweep_dir.glob("slurm-*_*.out"))) == 4  # one output per array task
    _, rows = leaderboard(sweep_dir)
    assert [r.status for r in rows] == ["finished"] * 4 and rows[0].objective >= rows[-1].objective


def test_a_clearly_bad_trial_is_stopped_early_and_recorded_as_such(tmp_path, monkeypatch):
    """stop_bad_after = 2: from its second epoch, a trial whose best val_accuracy is below the
    median of the other trials' at that epoch stops; it is 'stopped early', not failed, and a
    continued sweep does not run it again."""
    from kerastui.cli import main
    from kerastui.core import train
    from kerastui.core.events import EpochEnded, TrainingFinished, TrainingStarted, TrainingStopped
    from kerastui.core.runs import RunWriter, load_run
    from kerastui.core.sweep import loads_sweep
    from kerastui.core.sweep_runs import (
        STOPPED_EARLY,
        create_sweep_dir,
        leaderboard,
        prepare_pending_trials,
    )

    text = EXAMPLE.read_text().replace("[sweep]\n", "[sweep]\nstop_bad_after = 2\n", 1)
    base, sweep = loads_sweep(text)
    assert sweep.stop_bad_after == 2 and loads_sweep(dumps_sweep(base, sweep))[1] == sweep  # round-trips
    sweep_dir = create_sweep_dir(base, sweep, tmp_path / "runs")
    runs = prepare_pending_trials(sweep_dir)
    for run_dir, accuracy in zip(runs[:2], (0.9, 0.8)):  # two good trials already ran their 4 epochs
        writer = RunWriter.open(run_dir, None)
        writer(TrainingStarted(epochs=4, steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8))
        for epoch in range(4):
            writer(EpochEnded(epoch, 4, {"loss": 0.5, "val_accuracy": accuracy}, 0.1))
        writer(TrainingFinished(4))
        writer.close()

    class PoorTrainer:  # the third trial: far worse, for as long as it is let run
        def __init__(self, experiment, dataset, listeners=(), stop_event=None, backup_dir=None, **kwargs):
            self.listeners, self.stop_event, self.model = list(listeners), stop_event, None

        def run(self):
            emit = lambda event: [listener(event) for listener in self.listeners]
            emit(TrainingStarted(epochs=4, steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8))
            for epoch in range(4):
                if self.stop_event.is_set():
                    emit(TrainingStopped(epoch, self.stop_event.reason))
                    return train.TrainResult("stopped", None, {}, epoch, self.stop_event.reason)
                emit(EpochEnded(epoch, 4, {"loss": 2.0, "val_accuracy": 0.3}, 0.1))
            emit(TrainingFinished(4))
            return train.TrainResult("finished", None, {}, 4)

    monkeypatch.setattr(train, "Trainer", PoorTrainer)
    bad = runs[2]
    assert main(["train", str(bad / "config.toml"), "--run-dir", str(bad), "--plain"]) == 0  # done, not interrupted
    record = load_run(bad)
    assert record.status == "stopped" and record.epochs_done == 2  # stopped at epoch 2, not 4
    assert "stopped early by the sweep" in record.reason and "below the median 0.8500 of 2 other trials" in record.reason
    assert record.reason.startswith(STOPPED_EARLY)
    _, rows = leaderboard(sweep_dir)
    assert {row.status for row in rows if row.record and row.record.path == bad} == {"stopped early"}
    assert bad not in prepare_pending_trials(sweep_dir)  # a continued sweep leaves it be
