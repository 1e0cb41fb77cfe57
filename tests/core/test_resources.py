"""What a run uses: the training process samples its own CPU, memory and (with NVML) GPUs into
its run directory; followers sum it up the way seff would, and warn about waste."""

from __future__ import annotations

import json
import time

import pytest

from kerastui.core import resources
from kerastui.core.resources import (
    RESOURCES_FILE,
    Nvml,
    ResourceLog,
    ResourceSampler,
    ResourceTail,
    efficiency_line,
    memory_limit_bytes,
    read_resources,
)


def busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_real_process_is_sampled_into_its_run_directory(tmp_path):
    sampler = ResourceSampler(tmp_path, interval=0.1).start()
    busy(0.6)
    sampler.stop()
    log = read_resources(tmp_path)
    assert log.cpus >= 1 and len(log.samples) >= 3
    latest = log.latest
    assert 10 * 2**20 < latest["rss_bytes"] < 64 * 2**30  # a Python process: tens of MB, not terabytes
    assert 0.0 <= latest["cpu"] <= log.cpus + 0.5
    assert max(log.series("cpu")) > 0.3  # it was busy on one core
    assert latest["cpu_seconds"] >= 0.6
    assert 0.0 < log.cpu_efficiency <= 1.0
    summary = log.summary()
    assert summary["peak_rss_bytes"] == log.peak_rss_bytes and "mean_gpu_util" not in summary
    assert "CPU efficiency" in efficiency_line(summary) and "peak memory" in efficiency_line(summary)


def test_no_driver_means_no_gpu_figures_and_no_noise(capsys):
    nvml = Nvml()  # nvidia-ml-py is installed; without a driver nvmlInit fails, quietly
    if nvml.gpus():
        pytest.skip("this machine has an NVIDIA GPU; tests/core/test_resources.py::test_real_gpu covers it")
    nvml.close()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


class FakeGpus:
    """NVML's answers through the sampler's seam: utilisation goes as scripted."""

    def __init__(self, utilisation: list[float]):
        self.utilisation = list(utilisation)

    def __call__(self) -> list[dict]:
        util = self.utilisation.pop(0) if len(self.utilisation) > 1 else self.utilisation[0]
        return [{"index": 0, "util": util, "mem_used": 3 * 2**30, "mem_total": 80 * 2**30}]


def test_gpu_figures_through_a_fake_nvml_reach_the_file_and_the_summary(tmp_path):
    sampler = ResourceSampler(tmp_path, interval=0.05, gpus=FakeGpus([40.0, 60.0, 80.0]))
    sampler.start()
    time.sleep(0.4)
    sampler.stop()
    log = read_resources(tmp_path)
    assert all(s["gpus"][0]["mem_total"] == 80 * 2**30 for s in log.samples)
    assert 40.0 <= log.mean_gpu_util <= 80.0
    assert "mean GPU utilisation" in efficiency_line(log.summary())


def _log(samples: list[dict], cpus: int = 4, limit: int | None = None) -> ResourceLog:
    log = ResourceLog()
    log.absorb([{"machine": {"cpus": cpus, "memory_limit_bytes": limit, "time": 0.0, "cpu_seconds": 0.0}}, *samples])
    return log


def test_an_idle_gpu_for_a_minute_while_training_is_a_warning():
    idle = [{"time": float(t), "cpu": 1.0, "cpu_seconds": float(t), "rss_bytes": 2**30,
             "gpus": [{"index": 0, "util": 3.0, "mem_used": 1, "mem_total": 2}]} for t in range(0, 75, 5)]
    assert any("GPU idle" in w for w in _log(idle).warnings(training=True))
    assert not _log(idle).warnings(training=False)  # after the run, an idle GPU is no news
    busy_again = idle + [{"time": 80.0, "cpu": 1.0, "cpu_seconds": 80.0, "rss_bytes": 2**30,
                          "gpus": [{"index": 0, "util": 90.0, "mem_used": 1, "mem_total": 2}]}]
    assert not _log(busy_again).warnings(training=True)
    short = idle[:6]  # 25 s of idling: not yet
    assert not _log(short).warnings(training=True)


def test_memory_close_to_the_jobs_limit_is_a_warning():
    samples = [{"time": 10.0, "cpu": 1.0, "cpu_seconds": 10.0, "rss_bytes": int(7.5 * 2**30)}]
    warnings = _log(samples, limit=8 * 2**30).warnings()
    assert warnings and "94% of the job's limit (8.0 GiB)" in warnings[0]
    assert not _log(samples, limit=16 * 2**30).warnings()


def test_cpu_efficiency_is_cpu_time_over_cpus_times_elapsed():
    # 4 CPUs for 100 s, 100 CPU-seconds used: 25%, as seff would print it.
    log = _log([{"time": 100.0, "cpu": 1.0, "cpu_seconds": 100.0, "rss_bytes": 2**30}], cpus=4)
    assert log.cpu_efficiency == pytest.approx(0.25)
    assert efficiency_line(log.summary()).startswith("CPU efficiency 25% of 4 cores")


def test_the_memory_limit_comes_from_slurm(monkeypatch):
    monkeypatch.setenv("SLURM_MEM_PER_NODE", "8192")
    assert memory_limit_bytes() == 8 * 2**30
    monkeypatch.delenv("SLURM_MEM_PER_NODE")
    monkeypatch.setenv("SLURM_MEM_PER_CPU", "1024")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "4")
    assert memory_limit_bytes() == 4 * 2**30
    assert resources.cpus_allowed() == 4


def test_a_follower_reads_the_samples_incrementally_and_skips_a_cut_line(tmp_path):
    path = tmp_path / RESOURCES_FILE
    path.write_text(json.dumps({"machine": {"cpus": 2, "time": 0.0, "cpu_seconds": 0.0}}) + "\n"
                    + json.dumps({"time": 5.0, "cpu": 1.0, "cpu_seconds": 5.0, "rss_bytes": 100}) + "\n"
                    + '{"time": 10.0, "cpu"')
    tail = ResourceTail(tmp_path)
    assert tail.poll() and len(tail.log.samples) == 1
    assert not tail.poll()
    with open(path, "a") as handle:
        handle.write(': 1.0, "cpu_seconds": 10.0, "rss_bytes": 200}\n')
    assert tail.poll() and tail.log.peak_rss_bytes == 200


@pytest.mark.gpu
def test_real_gpu(tmp_path):
    nvml = Nvml()
    if not nvml.gpus():
        pytest.skip("no NVIDIA GPU with a driver here")
    sampler = ResourceSampler(tmp_path, interval=0.2, gpus=nvml.gpus).start()
    time.sleep(0.7)
    sampler.stop()
    nvml.close()
    gpu = read_resources(tmp_path).latest["gpus"][0]
    assert 0.0 <= gpu["util"] <= 100.0 and 0 < gpu["mem_used"] <= gpu["mem_total"]
