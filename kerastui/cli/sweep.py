"""Run a sweep: an Optuna study over an experiment's [sweep] table, trained by N workers, each
trial its own run directory.

    kerastui sweep examples/sweep.toml --parallel 2
    kerastui sweep --continue runs/20261201-093000-sweep-mlp    # after Ctrl+C: up to the budget
    kerastui sweep examples/sweep.toml --slurm --parallel 3 --time 01:00:00   # a 3-task job array
    kerastui sweep examples/sweep.toml --storage postgresql://db/optuna       # any Optuna storage
    kerastui sweep --show runs/20261201-093000-sweep-mlp        # the leaderboard and the study, now

Local workers are entries of the runs directory's run queue (`kerastui queue` lists them): its
runner starts them within its slots ($KERASTUI_SLOTS), they go on if this command's terminal
closes, and one that died is started again. Each worker (a Slurm array task alike) asks the study
for its next trial, trains it and reports it, until the budget of trials has ended; pruned trials stop early, a trial whose worker was killed is tried again. At
the end the leaderboard, the study's views and the epochs pruning saved are printed.
Exit status: 0 the budget was met with no trial failed for good, 1 otherwise, 2 bad input
(every problem is printed, nothing started), 130 interrupted (running trials stopped after
their batch; --continue tries them again).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from kerastui.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    check_runs_dir,
    config_problem,
)

HELP = "run an experiment's [sweep] as an Optuna study, N workers at a time, and print the leaderboard"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", metavar="CONFIG.toml", help="experiment file with a [sweep] table")
    parser.add_argument("--continue", dest="resume", metavar="SWEEP_DIR", help="go on with this sweep's study, up to its budget")
    parser.add_argument("--parallel", type=int, default=1, metavar="N",
                        help="workers (default 1), queued on the runs directory's run queue, which trains $KERASTUI_SLOTS at once; "
                             "with --slurm, the job array's tasks")
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="where the sweep's directory goes (default $KERASTUI_RUNS_DIR or ./runs)")
    parser.add_argument("--storage", metavar="URL",
                        help="an Optuna storage URL for the study (e.g. postgresql://host/db); default: study.journal in the sweep's directory")
    parser.add_argument("--show", metavar="SWEEP_DIR", help="print this sweep's leaderboard and study and exit")
    parser.add_argument("--slurm", action="store_true",
                        help="submit the workers as one Slurm job array (--parallel tasks, each asking the study until the budget)")
    parser.add_argument("--worker", metavar="SWEEP_DIR", help=argparse.SUPPRESS)  # one worker: what the others start
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    from kerastui.cli.submit import add_slurm_options

    add_slurm_options(parser)


def run(args: argparse.Namespace) -> int:
    from kerastui.core.spec import SpecError
    from kerastui.core.sweep import SWEEP_FILE, load_sweep
    from kerastui.core.sweep_runs import create_sweep_dir, is_sweep_dir

    for given in (args.show, args.worker, args.resume):
        if given is not None and not is_sweep_dir(Path(given)):
            raise UsageError(f"{given} is not a sweep directory (no {SWEEP_FILE} in it)")
    for given in (args.worker, args.resume):
        if given is not None:
            _require_study(Path(given))
    if args.show is not None:
        _definition(Path(args.show))  # an unreadable one: every problem, exit 2
        _print_leaderboard(Path(args.show))
        from kerastui.cli.sweep_views import print_study_views

        print_study_views(Path(args.show))  # history, importances, value by parameter, Pareto front
        return EXIT_OK
    if args.worker is not None:
        return _work(Path(args.worker).resolve())
    check_runs_dir(args.runs_dir)
    if (args.config is None) == (args.resume is None):
        raise UsageError("give either CONFIG.toml (a new sweep) or --continue SWEEP_DIR")
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    if args.resume is not None and args.storage is not None:
        raise UsageError("--storage names a new sweep's study; a continued sweep keeps the one it has")
    source = Path(args.resume) / SWEEP_FILE if args.resume else Path(args.config)
    try:
        base, sweep = load_sweep(source)
    except SpecError as error:
        raise UsageError(*(config_problem(source, p) for p in error.problems)) from None
    _check_dataset(base.dataset, base.data)
    if args.storage is not None:
        _check_storage(args.storage)

    try:
        sweep_dir = Path(args.resume).resolve() if args.resume else create_sweep_dir(base, sweep, args.runs_dir, args.storage)
    except OSError as error:
        print(f"kerastui: error: cannot write the sweep in {args.runs_dir or 'the runs directory'}: "
              f"{error.strerror or error}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    if args.slurm:
        return _submit_array(args, sweep_dir)
    print(f"sweep {sweep_dir}: {sweep.size} trials ({sweep.method}, {_goal_text(sweep)}"
          f"{'' if sweep.pruner.type == 'none' else f', {sweep.pruner.type} pruner'}), "
          f"{args.parallel} worker{'s' if args.parallel != 1 else ''}", flush=True)
    from kerastui.core.sweep_study import SweepStudy

    handle = SweepStudy(sweep_dir)
    handle.settle()  # a continued sweep: trials whose worker died are queued again first
    if handle.progress().remaining == 0:
        print("every trial of the budget has ended; nothing to run (raise [sweep] trials in its sweep.toml for more)")
        return _report(sweep_dir, False, False)
    interrupted, workers_failed = _run_workers(sweep_dir, args.parallel)
    return _report(sweep_dir, interrupted, workers_failed)


def _definition(sweep_dir: Path) -> tuple[Any, Any]:
    from kerastui.core.spec import SpecError
    from kerastui.core.sweep import SWEEP_FILE, load_sweep

    try:
        return load_sweep(sweep_dir / SWEEP_FILE)
    except SpecError as error:
        raise UsageError(*(config_problem(sweep_dir / SWEEP_FILE, p) for p in error.problems)) from None


def _require_study(sweep_dir: Path) -> None:
    from kerastui.core.sweep_study import read_study_file

    if not read_study_file(sweep_dir):
        raise UsageError(f"{sweep_dir} holds no Optuna study (a sweep made before kerastui's sweeps ran on Optuna, "
                         f"or its study.json is gone); run its definition as a new sweep: "
                         f"kerastui sweep {sweep_dir / 'sweep.toml'}")


def _goal_text(sweep: Any) -> str:
    return ", ".join(f"{name} {direction}" for name, direction in zip(sweep.objectives, sweep.directions))


def _check_storage(url: str) -> None:
    """A storage that cannot be opened is bad input, said before the sweep's directory exists."""
    from kerastui.core.sweep_study import open_storage

    try:
        open_storage(url)
    except Exception as error:  # noqa: BLE001 - whatever the database driver says, it is the URL's problem
        raise UsageError(f"--storage {url}: cannot be opened as an Optuna storage: {type(error).__name__}: {error}") from None


