"""Bad input and faults, tried as a hostile user would: each case asserts the exit code, a message
that names the problem, and that nothing already done was lost (files of finished work unchanged,
byte for byte where they should be).

- One writer per run directory: finished work is never written into again, a second writer is
  refused naming the holder, a submitted run is not submitted twice.
- Every write can fail (a full disk, a read-only file system, the run directory removed): the
  run ends failed, with the file and the reason, and never says finished without a model.
  The full-disk and read-only cases mount a small tmpfs, which needs root; elsewhere they skip.
- A second Ctrl+C saves the model trained so far, or says it did not.
- No input reaches a traceback; problems are reported all at once, bounded.
- `watch` ends at once for an ended run, a path that is no run, a path that does not exist.

The app's own cases (ctrl+o on a bad file, a runs directory that is a file) are in
tests/tui/test_app_faults.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_cli import TINY

from kerastui.core import spec
from kerastui.core.events import EpochEnded, TrainingFinished, TrainingStarted, TrainingStopped
from kerastui.core.runs import (
    LOCK_FILE,
    RunClaimError,
    RunWriter,
    load_run,
    read_events,
    read_status,
    writer_alive,
    writer_lock_held,
)

REPO = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str], cwd: Path) -> dict:
    """`kerastui ARGV` in this process, its output captured."""
    import contextlib
    import io

    from kerastui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.is_file() and p.name != LOCK_FILE}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    config = root / "tiny.toml"
    spec.save(TINY, config)
    result = run_cli(["train", str(config), "--epochs", "1", "--runs-dir", str(root / "r"), "--plain"], root)
    assert result["code"] == 0, result["err"]
    (run_dir,) = [p for p in (root / "r").iterdir() if p.is_dir()]
    return run_dir


def test_training_into_a_finished_run_is_refused_and_changes_nothing(finished_run, tmp_path):
    before = snapshot(finished_run)
    result = run_cli(["train", str(finished_run / "config.toml"), "--run-dir", str(finished_run), "--plain"], tmp_path)
    assert result["code"] == 2
    assert "has already finished" in result["err"] and str(finished_run) in result["err"]
    assert snapshot(finished_run) == before  # byte for byte: model, metrics, evaluation, config, status


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    run_dir = RunWriter.create(TINY, root=tmp_path / "runs", name="held").path
    RunWriter(run_dir).set_status("queued")
    holder = RunWriter.open(run_dir, TINY)  # this process trains into it
    try:
        before = snapshot(run_dir)
        config = tmp_path / "tiny.toml"
        spec.save(TINY, config)
        result = subprocess.run(
            [sys.executable, "-m", "kerastui", "train", str(config), "--run-dir", str(run_dir), "--plain"],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert "being written by another process" in result.stderr and f"pid {os.getpid()}" in result.stderr
        assert snapshot(run_dir) == before
        assert writer_lock_held(run_dir) is True and writer_alive(run_dir) is True
    finally:
        holder.close()
    assert writer_lock_held(run_dir) is False and writer_alive(run_dir) is False  # released with its writer


def test_claiming_in_process_is_refused_too(tmp_path):
    run_dir = RunWriter.create(TINY, root=tmp_path / "runs", name="twice").path
    first = RunWriter(run_dir)
    first.claim()
    try:
        with pytest.raises(RunClaimError, match="being written by another process"):
            RunWriter(run_dir).claim()
    finally:
        first.close()
    second = RunWriter(run_dir)
    second.claim()  # free again once the first writer closed
    second.close()


def test_submit_prepared_refuses_a_run_that_already_has_a_job(tmp_path, capsys):
    run_dir = RunWriter.create(TINY, root=tmp_path / "runs", name="submitted").path
    writer = RunWriter(run_dir)
    writer.set_status("submitted")
    writer.update_info(slurm_job_id="4242")
    before = snapshot(run_dir)
    from kerastui.cli import main

    assert main(["submit", "--prepared", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "job 4242" in err and "not a prepared run" in err
    assert snapshot(run_dir) == before


# ---- bad input that reached a traceback or was silently accepted (issue 11) ------------------------


def test_a_toml_with_non_utf8_bytes_is_bad_input_naming_the_file(tmp_path):
    config = tmp_path / "latin1.toml"
    config.write_bytes(b'name = "caf\xe9"\n')
    result = run_cli(["train", str(config), "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2
    assert str(config) in result["err"] and "not UTF-8" in result["err"] and "Traceback" not in result["err"]
    assert not (tmp_path / "runs").exists()


def test_an_empty_dataset_option_is_bad_input_not_digits(tmp_path):
    result = run_cli(["train", "--dataset", "", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2 and "--dataset is empty" in result["err"]
    assert not (tmp_path / "runs").exists()


def test_a_run_named_like_an_impossible_time_does_not_hide_the_others(finished_run, tmp_path):
    import shutil

    from kerastui.core.runs import list_runs

    root = tmp_path / "runs"
    shutil.copytree(finished_run, root / finished_run.name)
    odd = root / "20261399-256199-odd"
    odd.mkdir()
    (odd / "status").write_text("finished\n")
    names = {r.name for r in list_runs(root)}
    assert names == {finished_run.name, odd.name}
    result = run_cli(["runs", "--runs-dir", str(root)], tmp_path)
    assert result["code"] == 0 and "Traceback" not in result["err"]
    assert finished_run.name in result["out"]


# ---- helpers for the fault cases --------------------------------------------------------------


def no_traceback(result: dict) -> None:
    assert "Traceback" not in result["err"] and "Traceback" not in result["out"], result["err"]


def metrics_lines_are_whole(run_dir: Path) -> list:
    """Every line of metrics.jsonl is a complete event: what was written stays valid."""
    text = (run_dir / "metrics.jsonl").read_text()
    assert text == "" or text.endswith("\n")
    events, notes = read_events(run_dir / "metrics.jsonl")
    assert notes == []
    return events


@contextlib.contextmanager
def small_filesystem(size: str, read_only: bool = False):
    """A tmpfs of `size` (a full disk in miniature), mounted for the test; skips without root."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("the full-disk and read-only cases mount a small tmpfs, which needs root")
    import tempfile

    point = Path(tempfile.mkdtemp(prefix="kerastui-fs-"))
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
        point.rmdir()


