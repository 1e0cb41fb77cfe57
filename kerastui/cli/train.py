"""Train an experiment headless: from a config file or a preset, with options overriding either.

Exit status: 0 finished, 1 training failed (a NaN loss, a crash, a write that failed: a full disk,
a read-only file system, the run directory removed), 2 bad input (every problem is printed), 130
stopped with Ctrl+C (the run directory keeps the finished epochs and the model, or says it could
not).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from kerastui.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    check_runs_dir,
    config_problem,
    load_experiment_data,
    print_error,
)
from kerastui.cli.data_options import add_data_options
from kerastui.core.presets import PRESETS

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.train import StopRequest

HELP = "train an experiment headless and write a run directory"


def configure(parser: argparse.ArgumentParser) -> None:
    add_experiment_options(parser)
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="where run directories go (default $KERASTUI_RUNS_DIR or ./runs)")
    parser.add_argument("--run-dir", type=Path, metavar="DIR", help="write into this existing run directory (Slurm jobs)")
    parser.add_argument("--plain", action="store_true", help="one line per epoch instead of progress bars")
    parser.add_argument("--resume", metavar="RUN", help="continue a stopped or interrupted run from its last saved epoch, in its directory")
    parser.add_argument("--queue", action="store_true",
                        help="add the run (or --resume's) to the local queue and return at once, printing its directory; "
                             "the queue's runner trains it when a slot is free (see `kerastui queue`)")


def add_experiment_options(parser: argparse.ArgumentParser) -> None:
    """The experiment file and the options that override it: shared by `train` and `submit`."""
    parser.add_argument("config", nargs="?", metavar="CONFIG.toml", help="experiment file (default: a preset)")
    what = parser.add_argument_group("experiment (override the file or the preset)")
    what.add_argument("--preset", choices=PRESETS, help="start from this architecture (default mlp without CONFIG)")
    what.add_argument("--dataset", metavar="NAME|PATH", help="built-in name (digits, mnist, ...) or .npz/.csv/IDX path")
    what.add_argument("--task", metavar="TASK",
                      help="multiclass, binary, multilabel or regression (default: what the labels suggest)")
    what.add_argument("--epochs", type=int, metavar="N")
    what.add_argument("--batch-size", type=int, metavar="N")
    what.add_argument("--learning-rate", type=float, metavar="X")
    what.add_argument("--optimizer", metavar="NAME")
    what.add_argument("--momentum", type=float, metavar="X", help="sgd and rmsprop: 0 (none) to <1, e.g. 0.9")
    what.add_argument("--validation-split", type=float, metavar="X")
    what.add_argument("--seed", type=int, metavar="N")
    what.add_argument("--patience", type=int, metavar="N", help="early stopping patience in epochs (0: off)")
    what.add_argument("--backup-every", type=int, metavar="N", dest="backup_every",
                      help="save the training state every N batches too, not only after each epoch (0: epochs only)")
    what.add_argument("--backend", metavar="NAME", help="Keras backend: tensorflow, jax or torch")
    what.add_argument("--strategy", metavar="NAME", help="default, mirrored or multiworker")
    what.add_argument("--name", help="run name (default: the experiment's name)")
    add_data_options(parser.add_argument_group("data (override the file's [data] table)"))


def build_experiment(args: argparse.Namespace) -> tuple[Any, Any]:
    """The Experiment the options describe, validated, and the DatasetInfo it was checked against."""
    from kerastui.core import spec
    from kerastui.cli.data_options import with_data_options
    from kerastui.core.data import DatasetError, builtin_name, dataset_info
    from kerastui.core.datasets.settings import DataSettings
    from kerastui.core.presets import PresetError, preset_layers
    from kerastui.core.spec import fit_to_task
    from kerastui.core.tasks import TASKS

    experiment = None
    if args.config:
        try:
            experiment = spec.load(args.config)
        except spec.SpecError as error:
            raise UsageError(*(config_problem(args.config, p) for p in error.problems)) from None
    if args.dataset is not None and not args.dataset.strip():
        raise UsageError("--dataset is empty: give a name (digits, mnist, ...) or the path of a data file")
    dataset = args.dataset or (experiment.dataset if experiment else "digits")
    if args.dataset and builtin_name(args.dataset) is None and Path(args.dataset).expanduser().exists():
        # A file's absolute path keeps the config valid when re-run from elsewhere (a Slurm job).
        dataset = str(Path(args.dataset).expanduser().resolve())
    dataset_problem = ""
    # The task the user chose decides what integers that are no classes are (counts: regression).
    chosen_task = args.task if args.task is not None else (experiment.task if experiment else "")
    data_settings = with_data_options(experiment.data if experiment else DataSettings(), args)
    try:
        info = dataset_info(dataset, task=chosen_task if isinstance(chosen_task, str) else "",
                            settings=data_settings)
        if not info.available:
            dataset_problem = f"dataset {dataset!r} is not available: {info.unavailable_reason}"
    except DatasetError as error:
        dataset_problem = str(error)
    if dataset_problem:
        # The other fields are still checked, so every problem is known at once.
        base = experiment or spec.Experiment(name=args.preset or "mlp", dataset=dataset)
        if experiment is None and args.task in TASKS:
            # The preset would take the task's loss; the default one is no problem of the user's.
            base = replace(base, compile=replace(base.compile, loss=TASKS[args.task].default_loss()))
        others = [str(p) for p in _with_options(replace(base, dataset=dataset), args).problems()]
        raise UsageError(dataset_problem, *others)

    try:
        if experiment is None:
            preset = args.preset or "mlp"
            experiment = spec.Experiment(name=preset, dataset=dataset, task=args.task or "")
            task = experiment.task_for(info.task).name
            experiment = fit_to_task(
                replace(experiment, layers=preset_layers(preset, info.input_shape, info.outputs_for(task), task,
                                                         vocabulary_size=info.vocabulary_size)),
                info.outputs_for(task), info.task)
        elif args.preset:
            task = experiment.task_for(info.task).name
            # The preset's output, and the loss and monitor where the file's do not fit its task.
            experiment = fit_to_task(
                replace(experiment, layers=preset_layers(args.preset, info.input_shape, info.outputs_for(task), task,
                                                         vocabulary_size=info.vocabulary_size)),
                info.outputs_for(task), info.task)
        elif dataset != experiment.dataset:
            experiment = fit_to_task(experiment, info.outputs_for(experiment.task_for(info.task).name), info.task)
    except PresetError as error:
        raise UsageError(str(error)) from None
    experiment = _with_options(replace(experiment, dataset=dataset, data=data_settings), args)
    task = experiment.task_for(info.task).name
    problems = experiment.problems(tuple(info.input_shape), info.outputs_for(task), info.task,
                                   info.vocabulary_size)
    if problems:
        raise UsageError(*(str(p) for p in problems))
    return experiment, info


def _with_options(experiment: Any, args: argparse.Namespace) -> Any:
    """The experiment with the command line's options over it."""
    compile_changes = _given(optimizer=args.optimizer, learning_rate=args.learning_rate,
                             momentum=args.momentum)
    fit_changes = _given(
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        early_stopping_patience=args.patience,
        backup_every_batches=args.backup_every,
    )
    return replace(
        experiment,
        compile=replace(experiment.compile, **compile_changes),
        fit=replace(experiment.fit, **fit_changes),
        **_given(seed=args.seed, backend=args.backend, strategy=args.strategy, task=args.task),
    )


