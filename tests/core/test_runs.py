"""Run directories: writing, listing, loading and following a growing metrics file."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from kerastui.core import spec
from kerastui.core.events import (
    BatchEnded,
    EpochEnded,
    TrainingFinished,
    TrainingStarted,
    event_to_dict,
)
from kerastui.core.follower import RunFollower, RunQuiet, is_training_event
from kerastui.core.runs import (
    RUNS_DIR_ENV,
    RunWriter,
    architecture_summary,
    default_runs_root,
    list_runs,
    load_run,
)
from kerastui.core.spec import preset_experiment

pytestmark = pytest.mark.timeout(30)


def _experiment(name: str = "mlp"):
    from dataclasses import replace

    return replace(preset_experiment("mlp", "digits", (8, 8, 1), 10), name=name)


def _events(epochs: int = 2) -> list:
    events: list = [TrainingStarted(epochs=epochs, steps_per_epoch=3, train_samples=90, validation_samples=10, batch_size=32)]
    for epoch in range(epochs):
        events.append(BatchEnded(epoch=epoch, step=3, steps=3, metrics={"loss": 1.0 / (epoch + 1)}))
        events.append(
            EpochEnded(
                epoch=epoch,
                epochs=epochs,
                metrics={"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch, "val_accuracy": 0.4 + 0.2 * epoch},
                seconds=0.5,
            )
        )
    events.append(TrainingFinished(epochs_done=epochs))
    return events


def _leftover_temp_files(path: Path) -> list[str]:
    return [p.name for p in path.iterdir() if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_default_runs_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    assert default_runs_root() == Path("runs")
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "elsewhere"))
    assert default_runs_root() == tmp_path / "elsewhere"


def test_create_names_directory_by_time_and_name_and_keeps_it_unique(tmp_path):
    first = RunWriter.create(_experiment(), tmp_path, name="my run/1")
    second = RunWriter.create(_experiment(), tmp_path, name="my run/1")
    third = RunWriter.create(_experiment(), tmp_path, name="my run/1")
    names = [first.path.name, second.path.name, third.path.name]
    assert len(set(names)) == 3
    # Same second (almost always): the later ones get -2, -3; the slash cannot escape root.
    assert all(p.parent == tmp_path for p in (first.path, second.path, third.path))
    assert first.path.name[:15].replace("-", "").isdigit()
    assert first.path.name.endswith("-my-run-1")
    if first.path.name[:15] == second.path.name[:15] == third.path.name[:15]:
        assert second.path.name == first.path.name + "-2"
        assert third.path.name == first.path.name + "-3"


def test_round_trip_writes_every_file_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    experiment = _experiment()
    writer = RunWriter.create(experiment, tmp_path)
    assert (writer.path / "status").read_text().strip() == "running"
    for event in _events(3):
        writer(event)
    writer.close()

    assert spec.load(writer.path / "config.toml") == experiment
    lines = (writer.path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["started"] + ["batch_end", "epoch_end"] * 3 + ["finished"]
    assert (writer.path / "status").read_text().strip() == "finished"
    info = json.loads((writer.path / "info.json").read_text())
    assert info["slurm_job_id"] == "4242"
    assert info["pid"] == os.getpid() and info["host"]
    assert info["backend"] == "tensorflow" and info["kerastui_version"]
    assert info["duration"] >= 0 and "ended" in info and "created" in info
    assert _leftover_temp_files(writer.path) == []

    record = load_run(writer.path)
    assert record.errors == []
    assert record.experiment == experiment
    assert record.status == "finished"
    assert record.epochs_done == 3
    assert record.metrics_history["accuracy"] == pytest.approx([0.5, 0.6, 0.7])
    assert record.best_val_accuracy == pytest.approx(0.8)
    assert record.location == "slurm 4242"
    assert record.duration == pytest.approx(info["duration"])
    assert record.events == _events_from_file(writer.path)


def _events_from_file(path: Path) -> list:
    from kerastui.core.events import event_from_dict

    return [event_from_dict(json.loads(line)) for line in (path / "metrics.jsonl").read_text().splitlines()]


class _FakeModel:
    def __init__(self, fail: bool = False):
        self.fail = fail

    def save(self, filepath: str) -> None:
        assert filepath.endswith(".keras")  # Keras refuses any other suffix
        Path(filepath).write_bytes(b"partial")
        if self.fail:
            raise OSError("disk full")
        Path(filepath).write_bytes(b"model bytes")


def test_save_model_is_atomic_and_cleans_up_after_failure(tmp_path):
    writer = RunWriter.create(_experiment(), tmp_path)
    writer.save_model(_FakeModel())
    assert (writer.path / "model.keras").read_bytes() == b"model bytes"
    with pytest.raises(OSError):
        writer.save_model(_FakeModel(fail=True))
    # The good model survives a failed save, and no temporary file is left behind.
    assert (writer.path / "model.keras").read_bytes() == b"model bytes"
    assert _leftover_temp_files(writer.path) == []
    assert sorted(p.name for p in writer.path.iterdir()) == ["config.toml", "info.json", "model.keras", "status"]


def test_evaluation_round_trip(tmp_path):
    evaluate = pytest.importorskip("kerastui.core.evaluate")
    import numpy as np

    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    evaluation = evaluate.evaluation_from_predictions(np.array([0, 1, 1]), probabilities, ("a", "b"), 0.5, 2 / 3)
    writer = RunWriter.create(_experiment(), tmp_path)
    writer.save_evaluation(evaluation)
    record = load_run(writer.path)
    assert record.evaluation == evaluation
    assert record.test_accuracy == pytest.approx(2 / 3)
    assert _leftover_temp_files(writer.path) == []


def test_open_existing_directory_keeps_submission_info(tmp_path):
    prepared = tmp_path / "20240101-000000-job"
    prepared.mkdir()
    (prepared / "info.json").write_text(json.dumps({"slurm_job_id": "77", "created_time": 1.0}))
    writer = RunWriter.open(prepared, _experiment())
    info = json.loads((prepared / "info.json").read_text())
    assert info["slurm_job_id"] == "77" and info["pid"] == os.getpid()
    assert (prepared / "config.toml").exists()
    assert writer.path == prepared


def test_list_runs_newest_first_and_tolerates_broken_directories(tmp_path):
    older = RunWriter.create(_experiment("older"), tmp_path)
    older.update_info(created_time=time.time() - 100)
    newer = RunWriter.create(_experiment("newer"), tmp_path)
    newer.update_info(created_time=time.time() - 50)
    broken = tmp_path / "20000101-000000-broken"
    broken.mkdir()
    (broken / "config.toml").write_text("this is [not toml")
    (broken / "status").write_text("failed\n")
    (broken / "info.json").write_text("{nope")
    (broken / "metrics.jsonl").write_text('{"event": "started"}\ngarbage\n')
    (tmp_path / "not-a-run").mkdir()  # no run files: ignored
    (tmp_path / "stray.txt").write_text("x")

    records = list_runs(tmp_path)
    assert [r.name for r in records] == [newer.path.name, older.path.name, broken.name]
    bad = records[2]
    assert bad.experiment is None and bad.status == "failed"
    assert any("config.toml" in e for e in bad.errors)
    assert any("info.json" in e for e in bad.errors)
    assert any("line 2" in e for e in bad.errors)
    assert bad.dataset == "?" and bad.epochs_done == 0 and bad.best_val_accuracy is None
    assert list_runs(tmp_path / "missing") == []


def test_status_comes_from_final_event_when_status_file_lags(tmp_path):
    writer = RunWriter.create(_experiment(), tmp_path)
    with open(writer.path / "metrics.jsonl", "w") as handle:
        for event in _events(1):
            handle.write(json.dumps(event_to_dict(event)) + "\n")
    assert (writer.path / "status").read_text().strip() == "running"
    assert load_run(writer.path).status == "finished"


def test_running_run_whose_process_died_is_interrupted(tmp_path):
    writer = RunWriter.create(_experiment(), tmp_path)
    writer.update_info(pid=2**22 + 12345)  # beyond pid_max on Linux defaults: no such process
    assert load_run(writer.path).status == "interrupted"


def test_architecture_summary_is_compact():
    cnn = preset_experiment("cnn", "digits", (8, 8, 1), 10)
    assert architecture_summary(cnn.layers) == "Conv32 MaxPool2 Conv64 MaxPool2 Flatten Dense128 Dense10"


# ---- following (kerastui.core.follower) ---------------------------------------------------


def _collect(iterator, into: list, done: threading.Event) -> None:
    for event in iterator:
        into.append(event)
    done.set()


def test_follow_reads_growing_file_with_partial_lines(tmp_path):
    run = tmp_path / "run"
    events = _events(2)
    received: list = []
    done = threading.Event()
    follower = threading.Thread(target=_collect, args=(_training(RunFollower(run, evaluation_wait=0).follow(poll_interval=0.01)), received, done))
    follower.start()
    time.sleep(0.05)  # the directory does not exist yet when following starts
    run.mkdir()
    text = "".join(json.dumps(event_to_dict(e)) + "\n" for e in events)
    # Write in awkward pieces: lines split mid-JSON, several lines at once.
    cut_points = [10, 11, 60, len(text) // 2, len(text) - 5]
    with open(run / "metrics.jsonl", "w") as handle:
        previous = 0
        for cut in [*cut_points, len(text)]:
            handle.write(text[previous:cut])
            handle.flush()
            previous = cut
            time.sleep(0.03)
            if cut < len(text):
                # Nothing with a half-written line is ever yielded; only whole lines so far.
                assert len(received) <= text[:cut].count("\n")
    assert done.wait(5)
    follower.join()
    assert received == events


def test_follower_says_quiet_once_when_the_file_never_appears(tmp_path):
    follower = RunFollower(tmp_path / "never", quiet_after=0.2)
    started = time.monotonic()
    events = []
    while not events and time.monotonic() - started < 2:
        events = follower.poll()
        time.sleep(0.01)
    assert events == [RunQuiet(events[0].seconds, "no run directory yet", 0)]
    assert 0.2 <= time.monotonic() - started < 2


def test_follower_without_final_event_reports_quiet_and_keeps_following(tmp_path):
    events = _events(1)[:-1]  # no final event: a run that went quiet
    writer = RunWriter(tmp_path)
    for event in events:
        writer(event)
    writer.close()
    follower = RunFollower(tmp_path, quiet_after=0.1)
    assert follower.poll() == events
    time.sleep(0.15)
    assert [type(e) for e in follower.poll()] == [RunQuiet]
    assert follower.ended is None  # its process (this one) lives: still following


def test_follow_stops_when_stop_event_set(tmp_path):
    stop = threading.Event()
    received: list = []
    done = threading.Event()
    iterator = _training(RunFollower(tmp_path, quiet_after=600).follow(stop, poll_interval=0.01))
    thread = threading.Thread(target=_collect, args=(iterator, received, done))
    thread.start()
    writer = RunWriter(tmp_path)
    writer(_events(1)[0])
    time.sleep(0.1)
    assert not done.is_set()
    stop.set()
    assert done.wait(2)
    thread.join()
    writer.close()
    assert [type(e).__name__ for e in received] == ["TrainingStarted"]


def test_follow_skips_corrupt_lines_and_reads_on_through_a_resume(tmp_path):
    from dataclasses import replace as replace_event

    events = _events(1)
    resumed = [replace_event(events[0], initial_epoch=1), *events[1:]]  # the same run, continued
    lines = [json.dumps(event_to_dict(e)) for e in events]
    lines.insert(1, "{corrupt")
    lines += [json.dumps(event_to_dict(e)) for e in resumed]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "status").write_text("finished\n")
    assert list(_training(RunFollower(tmp_path, evaluation_wait=0).follow(poll_interval=0.01))) == events + resumed


def _training(iterator):
    return (event for event in iterator if is_training_event(event))