class ScriptedModel:
    """Stands in for a Keras model; saving writes `size` bytes (or raises `fail`)."""

    def __init__(self, size: int = 64, fail: BaseException | None = None):
        self.size, self.fail = size, fail

    def save(self, filepath: str) -> None:
        if self.fail is not None:
            raise self.fail
        Path(filepath).write_bytes(b"m" * self.size)


class ScriptedTrainer:
    """Emits the real Trainer's events; `after_epoch(epoch, trainer)` is the fault to inject."""

    after_epoch = staticmethod(lambda epoch, trainer: None)
    model_size = 64

    def __init__(self, experiment, dataset, listeners=(), batch_event_interval=0.0, stop_event=None, backup_dir=None):
        from kerastui.core.train import TrainResult

        self.result_type = TrainResult
        self.epochs = experiment.fit.epochs
        self.listeners = list(listeners)
        self.stop_event = stop_event or threading.Event()
        self.model = ScriptedModel(self.model_size)
        self.run_dir = Path(backup_dir).parent if backup_dir is not None else None

    def emit(self, event) -> None:
        for listener in self.listeners:
            listener(event)

    def run(self):
        self.emit(TrainingStarted(epochs=self.epochs, steps_per_epoch=1, train_samples=8, validation_samples=2, batch_size=8))
        done = 0
        for epoch in range(self.epochs):
            if self.stop_event.is_set():
                self.emit(TrainingStopped(epochs_done=done, reason="stopped by user"))
                return self.result_type("stopped", self.model, {}, done, "stopped by user")
            self.emit(EpochEnded(epoch=epoch, epochs=self.epochs, metrics={"loss": 1.0 / (epoch + 1)}, seconds=0.01))
            done = epoch + 1
            try:
                self.after_epoch(epoch, self)
            except KeyboardInterrupt:
                self.emit(TrainingStopped(epochs_done=done, reason="interrupted (Ctrl+C)"))
                raise
        self.emit(TrainingFinished(epochs_done=done))
        return self.result_type("finished", self.model, {}, done, "completed")


def scripted_trainer(monkeypatch, after_epoch=None, model_size: int = 64) -> None:
    from kerastui.core import train

    fake = type("Scripted", (ScriptedTrainer,), {"model_size": model_size})
    if after_epoch is not None:
        fake.after_epoch = staticmethod(after_epoch)
    monkeypatch.setattr(train, "Trainer", fake)


def train_args(runs_dir: Path, *extra: str) -> list[str]:
    return ["train", "--epochs", "3", "--plain", "--runs-dir", str(runs_dir), *extra]


