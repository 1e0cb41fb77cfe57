"""Sweeps on Optuna: the [sweep] table (samplers, budget, pruners, int/float/log/categorical and
conditional parameters, several objectives) validated at once and round-tripped through TOML;
the study in the sweep's journal shared by workers up to its budget; a trial whose worker died
failed and tried again. Trials here are scripted (tests/sweep_trials.py): no Keras."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from sweep_trials import asked_trials, scripted_trial

from kerastui.core.runs import RunWriter, load_run
from kerastui.core.spec import SpecError
from kerastui.core.sweep import dumps_sweep, loads_sweep
from kerastui.core.sweep_runs import create_sweep_dir, leaderboard
from kerastui.core.sweep_study import JOURNAL_FILE, SweepStudy, load_study, trial_run_dir
from kerastui.core.sweep_worker import SweepWorker

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sweep.toml"
BASE = EXAMPLE.read_text().split("[sweep]")[0]

FULL = """[sweep]
method = "tpe"
trials = 12
seed = 3
objective = "val_accuracy"
retries = 1
[sweep.parameters]
"compile.learning_rate" = { min = 1e-4, max = 1e-1, scale = "log" }
"layers[1].units" = { min = 16, max = 128, step = 16 }
"compile.optimizer" = ["adam", "sgd"]
"fit.batch_size" = { values = [16, 32], when = { "compile.optimizer" = "sgd" } }
[sweep.pruner]
type = "hyperband"
startup_trials = 2
warmup_epochs = 1
reduction_factor = 2
"""


def sweep_text(table: str) -> str:
    return BASE + table


def test_a_full_sweep_round_trips_through_toml_and_maps_to_optuna():
    base, sweep = loads_sweep(sweep_text(FULL))
    assert loads_sweep(dumps_sweep(base, sweep)) == (base, sweep)
    assert (sweep.method, sweep.size, sweep.seed, sweep.retries) == ("tpe", 12, 3, 1)
    units = sweep.parameters[1]
    assert units.integer and (units.low, units.high, units.step) == (16, 128, 16)  # a layer's units: whole numbers
    assert isinstance(sweep.sampler(), optuna.samplers.TPESampler)
    pruner = sweep.pruner.make(epochs=3)
    assert isinstance(pruner, optuna.pruners.HyperbandPruner) and pruner._reduction_factor == 2
    for method, kind in (("random", optuna.samplers.RandomSampler), ("cmaes", optuna.samplers.CmaEsSampler)):
        assert isinstance(replace(sweep, method=method).sampler(), kind)
    two = loads_sweep(sweep_text(FULL.replace('objective = "val_accuracy"', 'objective = ["val_accuracy", "param_count"]')
                                 .replace('type = "hyperband"', 'type = "none"').split("startup_trials")[0]))[1]
    assert two.directions == ("max", "min") and two.optuna_directions() == ["maximize", "minimize"]


def test_each_parameter_is_sampled_in_its_kind_and_a_conditional_only_where_it_applies():
    _, sweep = loads_sweep(sweep_text(FULL))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    studies = [optuna.create_study(direction="maximize", sampler=sweep.sampler()) for _ in range(2)]
    drawn = [[sweep.suggest(study.ask()) for _ in range(12)] for study in studies]
    assert drawn[0] == drawn[1]  # seeded: the same trials again
    for params in drawn[0]:
        assert 1e-4 <= params["compile.learning_rate"] <= 1e-1
        assert isinstance(params["layers[1].units"], int) and params["layers[1].units"] % 16 == 0
        assert ("fit.batch_size" in params) == (params["compile.optimizer"] == "sgd")
    assert {p["compile.optimizer"] for p in drawn[0]} == {"adam", "sgd"}


@pytest.mark.parametrize(("table", "field", "words"), [
    ('method = "bayes"\ntrials = 4\n', "sweep.method", "unknown sampler; must be one of tpe, cmaes, random, grid"),
    ('trials = 0\n', "sweep.trials", "a budget of 0 runs nothing"),
    ('method = "grid"\ntrials = 3\n', "sweep.trials", "the grid has 4 combinations, more than the budget of 3"),
    ('trials = 4\n[sweep.pruner]\ntype = "asha"\n', "sweep.pruner.type", "unknown pruner"),
    ('trials = 4\n[sweep.pruner]\ntype = "median"\npatience = 3\n', "sweep.pruner.patience", "not a setting of the median pruner"),
])
def test_one_bad_setting_is_named_with_what_is_allowed(table, field, words):
    parameters = '[sweep.parameters]\n"compile.learning_rate" = [0.001, 0.01]\n"layers[1].units" = [32, 64]\n'
    head, _, pruner = table.partition("[sweep.pruner]")
    text = sweep_text("[sweep]\n" + head + parameters + (f"[sweep.pruner]{pruner}" if pruner else ""))
    with pytest.raises(SpecError) as caught:
        loads_sweep(text)
    assert any(p.field == field and words in p.message for p in caught.value.problems), caught.value.problems


BAD = """[sweep]
method = "bayes"
trials = 0
objective = "val_auc"
[sweep.parameters]
"compile.learning_rate" = { min = 0.1, max = 0.01 }
"fit.batch_size" = { values = [16, 32], when = { "compile.optimizer" = "sgd" } }
"layers[9].units" = [8]
[sweep.pruner]
type = "median"
warmup_epochs = -1
"""


def test_bad_definitions_are_refused_before_anything_runs_each_problem_listed(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(sweep_text(BAD))
    result = subprocess.run([sys.executable, "-m", "kerastui", "sweep", str(config), "--runs-dir", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    for words in ("sweep.method = 'bayes': unknown sampler",
                  "sweep.trials = 0: a budget of 0 runs nothing",
                  "sweep.objective = 'val_auc': unknown objective",  # digits is multiclass: it logs no AUC
                  "needs numbers min < max",
                  "conditional on compile.optimizer, which is not a swept parameter",
                  "there is no layer 9",
                  "sweep.pruner.warmup_epochs = -1"):
        assert words in result.stderr, (words, result.stderr)
    assert not (tmp_path / "runs").exists()  # nothing made


def test_a_grid_larger_than_its_budget_and_a_conditional_listed_before_its_parent_are_refused():
    text = sweep_text('[sweep]\nmethod = "grid"\ntrials = 2\n[sweep.parameters]\n'
                      '"compile.learning_rate" = [0.001, 0.01, 0.1]\n')
    with pytest.raises(SpecError, match="the grid has 3 combinations, more than the budget of 2"):
        loads_sweep(text)
    text = sweep_text('[sweep]\ntrials = 4\n[sweep.parameters]\n'
                      '"fit.batch_size" = { values = [16, 32], when = { "compile.optimizer" = "sgd" } }\n'
                      '"compile.optimizer" = ["adam", "sgd"]\n')
    with pytest.raises(SpecError, match="conditional on compile.optimizer, which is listed after it"):
        loads_sweep(text)


def test_the_objective_accepts_the_tasks_own_metrics():
    from kerastui.core.spec import Experiment, fit_to_task
    from kerastui.core.sweep import sweep_from_table

    table = {"trials": 4, "parameters": {"compile.learning_rate": {"min": 1e-3, "max": 1e-1, "scale": "log"}}}
    for task, objective in (("binary", "val_auc"), ("regression", "val_mae")):
        experiment = fit_to_task(replace(Experiment(), task=task), 2 if task == "binary" else 1, task)
        sweep, problems = sweep_from_table({**table, "objective": objective}, experiment)
        assert not problems and sweep.objective == objective


# ---- the study and its workers ------------------------------------------------------------------


def good_by_learning_rate(experiment) -> list[float]:
    """A made-up fit: the higher the learning rate (up to 0.1), the better every epoch."""
    lr = experiment.compile.learning_rate
    return [min(0.99, 0.5 + 0.1 * epoch + lr * 3) for epoch in range(3)]


def made_sweep(tmp_path: Path, table: str) -> Path:
    base, sweep = loads_sweep(sweep_text(table))
    return create_sweep_dir(base, sweep, tmp_path / "runs")


def test_two_workers_share_the_journal_study_up_to_its_budget(tmp_path):
    sweep_dir = made_sweep(tmp_path, '[sweep]\ntrials = 7\nseed = 1\n[sweep.parameters]\n'
                                     '"compile.learning_rate" = { min = 1e-3, max = 1e-1, scale = "log" }\n'
                                     '"layers[1].units" = { min = 8, max = 64 }\n')
    workers = [SweepWorker(sweep_dir, run_trial=scripted_trial(good_by_learning_rate)) for _ in range(2)]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(len(w.ended) for w in workers) == 7 and all(w.ended for w in workers)  # both worked, 7 in all
    study = load_study(sweep_dir)
    assert (sweep_dir / JOURNAL_FILE).is_file() and study.study_name == "sweep" and study.metric_names == ["val_accuracy"]
    trials = study.get_trials()
    assert len(trials) == 7 and {t.state.name for t in trials} == {"COMPLETE"}
    _, rows = leaderboard(sweep_dir)
    by_number = {row.trial: row for row in rows}
    for trial in trials:
        run_dir = trial_run_dir(sweep_dir, trial)
        record = load_run(run_dir)
        assert record.status == "finished" and trial.user_attrs["epochs"] == 3
        assert record.info["trial_params"] == trial.params
        assert trial.value == max(record.metrics_history["val_accuracy"]) == by_number[trial.number].objective
        assert record.experiment.compile.learning_rate == trial.params["compile.learning_rate"]
    assert rows[0].objective == study.best_value  # best first
    assert SweepWorker(sweep_dir, run_trial=scripted_trial(good_by_learning_rate)).run() == []  # budget met: no more


def test_a_grid_runs_each_combination_once_in_the_files_order(tmp_path):
    sweep_dir = made_sweep(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                     '"compile.learning_rate" = [0.001, 0.01]\n"layers[1].units" = [8, 16]\n')
    ended = SweepWorker(sweep_dir, run_trial=scripted_trial(good_by_learning_rate)).run()
    assert [(e.params["compile.learning_rate"], e.params["layers[1].units"]) for e in ended] == [
        (0.001, 8), (0.001, 16), (0.01, 8), (0.01, 16)]


def test_a_trial_whose_worker_died_is_failed_then_retried_within_the_bound(tmp_path):
    sweep_dir = made_sweep(tmp_path, '[sweep]\nmethod = "grid"\nretries = 1\n[sweep.parameters]\n'
                                     '"compile.learning_rate" = [0.001, 0.01]\n')
    (orphan,) = asked_trials(sweep_dir, [[]])  # asked, its run directory prepared, then its worker died:
    gone = subprocess.Popen(["true"])
    gone.wait()
    RunWriter(orphan).update_info(worker_pid=gone.pid)  # (a process that no longer exists)
    ended = SweepWorker(sweep_dir, run_trial=scripted_trial(good_by_learning_rate)).run()
    trials = load_study(sweep_dir).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert trials[0].user_attrs["ending"] == "killed" and load_run(orphan).status == "interrupted"
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert retry.number == 2 and retry.params == trials[0].params  # the same values, after the grid's next
    assert [e.number for e in ended] == [1, 2] and load_run(trial_run_dir(sweep_dir, retry)).status == "finished"
    progress = SweepStudy(sweep_dir).progress()
    assert (progress.complete, progress.failed, progress.retried, progress.remaining) == (2, 0, 1, 0)


def test_a_pruned_trial_is_recorded_pruned_in_the_study_and_stopped_in_its_run(tmp_path):
    sweep_dir = made_sweep(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                     '"compile.learning_rate" = [0.1, 0.09, 1e-6]\n'
                                     '[sweep.pruner]\ntype = "median"\nstartup_trials = 2\nwarmup_epochs = 1\n')

    def hopeless_at_low_rates(experiment):
        return [0.1, 0.1, 0.1] if experiment.compile.learning_rate < 1e-3 else good_by_learning_rate(experiment)

    ended = SweepWorker(sweep_dir, run_trial=scripted_trial(hopeless_at_low_rates)).run()
    assert [e.ending for e in ended] == ["finished", "finished", "pruned"] and ended[2].epochs == 1
    trial = load_study(sweep_dir).get_trials()[2]
    assert trial.state.name == "PRUNED" and trial.intermediate_values == {1: 0.1} and trial.user_attrs["epochs"] == 1
    record = load_run(ended[2].run_dir)
    assert record.status == "stopped" and record.reason.startswith("pruned by the sweep")
    _, rows = leaderboard(sweep_dir)
    assert [row.status for row in rows] == ["finished", "finished", "pruned"]
    assert record.status_label == "pruned" and load_run(ended[0].run_dir).status_label == "finished"
    listed = subprocess.run([sys.executable, "-m", "kerastui", "runs", "--trials", "--runs-dir", str(sweep_dir.parent)],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    trial_rows = [line for line in listed.stdout.splitlines() if "trial-00" in line]
    assert len(trial_rows) == 3 and any("pruned" in r for r in trial_rows if "trial-002" in r), listed.stdout
    assert not any("stopped" in row for row in trial_rows), listed.stdout


def test_a_study_in_a_storage_url_and_a_continued_sweep_with_its_budget_met(tmp_path):
    from kerastui.cli import main

    base, sweep = loads_sweep(sweep_text('[sweep]\nmethod = "grid"\n[sweep.parameters]\n"compile.learning_rate" = [0.001, 0.01]\n'))
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    sweep_dir = create_sweep_dir(base, sweep, tmp_path / "runs", storage=url)
    assert [e.ending for e in SweepWorker(sweep_dir, run_trial=scripted_trial(good_by_learning_rate)).run()] == [
        "finished", "finished"]
    assert not (sweep_dir / JOURNAL_FILE).exists() and (tmp_path / "optuna.db").is_file()
    again = optuna.load_study(study_name="sweep", storage=url)  # where any Optuna tool finds it
    assert [t.state.name for t in again.trials] == ["COMPLETE", "COMPLETE"] and len(load_study(sweep_dir).trials) == 2
    # Continued with its budget met: says so and starts no worker (no worker-N.log).
    assert main(["sweep", "--continue", str(sweep_dir)]) == 0
    assert not list(sweep_dir.glob("worker-*.log"))


def test_a_storage_that_cannot_be_opened_is_bad_input_before_anything_is_made(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(EXAMPLE.read_text())
    for extra, words in ((["--storage", "nosuchdb://x/y"], "cannot be opened as an Optuna storage"),
                         (["--parallel", "0"], "--parallel must be at least 1")):
        result = subprocess.run([sys.executable, "-m", "kerastui", "sweep", str(config), "--runs-dir",
                                 str(tmp_path / "runs"), *extra], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_sweep_from_before_optuna_is_refused_with_what_to_do(tmp_path, capsys):
    from kerastui.cli import main

    old = tmp_path / "20261201-093000-sweep-mlp"
    old.mkdir()
    (old / "sweep.toml").write_text(sweep_text('[sweep]\nmethod = "grid"\nstop_bad_after = 2\n[sweep.parameters]\n'
                                               '"compile.learning_rate" = [0.001, 0.01]\n'))
    assert main(["sweep", "--show", str(old)]) == 2
    assert "stop_bad_after = 2: no longer a setting: use a pruner" in capsys.readouterr().err
    (old / "sweep.toml").write_text(sweep_text('[sweep]\nmethod = "grid"\n[sweep.parameters]\n'
                                               '"compile.learning_rate" = [0.001, 0.01]\n'))
    assert main(["sweep", "--continue", str(old)]) == 2  # no study.json, no journal: not continued
    err = capsys.readouterr().err
    assert "holds no Optuna study" in err and f"kerastui sweep {old / 'sweep.toml'}" in err and "Traceback" not in err


def test_a_sweeps_job_array_is_a_task_per_worker_each_asking_the_study(tmp_path):
    from kerastui.core.slurm_script import JobScript, render_sbatch_script
    from kerastui.core.slurm_settings import SlurmSettings

    sweep_dir = tmp_path / "sweep; $(touch INJECTED)"
    job = JobScript(run_dir=sweep_dir, python="/usr/bin/python3", workdir=tmp_path, array_workers=3, array_parallel=2)
    script = render_sbatch_script(SlurmSettings(), job)
    assert "#SBATCH --array=0-2%2\n" in script and "slurm-%A_%a.out" in script
    (worker,) = [line for line in script.splitlines() if line.startswith("exec ")]
    assert worker == f"exec /usr/bin/python3 -m kerastui sweep --worker '{sweep_dir}' --plain"  # quoted: runs nothing
    with pytest.raises(SpecError, match="one worker per task"):
        render_sbatch_script(SlurmSettings(tasks=2), job)


def test_a_trial_on_another_node_is_settled_by_its_slurm_jobs_state(tmp_path, monkeypatch):
    """No lock to probe and no pid to see (another node): while its array task runs the trial is
    left alone; once Slurm says the task ended, the trial is failed and retried."""
    from kerastui.core import slurm, sweep_study

    sweep_dir = made_sweep(tmp_path, '[sweep]\nmethod = "grid"\n[sweep.parameters]\n"compile.learning_rate" = [0.001]\n')
    (orphan,) = asked_trials(sweep_dir, [[]])
    RunWriter(orphan).update_info(worker_host="node-17", worker_pid=4242, slurm_job_id="901")
    RunWriter(orphan).set_status("running")
    monkeypatch.setattr(sweep_study, "writer_alive", lambda run_dir, info=None: None)
    states = {"901": "RUNNING"}
    monkeypatch.setattr(slurm, "job_state", lambda job_id: slurm.JobState(job_id, states[job_id]))
    assert SweepStudy(sweep_dir).settle() == [] and load_study(sweep_dir).trials[0].state.name == "RUNNING"
    states["901"] = "TIMEOUT"
    assert SweepStudy(sweep_dir).settle() == [0]
    trials = load_study(sweep_dir).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"] and load_run(orphan).status == "interrupted"