def _resumed(args: argparse.Namespace) -> tuple[Any, Path]:
    """The run to resume and its own experiment (options that would change it are refused)."""
    from kerastui.cli.common import resolve_run

    given = [flag for flag in ("config", "preset", "dataset", "task", "epochs", "batch_size", "learning_rate", "optimizer",
                               "momentum", "validation_split", "seed", "patience", "backup_every", "backend", "strategy", "run_dir")
             if getattr(args, flag, None) is not None]
    if given:
        raise UsageError(f"--resume continues the run's own experiment; drop {', '.join('--' + g.replace('_', '-') for g in given)}")
    run_dir = resolve_run(args.resume, args.runs_dir).resolve()
    return _own_experiment(run_dir), run_dir


def _own_experiment(run_dir: Path) -> Any:
    """The experiment a run directory holds (its config.toml), or bad input naming the file."""
    from kerastui.core import spec
    from kerastui.core.runs import CONFIG_FILE

    path = Path(run_dir) / CONFIG_FILE
    try:
        return spec.load(path)
    except spec.SpecError as error:
        raise UsageError(*(config_problem(str(path), p) for p in error.problems)) from None


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _queue(args: argparse.Namespace) -> int:
    """--queue: the run goes to the local queue of the runs directory; nothing trains here."""
    from kerastui.core.launcher import LocalLauncher
    from kerastui.core.runs import RESUMABLE_STATUSES, read_status

    check_runs_dir(args.runs_dir)
    if args.run_dir is not None:
        raise UsageError("--queue makes its own run directory in --runs-dir; drop --run-dir (it is for Slurm jobs)")
    # No warm trainer: it is for the app's ctrl+r, and nobody here would wait for the next run.
    launcher = LocalLauncher(runs_root=args.runs_dir, keep_warm=False)
    if args.resume:
        _experiment, run_dir = _resumed(args)
        status = read_status(run_dir)
        if status not in RESUMABLE_STATUSES:
            raise UsageError(f"{run_dir.name} is {status}; only a stopped, interrupted or failed run can be resumed")
        launcher.resume(run_dir)
    else:
        experiment, _info = build_experiment(args)
        try:
            run_dir = launcher.launch(experiment, name=args.name)
        except (OSError, ValueError) as error:
            print_error(f"cannot queue the run: {error}")
            return EXIT_FAILED
    print(run_dir)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.queue:
        return _queue(args)
    from kerastui.cli.progress import make_progress
    from kerastui.core.backend import BackendError, select_backend
    from kerastui.core.distribute import is_chief
    from kerastui.core.pipeline import RunInterrupted, RunNotCreated, run_experiment
    from kerastui.core.resources import efficiency_line
    from kerastui.core.runs import INTERRUPTED, REQUEUED, RunClaimError, has_saved_state, read_status
    from kerastui.core.train import StopRequest

    plain = _plain(args)
    check_runs_dir(args.runs_dir)
    restarted = _restarted_by_slurm(args.run_dir) if args.run_dir is not None and not args.resume else None
    resume = bool(args.resume)
    if args.resume:
        experiment, args.run_dir = _resumed(args)
    elif restarted is not None:
        # Slurm started the job again after a requeue: go on from the saved state, if any.
        experiment, resume = restarted
    else:
        experiment, _info = build_experiment(args)
    try:
        select_backend(experiment.backend)  # before anything imports keras
    except BackendError as error:
        raise UsageError(str(error)) from None
    dataset = load_experiment_data(experiment)
    from kerastui.core.tasks.targets import experiment_target_problems

    # Before a run directory exists: a loss that cannot take these targets is bad input, not a
    # run that fails at its first batch.
    if problems := experiment_target_problems(experiment, dataset):
        raise UsageError(*problems)

    run_dir = args.run_dir
    scratch = None
    chief = is_chief()
    if not chief:
        # Only the chief of a multi-worker job writes the run; the others write to scratch.
        scratch = Path(tempfile.mkdtemp(prefix="kerastui-worker-"))
        run_dir = scratch / "run"

    stop_event = StopRequest()
    # Asked once, at the start: whether a preemption's SIGTERM may requeue this job (Requeue=1).
    requeueable = _job_requeueable() if chief and os.environ.get("SLURM_JOB_ID") else False
    listeners: list[Any] = []
    # The other workers train in step with the chief: their epoch lines would only repeat its own.
    display = make_progress(plain) if chief else make_progress(True, stream=io.StringIO())
    try:
        with display, _ctrl_c_stops(stop_event, display.note, requeueable):
            outcome = run_experiment(
                experiment,
                dataset,
                runs_root=args.runs_dir,
                run_name=args.name,
                run_dir=run_dir,
                listeners=[display, *listeners],
                stop_event=stop_event,
                resume=resume,
                # Followers (the app's monitor, watch) move the charts within an epoch from these.
                batch_event_interval=0.5 if plain else 0.1,
            )
    except RunClaimError as error:  # another process writes it, or it has ended: nothing was touched
        raise UsageError(str(error)) from None
    except RunNotCreated as error:
        print_error(str(error))
        return EXIT_FAILED
    except RunInterrupted as interrupted:
        _report_interrupt(interrupted)
        return EXIT_INTERRUPTED
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    if stop_event.preempted and outcome.status in (REQUEUED, INTERRUPTED):
        return _after_preemption(outcome, chief, display.note)
    if outcome.status == REQUEUED:
        return _requeue(outcome, chief, display.note)
    if not chief:
        if outcome.status == "failed":
            print(f"kerastui: worker training failed: {outcome.reason}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        return EXIT_OK if outcome.status == "finished" else EXIT_INTERRUPTED
    if outcome.evaluation is not None:
        evaluation = outcome.evaluation
        from kerastui.cli.evaluate import summary_line

        print(summary_line(evaluation), flush=True)
    elif outcome.status != "failed" and outcome.reason:
        print(f"kerastui: warning: {outcome.reason}", file=sys.stderr, flush=True)  # e.g. evaluation failed
    print(f"run directory: {outcome.run_dir}", flush=True)
    if efficiency_line(outcome.resources):  # what seff would print, in the job's output too
        print(f"resources: {efficiency_line(outcome.resources)}", flush=True)
    if not outcome.recorded:
        print_error(f"the run's end could not be recorded ({outcome.reason}); "
                    f"its status file still says {read_status(outcome.run_dir)}, but it {outcome.status}")
        return EXIT_FAILED
    if outcome.status == "failed":
        print(f"kerastui: training failed: {outcome.reason}", file=sys.stderr, flush=True)
        if outcome.write_failed and has_saved_state(outcome.run_dir):
            print(f"kerastui: its finished epochs are saved; to go on once the cause is fixed: "
                  f"kerastui train --resume {shlex.quote(str(outcome.run_dir))}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    if outcome.status == "stopped":
        return EXIT_INTERRUPTED
    return EXIT_OK


def _restarted_by_slurm(run_dir: Path) -> tuple[Any, bool] | None:
    """(the run's own experiment, whether there is a saved state to resume) when this is the
    run's Slurm job started again: requeued at its time-limit warning, or requeued by Slurm
    itself (preemption, a node failure; SLURM_RESTART_COUNT says so). None otherwise."""
    from kerastui.core.runs import (
        REQUEUED,
        RESUMABLE_STATUSES,
        has_saved_state,
        read_info,
        read_status,
    )

    status = read_status(run_dir)
    restarts = os.environ.get("SLURM_RESTART_COUNT", "0")
    again = restarts.isdigit() and int(restarts) > 0 and status in (*RESUMABLE_STATUSES, "running")
    same_job = str(read_info(run_dir).get("slurm_job_id", "")) == os.environ.get("SLURM_JOB_ID", "-")
    if not (status == REQUEUED or (again and same_job)):
        return None
    if status == "running":  # killed without a word (a node failure): settled first, then resumed
        from kerastui.core.runs import mark_interrupted

        mark_interrupted(run_dir, "its Slurm job was requeued while the run trained")
    return _own_experiment(run_dir), has_saved_state(run_dir)


def _requeue(outcome: Any, chief: bool, note: Callable[[str], None]) -> int:
    """After Slurm's time-limit warning: requeue this job (the chief does), which resumes the run."""
    from kerastui.core import slurm
    from kerastui.core.runs import RunWriter, iso_time

    if not chief:
        return EXIT_OK
    done = outcome.result.epochs_done if outcome.result is not None else 0
    writer = RunWriter(outcome.run_dir)
    before = writer.info.get("requeued_at_epoch")
    if isinstance(before, int) and done <= before:
        # No epoch finished since the last requeue: another would loop for ever.
        writer.set_status("stopped")
        print_error(f"no epoch finished between two time-limit warnings (still {done}); not requeued again: "
                    f"give the job more time, then kerastui train --resume {shlex.quote(str(outcome.run_dir))}")
        return EXIT_INTERRUPTED
    writer.update_info(requeued=iso_time(time.time()), requeued_for="time limit", requeued_at_epoch=done)
    # Said first: Slurm ends this process the moment the requeue is accepted.
    note(f"requeued job {os.environ.get('SLURM_JOB_ID', '?')} at its time-limit warning after {done} epoch(s): "
         f"it resumes from there when Slurm starts it again")
    try:
        slurm.requeue_this_job()
    except slurm.SlurmError as error:
        writer.set_status("stopped")  # resumable by hand instead
        print_error(f"{error}; the run is stopped after {done} epoch(s), its state saved: "
                    f"kerastui train --resume {shlex.quote(str(outcome.run_dir))}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _job_requeueable() -> bool:
    """Whether Slurm lets this job be requeued (it was submitted with --requeue, or the site's
    JobRequeue=1 made it so): `scontrol show job` says Requeue=1."""
    from kerastui.core import slurm

    return slurm.job_fields(os.environ.get("SLURM_JOB_ID", "")).get("Requeue") == "1"


def _after_preemption(outcome: Any, chief: bool, note: Callable[[str], None]) -> int:
    """After a SIGTERM in a Slurm job, its state saved at the batch it landed on: requeue the job
    (status "requeued", shown as "requeued: preempted") unless it was cancelled on purpose or may
    not be requeued; then it ends interrupted, resumable with --resume."""
    from kerastui.core import slurm
    from kerastui.core.runs import INTERRUPTED, REQUEUED, RunWriter, iso_time

    if not chief:
        return EXIT_OK
    result = outcome.result
    done = result.epochs_done if result is not None else 0
    where = f"after {done} epoch(s)"
    saved = result.saved_mid_epoch if result is not None else None
    if saved:
        where = f"at batch {saved[1]} of epoch {saved[0] + 1}"
    writer = RunWriter(outcome.run_dir)
    resume = f"kerastui train --resume {shlex.quote(str(outcome.run_dir))}"
    job_id = os.environ.get("SLURM_JOB_ID", "?")
    grace = f"Slurm's KillWait grace time: {slurm.kill_wait_seconds()} s"
    if outcome.status == REQUEUED:
        state = slurm.job_fields(job_id).get("JobState", "")
        # A job only signalled (preemption's SIGTERM, scancel --signal=TERM) is still RUNNING; a plain
        # scancel (or its time limit) has it COMPLETING or CANCELLED: ended on purpose, not requeued.
        if state != "RUNNING":
            writer.set_status("stopped")
            writer.update_info(requeued_for=None)
            print_error(f"job {job_id} is ending ({state or 'state unknown'}), not requeued; the run is stopped "
                        f"{where}, its state saved: {resume}")
            return EXIT_INTERRUPTED
        writer.update_info(requeued=iso_time(time.time()), requeued_for="preempted", requeued_at_epoch=done)
        note(f"requeued: preempted; job {job_id} got SIGTERM, its state was saved {where} ({grace}); "
             "it resumes from there when Slurm starts it again")
        try:
            slurm.requeue_this_job()
        except slurm.SlurmError as error:
            writer.set_status(INTERRUPTED)
            print_error(f"{error}; the run is interrupted {where}, its state saved: {resume}")
            return EXIT_INTERRUPTED
        return EXIT_OK
    writer.update_info(interrupted_for="preempted")
    print_error(f"job {job_id} got SIGTERM and may not be requeued (Requeue=0); the run is interrupted "
                f"{where}, its state saved ({grace}): {resume}")
    return EXIT_INTERRUPTED


def _report_interrupt(interrupted: Any) -> None:
    from kerastui.core.runs import MODEL_FILE

    if interrupted.model_saved:
        kept = f"the model trained so far is saved as {interrupted.run_dir / MODEL_FILE}"
    elif interrupted.model_saved is False:
        kept = f"the model was NOT saved ({interrupted.note}); the finished epochs are in its metrics"
    else:
        kept = "no epoch had finished, so there was no model to save"
    print(f"kerastui: interrupted after {interrupted.epochs_done} epoch(s); run marked stopped in "
          f"{interrupted.run_dir}; {kept}", file=sys.stderr, flush=True)


def _plain(args: argparse.Namespace) -> bool:
    from kerastui.cli.common import plain_output

    return plain_output(args.plain)


def _stop_reason(signum: int) -> tuple[str, str]:
    """(the run's recorded reason, the line shown now) for a first SIGINT or SIGTERM."""
    if signum == signal.SIGINT:
        return "stopped with Ctrl+C", "stopping after this batch (Ctrl+C again to quit now)"
    if signum == signal.SIGUSR1:
        why = f"Slurm's time-limit warning to job {os.environ.get('SLURM_JOB_ID', '?')}: state saved, job requeued"
        return why, "time-limit warning from Slurm: stopping after this batch to requeue the job"
    if os.environ.get("SLURM_JOB_ID"):
        why = f"job {os.environ['SLURM_JOB_ID']} got SIGTERM from Slurm (preemption, scancel or its time limit): state saved"
    else:
        why = "stopped by SIGTERM"
    return why, f"{why}; stopping after this batch"


@contextlib.contextmanager
def _ctrl_c_stops(stop_event: StopRequest, note: Callable[[str], None],
                  requeueable: bool = False) -> Iterator[None]:
    """First Ctrl+C (or SIGTERM): stop gracefully after the batch (model saved, evaluated). Second: quit now.

    Slurm sends SIGTERM on scancel and at the time limit (then SIGKILL after KillWait), so a
    cancelled job keeps its finished epochs, model and evaluation like a Ctrl+C'd local run; the
    run's reason says which it was (a scancel is not "stopped by user" in the job's output).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    quitting = False

    def handler(signum: int, frame: Any) -> None:
        nonlocal quitting
        if quitting:
            raise KeyboardInterrupt  # a third: out now, the model save abandoned (and said so)
        if stop_event.is_set():
            quitting = True
            note("quitting now; saving the model trained so far (Ctrl+C again to quit without it)")
            raise KeyboardInterrupt
        reason, line = _stop_reason(signum)
        in_job = bool(os.environ.get("SLURM_JOB_ID"))
        if in_job and signum == signal.SIGTERM:
            # Preemption (or scancel, told apart afterwards): save the state at this batch, end
            # quickly within KillWait, then requeue if Slurm allows it (_after_preemption).
            from kerastui.core.runs import INTERRUPTED, REQUEUED

            stop_event.request(reason, requeue=True, save_state=True, preempted=True,
                               end_status=REQUEUED if requeueable else INTERRUPTED)
        else:
            stop_event.request(reason, requeue=signum == signal.SIGUSR1, save_state=in_job and signum == signal.SIGUSR1)
        note(line)

    signals = [signal.SIGINT, signal.SIGTERM]
    if os.environ.get("SLURM_JOB_ID"):
        signals.append(signal.SIGUSR1)  # sbatch --signal=B:USR1@N: the time limit is N seconds away
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
