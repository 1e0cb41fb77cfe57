"""The sbatch script kerastui writes into a run directory, readable and safe to edit.

Every user value goes through `shlex.quote`: in the shell part that stops `;`, `$(...)` and
backticks from running, and sbatch's own #SBATCH parser strips the same quotes. Newlines and
other control characters are rejected earlier (SlurmSettings.problems), since a newline in a
#SBATCH line would start a new, executable line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from kerastui.core.slurm_settings import SlurmSettings
from kerastui.core.spec import Problem, SpecError

SCRIPT_NAME = "job.sbatch"
CONFIG_NAME = "config.toml"
OUTPUT_PATTERN = "slurm-%j.out"
ARRAY_OUTPUT_PATTERN = "slurm-%A_%a.out"  # a job array's task: the array's id, the task's index


@dataclass(frozen=True)
class JobScript:
    """Everything the script needs besides the settings; paths should be absolute."""

    run_dir: Path
    python: str                      # the interpreter that runs kerastui on the compute node
    workdir: Path                    # where relative dataset paths were meant from
    job_name: str = "kerastui"
    backend: str = "tensorflow"
    pythonpath: Path | None = None   # a source checkout's root, when kerastui is not installed
    strategy: str = "default"        # "multiworker" with settings.tasks > 1: one srun task per worker
    # A job array (a sweep): run_dir is the sweep's directory and each of the array_workers tasks
    # a worker that asks the sweep's study for trials until its budget is met
    # (kerastui.core.sweep_worker), at most array_parallel at a time (0: no limit).
    array_workers: int = 0
    array_parallel: int = 0

    @property
    def config_path(self) -> Path:
        return self.run_dir / CONFIG_NAME

    def train_command(self) -> list[str]:
        return [self.python, "-m", "kerastui", "train", str(self.config_path), "--run-dir", str(self.run_dir), "--plain"]

    def exec_line(self) -> list[str]:
        """The shell lines that start training: one run, or the array task's sweep worker."""
        q = shlex.quote
        if not self.array_workers:
            # exec: Slurm's signals (scancel, the time limit) then reach kerastui, not a waiting shell.
            return ["exec " + " ".join(q(part) for part in self.train_command())]
        return [
            "# Each array task is a sweep worker: it asks the study in the sweep's directory for its",
            "# next trial, trains it as a run directory there and reports it, until the budget is met.",
            f"exec {q(self.python)} -m kerastui sweep --worker {q(str(self.run_dir))} --plain",
        ]


def render_sbatch_script(settings: SlurmSettings, job: JobScript) -> str:
    settings.validated()
    _reject_control_characters(job)
    if job.array_workers and settings.tasks > 1:
        raise SpecError([Problem("slurm.tasks", settings.tasks, "a sweep's job array runs one worker per task; use 1 task")])
    if settings.tasks > 1 and job.strategy != "multiworker":
        # Without a multi-worker strategy each task would train its own copy into the same run.
        raise SpecError([Problem("slurm.tasks", settings.tasks,
                                 f"more than one task needs strategy 'multiworker' (this experiment's is {job.strategy!r}); "
                                 "set the strategy to multiworker or use 1 task")])
    q = shlex.quote
    limit = f"%{job.array_parallel}" if job.array_parallel else ""
    directives = [
        f"--job-name={job.job_name}",
        f"--array=0-{job.array_workers - 1}{limit}" if job.array_workers else "",
        # '%' starts a Slurm file-name pattern; '%%' is a literal percent sign.
        f"--output={str(job.run_dir).replace('%', '%%')}/{ARRAY_OUTPUT_PATTERN if job.array_workers else OUTPUT_PATTERN}",
        f"--time={settings.time_limit}" if settings.time_limit else "",
        f"--ntasks={settings.tasks}" if settings.tasks > 1 else "",
        f"--cpus-per-task={settings.cpus}",
        f"--gres=gpu:{settings.gpus}" if settings.gpus else "",
        f"--mem={settings.memory}" if settings.memory else "",
        f"--partition={settings.partition}" if settings.partition else "",
        f"--account={settings.account}" if settings.account else "",
        # Warned before the time limit (to the batch shell, which exec makes kerastui itself),
        # the run saves its state and requeues the job; the output file goes on after a requeue.
        f"--signal=B:USR1@{settings.warning_seconds}" if settings.warning_seconds else "",
        "--requeue" if settings.warning_seconds else "",
        "--open-mode=append" if settings.warning_seconds else "",
        *settings.extra_options,
    ]
    lines = [
        "#!/bin/bash",
        "# Written by kerastui. Edit it if you like, then submit it with",
        "#   kerastui submit --prepared <this run directory>   (records the job id in the run)",
        "# or plain `sbatch job.sbatch`. Flags given on sbatch's command line win over #SBATCH lines.",
        *(f"#SBATCH {q(directive)}" for directive in directives if directive),
        "",
        "set -euo pipefail",
        f"cd {q(str(job.workdir))}",
        "# Output one line per epoch, unbuffered, so the .out file can be followed while it runs.",
        "export PYTHONUNBUFFERED=1",
        f"export KERAS_BACKEND={q(job.backend)}",
        "# TensorFlow's C++ start-up chatter would bury the epoch lines (2: errors only).",
        'export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"',
    ]
    if job.pythonpath is not None:
        lines.append(f'export PYTHONPATH={q(str(job.pythonpath))}"${{PYTHONPATH:+:$PYTHONPATH}}"')
    lines.append('echo "kerastui job ${SLURM_JOB_ID:-?} on $(hostname) started $(date -Is)"')
    if settings.tasks > 1:
        lines += [
            f"# {settings.tasks} workers (MultiWorkerMirroredStrategy): srun starts one per task; they find each",
            "# other through Slurm's variables, and only the first (the chief) writes the run directory.",
            # srun does not take --cpus-per-task from the job in every Slurm version, so it is repeated.
            # exec: scancel's SIGTERM reaches srun, which passes it to every worker.
            "exec srun --kill-on-bad-exit=1 "
            + " ".join(q(part) for part in (f"--ntasks={settings.tasks}", f"--cpus-per-task={settings.cpus}", *job.train_command())),
            "",
        ]
    else:
        lines += [*job.exec_line(), ""]
    return "\n".join(lines)


def _reject_control_characters(job: JobScript) -> None:
    values = {
        "run_dir": str(job.run_dir),
        "python": job.python,
        "workdir": str(job.workdir),
        "job_name": job.job_name,
        "backend": job.backend,
        "pythonpath": str(job.pythonpath or ""),
    }
    found = [Problem(name, value, "must not contain newlines or other control characters")
             for name, value in values.items() if any(ord(c) < 32 or ord(c) == 127 for c in value)]
    if found:
        raise SpecError(found)
