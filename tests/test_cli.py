"""The `kerastui` command: headless train, runs, evaluate, watch; exit codes; import hygiene."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from kerastui.cli import SUBCOMMANDS, main
from kerastui.cli.common import plain_output
from kerastui.core import spec
from kerastui.core.events import EpochEnded, TrainingFailed, TrainingStarted
from kerastui.core.runs import RunWriter, load_run

REPO = Path(__file__).resolve().parents[1]
TINY = spec.Experiment(
    name="tiny",
    dataset="digits",
    layers=(
        spec.LayerSpec("Flatten"),
        spec.LayerSpec("Dense", {"units": 8, "activation": "relu"}),
        spec.LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
    ),
    fit=spec.FitSettings(epochs=5, batch_size=64),
)


def _run_dir_from(output: str) -> Path:
    match = re.search(r"^run directory: (.+)$", output, re.MULTILINE)
    assert match, output
    return Path(match.group(1).strip())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny real run made through `main`, shared by the tests that read it."""
    root = tmp_path_factory.mktemp("cli-runs")
    config = root.parent / "tiny.toml"
    spec.save(TINY, config)
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(["train", str(config), "--epochs", "2", "--seed", "3", "--runs-dir", str(root), "--name", "shared", "--plain"])
    finally:
        sys.stdout, sys.stderr = old
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "root": root}


# ---- import hygiene ------------------------------------------------------------------------


