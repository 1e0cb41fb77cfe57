"""`kerastui submit`: send an experiment to Slurm as a batch job.

    kerastui submit [CONFIG.toml] [--preset mlp --dataset digits --epochs 5]
                    [--partition P --time T --cpus N --gpus N --mem M --account A
                     --sbatch-option=--qos=short ...] [--dry-run] [--runs-dir DIR]
    kerastui submit --prepared RUN_DIR     # submit a run prepared with --dry-run (maybe edited)

Prints the run directory, the script and the job id. Slurm values not given take their defaults
from the [slurm] table of the user config file, then the SBATCH_* environment variables.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from kerastui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    check_runs_dir,
    print_error,
    resolve_run,
)
from kerastui.cli.train import add_experiment_options

if TYPE_CHECKING:
    from kerastui.core.slurm_settings import SlurmSettings
    from kerastui.core.spec import Experiment

SLURM_FLAGS = {  # CLI flag -> SlurmSettings field
    "partition": "partition",
    "time": "time_limit",
    "cpus": "cpus",
    "tasks": "tasks",
    "gpus": "gpus",
    "mem": "memory",
    "account": "account",
    "requeue_warning": "requeue_warning",
}


HELP = "submit an experiment to Slurm as a batch job"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Slurm defaults: [slurm] in ~/.config/kerastui/config.toml ($KERASTUI_CONFIG), then SBATCH_PARTITION, "
        "SBATCH_ACCOUNT, SBATCH_TIMELIMIT, SBATCH_MEM_PER_NODE, SBATCH_GPUS."
    )
    add_experiment_options(parser)
    add_slurm_options(parser)
    parser.add_argument("--dry-run", action="store_true", help="only write the run directory and its job.sbatch")
    parser.add_argument("--prepared", metavar="RUN_DIR", help="submit a run directory prepared earlier with --dry-run")
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="where run directories go (default: $KERASTUI_RUNS_DIR or ./runs)")


def add_slurm_options(parser: argparse.ArgumentParser) -> None:
    """The Slurm job's options: shared by `submit` and `sweep --slurm`."""
    job = parser.add_argument_group("Slurm job")
    job.add_argument("--partition", help="partition (queue)")
    job.add_argument("--time", help="time limit, HH:MM:SS or D-HH:MM:SS")
    job.add_argument("--cpus", type=int, help="CPUs per task")
    job.add_argument("--tasks", type=int, help="tasks (workers) for strategy multiworker, started with srun (default 1)")
    job.add_argument("--gpus", type=int, help="GPUs (as --gres=gpu:N)")
    job.add_argument("--mem", help="memory, e.g. 16G")
    job.add_argument("--account", help="account to charge")
    job.add_argument("--requeue-warning", type=int, metavar="SECONDS",
                     help="warn the job this long before its time limit: it saves its state, requeues itself and "
                          "resumes when it starts again (default 300; 0: no warning, no requeue)")
    job.add_argument("--sbatch-option", action="append", dest="sbatch_options", metavar="OPT",
                     help="extra sbatch option, whole, e.g. --sbatch-option=--qos=short (repeatable)")


def _refuse_submitted(run_dir: Path) -> None:
    """One job per run directory: a second would train into the same files as the first."""
    from kerastui.core.runs import read_info, read_status

    job = read_info(run_dir).get("slurm_job_id")
    status = read_status(run_dir)
    if job or status != "prepared":
        what = f"job {job}" if job else f"status {status}"
        raise UsageError(f"{run_dir} is not a prepared run waiting for submission ({what}); "
                         "submit its config.toml as a new run instead: kerastui submit "
                         f"{shlex.quote(str(run_dir / 'config.toml'))}")


def run(args: argparse.Namespace) -> int:
    # Imported here so `kerastui --help` stays instant.
    from kerastui.core import slurm, spec
    from kerastui.core.data import DatasetError
    from kerastui.core.problems import bounded
    from kerastui.core.slurm_script import SCRIPT_NAME
    from kerastui.core.user_config import UserConfigError

    check_runs_dir(args.runs_dir)
    try:
        if args.prepared:
            run_dir = resolve_run(args.prepared, args.runs_dir).resolve()
            _refuse_submitted(run_dir)
        else:
            run_dir = slurm.prepare_submission(
                _experiment(args), slurm_settings_from(args), runs_root=args.runs_dir, run_name=args.name
            )
        print(f"run directory: {run_dir}")
        print(f"batch script:  {run_dir / SCRIPT_NAME}")
        if args.dry_run:
            print(f"not submitted (--dry-run); inspect or edit the script, then: kerastui submit --prepared {shlex.quote(str(run_dir))}")
            return EXIT_OK
        job_id = slurm.submit(run_dir)
    except UsageError as error:
        for line in error.lines:
            print_error(f"submit: {line}")
        return EXIT_USAGE
    except spec.SpecError as error:  # every problem on its own line, as `kerastui train` prints them
        for line in bounded(str(p) for p in error.problems):
            print_error(f"submit: {line}")
        return EXIT_USAGE
    except (slurm.SlurmError, UserConfigError, DatasetError, ValueError) as error:
        print_error(f"submit: {error}")
        return EXIT_USAGE
    except OSError as error:  # the run directory or its script could not be written
        print_error(f"submit: cannot write {error.filename or 'the run directory'}: {error.strerror or error}")
        return EXIT_FAILED
    print(f"job id:        {job_id}")
    print(f"follow it with: kerastui watch {shlex.quote(str(run_dir))}")
    return EXIT_OK


def slurm_settings_from(args: argparse.Namespace) -> SlurmSettings:
    """The job's settings: the options given, over the user config and SBATCH_* defaults."""
    from kerastui.core import slurm

    overrides = {field: getattr(args, flag) for flag, field in SLURM_FLAGS.items()}
    if args.sbatch_options:
        overrides["extra_options"] = tuple(args.sbatch_options)
    return slurm.default_settings(**overrides)


def _experiment(args: argparse.Namespace) -> Experiment:
    from kerastui.cli.train import build_experiment

    # The same options, checks and error messages as `kerastui train`.
    experiment, _info = build_experiment(args)
    return experiment
