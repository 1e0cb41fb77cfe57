"""What following a run costs, measured as a user meets it: the real `kerastui` in a pseudo-terminal.

    python benchmarks/ui_overhead.py [--samples 8000] [--epochs 12] [--batch-size 32]
                                     [--backend tensorflow] [--sizes 120x40,80x24]

Makes MNIST-shaped data (random 28x28 images, 10 classes: digits trains in a second and hides
per-batch costs), then, in one run, side by side:
  * headless: `kerastui train` alone;
  * the app: `kerastui -e experiment.toml` in a pty at each size, ctrl+r, the run followed to its
    end (the run is a child process; a warm trainer waits for it);
  * the watcher: `kerastui watch RUN` in a pty while `kerastui train` writes RUN.
For each it prints: fit time against headless (from the run's own events, TrainingStarted to the
final one), bytes written to the terminal per second of fit, the UI process's CPU seconds per
second of fit, the latency of a key pressed mid-fit (l, until its answer is on screen), and peak
resident memory (the UI process; the app with its waiting trainer too).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- data and experiment --------------------------------------------------------------------------


def make_experiment(work: Path, samples: int, epochs: int, batch_size: int, backend: str) -> Path:
    import numpy as np

    from kerastui.core import spec
    from kerastui.core.spec import preset_experiment

    rng = np.random.default_rng(0)
    data = work / "mnist-shaped.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, samples, dtype=np.uint8),
        x_test=rng.integers(0, 256, (samples // 8, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, samples // 8, dtype=np.uint8),
    )
    experiment = preset_experiment("mlp", str(data), (28, 28, 1), 10)
    from dataclasses import replace

    experiment = replace(experiment, backend=backend, fit=replace(experiment.fit, epochs=epochs, batch_size=batch_size))
    path = work / "experiment.toml"
    spec.save(experiment, path)
    return path


def fit_seconds(run_dir: Path) -> float:
    from kerastui.core.events import TrainingStarted, final_status
    from kerastui.core.runs import load_run

    events = load_run(run_dir).events
    start = next(e.time for e in events if isinstance(e, TrainingStarted))
    end = next(e.time for e in events if final_status(e))
    return end - start


def fit_window(run_dir: Path) -> tuple[float, float]:
    from kerastui.core.events import TrainingStarted, final_status
    from kerastui.core.runs import load_run

    events = load_run(run_dir).events
    return next(e.time for e in events if isinstance(e, TrainingStarted)), next(e.time for e in events if final_status(e))


def env_for(runs: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, KERASTUI_RUNS_DIR=str(runs), TERM="xterm-256color", COLORTERM="truecolor",
                TF_CPP_MIN_LOG_LEVEL="2", **extra)


def headless(config: Path, runs: Path) -> Path:
    subprocess.run([sys.executable, "-m", "kerastui", "train", str(config), "--plain", "--runs-dir", str(runs)],
                   check=True, stdout=subprocess.DEVNULL, env=env_for(runs))
    return only_run(runs)


def only_run(runs: Path) -> Path:
    (run,) = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]  # not the queue's .queue/
    return run


def runner_pids(runs: Path) -> list[int]:
    """The queue runner of `runs` (python -m kerastui.core.queue_runner RUNS), found by its command line:
    it, not the app, starts the trainers and keeps the warm one."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kerastui.core.queue_runner" in argv and str(runs).encode() in argv:
            found.append(int(proc.name))
    return found


def without_sbatch(work: Path) -> str:
    """PATH with sbatch hidden (a directory of links to the rest): this host then is no login node,
    the one kind of host that gets a warm trainer (kerastui.core.slurm.looks_like_login_node)."""
    shadow = work / "bin-without-sbatch"
    if shadow.exists():
        return os.pathsep.join(str(shadow) if (Path(e) / "sbatch").exists() else e
                               for e in os.environ.get("PATH", "").split(os.pathsep))
    shadow.mkdir()
    path = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "sbatch").exists():
            for item in Path(entry).iterdir():
                if item.name != "sbatch" and not (shadow / item.name).exists():
                    (shadow / item.name).symlink_to(item)
            entry = str(shadow)
        path.append(entry)
    return os.pathsep.join(path)


# ---- a process on a pseudo-terminal ----------------------------------------------------------------


