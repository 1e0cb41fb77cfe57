"""Idle costs nothing (issue 19, part 6): the real app, and `kerastui watch` on a finished run,
each in a pseudo-terminal with no run active, use under 0.01 CPU-s per second.

Measured from outside, as a login node's limits see it: utime + stime of the process from
/proc/PID/stat over a few seconds once it has settled. A 2 Hz redraw costs less than that budget
on a fast machine, so the main thread's wake-ups are counted too (its voluntary context switches):
no loop of ours may wake it more than about once a second. (Textual's input thread wakes at 10 Hz
in select(); it is not the main thread, and not ours.)
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from run_dirs import make_run

from kerastui.core.data import load_dataset

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUDGET = 0.01  # CPU-s per second
WAKES = 2.5  # main-thread wake-ups per second: a 1 s timer (and a toast expiring) pass, 2 Hz fails
MEASURED = 3.0  # seconds of idle measured
SETTLE = 1.5  # seconds after the first frame before measuring (start-up's last work done)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


class Pty:
    """A command on an 80x24 pseudo-terminal; its output drained in a thread (a full pty would
    block the app) and kept, to see when it has drawn."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.output = bytearray()
        self.lock = threading.Lock()
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            os.execvpe(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if ready:
                    data = os.read(self.fd, 65536)
                    if not data:
                        return
                    with self.lock:
                        self.output += data
            except OSError:
                return

    def wait_for(self, marker: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if marker in self.output:
                    return
            assert os.waitpid(self.pid, os.WNOHANG) == (0, 0), f"exited before drawing {marker!r}"
            time.sleep(0.05)
        with self.lock:
            tail = bytes(self.output[-400:])
        raise AssertionError(f"{marker!r} never drawn; last output: {tail!r}")

    def main_thread_wakes(self) -> int:
        status = Path(f"/proc/{self.pid}/task/{self.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("voluntary_ctxt_switches")).split()[1])

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.05)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def env_for(runs: Path) -> dict[str, str]:
    return dict(os.environ, KERASTUI_RUNS_DIR=str(runs), TERM="xterm-256color", COLORTERM="truecolor",
                KERASTUI_WARM_TRAINER="0")  # no trainer process: the app's own cost is measured


def idle_cost(term: Pty, marker: bytes) -> tuple[float, float]:
    """(CPU-s, main-thread wake-ups) per second, once `marker` is drawn and start-up has settled."""
    term.wait_for(marker, 30)
    time.sleep(SETTLE)
    cpu, wakes, started = term.cpu_seconds(), term.main_thread_wakes(), time.monotonic()
    time.sleep(MEASURED)
    elapsed = time.monotonic() - started
    return (term.cpu_seconds() - cpu) / elapsed, (term.main_thread_wakes() - wakes) / elapsed


def test_the_app_idle_costs_under_a_hundredth_of_a_cpu(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    term = Pty([sys.executable, "-m", "kerastui"], env_for(runs))
    try:
        # The header's subtitle once the build screen's summary is ready: start-up is over.
        used, wakes = idle_cost(term, b"ready")
    finally:
        term.close()
    assert used < BUDGET, f"the idle app used {used:.4f} CPU-s per second"
    assert wakes < WAKES, f"the idle app's main thread woke {wakes:.1f} times a second"


def test_watch_on_a_finished_run_idle_costs_under_a_hundredth_of_a_cpu(tmp_path):
    runs = tmp_path / "runs"
    run_dir = make_run(runs, "done", epochs=2, dataset=load_dataset("digits"))
    term = Pty([sys.executable, "-m", "kerastui", "watch", str(run_dir)], env_for(runs))
    try:
        used, wakes = idle_cost(term, b"Finished")  # the monitor's status: the run has ended
    finally:
        term.close()
    assert used < BUDGET, f"kerastui watch on a finished run used {used:.4f} CPU-s per second"
    assert wakes < WAKES, f"kerastui watch's main thread woke {wakes:.1f} times a second"
