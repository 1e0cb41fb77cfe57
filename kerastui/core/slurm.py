"""Sending an experiment to Slurm and keeping an eye on the job.

    run_dir = prepare_submission(experiment, settings)   # run dir with config.toml + job.sbatch
    job_id = submit(run_dir)                              # sbatch --parsable; id recorded in info.json
    job_state(job_id)                                     # JobState("PENDING", "Resources")
    records = refresh_slurm_runs(list_runs(root))         # settle runs whose job ended unrecorded
    cancel(job_id, run_dir)                               # scancel

The job runs `python -m kerastui train <run_dir>/config.toml --run-dir <run_dir> --plain`, which
writes into the same run directory (on the shared filesystem), so `follow_metrics` and the runs
screen read a Slurm run exactly like a local one.

Slurm commands are run through an injectable `runner` (subprocess.run's signature) so the
parsing is tested without a cluster; tests/test_slurm_cluster.py runs them for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import kerastui
from kerastui.core.atomic import write_text_atomic
from kerastui.core.runs import (
    CANCELLED,
    REQUEUED,
    RunRecord,
    RunWriter,
    iso_time,
    load_run,
    read_status,
    safe_name,
)
from kerastui.core.slurm_script import SCRIPT_NAME, JobScript, render_sbatch_script
from kerastui.core.slurm_settings import ENV_VARIABLES, SlurmSettings, slurm_settings
from kerastui.core.spec import Experiment
from kerastui.core.user_config import UserConfig, config_path, load_user_config

Runner = Callable[..., subprocess.CompletedProcess]

# Status of a run directory between `prepare_submission` and the job starting to train
# (the job's own RunWriter then writes "running").
PREPARED = "prepared"
SUBMITTED = "submitted"
# Run statuses a job can still change; a run in one of them whose job is over never recorded its end.
OPEN_STATUSES = (PREPARED, SUBMITTED, "running", REQUEUED)
# How long `refresh_slurm_runs` waits for a Slurm command: a listing must not hang on a dead controller.
REFRESH_TIMEOUT = 10.0

# Job states after which nothing more will happen.
FINAL_STATES = frozenset({
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
    "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT",
})


class SlurmError(RuntimeError):
    """A Slurm command failed or kerastui refuses to submit; the message says what to do."""


@dataclass(frozen=True)
class JobState:
    job_id: str
    state: str          # PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ... or UNKNOWN
    reason: str = ""    # squeue's reason: Resources, Priority, BeginTime, ...

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def __str__(self) -> str:
        return f"{self.state} ({self.reason})" if self.reason else self.state


# ---- settings ------------------------------------------------------------------------------


def default_settings(
    config: UserConfig | None = None, environ: Mapping[str, str] | None = None, **overrides: Any
) -> SlurmSettings:
    """Settings from the user config file and environment, with explicit overrides on top."""
    config = load_user_config(environ=environ) if config is None else config
    return slurm_settings(config.slurm, environ, **overrides)


# ---- preparing and submitting ----------------------------------------------------------------


def check_dataset_offline(name_or_path: str, settings: Any = None) -> None:
    """Raise SlurmError unless the dataset can be loaded without a network (cached or a file):
    a file is opened and its headers and labels read (with the [data] table's `settings`), so a
    path that is missing, unreadable or holds no such key is said before the job waits in a queue."""
    from kerastui.core.data import DatasetError, dataset_info

    try:
        info = dataset_info(name_or_path, settings=settings)
    except DatasetError as error:
        raise SlurmError(f"dataset {name_or_path!r} cannot be used by the job: {error}") from None
    if not info.available:
        raise SlurmError(
            f"dataset {name_or_path!r} is not available offline, and compute nodes often have no "
            f"network: {info.unavailable_reason or 'download it on the login node first'}"
        )


def prepare_submission(
    experiment: Experiment,
    settings: SlurmSettings,
    *,
    runs_root: Path | None = None,
    run_name: str | None = None,
    python: str | None = None,
    workdir: Path | None = None,
    check_dataset: Callable[..., None] = check_dataset_offline,
) -> Path:
    """Make a run directory holding config.toml and job.sbatch, ready for `submit`.

    The user may inspect or edit job.sbatch before submitting. Nothing is sent to Slurm here.
    """
    from kerastui.core.data import with_absolute_paths

    # A compute node starts the job in another directory, perhaps days later: paths are absolute.
    experiment = with_absolute_paths(experiment.validated())
    settings.validated()
    check_dataset(experiment.dataset, experiment.data)
    writer = RunWriter.create(experiment, root=runs_root, name=run_name, status=PREPARED)
    run_dir = writer.path.resolve()
    try:
        write_text_atomic(run_dir / SCRIPT_NAME, job_script(experiment, settings, run_dir, run_name, python, workdir))
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)  # no half-prepared run left behind
        raise
    writer.set_status(PREPARED)
    writer.update_info(slurm=asdict(settings), slurm_script=SCRIPT_NAME)
    return run_dir


def job_script(experiment: Experiment, settings: SlurmSettings, run_dir: Path, run_name: str | None = None,
               python: str | None = None, workdir: Path | None = None) -> str:
    """The job.sbatch for this experiment, these settings and this run directory: what
    `kerastui submit` writes, and what the app's Slurm form previews and writes (one place)."""
    job = JobScript(
        run_dir=Path(run_dir),
        python=python or sys.executable,
        workdir=(workdir or Path.cwd()).resolve(),
        # squeue shows the run's name (--name), reduced to safe characters like the directory's.
        job_name=f"kerastui-{safe_name(run_name or experiment.name)}",
        backend=experiment.backend,
        pythonpath=source_checkout(),
        strategy=experiment.strategy,
    )
    return render_sbatch_script(settings, job)


def source_checkout() -> Path | None:
    """The checkout root when kerastui runs from source (editable install or none), else None.

    Put on the job's PYTHONPATH so the job imports the same kerastui even where the install
    is not visible on the compute node.
    """
    root = Path(kerastui.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").exists() else None


def sbatch(script: Path, *, runner: Runner = subprocess.run, environ: Mapping[str, str] | None = None) -> str:
    """`sbatch --parsable SCRIPT` from the script's directory; the job id (SlurmError otherwise)."""
    env = dict(os.environ if environ is None else environ)
    # The script is the record of what was asked for; sbatch would let these override it.
    for variable in ENV_VARIABLES.values():
        env.pop(variable, None)
    result = _run(runner, ["sbatch", "--parsable", str(script)], cwd=Path(script).parent, env=env)
    if result.returncode != 0:
        raise SlurmError(f"sbatch refused {script}: {_message(result)}")
    # --parsable prints "jobid" or "jobid;cluster".
    job_id = result.stdout.strip().splitlines()[-1].split(";")[0].strip() if result.stdout.strip() else ""
    if not job_id.isdigit():
        raise SlurmError(f"sbatch printed no job id for {script}: {result.stdout.strip()!r}")
    return job_id


def submit(
    run_dir: Path,
    *,
    runner: Runner = subprocess.run,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Submit a prepared run directory's job.sbatch with `sbatch --parsable`; return the job id."""
    run_dir = Path(run_dir).resolve()
    script = run_dir / SCRIPT_NAME
    if not script.is_file():
        raise SlurmError(f"{script} does not exist; prepare the run first (kerastui submit --dry-run)")
    job_id = sbatch(script, runner=runner, environ=environ)
    writer = RunWriter(run_dir)
    writer.update_info(slurm_job_id=job_id, submitted=iso_time(time.time()))
    if read_status(run_dir) == PREPARED:  # the job may already have started and said "running"
        writer.set_status(SUBMITTED)
    return job_id


# ---- following and cancelling ----------------------------------------------------------------


def job_state(job_id: str, *, runner: Runner = subprocess.run) -> JobState:
    """The job's state and reason from squeue; from scontrol, then sacct, once it left the queue."""
    job_id = str(job_id)
    result = _run(runner, ["squeue", "-h", "-j", job_id, "-o", "%T|%r"])
    if result.returncode == 0 and (state := parse_squeue(job_id, result.stdout)) is not None:
        return state
    return _state_off_queue(job_id, runner)


def job_states(
    job_ids: Sequence[str], *, runner: Runner = subprocess.run, timeout: float = 60
) -> dict[str, JobState]:
    """Several jobs' states from ONE squeue call; scontrol/sacct only for ids squeue no longer lists.

    Raises SlurmError when there is no Slurm client, or squeue fails for another reason than
    not knowing the jobs (controller down).
    """
    ids = list(dict.fromkeys(str(job_id) for job_id in job_ids))
    if not ids:
        return {}
    result = _run(runner, ["squeue", "-h", "-j", ",".join(ids), "-o", "%i|%T|%r"], timeout=timeout)
    if result.returncode == 0:
        states = parse_squeue_jobs(result.stdout)
    elif "invalid job id" in _message(result).lower():
        states = {}  # squeue of ids none of which is queued any more (a list of them answers empty)
    else:
        raise SlurmError(f"squeue failed: {_message(result)}")
    return {job_id: states.get(job_id) or _state_off_queue(job_id, runner, timeout) for job_id in ids}


def _state_off_queue(job_id: str, runner: Runner, timeout: float = 60) -> JobState:
    """A job squeue does not list (it left the queue): scontrol while slurmctld remembers it, then sacct."""
    result = _run(runner, ["scontrol", "show", "job", "-o", job_id], timeout=timeout)
    if result.returncode == 0 and (state := parse_scontrol(job_id, result.stdout)) is not None:
        return state
    result = _run(runner, ["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State"], timeout=timeout)
    if result.returncode == 0 and (state := parse_sacct(job_id, result.stdout)) is not None:
        return state
    return JobState(job_id, "UNKNOWN", "Slurm no longer knows this job (it finished too long ago, or the id is wrong)")


def parse_squeue(job_id: str, text: str) -> JobState | None:
    """squeue's "%T|%r" line for `job_id` (also reads "%i|%T|%r" lines, picking that job's)."""
    return parse_squeue_jobs(text, job_id=job_id).get(job_id)


def parse_squeue_jobs(text: str, *, job_id: str | None = None) -> dict[str, JobState]:
    """Job id -> state from squeue lines "%i|%T|%r"; "%T|%r" lines are `job_id`'s."""
    states: dict[str, JobState] = {}
    for line in text.splitlines():
        parts = [part.strip() for part in line.strip().split("|")]
        if len(parts) >= 3:
            job, state, reason = parts[0], parts[1], "|".join(parts[2:])
        elif len(parts) == 2 and job_id is not None:
            job, (state, reason) = job_id, parts
        else:
            continue
        if job and state:
            states.setdefault(job, JobState(job, state, "" if reason == "None" else reason))
    return states


def scontrol_fields(text: str) -> dict[str, str]:
    """`scontrol show job -o`'s one line as {field: value}."""
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def parse_scontrol(job_id: str, text: str) -> JobState | None:
    fields = scontrol_fields(text)
    if "JobState" not in fields:
        return None
    reason = fields.get("Reason", "")
    return JobState(job_id, fields["JobState"], "" if reason == "None" else reason)


def parse_sacct(job_id: str, text: str) -> JobState | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    words = lines[0].split()            # e.g. "CANCELLED by 0"
    return JobState(job_id, words[0], " ".join(words[1:]))


def cancel(job_id: str, run_dir: Path | None = None, *, runner: Runner = subprocess.run) -> None:
    """scancel the job. A run directory whose job never started is marked cancelled."""
    result = _run(runner, ["scancel", str(job_id)])
    if result.returncode != 0:
        raise SlurmError(f"scancel {job_id} failed: {_message(result)}")
    if run_dir is not None and read_status(Path(run_dir)) in (PREPARED, SUBMITTED):
        RunWriter(Path(run_dir)).set_status(CANCELLED)


def requeue_this_job(environ: Mapping[str, str] | None = None, *, runner: Runner = subprocess.run) -> str:
    """`scontrol requeue` the job this process runs in (an array task: that task); its id.

    Slurm puts it back in the queue with the same id and starts its batch script again (after
    a short delay of its own), which resumes the run (kerastui.cli.train).
    """
    env = os.environ if environ is None else environ
    job_id = env.get("SLURM_JOB_ID", "")
    if env.get("SLURM_ARRAY_JOB_ID") and env.get("SLURM_ARRAY_TASK_ID"):
        job_id = f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"
    if not job_id:
        raise SlurmError("not inside a Slurm job (no SLURM_JOB_ID): nothing to requeue")
    result = _run(runner, ["scontrol", "requeue", job_id])
    if result.returncode != 0:
        raise SlurmError(f"scontrol requeue {job_id} failed: {_message(result)}")
    return job_id


def job_fields(job_id: str, *, runner: Runner = subprocess.run, timeout: float = 10) -> dict[str, str]:
    """`scontrol show job -o` as {field: value} (JobState, Requeue, ...); {} when it cannot say."""
    try:
        result = _run(runner, ["scontrol", "show", "job", "-o", job_id], timeout=timeout)
    except (SlurmError, OSError, subprocess.SubprocessError):
        return {}
    if result.returncode != 0:
        return {}
    return scontrol_fields(result.stdout)


def kill_wait_seconds(*, runner: Runner = subprocess.run, default: int = 30) -> int:
    """Slurm's KillWait: the grace time between a job's SIGTERM and its SIGKILL (30 s by default)."""
    try:
        result = _run(runner, ["scontrol", "show", "config"], timeout=10)
    except (SlurmError, OSError, subprocess.SubprocessError):
        return default
    found = re.search(r"^KillWait\s*=\s*(\d+)", result.stdout or "", re.M)
    return int(found.group(1)) if found else default


def sync_run_status(run_dir: Path, state: JobState) -> str:
    """Bring a run's status in line with its job once the job is over; return the status.

    A job killed by scancel, its time limit or a node failure never writes its own end, so
    its run would say "running" (or "submitted") for ever. Runs that recorded an end keep it.
    """
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if not state.finished or status not in OPEN_STATUSES:
        return status
    status = _ended_status(state)
    writer = RunWriter(run_dir)
    writer.set_status(status)
    writer.update_info(reason=f"Slurm job {state.job_id} ended {state}", slurm_state=state.state)
    return status


def _ended_status(state: JobState) -> str:
    return CANCELLED if state.state == "CANCELLED" else "failed"


def refresh_slurm_runs(
    records: Sequence[RunRecord], *, runner: Runner = subprocess.run, timeout: float = REFRESH_TIMEOUT
) -> list[RunRecord]:
    """The records, with those whose Slurm job ended without the run recording it settled.

    Runs still prepared/submitted/running that carry a job id get their states from one batched
    squeue (scontrol/sacct only for jobs it no longer lists); a run whose job is over gets
    `sync_run_status`, so its status file becomes true, and is read again. Without a usable
    Slurm client (not installed, controller down) the records come back unchanged. Blocking:
    call it off the UI thread.
    """
    open_runs = [r for r in records if r.status in OPEN_STATUSES and (r.slurm_job_id or "").isdigit()]
    if not open_runs:
        return list(records)
    try:
        states = job_states([r.slurm_job_id for r in open_runs], runner=runner, timeout=timeout)
    except SlurmError:
        return list(records)
    settled: dict[Path, RunRecord] = {}
    for record in open_runs:
        state = states.get(record.slurm_job_id)
        if state is None or not state.finished:
            continue
        try:
            sync_run_status(record.path, state)
            settled[record.path] = load_run(record.path)
        except OSError:  # someone else's read-only run: show the truth without writing it
            record.status = _ended_status(state)
    return [settled.get(r.path, r) for r in records]


def _run(runner: Runner, argv: Sequence[str], *, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess:
    try:
        return runner(list(argv), capture_output=True, text=True, timeout=timeout, **kwargs)
    except FileNotFoundError:
        raise SlurmError(f"{argv[0]} was not found: is this a machine with the Slurm client commands?") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{argv[0]} did not answer within {timeout:g} s: is the Slurm controller up?") from None


def _message(result: subprocess.CompletedProcess) -> str:
    return (result.stderr or result.stdout or f"exit status {result.returncode}").strip()


# ---- login-node guard ------------------------------------------------------------------------


def estimated_samples(experiment: Experiment, train_size: int) -> int:
    """Training samples the run will process: epochs x the part of the training set not held out.

    Deliberately simple (it ignores model size): it separates a smoke run from real training.
    """
    per_epoch = round(train_size * (1.0 - experiment.fit.validation_split))
    return experiment.fit.epochs * per_epoch


def looks_like_login_node(
    environ: Mapping[str, str] | None = None, which: Callable[[str], str | None] = shutil.which
) -> bool:
    """Slurm's client (`sbatch`) is on PATH and we are not inside a job (SLURM_JOB_ID unset).

    The one rule for "login node": the guard below and the launcher's warm trainer both ask it.
    """
    env = os.environ if environ is None else environ
    return not env.get("SLURM_JOB_ID") and which("sbatch") is not None


def login_node_guard(
    experiment: Experiment,
    dataset_info: Any,
    *,
    config: UserConfig | None = None,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> str | None:
    """A warning when this looks like a login node and the local run would be long, else None.

    "Login node": the Slurm client (`sbatch`) is on PATH and we are not inside a job
    (SLURM_JOB_ID unset). "Long": `estimated_samples` above [guard] max_local_samples in the
    user config (default 200 000; 0 turns the guard off).
    """
    if not looks_like_login_node(environ, which):
        return None
    config = load_user_config(environ=environ) if config is None else config
    limit = config.guard.max_local_samples
    samples = estimated_samples(experiment, dataset_info.train_size)
    if limit <= 0 or samples <= limit:
        return None
    where = config.path or config_path(environ)
    return (
        f"This looks like a login node (Slurm's sbatch is here, but no SLURM_JOB_ID), and this run "
        f"would train on about {samples:,} samples ({experiment.fit.epochs:,} epochs of "
        f"{dataset_info.name}), above the {limit:,} allowed locally. Submit it to Slurm instead, "
        f"or shorten it for a smoke test (the limit is [guard] max_local_samples in {where})."
    )
