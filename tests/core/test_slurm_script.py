"""Slurm settings, the sbatch script (shell safety with hostile values), job-state parsing,
submission bookkeeping and the login-node guard, all without a Slurm cluster."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from kerastui.core import slurm
from kerastui.core.data import dataset_info
from kerastui.core.slurm_script import JobScript, render_sbatch_script
from kerastui.core.slurm_settings import SlurmSettings, slurm_settings
from kerastui.core.spec import Experiment, FitSettings, LayerSpec, SpecError
from kerastui.core.spec import load as spec_load
from kerastui.core.user_config import UserConfigError, load_user_config

HOSTILE = [
    "x; touch {marker}",
    "$(touch {marker})",
    "`touch {marker}`",
    "a' ; touch {marker} ; echo '",
    'a" ; touch {marker} ; echo "',
    "x && touch {marker} # comment",
    "${{IFS}}touch${{IFS}}{marker}",
]


def tiny_experiment(**fit) -> Experiment:
    return Experiment(
        name="tiny",
        dataset="digits",
        layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 4}), LayerSpec("Dense", {"units": 10, "activation": "softmax"})),
        fit=FitSettings(**{"epochs": 1, **fit}),
    )


# ---- settings -------------------------------------------------------------------------------


def test_settings_layer_config_then_environment_then_overrides():
    table = {"partition": "cfg-part", "account": "cfg-acct", "cpus": 4, "memory": "8g", "extra_options": ["--qos=short"]}
    env = {"SBATCH_PARTITION": "env-part", "SBATCH_GPUS": "a100:2"}
    settings = slurm_settings(table, env, account="cli-acct", time_limit=None)
    assert settings == SlurmSettings(
        partition="env-part", time_limit="01:00:00", cpus=4, gpus=2, memory="8G", account="cli-acct",
        extra_options=("--qos=short",),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_limit": "90 minutes"}, "slurm.time_limit"),
        ({"time_limit": "1-2:3:4:5"}, "slurm.time_limit"),
        ({"memory": "4 GB"}, "slurm.memory"),
        ({"memory": "0G"}, "slurm.memory"),
        ({"cpus": 0}, "slurm.cpus"),
        ({"gpus": -1}, "slurm.gpus"),
        ({"cpus": True}, "slurm.cpus"),
        ({"partition": "gpu\ntouch /tmp/x"}, "slurm.partition"),
        ({"account": "a\rb"}, "slurm.account"),
        ({"extra_options": ("--comment=a\nrm -rf ~",)}, "slurm.extra_options"),
        ({"extra_options": ("qos=short",)}, "slurm.extra_options"),
    ],
)
def test_settings_reject_bad_values_naming_the_field(changes, field):
    with pytest.raises(SpecError) as caught:
        SlurmSettings(**changes).validated()
    assert field in [problem.field for problem in caught.value.problems]


@pytest.mark.parametrize("time_limit", ["30", "90:00", "02:00:00", "1-12", "1-12:00", "2-00:00:00"])
def test_settings_accept_every_sbatch_time_form(time_limit):
    assert SlurmSettings(time_limit=time_limit).validated().time_limit == time_limit


def test_unknown_config_key_is_reported():
    with pytest.raises(SpecError, match="slurm.partion"):
        slurm_settings({"partion": "gpu"}, {})


def test_user_config_file_read_from_env_path(tmp_path):
    path = tmp_path / "kerastui-config.toml"
    path.write_text('[slurm]\npartition = "gpu"\ntime_limit = "0-02:00:00"\n[guard]\nmax_local_samples = 500\n')
    config = load_user_config()
    assert config.path == path
    assert config.guard.max_local_samples == 500
    environ = {"KERASTUI_CONFIG": str(path)}
    assert slurm.default_settings(environ=environ).partition == "gpu"
    assert slurm.default_settings(environ=environ).time_limit == "0-02:00:00"
    assert slurm.default_settings(environ={**environ, "SBATCH_PARTITION": "env"}, partition="cli").partition == "cli"


def test_user_config_missing_gives_defaults_and_broken_names_file(tmp_path):
    assert load_user_config().path is None
    path = tmp_path / "kerastui-config.toml"
    path.write_text("[slurm\n")
    with pytest.raises(UserConfigError, match="not valid TOML"):
        load_user_config()
    path.write_text("[guard]\nmax_local_samples = -1\n")
    with pytest.raises(UserConfigError, match="max_local_samples"):
        load_user_config()


# ---- the script -----------------------------------------------------------------------------


def job_for(run_dir: Path, python: str, workdir: Path) -> JobScript:
    return JobScript(run_dir=run_dir, python=python, workdir=workdir, job_name="kerastui-tiny", pythonpath=Path("/opt/src"))


def test_script_has_directives_and_exact_train_command(tmp_path):
    settings = SlurmSettings(partition="gpu", time_limit="02:00:00", cpus=4, gpus=1, memory="16G", account="proj", extra_options=("--qos=short",))
    run_dir = tmp_path / "runs" / "20250101-000000-tiny"
    text = render_sbatch_script(settings, job_for(run_dir, "/usr/bin/python3", tmp_path))
    directives = [line.removeprefix("#SBATCH ") for line in text.splitlines() if line.startswith("#SBATCH ")]
    assert directives == [
        "--job-name=kerastui-tiny", f"--output={run_dir}/slurm-%j.out", "--time=02:00:00", "--cpus-per-task=4",
        "--gres=gpu:1", "--mem=16G", "--partition=gpu", "--account=proj",
        # Warned 300 s (the default) before the time limit, the run saves and requeues itself.
        "--signal=B:USR1@300", "--requeue", "--open-mode=append", "--qos=short",
    ]
    assert f"exec /usr/bin/python3 -m kerastui train {run_dir}/config.toml --run-dir {run_dir} --plain" in text.splitlines()
    assert text.startswith("#!/bin/bash\n")
    # Empty settings leave the site's defaults alone.
    bare = render_sbatch_script(SlurmSettings(), job_for(run_dir, "/usr/bin/python3", tmp_path))
    assert "--partition" not in bare and "--mem" not in bare and "--gres" not in bare


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_values_stay_quoted_and_never_run(tmp_path, template):
    """Generate a script with hostile text everywhere, check it with bash -n, then run it with a
    stand-in python that records its arguments: the marker file the injection would create must
    not appear, and the arguments must arrive exactly as given."""
    marker = tmp_path / "INJECTED"
    hostile = template.format(marker=marker)
    run_dir = tmp_path / hostile.replace("/", "_")
    run_dir.mkdir()
    recorder = tmp_path / "fake-python"
    recorder.write_text(f"#!{sys.executable}\nimport json, sys\nopen({str(tmp_path / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    settings = SlurmSettings(partition=hostile, account=hostile, extra_options=(f"--comment={hostile}",))
    job = JobScript(run_dir=run_dir, python=str(recorder), workdir=tmp_path, job_name=f"kerastui-{hostile}", backend=hostile)
    script = tmp_path / "job.sbatch"
    script.write_text(render_sbatch_script(settings, job))

    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    for line in script.read_text().splitlines():
        if hostile in line or shlex.quote(hostile) in line:
            # Every appearance is inside single quotes: shlex reads it back as one word.
            assert "'" in line
        if line.startswith("#SBATCH "):
            assert len(shlex.split(line.removeprefix("#SBATCH "))) == 1
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=30, env={**os.environ, "SLURM_JOB_ID": "7"})
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        "-m", "kerastui", "train", str(run_dir / "config.toml"), "--run-dir", str(run_dir), "--plain"
    ]


def test_newline_in_any_script_value_is_rejected(tmp_path):
    with pytest.raises(SpecError, match="python"):
        render_sbatch_script(SlurmSettings(), JobScript(tmp_path, "python\ntouch x", tmp_path))
    with pytest.raises(SpecError, match="run_dir"):
        render_sbatch_script(SlurmSettings(), JobScript(tmp_path / "a\nb", "python", tmp_path))


def test_percent_in_run_dir_is_not_a_slurm_pattern(tmp_path):
    text = render_sbatch_script(SlurmSettings(), job_for(tmp_path / "100%j", "python", tmp_path))
    assert f"--output={tmp_path}/100%%j/slurm-%j.out" in text


# ---- preparing and submitting (fake sbatch) ----------------------------------------------------


class FakeSlurm:
    """Stands in for subprocess.run: answers Slurm commands from a table and records calls."""

    def __init__(self, answers: dict[str, tuple[int, str]]):
        self.answers = answers
        self.calls: list[tuple[list[str], dict]] = []

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        code, out = self.answers.get(argv[0], (1, ""))
        return subprocess.CompletedProcess(argv, code, stdout=out if code == 0 else "", stderr=out if code else "")


def test_prepare_writes_config_and_script_then_submit_records_job(tmp_path):
    experiment = tiny_experiment()
    run_dir = slurm.prepare_submission(experiment, SlurmSettings(partition="debug"), runs_root=tmp_path / "runs")
    assert (run_dir / "config.toml").is_file() and (run_dir / "job.sbatch").is_file()
    assert (run_dir / "status").read_text().strip() == slurm.PREPARED
    assert f"--run-dir {run_dir} --plain" in (run_dir / "job.sbatch").read_text()
    assert run_dir.is_absolute()

    fake = FakeSlurm({"sbatch": (0, "4242;cluster\n")})
    environ = {"SBATCH_PARTITION": "other", "PATH": os.environ["PATH"]}
    assert slurm.submit(run_dir, runner=fake, environ=environ) == "4242"
    argv, kwargs = fake.calls[0]
    assert argv == ["sbatch", "--parsable", str(run_dir / "job.sbatch")]
    assert "SBATCH_PARTITION" not in kwargs["env"]  # the script's partition wins
    info = json.loads((run_dir / "info.json").read_text())
    assert info["slurm_job_id"] == "4242" and info["slurm"]["partition"] == "debug"
    assert (run_dir / "status").read_text().strip() == slurm.SUBMITTED


def test_info_json_times_share_one_iso_8601_format(tmp_path):
    # "submitted" was written "...+0000" while created/started/ended were "...+00:00".
    import re
    from datetime import datetime

    from kerastui.core.events import TrainingFinished, TrainingStarted
    from kerastui.core.runs import RunWriter

    experiment = tiny_experiment()
    run_dir = slurm.prepare_submission(experiment, SlurmSettings(), runs_root=tmp_path / "runs")
    slurm.submit(run_dir, runner=FakeSlurm({"sbatch": (0, "4243\n")}))
    with RunWriter.open(run_dir, experiment) as writer:   # what the job does on the node
        writer(TrainingStarted(epochs=1, steps_per_epoch=1, train_samples=8, validation_samples=0, batch_size=8))
        writer(TrainingFinished(epochs_done=1))
    info = json.loads((run_dir / "info.json").read_text())
    times = {key: info[key] for key in ("created", "submitted", "started", "ended")}
    for key, text in times.items():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", text), (key, text)
        assert datetime.fromisoformat(text).utcoffset() is not None
    assert datetime.fromisoformat(times["submitted"]) <= datetime.fromisoformat(times["ended"])


def test_sbatch_refusal_is_reported_with_its_message(tmp_path):
    run_dir = slurm.prepare_submission(tiny_experiment(), SlurmSettings(), runs_root=tmp_path)
    fake = FakeSlurm({"sbatch": (1, "sbatch: error: invalid partition specified: nope")})
    with pytest.raises(slurm.SlurmError, match="invalid partition"):
        slurm.submit(run_dir, runner=fake)
    assert "slurm_job_id" not in json.loads((run_dir / "info.json").read_text())


def test_dataset_not_available_offline_is_refused(tmp_path):
    with pytest.raises(slurm.SlurmError, match="not available offline.*mnist.npz"):
        slurm.prepare_submission(Experiment(name="m", dataset="mnist", layers=(LayerSpec("Flatten"),)), SlurmSettings(), runs_root=tmp_path)
    with pytest.raises(slurm.SlurmError, match="no such file"):
        slurm.check_dataset_offline(str(tmp_path / "missing.npz"))
    # Refused before anything was written.
    assert not any(path.is_dir() and path.name.endswith("-m") for path in tmp_path.iterdir())


# ---- job state and cancel ---------------------------------------------------------------------


def test_job_state_from_squeue_with_reason():
    state = slurm.job_state("12", runner=FakeSlurm({"squeue": (0, "PENDING|Resources\n")}))
    assert (state.state, state.reason, str(state), state.finished) == ("PENDING", "Resources", "PENDING (Resources)", False)
    running = slurm.job_state("12", runner=FakeSlurm({"squeue": (0, "RUNNING|None\n")}))
    assert str(running) == "RUNNING"


def test_job_state_falls_back_to_scontrol_then_sacct():
    scontrol = "JobId=12 JobName=kerastui-tiny JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0"
    fake = FakeSlurm({"squeue": (0, ""), "scontrol": (0, scontrol)})
    state = slurm.job_state("12", runner=fake)
    assert (state.state, state.finished) == ("COMPLETED", True)
    assert [argv[0] for argv, _ in fake.calls] == ["squeue", "scontrol"]
    fake = FakeSlurm({"squeue": (1, "Invalid job id"), "scontrol": (1, "Invalid job id"), "sacct": (0, "CANCELLED by 0\n")})
    assert str(slurm.job_state("12", runner=fake)) == "CANCELLED (by 0)"
    assert slurm.job_state("12", runner=FakeSlurm({})).state == "UNKNOWN"


def test_cancel_marks_a_never_started_run_cancelled(tmp_path):
    run_dir = slurm.prepare_submission(tiny_experiment(), SlurmSettings(), runs_root=tmp_path)
    fake = FakeSlurm({"scancel": (0, "")})
    slurm.cancel("77", run_dir, runner=fake)
    assert fake.calls[0][0] == ["scancel", "77"]
    assert (run_dir / "status").read_text().strip() == slurm.CANCELLED
    with pytest.raises(slurm.SlurmError, match="Invalid job id"):
        slurm.cancel("78", runner=FakeSlurm({"scancel": (1, "scancel: error: Invalid job id 78")}))


def test_missing_slurm_commands_give_a_clear_error(tmp_path):
    def absent(argv, **kwargs):
        raise FileNotFoundError(argv[0])

    with pytest.raises(slurm.SlurmError, match="squeue was not found"):
        slurm.job_state("1", runner=absent)


# ---- login-node guard ------------------------------------------------------------------------


def test_guard_warns_only_for_long_runs_on_a_login_node(tmp_path):
    digits = dataset_info("digits")
    on_login = {"PATH": "/usr/bin"}
    has_sbatch = lambda name: "/usr/bin/sbatch"  # noqa: E731
    long_run = tiny_experiment(epochs=1000)
    warning = slurm.login_node_guard(long_run, digits, environ=on_login, which=has_sbatch)
    assert warning is not None and "login node" in warning and "1,000 epochs" in warning
    assert slurm.login_node_guard(tiny_experiment(epochs=2), digits, environ=on_login, which=has_sbatch) is None
    assert slurm.login_node_guard(long_run, digits, environ={**on_login, "SLURM_JOB_ID": "5"}, which=has_sbatch) is None
    assert slurm.login_node_guard(long_run, digits, environ=on_login, which=lambda name: None) is None


def test_guard_threshold_comes_from_user_config(tmp_path):
    digits = dataset_info("digits")
    (tmp_path / "kerastui-config.toml").write_text("[guard]\nmax_local_samples = 1000\n")
    has_sbatch = lambda name: "/usr/bin/sbatch"  # noqa: E731
    # 2 epochs x 1437 samples x 0.8 = 2300 > 1000
    assert slurm.estimated_samples(tiny_experiment(epochs=2), digits.train_size) == 2300
    assert "1,000" in slurm.login_node_guard(tiny_experiment(epochs=2), digits, which=has_sbatch)
    (tmp_path / "kerastui-config.toml").write_text("[guard]\nmax_local_samples = 0\n")
    assert slurm.login_node_guard(tiny_experiment(epochs=1000), digits, which=has_sbatch) is None


# ---- `kerastui submit` (argument handling; the real submission is in test_slurm_cluster) --------


def submit_command(argv: list[str]) -> int:
    import argparse

    from kerastui.cli import submit as submit_cli

    parser = argparse.ArgumentParser(prog="kerastui submit")
    submit_cli.configure(parser)
    return submit_cli.run(parser.parse_args(argv))


def test_submit_dry_run_writes_script_and_submits_nothing(tmp_path, monkeypatch, capsys):
    def no_sbatch(*args, **kwargs):
        raise AssertionError("--dry-run must not submit")

    monkeypatch.setattr(slurm, "submit", no_sbatch)
    code = submit_command(["--preset", "mlp", "--epochs", "3", "--partition", "debug", "--mem", "2g",
                           "--sbatch-option=--qos=short", "--dry-run", "--runs-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert code == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert str(run_dir / "job.sbatch") in out and "--prepared" in out
    script = (run_dir / "job.sbatch").read_text()
    assert "#SBATCH --partition=debug" in script and "#SBATCH --mem=2G" in script and "#SBATCH --qos=short" in script
    experiment = spec_load(run_dir / "config.toml")
    assert (experiment.dataset, experiment.fit.epochs, experiment.name) == ("digits", 3, "mlp")


def test_submit_prepared_run_prints_job_id(tmp_path, monkeypatch, capsys):
    run_dir = slurm.prepare_submission(tiny_experiment(), SlurmSettings(), runs_root=tmp_path / "runs")
    submitted = []
    monkeypatch.setattr(slurm, "submit", lambda path: submitted.append(path) or "31337")
    assert submit_command(["--prepared", str(run_dir)]) == 0
    assert submitted == [run_dir]
    assert "31337" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--time", "5 min"], "time_limit"),
        (["--cpus", "0"], "cpus"),
        (["--dataset", "mnist"], "not available"),
        (["--sbatch-option", "qos=short"], "extra_options"),
    ],
)
def test_submit_reports_bad_input_and_exits_2(tmp_path, capsys, argv, message):
    assert submit_command([*argv, "--runs-dir", str(tmp_path / "runs")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_submit_lists_every_bad_slurm_value_on_its_own_line_as_typed(tmp_path, capsys):
    argv = ["--time", "soon", "--cpus", "0", "--mem", "1g\n#SBATCH --wrap=id", "--runs-dir", str(tmp_path / "runs")]
    assert submit_command(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith("kerastui: error: submit: slurm.") for line in lines), lines
    fields = sorted(line.split(" = ")[0].rsplit(" ", 1)[-1] for line in lines)
    assert fields == ["slurm.cpus", "slurm.memory", "slurm.memory", "slurm.time_limit"]
    memory = next(line for line in lines if "slurm.memory" in line)
    assert "'1g\\n#SBATCH --wrap=id'" in memory  # not upper-cased into '1G\n#SBATCH --WRAP=ID'


def test_job_name_is_the_run_name_made_safe(tmp_path):
    hostile = replace(tiny_experiment(), name="$(id)\n#SBATCH --wrap=x")
    run_dir = slurm.prepare_submission(hostile, SlurmSettings(), runs_root=tmp_path)
    assert "#SBATCH --job-name=kerastui-id-SBATCH---wrap-x\n" in (run_dir / "job.sbatch").read_text()
    named = slurm.prepare_submission(tiny_experiment(), SlurmSettings(), runs_root=tmp_path, run_name="lr sweep;3")
    assert "#SBATCH --job-name=kerastui-lr-sweep-3\n" in (named / "job.sbatch").read_text()


def test_sync_run_status_settles_runs_whose_job_was_killed(tmp_path):
    run_dir = slurm.prepare_submission(tiny_experiment(), SlurmSettings(), runs_root=tmp_path)
    (run_dir / "status").write_text("running\n")  # the job started, then was killed
    assert slurm.sync_run_status(run_dir, slurm.JobState("5", "RUNNING")) == "running"
    assert slurm.sync_run_status(run_dir, slurm.JobState("5", "TIMEOUT")) == "failed"
    assert "TIMEOUT" in json.loads((run_dir / "info.json").read_text())["reason"]
    (run_dir / "status").write_text("finished\n")  # a run that recorded its own end keeps it
    assert slurm.sync_run_status(run_dir, slurm.JobState("5", "CANCELLED")) == "finished"
    (run_dir / "status").write_text("submitted\n")
    assert slurm.sync_run_status(run_dir, slurm.JobState("5", "CANCELLED")) == slurm.CANCELLED


def test_unusable_script_value_leaves_no_run_behind(tmp_path):
    with pytest.raises(SpecError, match="python"):
        slurm.prepare_submission(tiny_experiment(), SlurmSettings(), runs_root=tmp_path / "runs", python="py\nthon")
    assert list((tmp_path / "runs").iterdir()) == []


def test_no_requeue_warning_means_no_signal_and_no_requeue(tmp_path):
    settings = SlurmSettings(requeue_warning=0)
    text = render_sbatch_script(settings, job_for(tmp_path / "run", "/usr/bin/python3", tmp_path))
    assert "--signal" not in text and "--requeue" not in text and "--open-mode" not in text
    assert [p.field for p in SlurmSettings(requeue_warning=-5).problems()] == ["slurm.requeue_warning"]


def test_requeueing_names_this_job_or_this_array_task():
    from kerastui.core.slurm import SlurmError, requeue_this_job

    calls = []

    def runner(argv, **kwargs):
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    assert requeue_this_job({"SLURM_JOB_ID": "77"}, runner=runner) == "77"
    assert requeue_this_job({"SLURM_JOB_ID": "80", "SLURM_ARRAY_JOB_ID": "70", "SLURM_ARRAY_TASK_ID": "3"}, runner=runner) == "70_3"
    assert calls == [["scontrol", "requeue", "77"], ["scontrol", "requeue", "70_3"]]
    with pytest.raises(SlurmError, match="not inside a Slurm job"):
        requeue_this_job({}, runner=runner)


def test_a_short_job_is_warned_at_most_a_quarter_of_its_time_limit_before_the_end(tmp_path):
    # Before: --signal=B:USR1@300 on a 2-minute job fired at once, and the job requeued itself for ever.
    job = job_for(tmp_path / "run", "/usr/bin/python3", tmp_path)
    assert "#SBATCH --signal=B:USR1@30" in render_sbatch_script(SlurmSettings(time_limit="00:02:00"), job).splitlines()
    assert "#SBATCH --signal=B:USR1@300" in render_sbatch_script(SlurmSettings(time_limit="02:00:00"), job).splitlines()