def test_help_and_core_imports_do_not_import_tensorflow():
    code = (
        "import sys, io, contextlib\n"
        "import kerastui.core.runs, kerastui.core.pipeline, kerastui.cli\n"
        f"for name in {SUBCOMMANDS!r}: __import__('kerastui.cli.' + name)\n"
        "import kerastui.cli.progress\n"
        "from kerastui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    codes = [main(['--help']), main(['train', '--help']), main(['watch', '--help'])]\n"
        "assert codes == [0, 0, 0], codes\n"
        "assert 'train' in out.getvalue()\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'textual', 'jax', 'torch') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_following_a_run_never_imports_keras(tmp_path):
    """A watcher on a login node stays small: `kerastui watch` (plain and in the app) follows a run to
    its end, evaluation included, without TensorFlow or Keras."""
    run = RUN_FOR_WATCH.format(root=str(tmp_path / "runs"))
    code = (
        "import sys, asyncio, io, contextlib\n"
        f"{run}\n"
        "from kerastui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = main(['watch', str(path), '--plain'])\n"
        "assert code == 0 and 'test accuracy' in out.getvalue(), out.getvalue()\n"
        "from kerastui.tui.watch import WatchApp\n"
        "async def follow():\n"
        "    app = WatchApp(path)\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        for _ in range(200):\n"
        "            await pilot.pause(0.05)\n"
        "            if getattr(app.screen, 'phase', '') == 'finished': break\n"
        "        assert app.screen.phase == 'finished', app.screen.phase\n"
        "asyncio.run(follow())\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = dict(os.environ, KERASTUI_WARM_TRAINER="0")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout


# A finished run written from scripted events (no training), for the watcher test above.
RUN_FOR_WATCH = """
from pathlib import Path
from kerastui.core.spec import Experiment
from kerastui.core.runs import RunWriter
from kerastui.core.events import TrainingStarted, EpochEnded, TrainingFinished
from kerastui.core.data import load_dataset
from kerastui.core.evaluate import evaluation_from_predictions
import numpy as np
writer = RunWriter.create(Experiment(), root=Path({root!r}), name='watched')
for event in (TrainingStarted(epochs=1, steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8),
              EpochEnded(epoch=0, epochs=1, metrics={{'loss': 1.0, 'accuracy': 0.5}}, seconds=0.1),
              TrainingFinished(epochs_done=1)):
    writer(event)
data = load_dataset('digits')
probabilities = np.eye(10)[data.y_test]
writer.save_evaluation(evaluation_from_predictions(data.y_test, probabilities, tuple(data.class_names), 0.1, 1.0))
writer.close()
path = writer.path
"""


def test_every_subcommand_is_listed_in_help(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in text


# ---- train ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_train_from_config_with_overrides_writes_complete_run(trained):
    assert trained["code"] == 0, trained["err"]
    run_dir = _run_dir_from(trained["out"])
    assert run_dir.parent == trained["root"] and run_dir.name.endswith("-shared")
    assert {"config.toml", "metrics.jsonl", "model.keras", "evaluation.json", "status", "info.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    saved = spec.load(run_dir / "config.toml")
    # Options override the file; everything else comes from it.
    assert saved == replace(TINY, fit=replace(TINY.fit, epochs=2), seed=3)
    assert "epoch 1/2" in trained["out"] and "epoch 2/2" in trained["out"]
    assert re.search(r"test accuracy 0\.\d{4}", trained["out"])
    record = load_run(run_dir)
    assert record.status == "finished" and record.epochs_done == 2


@pytest.mark.slow
def test_python_m_kerastui_train_preset_in_subprocess(tmp_path):
    """Also the issue's bar: the mlp preset on digits for 5 epochs reaches 0.90 test accuracy."""
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "kerastui", "train", "--preset", "mlp", "--dataset", "digits", "--epochs", "5",
         "--runs-dir", "tmp"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run_dir = tmp_path / _run_dir_from(result.stdout)
    assert run_dir.parent == tmp_path / "tmp" and run_dir.name.endswith("-mlp")
    assert sorted(p.name for p in run_dir.iterdir()) == [
        ".writer.lock", "config.toml", "evaluation.json", "info.json", "metrics.jsonl", "model.keras", "resources.jsonl", "status",
    ]
    assert (run_dir / "status").read_text().strip() == "finished"
    experiment = spec.load(run_dir / "config.toml")
    assert experiment.fit.epochs == 5 and experiment.layers[-1].params["units"] == 10
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert 0.90 <= evaluation["test_accuracy"] <= 1.0
    # Plain output (not a terminal): one line per epoch, no progress-bar control codes.
    assert "\x1b[" not in result.stdout and result.stdout.count("epoch ") == 5


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--dataset", "no_such_set"], "unknown dataset 'no_such_set'"),
        (["--learning-rate", "-0.1"], "compile.learning_rate = -0.1: must be a number greater than 0"),
        (["--preset", "cnn", "--dataset", "iris"], "cnn preset needs image data"),
        (["--optimizer", "adamm", "--batch-size", "0"], "compile.optimizer"),
        (["does-not-exist.toml"], "does-not-exist.toml: cannot be read"),
    ],
)
def test_bad_input_exits_2_with_a_reason(capsys, tmp_path, args, expected):
    code = main(["train", *args, "--runs-dir", str(tmp_path / "runs"), "--plain"])
    captured = capsys.readouterr()
    assert code == 2
    assert expected in captured.err
    assert all(line.startswith("kerastui: error: ") for line in captured.err.splitlines())
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing written


def test_every_problem_is_printed_on_its_own_line(capsys, tmp_path):
    assert main(["train", "--optimizer", "adamm", "--batch-size", "0", "--epochs", "-1", "--runs-dir", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert any("fit.batch_size" in line for line in lines) and any("fit.epochs" in line for line in lines)


def test_a_model_whose_output_does_not_fit_the_classes_is_bad_input_not_a_failed_run(capsys, tmp_path):
    # Caught before a run directory (or a Slurm job) exists; it used to fail at the first step,
    # exit 1 and leave a failed run, or in a queued job on a compute node.
    config = tmp_path / "five.toml"
    config.write_text('name = "five"\nlayers = [{ type = "Flatten" }, { type = "Dense", units = 5 }]\n')
    for command in ("train", "submit"):
        extra = ["--dry-run"] if command == "submit" else []
        assert main([command, str(config), "--runs-dir", str(tmp_path / "runs"), *extra]) == 2
        err = capsys.readouterr().err
        assert "layers[1].units = 5" in err and "10 classes" in err, err
    assert not (tmp_path / "runs").exists()


def test_unparsable_config_exits_2(capsys, tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text("name = \n")
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert "broken.toml: not valid TOML" in err and len(err.splitlines()) == 1


def test_argparse_type_errors_exit_2(capsys):
    assert main(["train", "--epochs", "many"]) == 2
    assert "invalid int value" in capsys.readouterr().err


# ---- train: outcome -> exit status, Ctrl+C ------------------------------------------------


def _fake_pipeline(monkeypatch, behaviour):
    """Replace run_experiment; `behaviour(kwargs)` returns a RunOutcome or raises."""
    from kerastui.core import pipeline

    monkeypatch.setattr(pipeline, "run_experiment", lambda experiment, dataset, **kwargs: behaviour(kwargs))


def test_failed_run_exits_1_with_reason(monkeypatch, capsys, tmp_path):
    from kerastui.core.pipeline import RunOutcome

    _fake_pipeline(monkeypatch, lambda kw: RunOutcome(tmp_path, "failed", None, None, "loss became NaN at epoch 2 batch 7"))
    assert main(["train", "--epochs", "1", "--plain"]) == 1
    captured = capsys.readouterr()
    assert "training failed: loss became NaN at epoch 2 batch 7" in captured.err
    assert f"run directory: {tmp_path}" in captured.out


def test_interrupt_exits_130_with_one_line(monkeypatch, capsys, tmp_path):
    from kerastui.core.pipeline import RunInterrupted

    def interrupted(kwargs):
        raise RunInterrupted(tmp_path / "run", 3)

    _fake_pipeline(monkeypatch, interrupted)
    assert main(["train", "--epochs", "5", "--plain"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted after 3 epoch(s)" in err[0] and str(tmp_path / "run") in err[0]


def test_first_ctrl_c_asks_for_a_graceful_stop_second_one_quits(monkeypatch, capsys, tmp_path):
    from kerastui.core.pipeline import RunOutcome

    seen = {}

    def run(kwargs):
        stop = kwargs["stop_event"]
        os.kill(os.getpid(), signal.SIGINT)  # first Ctrl+C: no exception, the stop flag is set
        time.sleep(0.05)
        seen["stop_set"] = stop.is_set()
        try:
            os.kill(os.getpid(), signal.SIGINT)  # second: quit now
            time.sleep(0.5)
        except KeyboardInterrupt:
            seen["second_raised"] = True
        return RunOutcome(tmp_path, "stopped", None, None, "stopped by user")

    _fake_pipeline(monkeypatch, run)
    before = signal.getsignal(signal.SIGINT)
    assert main(["train", "--epochs", "1", "--plain"]) == 130
    assert seen == {"stop_set": True, "second_raised": True}
    assert "stopping after this batch" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


def test_plain_output_rules(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert plain_output(False, Terminal()) is False
    assert plain_output(True, Terminal()) is True
    assert plain_output(False, io.StringIO()) is True  # piped / Slurm output file
    monkeypatch.setenv("NO_COLOR", "1")
    assert plain_output(False, Terminal()) is True


# ---- runs, evaluate --------------------------------------------------------------------------


@pytest.mark.slow
def test_runs_lists_the_run_and_notes_broken_ones(trained, capsys):
    broken = trained["root"] / "19990101-000000-broken"
    broken.mkdir(exist_ok=True)
    (broken / "config.toml").write_text("[[[")
    try:
        assert main(["runs", "--runs-dir", str(trained["root"])]) == 0
    finally:
        for child in broken.iterdir():
            child.unlink()
        broken.rmdir()
    out = capsys.readouterr().out
    run_dir = _run_dir_from(trained["out"])
    assert run_dir.name in out and "finished" in out and "digits" in out
    assert "Flatten Dense8 Dense10" in out and "2/2" in out and "local" in out
    assert "19990101-000000-broken" in out and "note" in out
    # Newest first: the real run is listed before the 1999 one.
    assert out.index(run_dir.name) < out.index("19990101-000000-broken")


def _written_run(root: Path, name: str, experiment: spec.Experiment, job_id: str | None = None) -> Path:
    writer = RunWriter.create(experiment, root=root, name=name)
    if job_id:
        writer.update_info(slurm_job_id=job_id)
    writer(TrainingStarted(epochs=400, steps_per_epoch=3, train_samples=96, validation_samples=24, batch_size=32))
    writer(EpochEnded(epoch=0, epochs=400, metrics={"loss": 0.5, "val_accuracy": 0.9583}, seconds=1.0))
    writer.close()
    return writer.path


@pytest.mark.parametrize("width", [80, 100, 120, 200, 240])
def test_runs_table_keeps_one_line_per_run_and_whole_names_at_any_width(tmp_path, width):
    from rich.console import Console

    from kerastui.cli.runs import runs_table
    from kerastui.core.presets import preset_layers
    from kerastui.core.runs import list_runs

    cnn = replace(TINY, name="cnn", dataset="breast_cancer", layers=preset_layers("cnn", (8, 8, 1), 10))
    paths = [_written_run(tmp_path, "ctrlc2", cnn), _written_run(tmp_path, "from-the-cluster", TINY, job_id="123456")]
    console = Console(width=width, record=True, color_system=None)
    console.print(runs_table(list_runs(tmp_path), width))
    text = console.export_text()
    lines = text.splitlines()
    for path in paths:
        # Folded cells put a run on 6-8 lines at 80 columns; each run must be one line, its name whole.
        assert sum(path.name in line for line in lines) == 1, "\n".join(lines)
    assert all(len(line) <= width for line in lines)
    row = next(line for line in lines if paths[1].name in line)
    assert "1/400" in row and "0.9583" in row and "slurm 123456" in row
    if width >= 240:  # with the resource columns (peak mem, CPU eff) beside it
        assert "Conv32 MaxPool2 Conv64 MaxPool2 Flatten Dense128 Dense10" in text


def test_runs_with_no_runs_says_how_to_make_one(capsys, tmp_path):
    assert main(["runs", "--runs-dir", str(tmp_path / "none")]) == 0
    assert "kerastui train" in capsys.readouterr().out


@pytest.mark.slow
def test_evaluate_rewrites_evaluation_and_prints_per_class_table(trained, capsys):
    run_dir = _run_dir_from(trained["out"])
    original = json.loads((run_dir / "evaluation.json").read_text())
    (run_dir / "evaluation.json").unlink()
    assert main(["evaluate", run_dir.name, "--runs-dir", str(trained["root"])]) == 0
    out = capsys.readouterr().out
    again = json.loads((run_dir / "evaluation.json").read_text())
    assert again["test_accuracy"] == pytest.approx(original["test_accuracy"], abs=1e-6)
    assert again["confusion"] == original["confusion"]
    assert "precision" in out and "recall" in out and f"test accuracy {original['test_accuracy']:.4f}" in out


def test_evaluate_without_model_exits_2(capsys, tmp_path):
    writer = RunWriter.create(TINY, tmp_path)
    assert main(["evaluate", str(writer.path)]) == 2
    assert "no model.keras" in capsys.readouterr().err


def test_evaluate_unknown_run_exits_2(capsys, tmp_path):
    assert main(["evaluate", "nothing-like-this", "--runs-dir", str(tmp_path)]) == 2
    assert "no run 'nothing-like-this'" in capsys.readouterr().err


# ---- watch ---------------------------------------------------------------------------------


def test_watch_prints_a_run_written_by_another_thread(capsys, tmp_path):
    writer = RunWriter.create(TINY, tmp_path)

    def write() -> None:
        time.sleep(0.2)
        writer(TrainingStarted(epochs=2, steps_per_epoch=3, train_samples=96, validation_samples=24, batch_size=32))
        for epoch in range(2):
            time.sleep(0.1)
            writer(EpochEnded(epoch=epoch, epochs=2, metrics={"loss": 0.5, "accuracy": 0.8 + epoch / 10}, seconds=0.1))
        writer(TrainingFailed(epochs_done=2, reason="loss became NaN at epoch 3 batch 1"))
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    code = main(["watch", str(writer.path), "--poll", "0.02", "--idle-timeout", "10"])
    thread.join()
    out = capsys.readouterr().out
    assert code == 1  # the run failed
    assert "epoch 1/2" in out and "accuracy 0.9000" in out
    assert "failed after 2 epochs: loss became NaN" in out


def test_watch_a_run_that_never_starts_ends_quiet(capsys, tmp_path):
    from kerastui.core.runs import RunWriter

    prepared = RunWriter.create(spec.Experiment(), root=tmp_path / "runs", name="prepared")
    prepared.set_status("prepared")  # made by submit --dry-run, never submitted
    prepared.update_info(pid=None)
    started = time.monotonic()
    code = main(["watch", str(prepared.path), "--poll", "0.02", "--idle-timeout", "0.3"])
    assert code == 3
    assert time.monotonic() - started < 5
    assert "has not started" in capsys.readouterr().out


@pytest.mark.parametrize("make, expected", [
    (lambda root: root / "no-such-run", "does not exist"),
    (lambda root: (root / "empty").mkdir() or root / "empty", "is not a run directory"),
])
def test_watch_a_path_that_is_no_run_says_so_at_once(capsys, tmp_path, make, expected):
    path = make(tmp_path)
    started = time.monotonic()
    assert main(["watch", str(path), "--plain"]) == 2
    assert time.monotonic() - started < 2
    assert expected in capsys.readouterr().err


def test_watch_an_interrupted_run_with_a_half_written_line_ends_at_once(capsys, tmp_path):
    from kerastui.core.runs import RunWriter

    writer = RunWriter.create(spec.Experiment(), root=tmp_path / "runs", name="killed")
    with open(writer.path / "metrics.jsonl", "a") as handle:
        handle.write('{"event": "epoch_e')
    writer.set_status("interrupted")
    started = time.monotonic()
    assert main(["watch", str(writer.path), "--plain"]) == 1
    assert time.monotonic() - started < 3
    assert "the run has ended: interrupted" in capsys.readouterr().out


def test_watch_a_slurm_run_waits_while_pending_and_reports_a_job_that_died_before_training(monkeypatch, capsys, tmp_path):
    # Before: a queued job longer than --idle-timeout was reported "quiet" (exit 3), and a job that
    # died before training (a broken environment on the node) left watch waiting out the timeout
    # and the run "submitted" for ever.
    from kerastui.cli import watch as watch_cli
    from kerastui.core import slurm

    writer = RunWriter.create(TINY, tmp_path)
    writer.set_status(slurm.SUBMITTED)
    writer.update_info(slurm_job_id="77")
    (writer.path / "slurm-77.out").write_text("kerastui job 77 started\nModuleNotFoundError: No module named 'keras'\n")
    states = iter([slurm.JobState("77", "PENDING", "Priority")] * 8 + [slurm.JobState("77", "FAILED", "NonZeroExitCode")])
    monkeypatch.setattr(slurm, "job_state", lambda job_id, **kwargs: next(states))
    monkeypatch.setattr(watch_cli, "JOB_CHECK_EVERY", 0.05)
    started = time.monotonic()
    code = main(["watch", str(writer.path), "--poll", "0.02", "--idle-timeout", "0.2", "--plain"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert time.monotonic() - started < 5
    assert "quiet" not in out  # 8 x 0.05 s pending is longer than the idle timeout, and not quiet
    assert "Slurm job 77: PENDING (Priority)" in out and "Slurm job 77: FAILED (NonZeroExitCode)" in out
    assert "No module named 'keras'" in out
    assert load_run(writer.path).status == "failed"


@pytest.mark.slow
def test_watch_a_finished_run_shows_its_evaluation(trained, capsys):
    run_dir = _run_dir_from(trained["out"])
    assert main(["watch", "latest", "--runs-dir", str(trained["root"]), "--idle-timeout", "2"]) == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "finished after 2 epochs" in out and "test accuracy" in out
    assert str(run_dir) in out


# ---- no subcommand: the UI -----------------------------------------------------------------


def test_no_subcommand_launches_the_ui(monkeypatch, tmp_path):
    app = pytest.importorskip("kerastui.tui.app")
    calls = []
    monkeypatch.setattr(app, "run_app", lambda path=None: calls.append(path) or 0)
    assert main([]) == 0
    assert main(["--experiment", str(tmp_path / "x.toml")]) == 0
    assert calls == [None, str(tmp_path / "x.toml")]


def test_sigterm_from_slurm_stops_gracefully_like_ctrl_c(monkeypatch, capsys, tmp_path):
    """scancel and a job's time limit send SIGTERM: the run stops after the batch, keeping its work."""
    from kerastui.core.pipeline import RunOutcome

    seen = {}

    def run(kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        seen["stop_set"] = kwargs["stop_event"].is_set()
        seen["reason"] = kwargs["stop_event"].reason
        seen["save_state"] = kwargs["stop_event"].save_state  # preemption: the state saved at this batch
        return RunOutcome(tmp_path, "stopped", None, None, kwargs["stop_event"].reason)

    _fake_pipeline(monkeypatch, run)
    monkeypatch.setenv("SLURM_JOB_ID", "4711")
    before = signal.getsignal(signal.SIGTERM)
    assert main(["train", "--epochs", "1", "--plain"]) == 130
    # The run records who stopped it: a scancel is not "stopped by user", and the job's output
    # does not tell anyone to press Ctrl+C.
    assert seen == {"stop_set": True, "save_state": True,
                    "reason": "job 4711 got SIGTERM from Slurm (preemption, scancel or its time limit): state saved"}
    out = capsys.readouterr().out
    assert "job 4711 got SIGTERM" in out and "Ctrl+C" not in out
    assert signal.getsignal(signal.SIGTERM) is before


def test_slurms_time_limit_warning_stops_keeps_the_state_and_requeues_the_job(monkeypatch, capsys, tmp_path):
    """sbatch --signal=B:USR1@N: the run stops after its batch, with no model or evaluation (the
    time left is short; the state saved each epoch is what a resume needs), says requeued, and
    the job requeues itself (the real cluster test follows it through the restart)."""
    from kerastui.core import slurm, train
    from kerastui.core.runs import read_status

    class WarnedTrainer:
        def __init__(self, experiment, dataset, listeners=(), stop_event=None, backup_dir=None, **kwargs):
            self.listeners, self.stop_event, self.model = list(listeners), stop_event, object()

        def run(self):
            for listener in self.listeners:
                listener(TrainingStarted(epochs=5, steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8))
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)
            assert self.stop_event.is_set() and self.stop_event.requeue
            from kerastui.core.events import TrainingStopped

            for listener in self.listeners:
                listener(TrainingStopped(epochs_done=0, reason=self.stop_event.reason))
            return train.TrainResult("stopped", self.model, {}, 0, self.stop_event.reason)

    requeued = []
    monkeypatch.setattr(train, "Trainer", WarnedTrainer)
    monkeypatch.setattr(slurm, "requeue_this_job", lambda: requeued.append(True) or "4711")
    monkeypatch.setenv("SLURM_JOB_ID", "4711")
    before = signal.getsignal(signal.SIGUSR1)
    assert main(["train", "--epochs", "5", "--plain", "--runs-dir", str(tmp_path / "runs")]) == 0
    (run_dir,) = list((tmp_path / "runs").iterdir())
    assert requeued == [True] and read_status(run_dir) == "requeued"
    assert not (run_dir / "model.keras").exists() and not (run_dir / "evaluation.json").exists()
    out = capsys.readouterr().out
    assert "time-limit warning from Slurm" in out and "requeued job 4711" in out
    assert signal.getsignal(signal.SIGUSR1) is before


def test_runs_shows_peak_memory_and_cpu_efficiency(trained, capsys):
    assert main(["runs", "--runs-dir", str(trained["root"])]) == 0
    out = capsys.readouterr().out
    assert "peak mem" in out and "CPU eff" in out
    assert "MiB" in out or "GiB" in out  # the peak: a loaded machine pushes the run past 1 GiB


@pytest.mark.gpu
def test_a_short_run_on_a_gpu_records_real_gpu_figures(tmp_path):
    from kerastui.core.resources import Nvml, read_resources

    if not Nvml().gpus():
        pytest.skip("no NVIDIA GPU with a driver here")
    result = subprocess.run([sys.executable, "-m", "kerastui", "train", "--epochs", "2", "--plain",
                             "--runs-dir", str(tmp_path / "runs")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    log = read_resources(_run_dir_from(result.stdout))
    gpus = log.latest["gpus"]
    assert gpus and all(0 <= g["util"] <= 100 and 0 < g["mem_used"] <= g["mem_total"] for g in gpus)
    assert "mean GPU utilisation" in result.stdout
