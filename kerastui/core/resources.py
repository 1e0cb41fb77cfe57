"""What a run uses of the machine: CPU, resident memory and NVIDIA GPUs, sampled by the training
process itself every few seconds into its run directory, and summed up the way seff would.

    resources.jsonl   one JSON sample per line: time, cpu (cores busy on average since the last
                      sample), cpu_seconds (total so far), rss_bytes, and per GPU its utilisation
                      and memory (only where NVML answers: nvidia-ml-py and a driver)

The sampler is a daemon thread that reads /proc and NVML: microseconds every few seconds, never
on the training loop. A follower (the monitor, `kerastui runs`) reads the same file, so a Slurm
run's figures reach the login node like its metrics do. Nothing here imports Keras or Textual.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from kerastui.core.appended_lines import AppendedLines

RESOURCES_FILE = "resources.jsonl"
SAMPLE_EVERY = 5.0  # seconds; sites frown on busy monitors, and the curves move slower than this
GPU_IDLE_BELOW = 10.0  # percent utilisation
GPU_IDLE_FOR = 60.0  # seconds of it, while training, before the monitor warns
MEMORY_NEAR_LIMIT = 0.9  # of the job's memory limit


# ---- what the machine grants ----------------------------------------------------------------


def cpus_allowed() -> int:
    """CPUs this process may run on: Slurm's allocation, else the affinity mask, else the machine."""
    for name in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def memory_limit_bytes() -> int | None:
    """The job's memory limit: Slurm's request (--mem, --mem-per-cpu), else the cgroup's, else None."""
    per_node = os.environ.get("SLURM_MEM_PER_NODE", "")
    if per_node.isdigit():
        return int(per_node) * 1024 * 1024  # Slurm gives megabytes
    per_cpu = os.environ.get("SLURM_MEM_PER_CPU", "")
    if per_cpu.isdigit():
        return int(per_cpu) * 1024 * 1024 * cpus_allowed()
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max" or a huge number: no limit
            return int(text)
    return None


# ---- sampling -------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User and system CPU time of this process and its finished children (data loaders)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rss_bytes() -> int:
    """Resident memory now (/proc), or the peak where /proc is missing (macOS)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if os.uname().sysname == "Darwin" else peak * 1024


class Nvml:
    """The GPUs as NVML sees them; `gpus()` is empty, quietly, without nvidia-ml-py or a driver."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
            self._nvml = pynvml
        except Exception:  # ImportError, or NVMLError of any kind: no GPU figures, no noise
            self._handles = []

    def gpus(self) -> list[dict[str, float]]:
        out = []
        for index, handle in enumerate(self._handles):
            try:
                rates = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:  # a GPU that fell off the bus: skip it this time
                continue
            out.append({"index": index, "util": float(rates.gpu), "mem_used": int(memory.used), "mem_total": int(memory.total)})
        return out

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._nvml = None


class ResourceSampler:
    """Samples this process every `interval` seconds into `<run_dir>/resources.jsonl`, in a thread.

    A failed write stops the sampling quietly: the run's own files say what matters, and a
    full disk is reported by them.
    """

    def __init__(self, run_dir: Path, interval: float = SAMPLE_EVERY, gpus: Callable[[], Any] | None = None):
        self.path = Path(run_dir) / RESOURCES_FILE
        self.interval = interval
        self._gpus = gpus
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[float, float] | None = None

    def start(self) -> ResourceSampler:
        self._thread = threading.Thread(target=self._loop, name="kerastui-resources", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take a last sample (so a short run has one) and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def sample(self) -> dict[str, Any]:
        now, used = time.time(), cpu_seconds()
        busy = 0.0
        if self._last is not None and now > self._last[0]:
            busy = max(0.0, (used - self._last[1]) / (now - self._last[0]))
        self._last = (now, used)
        sample: dict[str, Any] = {"time": now, "cpu": round(busy, 3), "cpu_seconds": round(used, 3), "rss_bytes": rss_bytes()}
        gpus = self._gpus() if self._gpus is not None else []
        if gpus:
            sample["gpus"] = gpus
        return sample

    def _loop(self) -> None:
        nvml = Nvml() if self._gpus is None else None
        if nvml is not None:
            self._gpus = nvml.gpus
        self._last = (time.time(), cpu_seconds())
        header = {"cpus": cpus_allowed(), "memory_limit_bytes": memory_limit_bytes(),
                  "time": self._last[0], "cpu_seconds": round(self._last[1], 3)}
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"machine": header}) + "\n")
                handle.flush()
                while True:
                    stopping = self._stop.wait(self.interval)
                    handle.write(json.dumps(self.sample()) + "\n")
                    handle.flush()
                    if stopping:
                        break
        except OSError:
            pass
        finally:
            if nvml is not None:
                nvml.close()


# ---- reading and summing up -----------------------------------------------------------------


