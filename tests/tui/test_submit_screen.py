"""Submitting to Slurm from the UI: the dialog by keys with the Slurm calls faked, the login-node
question, and (marked slurm) the real local cluster: submit, follow to COMPLETED, cancel another."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeLauncher, FakeRunExperiment, FakePreviewer, tiny_experiment, wait_until
from run_dirs import SlowWriter, scripted_events
from textual.widgets import Input

from kerastui.core import slurm
from kerastui.core.runs import load_run
from kerastui.core.slurm import JobState
from kerastui.tui.app import KerasTUI
from kerastui.tui.slurm_client import SlurmClient
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.screens.submit import LoginNodeQuestion, SubmitScreen, settings_from_fields

HOSTILE = "$(touch INJECTED) `touch INJECTED`; touch INJECTED"


class FakeSlurm:
    """sbatch/squeue/scancel stand-ins: the real prepare_submission, a scripted job."""

    def __init__(self, job_id: str = "4242") -> None:
        self.job_id = job_id
        self.submitted: list[Path] = []
        self.cancelled: list[str] = []
        self.state = JobState(job_id, "PENDING", "Priority")

    def submit(self, run_dir: Path) -> str:
        self.submitted.append(Path(run_dir))
        return self.job_id

    def job_state(self, job_id: str) -> JobState:
        return self.state

    def cancel(self, job_id: str, run_dir: Path | None = None) -> None:
        self.cancelled.append(job_id)
        self.state = JobState(job_id, "CANCELLED", "")

    def client(self, **extra) -> SlurmClient:
        # Its jobs exist only here: the runs list must not ask the real cluster about them.
        return SlurmClient(submit=self.submit, job_state=self.job_state, cancel=self.cancel,
                           refresh_runs=lambda records: records, poll_interval=0.05, **extra)


def make_app(tmp_path: Path, client: SlurmClient | None = None, **kwargs) -> KerasTUI:
    kwargs.setdefault("experiment", tiny_experiment(epochs=2))
    return KerasTUI(runs_root=tmp_path / "runs", previewer=FakePreviewer(), slurm_client=client, **kwargs)


async def ready(app: KerasTUI, pilot) -> None:
    await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="keras and dataset")


async def set_field(pilot, screen: SubmitScreen, name: str, value: str) -> None:
    field = screen.query_one(f"#slurm-{name}", Input)
    field.value = value
    await pilot.pause(0.02)


def test_settings_from_fields_flags_each_bad_value():
    settings, errors = settings_from_fields({"cpus": "two", "tasks": "1", "requeue_warning": "300", "gpus": "0", "time_limit": "soon", "memory": "4x",
                                             "extra_options": "--qos='short"})
    assert settings is None
    assert set(errors) == {"cpus", "extra_options"}     # numbers and splitting are checked first
    settings, errors = settings_from_fields({"cpus": "2", "tasks": "1", "requeue_warning": "300", "gpus": "0", "time_limit": "soon", "memory": "4x",
                                             "extra_options": "qos"})
    assert settings is None and set(errors) == {"time_limit", "memory", "extra_options"}
    settings, errors = settings_from_fields({"cpus": "2", "tasks": "1", "requeue_warning": "300", "gpus": "1", "time_limit": "1-00:00:00", "memory": "4g",
                                             "partition": "gpu", "extra_options": "--qos=short --comment='a b'"})
    assert errors == {} and settings.memory == "4G" and settings.extra_options == ("--qos=short", "--comment=a b")


async def test_submit_dialog_checks_fields_previews_submits_and_follows_the_job(tmp_path, monkeypatch):
    config = tmp_path / "kerastui-config.toml"
    config.write_text('[slurm]\npartition = "gpu"\ntime_limit = "00:20:00"\n')
    monkeypatch.setenv("KERASTUI_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    fake = FakeSlurm()
    app = make_app(tmp_path, fake.client())
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        dialog = app.screen
        values = dialog.field_values()
        assert values["partition"] == "gpu" and values["time_limit"] == "00:20:00"   # from the user config
        assert "#SBATCH --partition=gpu" in dialog.script_text

        await set_field(pilot, dialog, "memory", "4x")
        assert "memory" in dialog.errors and dialog.query_one("#slurm-memory").has_class("-invalid")
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert isinstance(app.screen, SubmitScreen) and fake.submitted == []   # refused

        await set_field(pilot, dialog, "memory", "2g")
        await set_field(pilot, dialog, "extra_options", f"--comment={shlex_quote(HOSTILE)}")
        assert dialog.errors == {}
        assert "#SBATCH --mem=2G" in dialog.script_text
        # The hostile comment is one quoted word in the script: no shell ever runs it.
        assert f"#SBATCH {shlex_quote('--comment=' + HOSTILE)}" in dialog.script_text

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor), what="follow view")
        view = app.screen
        assert len(fake.submitted) == 1
        run_dir = fake.submitted[0]
        assert (run_dir / "job.sbatch").read_text().count("--mem=2G") == 1
        assert view.run_dir == run_dir and view.job_id == "4242"
        await wait_until(pilot, lambda: view.job_state is not None, what="job state")
        assert "PENDING (Priority)" in str(view.query_one("#follow-where").render())

        # The "job" starts and writes its run directory like `kerastui train --run-dir` would.
        fake.state = JobState("4242", "RUNNING")
        writer = SlowWriter(run_dir, scripted_events(2), delay=0.005, dataset=app.dataset)
        writer.start()
        await wait_until(pilot, lambda: view.phase == "evaluating", what="job's run to end its training")
        writer.join(10)
        fake.state = JobState("4242", "COMPLETED")  # the job ends once its run has saved everything
        await wait_until(pilot, lambda: view.phase == "finished", what="job's run to finish")
        await wait_until(pilot, lambda: "COMPLETED" in str(view.query_one("#follow-where").render()), what="COMPLETED")
        assert len(view.loss_chart.series("val_loss")) == 2
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         what="evaluation")
        assert app.screen.outcome.run_dir == run_dir
    assert not list(tmp_path.rglob("INJECTED"))


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


async def test_submit_errors_stay_in_the_dialog(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def refuse(run_dir):
        raise slurm.SlurmError("sbatch refused job.sbatch: invalid partition specified: nope")

    app = make_app(tmp_path, SlurmClient(submit=refuse))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "invalid partition" in str(app.screen.query_one("#submit-errors").render()),
                         what="error shown")
        assert isinstance(app.screen, SubmitScreen)
        assert "--prepared" in str(app.screen.query_one("#submit-errors").render())
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert not isinstance(app.screen, SubmitScreen)


async def test_login_node_guard_asks_before_a_long_local_run(tmp_path):
    asked: list = []

    def guard(experiment, info):
        asked.append(info.name)
        return "This looks like a login node; this run would train on about 1,000,000 samples."

    fake_run = FakeRunExperiment(steps=2)
    app = make_app(tmp_path, SlurmClient(login_node_guard=guard), launcher=FakeLauncher(fake_run, tmp_path / 'runs'))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+r")        # train, from the build screen
        await wait_until(pilot, lambda: isinstance(app.screen, LoginNodeQuestion), what="login-node question")
        assert "login node" in str(app.screen.query_one("#guard-warning").render())
        await pilot.press("escape")        # cancel: nothing trains
        await pilot.pause(0.05)
        assert fake_run.calls == []
        await pilot.press("ctrl+r")        # train, from the build screen
        await wait_until(pilot, lambda: isinstance(app.screen, LoginNodeQuestion), what="question again")
        await pilot.press("s")             # submit instead: the dialog opens
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        await pilot.press("escape")
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")        # train, from the build screen
        await wait_until(pilot, lambda: isinstance(app.screen, LoginNodeQuestion), what="question a third time")
        await pilot.press("h")             # train here anyway
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.phase == "finished",
                         what="local run")
        assert len(fake_run.calls) == 1 and asked == ["digits"] * 3


# ---- the real local cluster ----------------------------------------------------------------------


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.timeout(400)
async def test_real_cluster_submit_follow_to_completed_then_cancel_another(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, SlurmClient(poll_interval=1.0))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        dialog = app.screen
        for name, value in (("partition", ""), ("time_limit", "00:05:00"), ("cpus", "1"), ("gpus", "0"),
                            ("memory", "2G"), ("account", ""), ("extra_options", f"--comment={shlex_quote(HOSTILE)}")):
            await set_field(pilot, dialog, name, value)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor), timeout=60, what="follow view")
        view = app.screen
        job_id = view.job_id
        assert job_id and load_run(view.run_dir).slurm_job_id == job_id
        await wait_until(pilot, lambda: view.phase in ("finished", "failed", "interrupted", "cancelled"), timeout=300, what="job to finish")
        output = "\n".join(p.read_text(errors="replace") for p in view.run_dir.glob("slurm-*.out"))
        assert view.phase == "finished", f"{view.status_text()}\n{output}"
        await wait_until(pilot, lambda: view.job_state is not None and view.job_state.state == "COMPLETED",
                         timeout=60, what="COMPLETED")
        assert view.loss_chart.series("loss"), "the job's epochs reached the chart"
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is not None,
                         timeout=60, what="evaluation")
        assert app.screen.outcome.run_dir == view.run_dir

        # A second job, held back an hour so it is surely PENDING, cancelled from the follow view.
        await pilot.press("b")
        await pilot.pause(0.2)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="second submit dialog")
        await set_field(pilot, app.screen, "extra_options", "--begin=now+1hour")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor), timeout=60, what="second follow view")
        second = app.screen
        await wait_until(pilot, lambda: second.job_state is not None and second.job_state.state == "PENDING",
                         timeout=30, what="PENDING")
        assert "BeginTime" in str(second.query_one("#follow-where").render())
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("y")
        await wait_until(pilot, lambda: second.job_state.state == "CANCELLED", timeout=60, what="CANCELLED")
        await wait_until(pilot, lambda: second.phase == "cancelled", timeout=30, what="follow ends")
        assert load_run(second.run_dir).status == slurm.CANCELLED
    assert not list(tmp_path.rglob("INJECTED"))


@pytest.mark.parametrize("fields, strategy, name", [
    ({"tasks": "1"}, "default", "tiny"),
    ({"tasks": "4", "cpus": "2"}, "multiworker", "tiny"),
    ({"tasks": "2", "gpus": "1", "memory": "8g", "partition": "gpu", "extra_options": "--qos=short"}, "multiworker",
     "an experiment/with odd name"),
    ({"gpus": "2", "tasks": "1"}, "mirrored", "tiny"),
])
async def test_the_form_writes_exactly_the_job_script_kerastui_submit_writes(tmp_path, monkeypatch, fields, strategy, name):
    """The app's job.sbatch and the CLI's, byte for byte (their run directories aside), and the
    preview is the script written: tasks and strategy included, the job name sanitised alike."""
    from dataclasses import replace

    from kerastui.cli import main
    from kerastui.core import spec

    monkeypatch.chdir(tmp_path)
    experiment = replace(tiny_experiment(epochs=2), strategy=strategy, name=name)
    config = tmp_path / "experiment.toml"
    spec.save(experiment, config)
    app = make_app(tmp_path, SlurmClient(refresh_runs=lambda records: records), experiment=experiment)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        dialog = app.screen
        for field, value in {"time_limit": "00:30:00", **fields}.items():
            await set_field(pilot, dialog, field, value)
        assert dialog.errors == {}
        preview = dialog.script_text
        await pilot.press("ctrl+w")  # prepare only: the real prepare_submission, no sbatch
        await wait_until(pilot, lambda: not isinstance(app.screen, SubmitScreen) or "✗" in _errors(dialog),
                         what="prepared")
        assert not isinstance(app.screen, SubmitScreen), _errors(dialog)
    (app_run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]

    flags = {"tasks": "--tasks", "cpus": "--cpus", "gpus": "--gpus", "memory": "--mem", "partition": "--partition"}
    argv = ["submit", str(config), "--dry-run", "--runs-dir", str(tmp_path / "cli-runs"), "--time", "00:30:00"]
    for field, value in fields.items():
        argv += [f"--sbatch-option={value}"] if field == "extra_options" else [flags[field], value]
    assert main(argv) == 0
    (cli_run,) = [p for p in (tmp_path / "cli-runs").iterdir() if p.is_dir()]

    def unplaced(script: str, run_dir: Path) -> str:
        return script.replace(str(run_dir.resolve()), "<RUN>")

    app_script = unplaced((app_run / "job.sbatch").read_text(), app_run)
    assert app_script == unplaced((cli_run / "job.sbatch").read_text(), cli_run)
    assert app_script == preview.replace(preview.split("--output=")[1].split("/slurm-")[0], "<RUN>")
    if fields["tasks"] != "1":
        assert f"#SBATCH --ntasks={fields['tasks']}" in app_script
    assert "an experiment/with" not in app_script  # the job name is sanitised like the CLI's


def _errors(dialog: SubmitScreen) -> str:
    return str(dialog.query_one("#submit-errors").render())


async def test_tasks_that_do_not_fit_the_strategy_are_marked_at_once(tmp_path, monkeypatch):
    from dataclasses import replace

    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, SlurmClient(refresh_runs=lambda records: records),
                   experiment=replace(tiny_experiment(epochs=2), strategy="mirrored"))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen), what="submit dialog")
        dialog = app.screen
        await set_field(pilot, dialog, "tasks", "4")
        assert "tasks" in dialog.errors and "needs strategy 'multiworker'" in dialog.errors["tasks"]
        assert dialog.query_one("#slurm-tasks").has_class("-invalid") and dialog.script_text == ""
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert isinstance(app.screen, SubmitScreen) and not (tmp_path / "runs").exists()  # refused


def test_the_form_round_trips_every_setting_tasks_included():
    # Before: the form had no tasks field, so `[slurm] tasks = 4` in the user config became 1.
    from kerastui.core.slurm_settings import SlurmSettings
    from kerastui.tui.screens.submit import field_texts

    settings = SlurmSettings(partition="gpu", time_limit="02:00:00", cpus=8, tasks=4, gpus=2, memory="16G",
                             account="proj", extra_options=("--qos=short",))
    again, errors = settings_from_fields(field_texts(settings))
    assert errors == {} and again == settings