def only_run(runs_dir: Path) -> Path:
    (run_dir,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    return run_dir


# ---- every write can fail, and says so ------------------------------------------------------


def test_a_full_disk_fails_the_run_with_the_reason_and_no_traceback(tmp_path):
    with small_filesystem("120k") as disk:
        result = run_cli(train_args(disk / "runs"), tmp_path)
        assert result["code"] == 1
        assert "disk is full" in result["err"]
        assert "finished" not in result["out"] and "test accuracy" not in result["out"]
        no_traceback(result)
        run_dir = only_run(disk / "runs")
        assert read_status(run_dir) == "failed"  # recorded, not "running" for ever
        assert not (run_dir / "model.keras").exists()
        metrics_lines_are_whole(run_dir)


def test_a_nearly_full_disk_never_prints_finished_for_a_model_it_could_not_save(tmp_path, monkeypatch):
    scripted_trainer(monkeypatch, model_size=900 * 1024)  # more than the disk has left
    with small_filesystem("512k") as disk:
        result = run_cli(train_args(disk / "runs"), tmp_path)
        assert result["code"] == 1
        assert "model.keras could not be written" in result["err"] and "the disk is full" in result["err"]
        assert "finished" not in result["out"] and "test accuracy" not in result["out"]
        no_traceback(result)
        run_dir = only_run(disk / "runs")
        record = load_run(run_dir)
        assert record.status == "failed" and "model.keras" in record.reason
        assert not any(isinstance(e, TrainingFinished) for e in record.events)
        assert record.epochs_done == 3  # the finished epochs are kept
        assert not list(run_dir.glob(".model.keras*"))  # no half-written temporary left behind
        metrics_lines_are_whole(run_dir)


def test_a_disk_that_fills_mid_training_stops_the_run_and_records_failed(tmp_path, monkeypatch):
    def fill_the_disk(epoch, trainer):
        if epoch == 0:
            with contextlib.suppress(OSError), open(trainer.run_dir.parent / "filler", "wb") as handle:
                while True:
                    handle.write(b"x" * 65536)
                    handle.flush()

    scripted_trainer(monkeypatch, fill_the_disk)
    with small_filesystem("256k") as disk:
        result = run_cli(train_args(disk / "runs", "--epochs", "20"), tmp_path)
        assert result["code"] == 1
        # The first run file that no longer fits is named (which one depends on the page sizes).
        assert " could not be written in " in result["err"] and "disk is full" in result["err"]
        assert "finished" not in result["out"]
        no_traceback(result)
        run_dir = only_run(disk / "runs")
        assert read_status(run_dir) == "failed"  # over the old word in place: no new block needed
        events = metrics_lines_are_whole(run_dir)
        assert sum(isinstance(e, EpochEnded) for e in events) >= 1  # the epochs before the disk filled
        assert not any(isinstance(e, TrainingFinished) for e in events)


def test_the_run_directory_removed_mid_training_is_reported_and_not_recreated(tmp_path, monkeypatch):
    def remove_it(epoch, trainer):
        if epoch == 0:
            shutil.rmtree(trainer.run_dir)

    scripted_trainer(monkeypatch, remove_it)
    result = run_cli(train_args(tmp_path / "runs", "--epochs", "5"), tmp_path)
    assert result["code"] == 1
    assert "the run directory was removed" in result["err"]
    assert "could not be recorded" in result["err"]  # its status could not be written either: said so
    assert "finished" not in result["out"]
    no_traceback(result)
    assert list((tmp_path / "runs").iterdir()) == []  # not re-created half-empty


def test_a_read_only_runs_directory_is_reported_before_training(tmp_path):
    with small_filesystem("1m", read_only=True) as disk:
        for argv, code in ((train_args(disk / "runs"), 1),
                           (["sweep", str(Path(__file__).parents[1] / "examples" / "sweep.toml"), "--runs-dir", str(disk / "runs")], 1)):
            result = run_cli(argv, tmp_path)
            assert result["code"] == code, result
            assert "Read-only file system" in result["err"] and str(disk / "runs") in result["err"]
            no_traceback(result)
        assert list(disk.iterdir()) == []


def test_evaluate_on_a_read_only_run_prints_the_evaluation_and_says_it_was_not_saved(finished_run, tmp_path):
    with small_filesystem("4m") as disk:
        copy = disk / finished_run.name
        shutil.copytree(finished_run, copy)
        before = snapshot(copy)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        result = run_cli(["evaluate", str(copy)], tmp_path)
        assert result["code"] == 1
        assert "evaluation.json could not be written" in result["err"] and "read-only" in result["err"]
        assert "test accuracy" in result["out"]
        no_traceback(result)
        assert snapshot(copy) == before


@pytest.mark.parametrize("command", ["train", "runs", "sweep", "submit", "watch"])
def test_a_runs_directory_that_is_a_file_is_bad_input(tmp_path, command):
    runs_file = tmp_path / "runs-file"
    runs_file.write_text("not a directory\n")
    argv = {
        "train": ["train", "--plain"],
        "runs": ["runs"],
        "sweep": ["sweep", str(Path(__file__).parents[1] / "examples" / "sweep.toml")],
        "submit": ["submit", "--dry-run"],
        "watch": ["watch", "latest", "--plain"],
    }[command] + ["--runs-dir", str(runs_file)]
    result = run_cli(argv, tmp_path)
    assert result["code"] == 2
    assert str(runs_file) in result["err"] and ("is a file" in result["err"] or "not a directory" in result["err"])
    no_traceback(result)
    assert runs_file.read_text() == "not a directory\n"


def test_a_runs_directory_under_a_file_is_reported(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = run_cli(train_args(tmp_path / "afile" / "runs"), tmp_path)
    assert result["code"] == 1 and "Not a directory" in result["err"] and "afile" in result["err"]
    no_traceback(result)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_run_files_follow_the_umask_for_shared_project_directories(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        writer = RunWriter.create(TINY, root=tmp_path / "runs", name="shared")
        writer(TrainingStarted(epochs=1, steps_per_epoch=1, train_samples=1, validation_samples=0, batch_size=1))
        writer.close()
    finally:
        os.umask(old)
    for name in ("config.toml", "status", "info.json", "metrics.jsonl"):
        assert (writer.path / name).stat().st_mode & 0o777 == mode, name


# ---- Ctrl+C ----------------------------------------------------------------------------------


def test_a_second_ctrl_c_saves_the_model_trained_so_far_and_says_so(tmp_path, monkeypatch):
    def interrupt(epoch, trainer):
        if epoch == 1:
            raise KeyboardInterrupt  # what the second Ctrl+C raises

    scripted_trainer(monkeypatch, interrupt)
    result = run_cli(train_args(tmp_path / "runs"), tmp_path)
    assert result["code"] == 130
    run_dir = only_run(tmp_path / "runs")
    assert "the model trained so far is saved as" in result["err"] and str(run_dir / "model.keras") in result["err"]
    assert (run_dir / "model.keras").exists()
    record = load_run(run_dir)
    assert record.status == "stopped" and record.epochs_done == 2
    no_traceback(result)


def test_ctrl_c_when_the_model_cannot_be_saved_says_it_was_not(tmp_path, monkeypatch):
    def interrupt(epoch, trainer):
        trainer.model.fail = OSError(28, "No space left on device")
        raise KeyboardInterrupt

    scripted_trainer(monkeypatch, interrupt)
    result = run_cli(train_args(tmp_path / "runs"), tmp_path)
    assert result["code"] == 130
    assert "the model was NOT saved" in result["err"] and "No space left on device" in result["err"]
    run_dir = only_run(tmp_path / "runs")
    assert not (run_dir / "model.keras").exists()
    assert load_run(run_dir).epochs_done == 1  # the finished epoch is kept
    no_traceback(result)


# ---- no input reaches a traceback ------------------------------------------------------------


def _write_npz(path: Path, y_train, classes_in_test=None) -> Path:
    x = np.random.default_rng(0).random((len(y_train), 8, 8)).astype("float32")
    y_test = np.asarray(classes_in_test if classes_in_test is not None else y_train[:10])
    np.savez(path, x_train=x, y_train=np.asarray(y_train), x_test=x[: len(y_test)], y_test=y_test)
    return path


def _bad_inputs(tmp_path: Path) -> dict:
    loop = tmp_path / "loop.npz"
    os.symlink(tmp_path / "loop2.npz", loop)
    os.symlink(loop, tmp_path / "loop2.npz")
    os.symlink(tmp_path / "gone.npz", tmp_path / "dangling.npz")
    (tmp_path / "header.csv").write_text("label,a,b\n")
    (tmp_path / "numbers.csv").write_text("1,2,3\n")
    (tmp_path / "garbage.npz").write_bytes(b"\x00not a zip at all")
    np.savez(tmp_path / "xy.npz", x=np.zeros((4, 2)), y=np.zeros(4))
    (tmp_path / "noidx").mkdir()
    _write_npz(tmp_path / "single.npz", np.zeros(40, dtype=int))
    far = np.arange(40) % 3
    far[7] = 1000
    _write_npz(tmp_path / "far.npz", far, classes_in_test=np.arange(10) % 3)
    (tmp_path / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    (tmp_path / "badlayer.toml").write_text('dataset = "digits"\n[[layers]]\ntype = "Dense"\nunits = -3\n')
    os.mkfifo(tmp_path / "pipe.npz")  # a reader would wait on it forever
    os.mkfifo(tmp_path / "pipe.toml")
    rng = np.random.default_rng(0)
    nan_x = rng.normal(size=(40, 3)).astype(np.float32)
    nan_x[5, 1] = np.nan
    np.savez(tmp_path / "nan_inputs.npz", x_train=nan_x, y_train=np.arange(40) % 2, x_test=nan_x[:10],
             y_test=np.arange(10) % 2)
    np.savez(tmp_path / "floats.npz", x_train=rng.normal(size=(40, 3)).astype(np.float32),
             y_train=rng.normal(size=40).astype(np.float32), x_test=rng.normal(size=(10, 3)).astype(np.float32),
             y_test=rng.normal(size=10).astype(np.float32))
    (tmp_path / "embedding.toml").write_text(
        f'dataset = "{tmp_path / "floats.npz"}"\n[[layers]]\ntype = "Embedding"\n[[layers]]\ntype = "Flatten"\n'
        '[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "linear"\n[compile]\nloss = "mse"\n')
    (tmp_path / "softmax_binary_weights.toml").write_text(
        'dataset = "breast_cancer"\n[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "sigmoid"\n'
        '[compile]\nloss = "binary_crossentropy"\n[fit]\nclass_weight = [1, 2, 3]\n')
    (tmp_path / "mse_binary.toml").write_text(
        'dataset = "breast_cancer"\n[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "sigmoid"\n[compile]\nloss = "mse"\n')
    _task_fault_files(tmp_path, rng)
    t = tmp_path
    return {
        **{f"task = {value} in the TOML": ([str(t / f"task_{i}.toml")], message)
           for i, (value, message) in enumerate(TASK_VALUES)},
        "a layer type that is not text": ([str(t / "layer_type_list.toml")], "layers[0].type = ['Dense']: must be a layer type"),
        "layers that are no array": ([str(t / "layers_number.toml")], "layers = 3: must be an array of tables"),
        "a dataset that is a number": ([str(t / "dataset_number.toml")], "dataset = 3: must be text in quotes"),
        "NaN in the training targets": (["--dataset", str(t / "nan_y_train.npz")],
                                        "y_train has 1 NaN or infinite value; the first at sample 7"),
        "infinite test targets": (["--dataset", str(t / "inf_y_test.npz")],
                                  "y_test has 2 NaN or infinite values; the first at sample 3"),
        "NaN in one of several targets": (["--dataset", str(t / "nan_y3.npz")],
                                          "y_train has 1 NaN or infinite value; the first at sample 9, column 2"),
        "infinite test inputs": (["--dataset", str(t / "inf_x_test.npz")],
                                 "x_test has 1 NaN or infinite value; the first at sample 2, column 3"),
        "NaN in a signal": (["--dataset", str(t / "nan_signal.npz")],
                            "x_train has 1 NaN or infinite value; the first at sample 11, time step 5, channel 1"),
        "NaN features in a CSV": (["--dataset", str(t / "nan_features.csv")],
                                  "2 NaN or infinite feature values; the first at line 4 (sample 1), column 'b'"),
        "NaN targets in a CSV": (["--dataset", str(t / "nan_targets.csv")],
                                 "2 NaN or infinite label values; the first at line 4 (sample 1), column 'target'"),
        "string labels": (["--dataset", str(t / "strings.npz")], "labels of type <U1 fit no task"),
        "3-D labels": (["--dataset", str(t / "labels3d.npz")], "y_train: labels of shape (50, 2, 2) fit no task"),
        "negative class numbers": (["--dataset", str(t / "negative.npz")], "integer labels from -1 to 1"),
        "a huge class number": (["--dataset", str(t / "huge.npz")], "label 1000000000000 is far outside the others"),
        "complex labels": (["--dataset", str(t / "complex.npz")], "labels of type complex64 fit no task"),
        "a training split of one class": (["--dataset", str(t / "train_one_class.npz")],
                                          "y_train holds only class 0 ('0'); a classifier learns nothing"),
        "multilabel on one label per sample": (["--dataset", "breast_cancer", "--task", "multilabel"],
                                               "cannot be a multilabel task's targets"),
        "binary on five classes": (["--dataset", str(t / "five.npz"), "--task", "binary"],
                                   "binary labels must be 0 or 1; found 0, 1, 2, 3, 4"),
        "binary on regression targets": (["--dataset", str(t / "floats.npz"), "--task", "binary"],
                                         "binary labels must be 0 or 1"),
        "regression on strings, alone": (["--dataset", str(t / "strings.npz"), "--task", "regression"],
                                         "labels of type <U1 fit no task"),
        "targets beyond float32": (["--dataset", str(t / "beyond_float32.npz")], "target value(s) beyond float32's range"),
        "targets whose squares overflow": (["--dataset", str(t / "huge_targets.npz")],
                                           "make squared errors (mse, RMSE) past float32's largest number"),
        "softmax on a multilabel task": ([str(t / "softmax_multilabel.toml")], "softmax makes the labels compete"),
        "10 units for 3 targets": ([str(t / "ten_for_three.toml")], "outputs 10 values but the dataset has 3 targets"),
        "2 sigmoid units for a binary task": ([str(t / "two_sigmoid_binary.toml")], "a binary task needs 1"),
        "class weights on regression": ([str(t / "weights_regression.toml")], "which a regression task does not have"),
        "a negative class weight": ([str(t / "weights_negative.toml")], "each weight must be a number greater than 0"),
        "a zero class weight": ([str(t / "weights_zero.toml")], "each weight must be a number greater than 0"),
        "a negative focal gamma": ([str(t / "focal_gamma.toml")], "compile.focal_gamma = -1: must be a number at least 0"),
        "a focal alpha above 1": ([str(t / "focal_alpha.toml")], "compile.focal_alpha = 1.5: must be at most 1"),
        "a huber delta of 0": ([str(t / "huber_zero.toml")], "compile.huber_delta = 0: must be greater than 0"),
        "a negative huber delta": ([str(t / "huber_negative.toml")], "compile.huber_delta = -1: must be a number at least 0"),
        "a FIFO as the data file": (["--dataset", str(tmp_path / "pipe.npz")], "is a FIFO (named pipe), not a regular file"),
        "a FIFO as the experiment": ([str(tmp_path / "pipe.toml")], "is a FIFO (named pipe), not a regular file"),
        "NaN in the inputs": (["--dataset", str(tmp_path / "nan_inputs.npz")], "1 NaN or infinite value; the first at sample 5, column 1"),
        "float values into an Embedding": ([str(tmp_path / "embedding.toml")], "Embedding reads word numbers (integers)"),
        "a task the labels cannot be": (["--dataset", "digits", "--task", "multilabel"], "cannot be a multilabel task's targets"),
        "an unknown task": (["--task", "ranking"], "task = 'ranking': unknown task"),
        "a regression loss on a binary task": ([str(tmp_path / "mse_binary.toml")], "a binary task takes binary_crossentropy"),
        "a weight per class, miscounted": ([str(tmp_path / "softmax_binary_weights.toml")], "gives 3 weights but the data has 2 classes"),
        "symlink loop": (["--dataset", str(loop)], "symbolic link that leads nowhere"),
        "dangling symlink": (["--dataset", str(tmp_path / "dangling.npz")], "symbolic link that leads nowhere"),
        "csv with a header only": (["--dataset", str(tmp_path / "header.csv")], "no data rows"),
        "csv with one row of numbers": (["--dataset", str(tmp_path / "numbers.csv")], "must be a header"),
        "npz that is no zip": (["--dataset", str(tmp_path / "garbage.npz")], "garbage.npz"),
        "npz without the arrays": (["--dataset", str(tmp_path / "xy.npz")], "missing array(s)"),
        "directory without IDX files": (["--dataset", str(tmp_path / "noidx")], "noidx"),
        "a single class": (["--dataset", str(tmp_path / "single.npz")], "every label is 0: a classifier needs at least two"),
        "a label far outside the others": (["--dataset", str(tmp_path / "far.npz")], "label 1000 is far outside the others"),
        "unknown dataset name": (["--dataset", "imagenet22k"], "unknown dataset 'imagenet22k'"),
        "non-UTF-8 config": ([str(tmp_path / "latin1.toml")], "not UTF-8"),
        "a layer parameter out of range": ([str(tmp_path / "badlayer.toml")], "layers[0].units = -3"),
        "early stopping without a validation split": (["--validation-split", "0", "--patience", "2"], "needs a validation split"),
        "zero epochs": (["--epochs", "0"], "fit.epochs = 0"),
        "a negative batch size": (["--batch-size", "-8"], "fit.batch_size = -8"),
        "an unknown optimizer": (["--optimizer", "sgdx"], "unknown optimizer"),
        "an unknown backend": (["--backend", "theano"], "backend = 'theano'"),
    }


# task = ... in an experiment file, and the one line each gets (alone: not under the mismatches
# of a task nobody chose).
TASK_VALUES = [
    ('"ranking"', "task = 'ranking': unknown task; allowed: multiclass, binary"),
    ('3', "task = 3: must be text in quotes (multiclass, binary, multilabel, regression"),
    ('true', "task = True: must be text in quotes"),
    ('["binary"]', "task = ['binary']: must be text in quotes"),
    ('{a = 1}', "task = {'a': 1}: must be text in quotes"),
]
SIGMOID_OUT = '[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "sigmoid"\n[compile]\nloss = "binary_crossentropy"\n'


def _task_fault_files(tmp_path: Path, rng) -> None:
    """The data and experiment files of the task cases (issue 17's bad input), a few KB each."""
    t = tmp_path
    x, x_test = rng.normal(size=(50, 4)).astype(np.float32), rng.normal(size=(20, 4)).astype(np.float32)
    binary, binary_test = np.arange(50) % 2, np.arange(20) % 2
    real, real_test = rng.normal(size=50).astype(np.float32), rng.normal(size=20).astype(np.float32)

    def npz(name, y, y_test, x_train=x, x_held=x_test):
        np.savez(t / name, x_train=x_train, y_train=y, x_test=x_held, y_test=y_test)

    bad = real.copy()
    bad[7] = np.nan
    npz("nan_y_train.npz", bad, real_test)
    bad = real_test.copy()
    bad[3], bad[4] = np.inf, np.nan
    npz("inf_y_test.npz", real, bad)
    three = rng.normal(size=(50, 3)).astype(np.float32)
    bad = three.copy()
    bad[9, 2] = np.nan
    npz("nan_y3.npz", bad, rng.normal(size=(20, 3)).astype(np.float32))
    bad = x_test.copy()
    bad[2, 3] = np.inf
    npz("inf_x_test.npz", binary, binary_test, x_held=bad)
    signal = rng.normal(size=(50, 20, 2)).astype(np.float32)
    signal[11, 5, 1] = np.nan
    npz("nan_signal.npz", binary, binary_test, signal, rng.normal(size=(20, 20, 2)).astype(np.float32))
    (t / "nan_features.csv").write_text("a,b,label\n1,2,0\n\n3,nan,1\n4,inf,0\n5,6,1\n7,8,0\n1,2,1\n")
    (t / "nan_targets.csv").write_text("a,b,target\n1,2,0.5\n\n3,1,nan\n4,3,-inf\n5,6,1\n7,8,0\n1,2,1\n")
    npz("strings.npz", np.array(["a", "b"] * 25), np.array(["a", "b"] * 10))
    npz("labels3d.npz", rng.integers(0, 2, size=(50, 2, 2)), rng.integers(0, 2, size=(20, 2, 2)))
    npz("negative.npz", np.arange(50) % 3 - 1, np.arange(20) % 3 - 1)
    huge = np.arange(50) % 3
    huge[0] = 10**12
    npz("huge.npz", huge, np.arange(20) % 3)
    npz("complex.npz", real.astype(np.complex64), real_test.astype(np.complex64))
    npz("train_one_class.npz", np.zeros(50, dtype=int), binary_test)
    npz("five.npz", np.arange(50) % 5, np.arange(20) % 5)
    npz("beyond_float32.npz", real.astype(np.float64) * 1e300, real_test)
    npz("huge_targets.npz", real * np.float32(1e30), real_test * np.float32(1e30))
    (t / "softmax_multilabel.toml").write_text(
        f'dataset = "{t / "labels.npz"}"\n[[layers]]\ntype = "Dense"\nunits = 3\nactivation = "softmax"\n'
        '[compile]\nloss = "binary_crossentropy"\n')
    npz("labels.npz", (rng.random((50, 3)) > 0.5).astype(int), (rng.random((20, 3)) > 0.5).astype(int))
    npz("three_targets.npz", three, rng.normal(size=(20, 3)).astype(np.float32))
    (t / "ten_for_three.toml").write_text(
        f'dataset = "{t / "three_targets.npz"}"\n[[layers]]\ntype = "Dense"\nunits = 10\nactivation = "linear"\n'
        '[compile]\nloss = "mse"\n')
    (t / "two_sigmoid_binary.toml").write_text('dataset = "breast_cancer"\n' + SIGMOID_OUT.replace("units = 1", "units = 2"))
    (t / "weights_regression.toml").write_text(
        'dataset = "diabetes"\n[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "linear"\n[compile]\nloss = "mse"\n'
        '[fit]\nclass_weight = "balanced"\n')
    for name, weights in (("weights_negative", "[-1, 2]"), ("weights_zero", "[0, 1]")):
        (t / f"{name}.toml").write_text(f'dataset = "breast_cancer"\n{SIGMOID_OUT}[fit]\nclass_weight = {weights}\n')
    focal = SIGMOID_OUT.replace('"binary_crossentropy"', '"binary_focal_crossentropy"')
    (t / "focal_gamma.toml").write_text(f'dataset = "breast_cancer"\n{focal}focal_gamma = -1\n')
    (t / "focal_alpha.toml").write_text(f'dataset = "breast_cancer"\n{focal}focal_alpha = 1.5\n')
    huber = '[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "linear"\n[compile]\nloss = "huber"\n'
    (t / "huber_zero.toml").write_text(f'dataset = "diabetes"\n{huber}huber_delta = 0\n')
    (t / "huber_negative.toml").write_text(f'dataset = "diabetes"\n{huber}huber_delta = -1\n')
    for index, (value, _) in enumerate(TASK_VALUES):
        (t / f"task_{index}.toml").write_text(f'dataset = "breast_cancer"\ntask = {value}\n{SIGMOID_OUT}')
    (t / "layer_type_list.toml").write_text('dataset = "digits"\n[[layers]]\ntype = ["Dense"]\n')
    (t / "layers_number.toml").write_text('dataset = "digits"\nlayers = 3\n')
    (t / "dataset_number.toml").write_text('dataset = 3\n')


TASK_CASES = [f"task = {value} in the TOML" for value, _ in TASK_VALUES] + [
    "a layer type that is not text", "layers that are no array", "a dataset that is a number",
    "NaN in the training targets", "infinite test targets", "NaN in one of several targets", "infinite test inputs",
    "NaN in a signal", "NaN features in a CSV", "NaN targets in a CSV", "string labels", "3-D labels",
    "negative class numbers", "a huge class number", "complex labels", "a training split of one class",
    "multilabel on one label per sample", "binary on five classes", "binary on regression targets",
    "regression on strings, alone", "targets beyond float32", "targets whose squares overflow",
    "softmax on a multilabel task", "10 units for 3 targets", "2 sigmoid units for a binary task",
    "class weights on regression", "a negative class weight", "a zero class weight", "a negative focal gamma",
    "a focal alpha above 1", "a huber delta of 0", "a negative huber delta",
]

CASES = [
    "symlink loop", "dangling symlink", "csv with a header only", "csv with one row of numbers",
    "npz that is no zip", "npz without the arrays", "directory without IDX files", "a single class",
    "a label far outside the others", "unknown dataset name", "non-UTF-8 config",
    "a layer parameter out of range", "early stopping without a validation split", "zero epochs",
    "a negative batch size", "an unknown optimizer", "an unknown backend",
    "a FIFO as the data file", "a FIFO as the experiment", "NaN in the inputs", "float values into an Embedding",
    "a task the labels cannot be", "an unknown task", "a regression loss on a binary task",
    "a weight per class, miscounted",
    *TASK_CASES,
]
# Cases whose one problem must be the only line (no follow-on mismatches of a task nobody chose).
ALONE = {*(f"task = {value} in the TOML" for value, _ in TASK_VALUES), "regression on strings, alone"}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_exit_2_with_a_message_and_no_run_directory(tmp_path, case):
    options, message = _bad_inputs(tmp_path)[case]
    argv = ["train", *[o for o in options if o.endswith(".toml")], "--plain", "--runs-dir", str(tmp_path / "runs"),
            *[o for o in options if not o.endswith(".toml")]]
    result = run_cli(argv, tmp_path)
    assert result["code"] == 2, result
    assert message in result["err"], result["err"]
    no_traceback(result)
    assert not (tmp_path / "runs").exists()  # nothing was started, so nothing is left behind
    if case in ALONE:
        assert len(result["err"].strip().splitlines()) == 1, result["err"]


def test_validation_goes_on_past_a_bad_dataset(tmp_path):
    result = run_cli(["train", "--dataset", "nothere.npz", "--learning-rate", "-1", "--epochs", "0", "--plain",
                      "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2
    assert "unknown dataset 'nothere.npz'" in result["err"]
    assert "compile.learning_rate = -1.0" in result["err"] and "fit.epochs = 0" in result["err"]


def test_a_config_with_700000_unknown_keys_reports_20_and_a_count(tmp_path):
    huge = tmp_path / "huge.toml"
    huge.write_text('name = "x"\ndataset = "digits"\n' + "".join(f"k{i} = 1\n" for i in range(700_000)))
    started = time.monotonic()
    result = run_cli(["train", str(huge), "--plain", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2
    lines = result["err"].strip().splitlines()
    assert len(lines) == 21 and lines[-1] == "kerastui: error: ... and 699980 more problems"
    assert "k0 = 1: unknown setting" in lines[0]
    assert time.monotonic() - started < 60


def test_keras_home_that_is_a_file_says_so(tmp_path, monkeypatch):
    home = tmp_path / "keras-home-file"
    home.write_text("")
    monkeypatch.setenv("KERAS_HOME", str(home))
    result = run_cli(["train", "--dataset", "mnist", "--plain", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2
    assert f"KERAS_HOME ({home}) is a file, not a directory" in result["err"]
    assert "place mnist.npz" not in result["err"]  # no advice to put a file inside a file
    assert home.read_text() == ""


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a zip"])
def test_a_corrupt_model_is_reported_as_damaged_not_missing(finished_run, tmp_path, damage):
    copy = tmp_path / finished_run.name
    shutil.copytree(finished_run, copy)
    model = copy / "model.keras"
    data = model.read_bytes()
    model.write_bytes({"truncated": data[: len(data) // 3], "empty": b"", "not a zip": b"hello" * 100}[damage])
    before = snapshot(copy)
    result = run_cli(["evaluate", str(copy)], tmp_path)
    assert result["code"] == 1
    assert "is damaged" in result["err"] and str(model) in result["err"]
    assert "File not found" not in result["err"]
    no_traceback(result)
    assert snapshot(copy) == before  # evaluation.json of the finished run is not touched


def test_runs_shows_a_broken_run_as_a_row_with_a_note_beside_the_good_ones(finished_run, tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(finished_run, root / finished_run.name)
    broken = root / "20260101-000000-broken"
    broken.mkdir()
    (broken / "config.toml").write_bytes(b"\xff\xfe not toml")
    (broken / "info.json").write_text("{not json")
    (broken / "metrics.jsonl").write_text('{"event": "nonsense"}\n')
    result = run_cli(["runs", "--runs-dir", str(root)], tmp_path)
    assert result["code"] == 0
    assert finished_run.name in result["out"] and "20260101-000000-broken" in result["out"]
    assert "note" in result["out"] and "info.json: not valid JSON" in result["out"]
    no_traceback(result)


# ---- followers finish promptly ---------------------------------------------------------------


def _ended_run(root: Path, status: str) -> Path:
    from kerastui.core.events import TrainingFailed

    writer = RunWriter.create(TINY, root=root, name=status)
    writer.claim()  # as its trainer did; released below, as when that process ended
    writer(TrainingStarted(epochs=1, steps_per_epoch=1, train_samples=1, validation_samples=0, batch_size=1))
    final = {"finished": TrainingFinished(1), "stopped": TrainingStopped(0, "stopped by user"),
             "failed": TrainingFailed(0, "loss became NaN")}.get(status)
    if final is not None:
        writer(final)
    else:  # killed: a half-written last line, and the status a follower settled
        with open(writer.path / "metrics.jsonl", "a") as handle:
            handle.write('{"event": "epoch_e')
        writer.set_status(status)
    writer.close()
    return writer.path


@pytest.mark.parametrize("status, code, message", [
    ("finished", 0, "finished after 1 epochs"),
    ("stopped", 0, "stopped after 0 epochs"),
    ("failed", 1, "failed after 0 epochs: loss became NaN"),
    ("interrupted", 1, "the run has ended: interrupted"),
])
def test_watch_an_ended_run_ends_at_once(tmp_path, status, code, message):
    run_dir = _ended_run(tmp_path / "runs", status)
    before = snapshot(run_dir)
    started = time.monotonic()
    result = run_cli(["watch", str(run_dir), "--plain"], tmp_path)
    assert time.monotonic() - started < 5
    assert result["code"] == code and message in result["out"], result
    assert snapshot(run_dir) == before


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "no-such-run", "does not exist"),
    (lambda root: (root / "plain-folder").mkdir() or root / "plain-folder", "is not a run directory"),
])
def test_watch_a_path_that_is_no_run_is_bad_input_at_once(tmp_path, make, message):
    started = time.monotonic()
    result = run_cli(["watch", str(make(tmp_path)), "--plain"], tmp_path)
    assert time.monotonic() - started < 3
    assert result["code"] == 2 and message in result["err"]
    no_traceback(result)
