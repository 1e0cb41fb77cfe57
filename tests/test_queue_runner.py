"""The local queue's runner (kerastui.core.queue_runner) without training anything: one per runs
directory, gone when the queue is empty, idle at no cost; and the queue on disk (order, reorder,
cancel, settling what a killed runner left) through `kerastui train --queue` and `kerastui queue`.

A runner is kept from starting runs by holding the queue's lock in the test (as a live runner
would), or by filling its one slot with a run that is a `sleep` process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from kerastui.cli import main
from kerastui.core.queue_runner import QueueRunner
from kerastui.core.run_queue import RunQueue
from kerastui.core.runs import RunWriter, read_info, read_status

RUNNER = [sys.executable, "-m", "kerastui.core.queue_runner"]
TINY_ARGS = ["--dataset", "digits", "--epochs", "1", "--backend", "jax"]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks (USER_HZ 100)


def _switches(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches in /proc")


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc")


def test_the_runner_imports_no_framework_and_no_terminal_ui():
    code = ("import sys, kerastui.core.queue_runner; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax', 'torch', 'textual', 'rich'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def _queue_cli(runs: Path, *args: str) -> int:
    return main(["queue", "--runs-dir", str(runs), *args])


def test_a_second_runner_exits_at_once_and_a_runner_exits_when_the_queue_is_empty(tmp_path):
    runs = tmp_path / "runs"
    holder = QueueRunner(runs)
    assert holder.acquire()
    try:
        assert RunQueue(runs).runner_pid() > 0
        began = time.monotonic()
        assert subprocess.run([*RUNNER, str(runs)], timeout=30).returncode == 0  # the queue has its runner
        assert time.monotonic() - began < 10
    finally:
        holder.release()
    assert RunQueue(runs).runner_pid() is None
    assert subprocess.run([*RUNNER, str(runs)], timeout=30).returncode == 0  # nothing to run: it exits
    assert RunQueue(runs).runner_pid() is None


def test_train_queue_returns_at_once_and_the_queue_is_listed_reordered_and_cancelled(tmp_path, capsys):
    runs = tmp_path / "runs"
    holder = QueueRunner(runs)  # the queue's runner, as far as everyone can tell: nothing starts
    assert holder.acquire()
    try:
        names = []
        for name in ("first", "second", "third"):
            assert main(["train", "--queue", "--runs-dir", str(runs), "--name", name, *TINY_ARGS]) == 0
            run_dir = Path(capsys.readouterr().out.strip())
            assert read_status(run_dir) == "queued" and run_dir.parent == runs.resolve()
            names.append(run_dir.name)
        assert _queue_cli(runs) == 0
        assert [line.split() for line in capsys.readouterr().out.splitlines()] == [
            ["1", "queued", names[0]], ["2", "queued", names[1]], ["3", "queued", names[2]]]
        assert _queue_cli(runs, "--first", names[2]) == 0
        assert "place 1" in capsys.readouterr().out
        assert _queue_cli(runs, "--move", names[0], "3") == 0
        capsys.readouterr()
        assert [e.run.name for e in RunQueue(runs).waiting()] == [names[2], names[1], names[0]]
        for bad in (["--move", names[0], "soon"], ["--move", names[0], "0"]):
            assert _queue_cli(runs, *bad) == 2
            assert "place must be" in capsys.readouterr().err
        assert _queue_cli(runs, "--cancel", names[1]) == 0
        assert read_status(runs / names[1]) == "cancelled"
        assert _queue_cli(runs, "--first", names[1]) == 2  # cancelled: not waiting any more
        assert "only a run waiting for a slot can be moved" in capsys.readouterr().err
        assert [e.run.name for e in RunQueue(runs).waiting()] == [names[2], names[0]]
        # Bad input to --queue: nothing is queued.
        assert main(["train", "--queue", "--runs-dir", str(runs), "--run-dir", str(tmp_path / "x"), *TINY_ARGS]) == 2
        assert main(["train", "--queue", "--runs-dir", str(runs), "--resume", names[0]]) == 2
        assert "only a stopped, interrupted or failed run can be resumed" in capsys.readouterr().err
        assert len(RunQueue(runs).waiting()) == 2
        for name in (names[2], names[0]):
            assert _queue_cli(runs, "--cancel", name) == 0
    finally:
        holder.release()


def test_a_killed_runners_runs_are_settled_and_an_idle_runner_costs_nothing(tmp_path):
    runs = tmp_path / "runs"
    queue = RunQueue(runs)
    queue.set_slots(1)
    # A run a killed runner had started: its trainer (the pid in info.json) is gone.
    orphan = RunWriter.create(_experiment(), root=runs, name="orphan", status="running").path
    RunWriter(orphan).update_info(pid=2**22 + 7)
    queue.mark_started(queue.add(orphan), 2**22 + 7)
    # One that still trains (a sleep holds its slot), and one waiting behind it.
    sleeper = subprocess.Popen(["sleep", "60"])
    busy = RunWriter.create(_experiment(), root=runs, name="busy", status="running").path
    RunWriter(busy).update_info(pid=sleeper.pid)
    queue.mark_started(queue.add(busy), sleeper.pid)
    waiting = RunWriter.create(_experiment(), root=runs, name="waiting", status="queued").path
    queue.add(waiting)
    runner = subprocess.Popen([*RUNNER, str(runs)])
    try:
        deadline = time.monotonic() + 20
        while read_status(orphan) != "interrupted" or read_info(waiting).get("pid") != runner.pid:
            assert time.monotonic() < deadline, "the runner settles the orphan and takes the waiting run"
            time.sleep(0.1)
        assert "runner ended" in read_info(orphan)["reason"]
        assert [e.run.name for e in queue.entries()] == [busy.name, waiting.name]
        assert read_status(waiting) == "queued", "the one slot is taken"
        time.sleep(0.5)  # its start-up's work done
        cpu, switches, began = _cpu_seconds(runner.pid), _switches(runner.pid), time.monotonic()
        time.sleep(3.0)
        elapsed = time.monotonic() - began
        assert (_cpu_seconds(runner.pid) - cpu) / elapsed < 0.01
        assert _switches(runner.pid) - switches <= 3, "it sleeps in one wait, no polling loop"
        assert _status_kib(runner.pid, "VmHWM") < 80 * 1024, "a small process (issue 19: under 80 MB)"
        assert _queue_cli(runs, "--cancel", waiting.name) == 0
        assert read_status(waiting) == "cancelled"
        later = RunWriter.create(_experiment(), root=runs, name="later", status="queued").path
        queue.add(later)
        runner.send_signal(signal.SIGTERM)  # ends in order: its runs stopped, the waiting cancelled
        assert runner.wait(timeout=20) == 0
        assert read_status(later) == "cancelled" and queue.runner_pid() is None
    finally:
        runner.kill()
        runner.wait()
        sleeper.kill()
        sleeper.wait()


def _experiment():
    from dataclasses import replace

    from test_cli import TINY

    return replace(TINY, backend="jax")


def test_a_run_cancelled_while_its_trainer_starts_is_cancelled_not_interrupted(tmp_path):
    from kerastui.core.launcher import LocalLauncher

    launcher = LocalLauncher(runs_root=tmp_path / "runs", keep_warm=False)
    run_dir = launcher.launch(_experiment())
    deadline = time.monotonic() + 20
    while not any(e.started for e in launcher.queue.entries()):
        assert time.monotonic() < deadline, "the runner starts its trainer"
        time.sleep(0.02)
    assert read_status(run_dir) == "queued"  # still importing: the run has not begun
    assert launcher.stop(run_dir) == "cancelled"
    while launcher.active or launcher.queue.runner_pid() is not None:
        assert time.monotonic() < deadline + 20, "the trainer ends and the runner exits"
        time.sleep(0.05)
    assert read_status(run_dir) == "cancelled" and read_info(run_dir)["reason"] == "cancelled before it started"


def test_kerastui_queue_settles_what_a_killed_runner_left(tmp_path, capsys):
    runs = tmp_path / "runs"
    orphan = RunWriter.create(_experiment(), root=runs, name="orphan", status="running").path
    RunWriter(orphan).update_info(pid=2**22 + 9)  # its trainer, gone with its runner
    queue = RunQueue(runs)
    queue.mark_started(queue.add(orphan), 2**22 + 9)
    assert _queue_cli(runs) == 0
    out = capsys.readouterr().out
    assert f"{orphan.name}: interrupted" in out and "the local queue is empty" in out
    assert read_status(orphan) == "interrupted" and queue.entries() == []


def test_a_sweep_worker_that_keeps_dying_is_started_again_within_the_bound(tmp_path):
    from kerastui.core.run_queue import MAX_WORKER_RESTARTS

    runs = tmp_path / "runs"
    sweep_dir = runs / "20261207-000000-sweep-tiny"
    sweep_dir.mkdir(parents=True)
    (sweep_dir / "sweep.toml").write_text("# the runner only checks that it is there\n")
    dying = tmp_path / "python"  # stands in for the worker's interpreter: killed at once, every time
    dying.write_text("#!/bin/sh\nkill -9 $$\n")
    dying.chmod(0o755)
    queue = RunQueue(runs)
    (entry,) = queue.add_workers(sweep_dir, 1)
    assert entry.key == f"{sweep_dir.name}.worker-0" and entry.label() == f"sweep worker 0 · {sweep_dir.name}"
    runner = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                             "from kerastui.core.queue_runner import QueueRunner; "
                             f"sys.exit(QueueRunner(Path({str(runs)!r}), python={str(dying)!r}).serve())"],
                            capture_output=True, text=True, timeout=60)
    assert runner.returncode == 0, runner.stdout + runner.stderr
    log = (sweep_dir / "worker-0.log").read_text()
    assert log.count("ended with signal SIGKILL; a new one takes its place") == MAX_WORKER_RESTARTS, log
    assert "ended with signal SIGKILL again; not started again" in log
    assert queue.entries() == []  # given up: off the queue, and the runner exited with nothing left