def _check_dataset(name: str, settings: Any) -> None:
    from kerastui.core.data import DatasetError, dataset_info

    try:
        info = dataset_info(name, settings=settings)
    except DatasetError as error:
        raise UsageError(str(error)) from None
    if not info.available:
        raise UsageError(f"dataset {name!r} is not available: {info.unavailable_reason}")


# ---- one worker (a local one, or a Slurm array task) --------------------------------------------


def _work(sweep_dir: Path) -> int:
    from kerastui.core.backend import BackendError, select_backend
    from kerastui.core.spec import SpecError
    from kerastui.core.sweep import SWEEP_FILE, load_sweep
    from kerastui.core.sweep_worker import SweepWorker

    try:
        base, _ = load_sweep(sweep_dir / SWEEP_FILE)
        select_backend(base.backend)  # before anything imports keras
    except SpecError as error:
        raise UsageError(*(config_problem(sweep_dir / SWEEP_FILE, p) for p in error.problems)) from None
    except BackendError as error:
        raise UsageError(str(error)) from None
    worker = SweepWorker(sweep_dir, listeners=[_epoch_line], on_trial=_print_trial)

    def on_signal(signum: int, frame: Any) -> None:
        worker.stop_all(f"its sweep worker got {signal.Signals(signum).name}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
        signal.signal(sig, on_signal)  # SIGUSR1: Slurm's time-limit warning
    ended = worker.run()
    print(f"worker done: {len(ended)} trial{'s' if len(ended) != 1 else ''}"
          f"{f' (stopped: {worker.stopping})' if worker.stopping else ''}", flush=True)
    return EXIT_INTERRUPTED if worker.stopping else EXIT_OK


def _epoch_line(event: Any) -> None:
    from kerastui.core.events import EpochEnded

    if isinstance(event, EpochEnded):
        metrics = "  ".join(f"{k} {v:.4f}" for k, v in event.metrics.items() if isinstance(v, float))
        print(f"  epoch {event.epoch + 1}/{event.epochs}  {metrics}", flush=True)


def _print_trial(ended: Any) -> None:
    params = "  ".join(f"{k}={_short(v)}" for k, v in ended.params.items())
    value = "  ".join(_short(v) for v in ended.values if v is not None)
    detail = f" {value}" if ended.ending == "finished" else f" after {ended.epochs}/{ended.planned} epochs"
    print(f"trial-{ended.number:03d} {ended.ending}{detail}  {params}", flush=True)


# ---- N local workers, on the run queue -----------------------------------------------------------


def _run_workers(sweep_dir: Path, count: int) -> tuple[bool, bool]:
    """N workers as entries of the runs directory's queue (its runner starts them within the
    slots, and replaces one that died: its trial is tried again by the study), followed until
    each has ended. Ctrl+C stops them (their trials after the batch); twice leaves them running.
    Returns (interrupted, workers failed)."""
    from kerastui.core.run_queue import MAX_WORKER_RESTARTS
    from kerastui.core.sweep_runs import queue_workers

    launcher, keys = queue_workers(sweep_dir, count)
    if launcher.slots < count:
        print(f"{count} workers queued; the queue trains {launcher.slots} at a time "
              "($KERASTUI_SLOTS sets its slots), the others wait for a slot", flush=True)
    stop = {"asked": 0}

    def on_signal(signum: int, frame: Any) -> None:
        stop["asked"] += 1
        if stop["asked"] == 1:
            print("stopping: running trials stop after their batch (Ctrl+C again to leave the workers running)",
                  file=sys.stderr, flush=True)
            launcher.stop_sweep_workers(sweep_dir, set(keys))
        else:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    reported: set[str] = set()
    restarts = dict.fromkeys(keys, 0)
    failed = False
    try:
        while True:
            time.sleep(0.5)
            _print_ended_trials(sweep_dir, reported)
            launcher.pump()  # a runner that died: its workers settled, a new runner for those waiting
            live = {e.key: e for e in launcher.queue.workers_of(sweep_dir) if e.key in restarts}
            for key, entry in live.items():
                if entry.restarts > restarts[key]:
                    restarts[key] = entry.restarts
                    print(f"worker {entry.worker} ended with {entry.died or 'an error'}; a new one takes its place "
                          f"(its trial is tried again); see {sweep_dir / f'worker-{entry.worker}.log'}",
                          file=sys.stderr, flush=True)
            for key in [k for k in restarts if k not in live]:
                if restarts.pop(key) >= MAX_WORKER_RESTARTS and not stop["asked"]:
                    print(f"kerastui: {key} kept dying and was not started again; see its log in {sweep_dir}",
                          file=sys.stderr, flush=True)
                    failed = True
            if not restarts:
                break
            if stop["asked"] == 1 and launcher.queue.runner_pid() is None:
                break  # nothing is left to stop them, or to wait for
    except KeyboardInterrupt:
        print(f"kerastui: left {len(restarts)} worker(s) in the queue; `kerastui queue` lists them, their output is in "
              f"{sweep_dir}/worker-*.log", file=sys.stderr, flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _print_ended_trials(sweep_dir, reported)
    return bool(stop["asked"]), failed


def _print_ended_trials(sweep_dir: Path, reported: set[str]) -> None:
    from kerastui.core.runs import ENDED_STATUSES, load_run, read_status
    from kerastui.core.sweep_runs import trial_dirs
    from kerastui.core.sweep_study import is_pruned

    for run_dir in trial_dirs(sweep_dir):
        if run_dir.name in reported or read_status(run_dir) not in ENDED_STATUSES:
            continue
        reported.add(run_dir.name)
        record = load_run(run_dir)
        params = "  ".join(f"{k}={_short(v)}" for k, v in (record.info.get("trial_params") or {}).items())
        status = "pruned" if is_pruned(record) else record.status
        done = f" after {record.epochs_done}/{record.epochs_planned} epochs" if status != "finished" else ""
        why = f" ({record.reason})" if record.reason and status not in ("finished", "pruned") else ""
        print(f"{run_dir.name:14} {status}{done}{why}  {params}", flush=True)


def _report(sweep_dir: Path, interrupted: bool, workers_failed: bool) -> int:
    """The leaderboard, the study's views and what pruning saved; the exit status."""
    from kerastui.cli.sweep_views import print_study_views
    from kerastui.core.sweep_study import SweepStudy
    from kerastui.core.sweep_worker import epochs_saved

    handle = SweepStudy(sweep_dir)
    handle.settle()  # a trial whose worker died last is told as failed (and queued again)
    _print_leaderboard(sweep_dir)
    print_study_views(sweep_dir)
    pruned, saved, planned = epochs_saved(sweep_dir)
    if handle.sweep.pruner.type != "none":
        share = f" ({saved / planned:.0%} of the {planned} planned)" if planned else ""
        print(f"\npruning: {pruned} trial{'s' if pruned != 1 else ''} pruned, {saved} epochs saved{share}", flush=True)
    progress = handle.progress()
    if interrupted and progress.remaining:  # (a Ctrl+C after the last trial ended interrupts nothing)
        print(f"kerastui: sweep interrupted; continue it with: kerastui sweep --continue {sweep_dir}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if progress.remaining or progress.failed:
        left = f"{progress.remaining} of the budget's trials did not run" if progress.remaining else ""
        bad = f"{progress.failed} trial{'s' if progress.failed != 1 else ''} failed" if progress.failed else ""
        print(f"kerastui: {'; '.join(p for p in (left, bad) if p)}; continue with: kerastui sweep --continue {sweep_dir}",
              file=sys.stderr, flush=True)
        return EXIT_FAILED
    return EXIT_FAILED if workers_failed else EXIT_OK


def _submit_array(args: argparse.Namespace, sweep_dir: Path) -> int:
    import shlex

    from kerastui.cli.submit import slurm_settings_from
    from kerastui.core import slurm
    from kerastui.core.spec import SpecError
    from kerastui.core.sweep_runs import submit_array

    try:
        job_id = submit_array(sweep_dir, slurm_settings_from(args), tasks=args.parallel)
    except SpecError as error:
        raise UsageError(*(str(p) for p in error.problems)) from None
    except (slurm.SlurmError, ValueError) as error:
        raise UsageError(str(error)) from None
    last = args.parallel - 1
    print(f"sweep {sweep_dir}: {args.parallel} worker{'s' if args.parallel != 1 else ''} as job array {job_id} "
          f"(tasks {job_id}_0{f' to {job_id}_{last}' if last else ''}), asking the study until its budget is met")
    print(f"the leaderboard: kerastui sweep --show {shlex.quote(str(sweep_dir))}")
    return EXIT_OK


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _print_leaderboard(sweep_dir: Path) -> None:
    from kerastui.core.sweep_runs import leaderboard, mean_objective_by_value

    sweep, rows = leaderboard(sweep_dir)
    objective = f"{sweep.objective} ({sweep.direction})"
    print(f"\nleaderboard by best {objective}:")
    names = sweep.paths
    header = ["rank", "trial", "status", *names, sweep.objective, "test", "epochs"]
    table = [header]
    for rank, row in enumerate(rows, start=1):
        record = row.record
        test = record.headline_text if record is not None else "-"  # the task's test metric
        epochs = f"{record.epochs_done}/{record.epochs_planned}" if record is not None else "-"
        table.append([str(rank) if row.status == "finished" else "-", f"{row.trial:03d}", row.status,
                      *(_short(row.params[n]) if n in row.params else "-" for n in names),
                      "-" if row.objective is None else f"{row.objective:.4f}", test, epochs])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    for path, groups in mean_objective_by_value(sweep, rows).items():
        if groups:
            means = ", ".join(f"{_short(value)}: {mean:.4f} ({n})" for value, mean, n in groups)
            print(f"mean {sweep.objective} by {path}: {means}")
    sys.stdout.flush()