class Terminal:
    """A command on a pty of the given size; records every byte it writes, with times."""

    def __init__(self, argv: list[str], size: tuple[int, int], env: dict[str, str]) -> None:
        self.chunks: list[tuple[float, int]] = []
        self.text = bytearray()
        self.lock = threading.Lock()
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        cols, rows = size
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.chunks.append((time.time(), len(data)))
                self.text += data

    def press(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait_for_text(self, marker: bytes, timeout: float, after: int = 0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if marker in self.text[after:]:
                    return time.time()
            time.sleep(0.002)
        raise TimeoutError(f"{marker!r} never appeared")

    def position(self) -> int:
        with self.lock:
            return len(self.text)

    def bytes_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(n for t, n in self.chunks if start <= t <= end)

    def close(self) -> None:
        try:
            os.kill(self.pid, 15)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_until_idle(pid: int, timeout: float = 90.0) -> None:
    """Until `pid` has used no CPU for a second (a warm trainer done importing Keras)."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return
        last = now


class CpuSampler:
    """CPU seconds of a process at each moment asked (its counters read every 50 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self.samples.append((time.time(), cpu_seconds(self.pid)))
            except OSError:
                return
            self.stop.wait(0.05)

    def between(self, start: float, end: float) -> float:
        inside = [c for t, c in self.samples if start <= t <= end]
        return inside[-1] - inside[0] if len(inside) > 1 else float("nan")


def wait_for_run(runs: Path, timeout: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout
    while not (runs.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in runs.iterdir())):
        if time.monotonic() > deadline:
            raise TimeoutError("no run directory")
        time.sleep(0.05)
    return only_run(runs)


def wait_for_first_epoch(run_dir: Path, gave_up) -> None:
    """Until the run has finished an epoch (keys are pressed mid-fit), or `gave_up()`."""
    metrics = run_dir / "metrics.jsonl"
    while not (metrics.exists() and b'"epoch_end"' in metrics.read_bytes()):
        if gave_up():
            return
        time.sleep(0.05)


def key_latencies(term: Terminal, run_dir: Path, presses: int = 3) -> list[float]:
    """Press l (log-scale toggle) mid-fit; time until its notification is drawn."""
    from kerastui.core.runs import read_status

    latencies = []
    for index in range(presses):
        if read_status(run_dir) != "running":
            break
        word = b"logarithmic" if index % 2 == 0 else b"linear"
        mark = term.position()
        sent = time.time()
        term.press(b"l")
        try:
            latencies.append(term.wait_for_text(word, 5, after=mark) - sent)
        except TimeoutError:
            break
        time.sleep(0.7)
    return latencies


def figures(term: Terminal, sampler: CpuSampler, run_dir: Path, latencies: list[float], pressed: float | None) -> dict:
    """One row of the table: what the UI cost over the fit (its start to its final event)."""
    start, end = fit_window(run_dir)
    fit = end - start
    return {
        "fit": fit,
        "start_delay": start - pressed if pressed is not None else float("nan"),
        "bytes_per_s": term.bytes_between(start, end) / fit,
        "steady_bytes_per_s": term.bytes_between(start + 1.0, end) / max(fit - 1.0, 1e-9),
        "cpu_per_s": sampler.between(start, end) / fit,
        "latency": statistics.median(latencies) if latencies else float("nan"),
        "peak_rss": peak_rss_mb(term.pid),
        "trainer_rss": 0.0,
    }


# ---- the measured cases ------------------------------------------------------------------------------


def app_case(config: Path, work: Path, size: tuple[int, int], warm: bool) -> dict:
    from kerastui.core.runs import read_status

    runs = work / f"app-{size[0]}x{size[1]}-{'warm' if warm else 'cold'}"
    runs.mkdir()
    warm_env = {"KERASTUI_WARM_TRAINER": "start", "PATH": without_sbatch(work)} if warm else {"KERASTUI_WARM_TRAINER": "0"}
    term = Terminal([sys.executable, "-m", "kerastui", "-e", str(config)], size, env_for(runs, **warm_env))
    try:
        term.wait_for_text(b"ready (runs train", 90)  # drawn, and its model summary is there
        time.sleep(1.0)
        deadline = time.monotonic() + 60
        while warm and not runner_pids(runs) and time.monotonic() < deadline:
            time.sleep(0.2)
        for runner in runner_pids(runs):
            for child in children(runner):
                wait_until_idle(child)  # the warm trainer (the queue runner's) has Keras imported
        wait_until_idle(term.pid)  # and the app its summary
        sampler = CpuSampler(term.pid)
        pressed = time.time()
        term.press(b"\x12")  # ctrl+r
        run_dir = wait_for_run(runs)
        wait_for_first_epoch(run_dir, lambda: read_status(run_dir) not in ("running", "queued", "unknown"))
        latencies = key_latencies(term, run_dir)
        while read_status(run_dir) == "running":
            time.sleep(0.1)
        time.sleep(0.5)
        trainer_pid = json.loads((run_dir / "info.json").read_text())["pid"]
        result = figures(term, sampler, run_dir, latencies, pressed)
        sampler.stop.set()
        if warm:  # the next run's trainer starts once this one has ended: its size once it waits
            def waiting() -> list[int]:
                return [c for r in runner_pids(runs) for c in children(r) if c != trainer_pid]

            deadline = time.monotonic() + 60
            while not waiting() and time.monotonic() < deadline:
                time.sleep(0.2)
            for child in waiting():
                wait_until_idle(child)
            result["trainer_rss"] = sum(rss_mb(c) for c in waiting())
        return result
    finally:
        term.press(b"\x11")  # ctrl+q
        time.sleep(0.5)
        term.close()
        for runner in runner_pids(runs):  # its warm trainer goes with it
            os.kill(runner, 15)


def watch_case(config: Path, work: Path, size: tuple[int, int]) -> dict:
    runs = work / "watched"
    runs.mkdir()
    trainer = subprocess.Popen([sys.executable, "-m", "kerastui", "train", str(config), "--plain", "--runs-dir", str(runs)],
                               stdout=subprocess.DEVNULL, env=env_for(runs))
    run_dir = wait_for_run(runs)
    term = Terminal([sys.executable, "-m", "kerastui", "watch", str(run_dir)], size, env_for(runs))
    try:
        sampler = CpuSampler(term.pid)
        wait_for_first_epoch(run_dir, lambda: trainer.poll() is not None)
        latencies = key_latencies(term, run_dir)
        trainer.wait()
        time.sleep(0.5)
        return figures(term, sampler, run_dir, latencies, pressed=None)
    finally:
        term.press(b"\x11")
        time.sleep(0.3)
        term.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=8000)
    # 12: at 4 epochs the fit is 2.5 s here, too short for the figures to settle.
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--sizes", default="120x40,80x24")
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in text.split("x")) for text in args.sizes.split(",")]

    with tempfile.TemporaryDirectory(prefix="kerastui-bench-") as temp:
        work = Path(temp)
        config = make_experiment(work, args.samples, args.epochs, args.batch_size, args.backend)
        print(f"MLP 784-128-64-10 on {args.samples} random 28x28 images, batch {args.batch_size}, "
              f"{args.epochs} epochs, {args.backend} backend", flush=True)
        base_runs = work / "headless"
        base_runs.mkdir()
        base = fit_seconds(headless(config, base_runs))
        rows = []
        for size in sizes:
            rows.append((f"app {size[0]}x{size[1]}", app_case(config, work, size, warm=True)))
        rows.append((f"app {sizes[0][0]}x{sizes[0][1]}, no warm trainer", app_case(config, work, sizes[0], warm=False)))
        rows.append((f"watch {sizes[0][0]}x{sizes[0][1]}", watch_case(config, work, sizes[0])))
        again = work / "headless-again"
        again.mkdir()
        base = statistics.mean([base, fit_seconds(headless(config, again))])  # before and after, for drift

    print(f"\nheadless fit: {base:.2f} s (mean of one run before and one after)\n")
    print(f"{'':32} {'fit/headless':>12} {'KiB/s':>6} {'(after 1st s)':>13} {'CPU s/s':>8} {'key ms':>7} "
          f"{'start s':>8} {'UI MB':>6} {'trainer MB':>10}")
    for name, r in rows:
        print(f"{name:32} {r['fit'] / base:12.2f} {r['bytes_per_s'] / 1024:6.1f} {r['steady_bytes_per_s'] / 1024:13.1f} "
              f"{r['cpu_per_s']:8.3f} {r['latency'] * 1000:7.0f} {r['start_delay']:8.2f} {r['peak_rss']:6.0f} "
              f"{r['trainer_rss']:10.0f}")
    print("(KiB/s: what the UI wrote to its terminal per second of fit, truecolor; the first second holds the")
    print(" switch to the train screen, a full repaint. trainer MB: the warm trainer waiting for the next run.)")
    print("\ntargets: fit/headless <= 1.03, <= 30 KiB/s, <= 0.15 CPU s/s, key <= 100 ms, start within 1 s (warm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