@dataclass
class ResourceLog:
    """A run's samples as read so far, and what they add up to."""

    cpus: int | None = None
    memory_limit_bytes: int | None = None
    started: float | None = None  # when the sampler began, and the CPU time used by then
    cpu_at_start: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def absorb(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            machine = record.get("machine")
            if isinstance(machine, dict):
                self.cpus = machine.get("cpus") or self.cpus
                self.memory_limit_bytes = machine.get("memory_limit_bytes")
                if self.started is None:  # a resumed run appends a second header: count from the first
                    self.started = machine.get("time")
                    self.cpu_at_start = float(machine.get("cpu_seconds") or 0.0)
            elif isinstance(record.get("time"), (int, float)):
                self.samples.append(record)

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.samples[-1] if self.samples else None

    @property
    def peak_rss_bytes(self) -> int | None:
        values = [s["rss_bytes"] for s in self.samples if isinstance(s.get("rss_bytes"), int)]
        return max(values) if values else None

    def series(self, key: str) -> list[float]:
        return [float(s[key]) for s in self.samples if isinstance(s.get(key), (int, float))]

    def gpu_series(self) -> list[float]:
        """The mean utilisation over the GPUs, per sample (empty without GPU figures)."""
        out = []
        for sample in self.samples:
            gpus = sample.get("gpus") or []
            if gpus:
                out.append(sum(g["util"] for g in gpus) / len(gpus))
        return out

    @property
    def mean_gpu_util(self) -> float | None:
        values = self.gpu_series()
        return sum(values) / len(values) if values else None

    @property
    def cpu_efficiency(self) -> float | None:
        """CPU time over (CPUs x elapsed), as seff reports it."""
        if not self.samples or not self.cpus or self.started is None:
            return None
        elapsed = self.samples[-1]["time"] - self.started
        used = self.samples[-1].get("cpu_seconds")
        if elapsed <= 0 or not isinstance(used, (int, float)):
            return None
        return max(0.0, min(1.0, (used - self.cpu_at_start) / (self.cpus * elapsed)))

    def warnings(self, training: bool = True) -> list[str]:
        """What a person should act on: an idle GPU while training, memory close to the limit."""
        found = []
        if training:
            idle_since = None
            for sample in self.samples:
                gpus = sample.get("gpus") or []
                if not gpus:
                    continue
                if max(g["util"] for g in gpus) < GPU_IDLE_BELOW:
                    idle_since = sample["time"] if idle_since is None else idle_since
                else:
                    idle_since = None
            if idle_since is not None and self.samples[-1]["time"] - idle_since >= GPU_IDLE_FOR:
                minutes = (self.samples[-1]["time"] - idle_since) / 60
                found.append(f"GPU idle (under {GPU_IDLE_BELOW:.0f}%) for {minutes:.0f} min while training: "
                             "the input pipeline may be the bottleneck")
        latest = self.latest
        if latest and self.memory_limit_bytes and latest.get("rss_bytes", 0) >= MEMORY_NEAR_LIMIT * self.memory_limit_bytes:
            found.append(f"memory at {latest['rss_bytes'] / self.memory_limit_bytes:.0%} of the job's limit "
                         f"({format_bytes(self.memory_limit_bytes)}): close to being killed")
        return found

    def summary(self) -> dict[str, Any]:
        """For info.json and the runs table: what seff would print."""
        out: dict[str, Any] = {"cpus": self.cpus, "peak_rss_bytes": self.peak_rss_bytes}
        if self.cpu_efficiency is not None:
            out["cpu_efficiency"] = round(self.cpu_efficiency, 4)
        if self.memory_limit_bytes:
            out["memory_limit_bytes"] = self.memory_limit_bytes
        if self.mean_gpu_util is not None:
            out["mean_gpu_util"] = round(self.mean_gpu_util, 1)
        return out


def parse_lines(lines: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill: the next sample says the same
        if isinstance(record, dict):
            out.append(record)
    return out


class ResourceTail:
    """Reads a run's resources.jsonl incrementally, for followers."""

    def __init__(self, run_dir: Path):
        self.log = ResourceLog()
        self._lines = AppendedLines(Path(run_dir) / RESOURCES_FILE)

    def poll(self) -> bool:
        """Read what was appended; True when there were new samples."""
        lines = self._lines.read()
        if not lines:
            return False
        before = len(self.log.samples)
        self.log.absorb(parse_lines(lines))
        return len(self.log.samples) > before


def read_resources(run_dir: Path) -> ResourceLog:
    tail = ResourceTail(run_dir)
    tail.poll()
    return tail.log


def format_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit in ("B", "KiB") else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def efficiency_line(summary: dict[str, Any]) -> str:
    """One line like seff's: 'CPU efficiency 84% of 4 cores · peak memory 1.2 GiB of 8.0 GiB · GPU 63%'."""
    parts = []
    if summary.get("cpu_efficiency") is not None:
        parts.append(f"CPU efficiency {summary['cpu_efficiency']:.0%} of {summary.get('cpus') or '?'} cores")
    if summary.get("peak_rss_bytes"):
        limit = summary.get("memory_limit_bytes")
        of = f" of {format_bytes(limit)} requested ({summary['peak_rss_bytes'] / limit:.0%})" if limit else ""
        parts.append(f"peak memory {format_bytes(summary['peak_rss_bytes'])}{of}")
    if summary.get("mean_gpu_util") is not None:
        parts.append(f"mean GPU utilisation {summary['mean_gpu_util']:.0f}%")
    return " · ".join(parts)
