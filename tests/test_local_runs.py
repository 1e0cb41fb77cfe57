"""Local runs as processes of their own (kerastui.core.launcher), for real: stop, SIGKILL, SIGHUP of
the app, a queue with one slot, and the backend reaching the child. Tiny models on digits."""

from __future__ import annotations

import json
import os
import pty
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_cli import TINY

from kerastui.core import spec
from kerastui.core.events import EpochEnded
from kerastui.core.follower import RunEnded, RunFollower
from kerastui.core.launcher import LocalLauncher
from kerastui.core.runs import load_run, read_info, read_status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def tiny(epochs: int, backend: str = "jax", batch_size: int = 64) -> spec.Experiment:
    """The tests' tiny MLP on digits, with this test's epochs, batch and backend (JAX starts fastest)."""
    experiment = replace(TINY, name="tiny", backend=backend)
    return replace(experiment, fit=replace(experiment.fit, epochs=epochs, batch_size=batch_size, validation_split=0.2))


def wait_for(predicate, timeout: float, what: str, launcher: LocalLauncher | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if launcher is not None:
            launcher.pump()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def epochs_on_disk(run_dir: Path) -> list[int]:
    return [e.epoch for e in load_run(run_dir).events if isinstance(e, EpochEnded)]


def log_of(run_dir: Path) -> str:
    try:
        return (run_dir / "train.log").read_text(errors="replace")[-2000:]
    except OSError:
        return "(no train.log)"


def test_stop_mid_run_keeps_its_epochs_and_model(tmp_path):
    launcher = LocalLauncher(runs_root=tmp_path / "runs", keep_warm=False)
    run_dir = launcher.launch(tiny(epochs=400))
    assert read_status(run_dir) in ("queued", "running")
    wait_for(lambda: len(epochs_on_disk(run_dir)) >= 2, 120, "two epochs")
    assert launcher.stop(run_dir) == "stopping"
    wait_for(lambda: not launcher.active, 60, "the process to end", launcher)
    record = load_run(run_dir)
    assert record.status == "stopped", log_of(run_dir)
    assert 2 <= record.epochs_done < 400
    assert epochs_on_disk(run_dir) == list(range(record.epochs_done))  # every finished epoch, once
    assert (run_dir / "model.keras").is_file() and record.evaluation is not None
    assert read_info(run_dir)["pid"] != os.getpid()


def test_sigkilled_run_is_marked_interrupted_within_seconds(tmp_path):
    """Settled by whoever notices first: the queue's runner reaping its child, or a follower."""
    launcher = LocalLauncher(runs_root=tmp_path / "runs", keep_warm=False)
    run_dir = launcher.launch(tiny(epochs=400))
    wait_for(lambda: len(epochs_on_disk(run_dir)) >= 1, 120, "an epoch")
    os.kill(read_info(run_dir)["pid"], signal.SIGKILL)
    killed = time.monotonic()
    events = list(RunFollower.after(run_dir, 10**9).follow(poll_interval=0.1))
    assert time.monotonic() - killed < 5
    assert events[-1] == RunEnded("interrupted", False, events[-1].reason)
    assert "ended without recording its end" in read_info(run_dir)["reason"]
    assert load_run(run_dir).status == "interrupted"
    assert (run_dir / "status").read_text().strip() == "interrupted"  # settled on disk, for everyone


def test_two_runs_with_one_slot_run_one_after_the_other(tmp_path):
    launcher = LocalLauncher(runs_root=tmp_path / "runs", slots=1, keep_warm=False)
    first = launcher.launch(tiny(epochs=2))
    second = launcher.launch(tiny(epochs=2))
    assert read_status(second) == "queued" and launcher.active == [first, second]
    wait_for(lambda: not launcher.active, 180, "both runs", launcher)
    one, two = load_run(first), load_run(second)
    assert (one.status, two.status) == ("finished", "finished"), log_of(second)
    assert two.info["started_time"] >= one.info["ended_time"], "the second waited for the slot"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _runner(launcher: LocalLauncher) -> int:
    wait_for(lambda: (launcher.queue.runner_pid() or 0) > 0, 30, "the queue's runner")
    return launcher.queue.runner_pid()


def test_warm_trainer_takes_the_run_and_the_backend_chosen_reaches_it(tmp_path):
    """The queue's runner keeps the trainer warm (the app only says which backend)."""
    launcher = LocalLauncher(runs_root=tmp_path / "runs", keep_warm=True, warm_at_start=True)
    try:
        launcher.warm_up("tensorflow")
        runner = _runner(launcher)
        wait_for(lambda: len(_children(runner)) == 1, 30, "a trainer waiting")
        tensorflow_trainer = _children(runner)[0]
        launcher.warm_up("jax")  # the backend chosen for the next run: no restart of anything else
        wait_for(lambda: _children(runner) not in ([], [tensorflow_trainer]), 30, "a JAX trainer instead")
        (warm,) = _children(runner)
        run_dir = launcher.launch(tiny(epochs=1, backend="jax"))
        wait_for(lambda: read_info(run_dir).get("pid") == warm, 30, "the run handed to the waiting process")
        assert _children(runner) == [warm], "no trainer imports Keras beside a training run"
        wait_for(lambda: read_status(run_dir) in ("finished", "failed"), 120, "the run")
        info = read_info(run_dir)
        assert info["keras_backend"] == "jax", log_of(run_dir)
        wait_for(lambda: not launcher.active, 60, "the run's process to end")
        wait_for(lambda: _children(runner) not in ([], [warm]), 30, "the next trainer waiting")
    finally:
        launcher.shutdown()  # nothing queued: the runner lets its warm trainer go, and exits
    wait_for(lambda: launcher.queue.runner_pid() is None, 30, "the runner to exit")


def test_sighup_of_the_app_does_not_stop_its_run(tmp_path):
    """Closing the terminal (an SSH drop) hangs up the app; its run trains on in its own session."""
    runs = tmp_path / "runs"
    config = tmp_path / "experiment.toml"
    spec.save(tiny(epochs=30), config)
    env = dict(os.environ, KERASTUI_RUNS_DIR=str(runs), KERASTUI_WARM_TRAINER="0", TERM="xterm-256color",
               KERASTUI_CONFIG=str(tmp_path / "none.toml"))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on a terminal of its own
        os.execvpe(sys.executable, [sys.executable, "-m", "kerastui", "-e", str(config)], env)
    try:
        _read_until(fd, b"ctrl+r", 60)
        os.write(fd, b"\x12")  # ctrl+r
        run_dirs = lambda: [p for p in runs.iterdir() if not p.name.startswith(".")] if runs.is_dir() else []  # noqa: E731
        wait_for(run_dirs, 30, "the run directory")  # (.queue beside it is the local queue's)
        run_dir = run_dirs()[0]
        # Training has begun in the run's own process (its first epoch is on disk), not just queued.
        wait_for(lambda: len(epochs_on_disk(run_dir)) >= 1, 120, "the first epoch")
        assert read_info(run_dir)["pid"] != pid
        os.kill(pid, signal.SIGHUP)
        _, status = os.waitpid(pid, 0)
        pid = 0
        ended = list(RunFollower.after(run_dir, 10**9).follow(poll_interval=0.1))[-1]
        assert ended.status == "finished" and ended.has_evaluation, log_of(run_dir)
        record = load_run(run_dir)
        assert record.status == "finished", log_of(run_dir)
        assert record.epochs_done == 30 and record.evaluation is not None
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"the app never drew {marker!r}; it drew {seen[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_quitting_with_keep_leaves_the_queue_and_any_other_launcher_controls_it(tmp_path):
    """The queue outlives the app: after a keep, the next app (any launcher of the runs directory)
    sees both runs and stops them: the waiting one cancelled, the training one stopped."""
    first_app = LocalLauncher(runs_root=tmp_path / "runs", slots=1, keep_warm=False)
    first = first_app.launch(tiny(epochs=300))
    second = first_app.launch(tiny(epochs=2))
    wait_for(lambda: len(epochs_on_disk(first)) >= 1, 120, "the first to train")
    first_app.shutdown(keep_running=True)
    assert read_status(second) == "queued" and read_status(first) == "running"
    next_app = LocalLauncher(runs_root=tmp_path / "runs", keep_warm=False)
    assert next_app.active == [first, second] and next_app.queued == [second]
    next_app.shutdown(keep_running=False)
    assert read_status(second) == "cancelled"
    wait_for(lambda: read_status(first) not in ("queued", "running"), 120, "the first to stop")
    assert read_status(first) == "stopped"
    assert json.loads((second / "info.json").read_text())["reason"] == "cancelled before it started"
    wait_for(lambda: next_app.queue.runner_pid() is None, 30, "the runner to exit with its queue empty")
