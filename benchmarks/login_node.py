"""What kerastui costs on a login node, measured from outside as a site's limits see it.

    python benchmarks/login_node.py [--samples 16000] [--epochs 12] [--backend tensorflow]

Every process runs as a user meets it: the real `kerastui` in a pseudo-terminal at 80x24 (as in
benchmarks/ui_overhead.py, whose Terminal it uses), memory and CPU read from /proc (VmHWM, the
peak resident set; utime + stime). In one run it prints:
  * time to the first frame (3 fresh starts, median; target 0.6 s);
  * the app idle: peak RSS and CPU-s per second, nothing running;
  * a journey in the app: the build screen's tabs, ctrl+r on MNIST-shaped data (random 28x28
    images, 10 classes), keys pressed mid-fit (f1 help, l log scale, m smoothing: the time until
    each answer is on screen; target 100 ms), the run followed to its end, e its evaluation; the
    app's and the queue runner's peak RSS and CPU-s per second while following;
  * ctrl+r to the first batch, without a warm trainer (this host has sbatch on PATH: the login-node
    rule never starts one) and with one (sbatch hidden from PATH, KERASTUI_WARM_TRAINER=start);
  * the runner idle beside its waiting warm trainer;
  * `kerastui watch` while `kerastui train` writes the run, then idle once it ended.
Targets (issue 19): app under 200 MB, runner under 80 MB, watch under 80 MB; idle under 0.01 CPU-s/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ui_overhead import (  # noqa: E402
    Terminal,
    cpu_seconds,
    env_for,
    make_experiment,
    peak_rss_mb,
    runner_pids,
    without_sbatch,
)

SIZE = (80, 24)
IDLE_S = 5.0  # seconds of idle measured
TITLE = b"kerastui"  # the header's title: the first frame is drawn
READY = b"ready (runs train"  # the subtitle once the build screen's summary is ready


class Watched:
    """Peak RSS and CPU seconds of processes that may come and go (the runner exits when its queue
    is empty), sampled every 0.2 s; `pids()` says which to look at."""

    def __init__(self, pids) -> None:
        self.pids = pids
        self.peak = 0.0
        self.cpu: dict[int, list[tuple[float, float]]] = {}
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for pid in self.pids():
                try:
                    self.peak = max(self.peak, peak_rss_mb(pid))
                    self.cpu.setdefault(pid, []).append((time.time(), cpu_seconds(pid)))
                except OSError:
                    pass
            self.stop.wait(0.2)

    def cpu_between(self, start: float, end: float) -> float:
        total = 0.0
        for samples in self.cpu.values():
            inside = [c for t, c in samples if start <= t <= end]
            if len(inside) > 1:
                total += inside[-1] - inside[0]
        return total


def idle_cpu(pid: int, seconds: float = IDLE_S) -> float:
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


def first_frame(config: Path, work: Path) -> float:
    times = []
    for index in range(3):
        runs = work / f"first-frame-{index}"
        runs.mkdir()
        started = time.time()
        term = Terminal([sys.executable, "-m", "kerastui", "-e", str(config)], SIZE, env_for(runs))
        try:
            times.append(term.wait_for_text(TITLE, 30) - started)
            term.wait_for_text(READY, 30)
        finally:
            term.press(b"\x11")
            time.sleep(0.3)
            term.close()
    return statistics.median(times)


def wait_for_run(runs: Path, timeout: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")] if runs.is_dir() else []
        if found:
            return found[0]
        time.sleep(0.02)
    raise TimeoutError("no run directory")


def events_of(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def wait_for_event(run_dir: Path, name: str, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in events_of(run_dir):
            if event["event"] == name:
                return event
        time.sleep(0.05)
    raise TimeoutError(f"no {name} event in {run_dir}")


def run_ended(run_dir: Path) -> bool:
    return any(e["event"] in ("finished", "stopped", "failed") for e in events_of(run_dir))


def key_latency(term: Terminal, key: bytes, answer: bytes, close: bytes | None = None) -> float:
    mark = term.position()
    sent = time.time()
    term.press(key)
    latency = term.wait_for_text(answer, 5, after=mark) - sent
    if close:
        time.sleep(0.2)
        term.press(close)
    time.sleep(0.6)
    return latency


def journey(config: Path, work: Path, name: str, env: dict[str, str], warm: bool) -> dict:
    """The app from start to an evaluated run; its figures."""
    runs = work / name
    runs.mkdir()
    term = Terminal([sys.executable, "-m", "kerastui", "-e", str(config)], SIZE, dict(env_for(runs), **env))
    result: dict = {}
    try:
        term.wait_for_text(READY, 60)
        if warm:  # the warm trainer imports Keras before ctrl+r
            deadline = time.monotonic() + 120
            while not runner_pids(runs) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(8.0)
        time.sleep(1.5)
        result["app_idle_cpu"] = idle_cpu(term.pid)
        result["app_idle_rss"] = peak_rss_mb(term.pid)
        for key in (b"3", b"2", b"1"):  # the build screen's tabs: training, model, data
            term.press(key)
            time.sleep(0.4)
        runner = Watched(lambda: runner_pids(runs))
        app = Watched(lambda: [term.pid])
        pressed = time.time()
        term.press(b"\x12")  # ctrl+r
        run_dir = wait_for_run(runs)
        first_batch = wait_for_event(run_dir, "batch_end")
        result["first_batch"] = first_batch["time"] - pressed
        wait_for_event(run_dir, "epoch_end")
        latencies: dict[str, list[float]] = {"f1": [], "l": [], "m": []}
        for _ in range(2):
            if run_ended(run_dir):
                break
            latencies["f1"].append(key_latency(term, b"\x1bOP", b"escape closes", close=b"\x1b"))
            latencies["l"].append(key_latency(term, b"l", b"loss axis"))
            latencies["m"].append(key_latency(term, b"m", b"smoothing"))
        result["keys"] = {k: statistics.median(v) for k, v in latencies.items() if v}
        while not run_ended(run_dir):
            time.sleep(0.2)
        events = events_of(run_dir)
        start = next(e["time"] for e in events if e["event"] == "started")
        end = next(e["time"] for e in events if e["event"] in ("finished", "stopped", "failed"))
        result["fit"] = end - start
        result["app_follow_cpu"] = app.cpu_between(start, end) / (end - start)
        result["runner_follow_cpu"] = runner.cpu_between(start, end) / (end - start)
        deadline = time.monotonic() + 120
        while not (run_dir / "evaluation.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # the monitor has seen the run end
        mark = term.position()
        term.press(b"e")
        term.wait_for_text(b"accuracy", 60, after=mark)
        time.sleep(1.0)
        app.stop.set()
        result["app_journey_rss"] = peak_rss_mb(term.pid)
        time.sleep(2.0)
        left = runner_pids(runs)
        result["runner_idle_cpu"] = idle_cpu(left[0]) if left else None  # beside its waiting warm trainer
        runner.stop.set()
        result["runner_rss"] = runner.peak or None
    finally:
        term.press(b"\x11")  # ctrl+q (keep the queue if asked: k)
        time.sleep(0.5)
        term.press(b"k")
        time.sleep(0.5)
        term.close()
        for pid in runner_pids(runs):  # its warm trainer goes with it
            os.kill(pid, 15)
    return result


def watch_case(config: Path, work: Path) -> dict:
    runs = work / "watched"
    runs.mkdir()
    trainer = subprocess.Popen([sys.executable, "-m", "kerastui", "train", str(config), "--plain", "--runs-dir", str(runs)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env_for(runs))
    run_dir = wait_for_run(runs)
    term = Terminal([sys.executable, "-m", "kerastui", "watch", str(run_dir)], SIZE, env_for(runs))
    try:
        watched = Watched(lambda: [term.pid])
        trainer.wait()
        events = events_of(run_dir)
        start = next(e["time"] for e in events if e["event"] == "started")
        end = next(e["time"] for e in events if e["event"] in ("finished", "stopped", "failed"))
        follow_cpu = watched.cpu_between(start, end) / (end - start)
        watched.stop.set()
        term.wait_for_text(b"Finished", 60)
        time.sleep(2.0)
        return {"follow_cpu": follow_cpu, "idle_cpu": idle_cpu(term.pid), "rss": peak_rss_mb(term.pid)}
    finally:
        term.press(b"\x11")
        time.sleep(0.3)
        term.close()


def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # A fit of 10-15 s here: long enough for two rounds of keys pressed mid-fit.
    parser.add_argument("--samples", type=int, default=16000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backend", default="tensorflow")
    args = parser.parse_args()
    have_runner = subprocess.run([sys.executable, "-c", "import kerastui.core.queue_runner"]).returncode == 0

    with tempfile.TemporaryDirectory(prefix="kerastui-login-") as temp:
        work = Path(temp)
        config = make_experiment(work, args.samples, args.epochs, args.batch_size, args.backend)
        print(f"MLP 784-128-64-10 on {args.samples} random 28x28 images, batch {args.batch_size}, "
              f"{args.epochs} epochs, {args.backend}; every UI in a pty at {SIZE[0]}x{SIZE[1]}; "
              f"load before: {os.getloadavg()[0]:.2f}", flush=True)
        frame = first_frame(config, work)
        print(f"first frame: {frame:.2f} s", flush=True)
        cold = journey(config, work, "cold", {}, warm=False)
        print("journey without a warm trainer done", flush=True)
        warm = journey(config, work, "warm", {"PATH": without_sbatch(work), "KERASTUI_WARM_TRAINER": "start"},
                       warm=True)
        print("journey with a warm trainer done", flush=True)
        watch = watch_case(config, work)

    print()
    print(f"time to first frame (80x24, median of 3):      {frame:.2f} s   (target 0.6 s)")
    print(f"app idle:            peak RSS {mb(cold['app_idle_rss'])}, {rate(cold['app_idle_cpu'])} CPU-s/s")
    print(f"app after a journey: peak RSS {mb(cold['app_journey_rss'])} (build tabs, train, evaluate)")
    print(f"app following:       {rate(cold['app_follow_cpu'])} CPU-s/s over a {cold['fit']:.1f} s fit")
    if have_runner:
        print(f"queue runner:        peak RSS {mb(cold['runner_rss'])}, following {rate(cold['runner_follow_cpu'])} "
              f"CPU-s/s; idle beside its warm trainer {rate(warm['runner_idle_cpu'])} CPU-s/s "
              f"(without one it exits when its queue is empty)")
    else:
        print("queue runner:        n/a (no kerastui.core.queue_runner here)")
    print(f"kerastui watch:      peak RSS {mb(watch['rss'])}, following {rate(watch['follow_cpu'])} CPU-s/s, "
          f"idle {rate(watch['idle_cpu'])} CPU-s/s")
    print(f"ctrl+r to first batch: {cold['first_batch']:.2f} s without a warm trainer, "
          f"{warm['first_batch']:.2f} s with one")
    for label, figures in (("no warm trainer", cold), ("warm trainer", warm)):
        keys = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in figures["keys"].items())
        print(f"keys mid-fit ({label}): {keys}   (target 100 ms)")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
