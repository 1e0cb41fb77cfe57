"""Resume: a stopped (or interrupted) run continues from its last saved epoch in its own directory;
metrics.jsonl records the resume and holds every epoch once; a finished or edited run refuses."""

from __future__ import annotations

import contextlib
import io
from dataclasses import replace
from pathlib import Path

import pytest
from test_cli import TINY as CLI_TINY

from kerastui.cli import main
from kerastui.core import spec
from kerastui.core.data import load_dataset
from kerastui.core.events import EpochEnded, TrainingStarted
from kerastui.core.follower import RunFollower, is_training_event
from kerastui.core.pipeline import run_experiment
from kerastui.core.runs import BACKUP_DIR, load_run
from kerastui.core.train import StopRequest

pytestmark = pytest.mark.slow

# The CLI tests' tiny MLP on digits, for four epochs.
TINY = replace(CLI_TINY, fit=replace(CLI_TINY.fit, epochs=4))


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def stopped_after_two_epochs(root: Path) -> Path:
    stop = StopRequest()

    def after_second_epoch(event) -> None:
        if isinstance(event, EpochEnded) and event.epoch == 1:
            stop.request("stopped for the test")

    dataset = load_dataset("digits", seed=TINY.seed)
    outcome = run_experiment(TINY, dataset, runs_root=root, listeners=[after_second_epoch], stop_event=stop)
    assert outcome.status == "stopped" and outcome.result.epochs_done == 2
    assert (outcome.run_dir / BACKUP_DIR / "training_metadata.json").exists()
    return outcome.run_dir


def test_a_stopped_run_resumes_to_exactly_its_epochs_once_each(tmp_path):
    run_dir = stopped_after_two_epochs(tmp_path)
    code, out, err = cli("train", "--resume", str(run_dir), "--plain")
    assert code == 0, err
    assert "resumed at epoch 3 of 4" in out
    record = load_run(run_dir)
    assert [e.epoch for e in record.epoch_events] == [0, 1, 2, 3]  # once each, in order
    starts = [e for e in record.events if isinstance(e, TrainingStarted)]
    assert [s.initial_epoch for s in starts] == [0, 2]  # the resume is recorded
    assert record.status == "finished" and record.evaluation is not None and (run_dir / "model.keras").is_file()
    assert not (run_dir / BACKUP_DIR).exists()  # finished: nothing left to resume
    assert "resumed_time" in record.info
    # Followed from the start, one continuous curve over the global epoch.
    events = [e for e in RunFollower(run_dir, evaluation_wait=0).follow(poll_interval=0.01) if is_training_event(e)]
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0, 1, 2, 3]

    code, _, err = cli("train", "--resume", str(run_dir), "--plain")
    assert code == 2 and "has already finished" in err  # and refuses now


def test_an_interrupted_run_resumes_and_an_edited_one_refuses(tmp_path):
    run_dir = stopped_after_two_epochs(tmp_path)
    (run_dir / "status").write_text("interrupted\n")  # as a follower settles a SIGKILLed run
    config = (run_dir / "config.toml").read_bytes()
    (run_dir / "config.toml").write_text(spec.dumps(replace(TINY, fit=replace(TINY.fit, epochs=9))))
    code, _, err = cli("train", "--resume", str(run_dir), "--plain")
    assert code == 2 and "was edited since the run started" in err
    (run_dir / "config.toml").write_bytes(config)
    code, _, err = cli("train", "--resume", str(run_dir), "--plain")
    assert code == 0, err
    assert [e.epoch for e in load_run(run_dir).epoch_events] == [0, 1, 2, 3]


def test_resume_takes_no_options_that_would_change_the_experiment(tmp_path):
    code, _, err = cli("train", "--resume", str(tmp_path), "--epochs", "9")
    assert code == 2 and "--epochs" in err


def test_a_backup_every_few_batches_loses_at_most_those_batches(tmp_path):
    """fit.backup_every_batches: the state is saved within the epoch too; a run stopped mid-epoch
    resumes that epoch (from the weights saved a few batches before), recording each epoch once."""
    import json

    experiment = replace(TINY, fit=replace(TINY.fit, epochs=3, batch_size=16, backup_every_batches=5))
    stop = StopRequest()
    saved_at_first_epoch_end = []

    def mid_second_epoch(event) -> None:
        from kerastui.core.events import BatchEnded

        weights = sorted((tmp_path).glob(f"*/{BACKUP_DIR}/*.weights.h5"))
        if isinstance(event, EpochEnded) and event.epoch == 0:
            saved_at_first_epoch_end.append(weights[0].stat().st_mtime_ns)
        if isinstance(event, BatchEnded) and event.epoch == 1 and event.step >= 12:
            stop.request("stopped mid-epoch for the test")

    dataset = load_dataset("digits", seed=experiment.seed)
    outcome = run_experiment(experiment, dataset, runs_root=tmp_path, listeners=[mid_second_epoch], stop_event=stop,
                             batch_event_interval=0.0)
    assert outcome.status == "stopped" and outcome.result.epochs_done == 1
    metadata = json.loads((outcome.run_dir / BACKUP_DIR / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1  # one epoch finished; the weights are from within the second
    (weights,) = (outcome.run_dir / BACKUP_DIR).glob("*.weights.h5")
    assert weights.stat().st_mtime_ns > saved_at_first_epoch_end[0]  # saved again at batch 5 and 10
    code, out, err = cli("train", "--resume", str(outcome.run_dir), "--plain")
    assert code == 0, err
    record = load_run(outcome.run_dir)
    assert [e.epoch for e in record.epoch_events] == [0, 1, 2] and record.status == "finished"
    assert spec.Experiment().fit.backup_every_batches == 0  # off unless asked: a save costs a write
    assert [p.field for p in replace(TINY, fit=replace(TINY.fit, backup_every_batches=-1)).problems()] == [
        "fit.backup_every_batches"]
