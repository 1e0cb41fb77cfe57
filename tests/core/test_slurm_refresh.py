"""refresh_slurm_runs: the runs listing settles runs whose Slurm job ended without recording it,
asking Slurm once for all of them; a fake runner stands in for the Slurm commands."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kerastui.core import slurm
from kerastui.core.runs import RunWriter, list_runs
from kerastui.core.spec import Experiment, LayerSpec


class FakeSlurm:
    """subprocess.run for squeue/scontrol/sacct: answers per command (and per job id) from tables."""

    def __init__(self, squeue: tuple[int, str] = (0, ""), scontrol: dict[str, str] | None = None,
                 sacct: dict[str, str] | None = None):
        self.squeue, self.scontrol, self.sacct = squeue, scontrol or {}, sacct or {}
        self.calls: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        if argv[0] == "squeue":
            code, text = self.squeue
        else:
            table = self.scontrol if argv[0] == "scontrol" else self.sacct
            job_id = argv[-1] if argv[0] == "scontrol" else argv[argv.index("-j") + 1]
            code, text = (0, table[job_id]) if job_id in table else (1, "slurm_load_jobs error: Invalid job id specified")
        return subprocess.CompletedProcess(argv, code, stdout=text if code == 0 else "", stderr=text if code else "")

    def commands(self, name: str) -> list[list[str]]:
        return [argv for argv in self.calls if argv[0] == name]


def make_run(root: Path, name: str, status: str, job_id: str | None) -> Path:
    experiment = Experiment(name=name, dataset="digits", layers=(LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10})))
    writer = RunWriter.create(experiment, root=root, name=name)
    writer.set_status(status)
    if job_id:
        writer.update_info(slurm_job_id=job_id)
    return writer.path


def statuses(records) -> dict[str, str]:
    return {r.name.split("-", 2)[-1]: r.status for r in records}


def test_one_squeue_for_all_open_runs_and_ended_jobs_are_settled(tmp_path):
    root = tmp_path / "runs"
    make_run(root, "queued", slurm.SUBMITTED, "101")
    cancelled = make_run(root, "cancelled", "running", "102")
    died = make_run(root, "died", slurm.PREPARED, "103")
    make_run(root, "done", "finished", "104")      # recorded its end: not asked about
    make_run(root, "local", "running", None)       # no job: not asked about
    fake = FakeSlurm(
        squeue=(0, "101|PENDING|BeginTime\n"),
        scontrol={"102": "JobId=102 JobName=x JobState=CANCELLED Reason=None ExitCode=0:15"},
        sacct={"103": "NODE_FAIL\n"},
    )
    records = slurm.refresh_slurm_runs(list_runs(root), runner=fake)

    [squeue] = fake.commands("squeue")   # one query for every open run
    assert squeue[:3] == ["squeue", "-h", "-j"] and squeue[4:] == ["-o", "%i|%T|%r"]
    assert sorted(squeue[3].split(",")) == ["101", "102", "103"]
    # Fallbacks only for the ids squeue no longer lists.
    assert sorted(argv[-1] for argv in fake.commands("scontrol")) == ["102", "103"]
    assert [argv[argv.index("-j") + 1] for argv in fake.commands("sacct")] == ["103"]

    shown = statuses(records)
    assert shown["queued"] == slurm.SUBMITTED and shown["done"] == "finished"
    assert shown["cancelled"] == slurm.CANCELLED and shown["died"] == "failed"
    assert len(records) == 5 and [r.path for r in records] == [r.path for r in list_runs(root)]
    # The status files now say so too, and info.json says why.
    assert (cancelled / "status").read_text().strip() == slurm.CANCELLED
    assert (died / "status").read_text().strip() == "failed"
    info = json.loads((died / "info.json").read_text())
    assert info["slurm_state"] == "NODE_FAIL" and "Slurm job 103 ended NODE_FAIL" in info["reason"]
    assert statuses(list_runs(root)) == shown


def test_squeue_not_knowing_any_job_falls_back_per_job(tmp_path):
    # `squeue -j <one unknown id>` exits 1 with "Invalid job id specified".
    run_dir = make_run(tmp_path, "gone", slurm.SUBMITTED, "7")
    fake = FakeSlurm(squeue=(1, "slurm_load_jobs error: Invalid job id specified"),
                     scontrol={"7": "JobId=7 JobState=TIMEOUT Reason=TimeLimit"})
    records = slurm.refresh_slurm_runs(list_runs(tmp_path), runner=fake)
    assert [r.status for r in records] == ["failed"]
    assert (run_dir / "status").read_text().strip() == "failed"


def test_unknown_and_still_active_jobs_change_nothing(tmp_path):
    running = make_run(tmp_path, "training", "running", "8")
    forgotten = make_run(tmp_path, "forgotten", slurm.SUBMITTED, "9")
    fake = FakeSlurm(squeue=(0, "8|RUNNING|None\n"))    # 9: neither scontrol nor sacct knows it
    records = slurm.refresh_slurm_runs(list_runs(tmp_path), runner=fake)
    assert statuses(records) == {"training": "running", "forgotten": slurm.SUBMITTED}
    assert (running / "status").read_text().strip() == "running"
    assert (forgotten / "status").read_text().strip() == slurm.SUBMITTED


def test_no_slurm_client_or_a_dead_controller_leaves_the_list_as_it_was(tmp_path):
    make_run(tmp_path, "queued", slurm.SUBMITTED, "11")
    before = list_runs(tmp_path)

    def absent(argv, **kwargs):
        raise FileNotFoundError(argv[0])

    assert slurm.refresh_slurm_runs(before, runner=absent) == before

    def hangs(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    assert slurm.refresh_slurm_runs(before, runner=hangs) == before
    down = FakeSlurm(squeue=(1, "slurm_load_jobs error: Unable to contact slurm controller (connect failure)"))
    assert statuses(slurm.refresh_slurm_runs(before, runner=down)) == {"queued": slurm.SUBMITTED}
    assert [argv[0] for argv in down.calls] == ["squeue"]   # no per-job fallbacks against a dead controller


def test_nothing_open_means_no_slurm_call(tmp_path):
    make_run(tmp_path, "done", "finished", "12")
    make_run(tmp_path, "local", "running", None)
    make_run(tmp_path, "odd-id", slurm.SUBMITTED, "12; rm -rf /")   # never reaches a command line
    fake = FakeSlurm()
    slurm.refresh_slurm_runs(list_runs(tmp_path), runner=fake)
    assert fake.calls == []


def test_parse_squeue_jobs_reads_id_state_reason_lines():
    states = slurm.parse_squeue_jobs("5|PENDING|Priority\n6|RUNNING|None\n\nnoise\n")
    assert states == {"5": slurm.JobState("5", "PENDING", "Priority"), "6": slurm.JobState("6", "RUNNING")}
    # The single-job form ("%T|%r") still reads as before.
    assert slurm.parse_squeue("5", "PENDING|Resources\n") == slurm.JobState("5", "PENDING", "Resources")
    assert slurm.parse_squeue("6", "5|PENDING|Priority\n6|RUNNING|None\n") == slurm.JobState("6", "RUNNING")


def test_kerastui_runs_without_a_slurm_client_lists_as_before(tmp_path, monkeypatch, capsys):
    from kerastui.cli import main

    run_dir = make_run(tmp_path / "runs", "queued", slurm.SUBMITTED, "13")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))   # no squeue anywhere
    assert main(["runs", "--runs-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if run_dir.name in line)
    assert "submitted" in row and "slurm 13" in row
    assert (run_dir / "status").read_text().strip() == slurm.SUBMITTED
