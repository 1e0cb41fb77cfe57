"""Multi-worker on Slurm without a cluster: the job script (--ntasks + srun), the tasks setting,
and the cluster spec built from Slurm's variables (ports, CPU-only nodes, several nodes)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from kerastui.cli import main
from kerastui.core import distribute, spec
from kerastui.core.distribute import (
    StrategyError,
    job_port_base,
    slurm_task_layout,
    visible_gpu_count,
)
from kerastui.core.slurm import prepare_submission
from kerastui.core.slurm_settings import SlurmSettings, slurm_settings
from kerastui.core.spec import SpecError

TINY = spec.Experiment(
    name="tiny",
    layers=(spec.LayerSpec("Flatten"), spec.LayerSpec("Dense", {"units": 10, "activation": "softmax"})),
    strategy="multiworker",
)


def prepare(tmp_path, experiment=TINY, **settings):
    return prepare_submission(experiment, SlurmSettings(**settings), runs_root=tmp_path / "runs",
                              workdir=tmp_path, check_dataset=lambda *given: None)


def test_multiworker_job_asks_for_tasks_and_starts_one_worker_per_task_with_srun(tmp_path):
    run_dir = prepare(tmp_path, tasks=3, cpus=2)
    script = (run_dir / "job.sbatch").read_text()
    assert "#SBATCH --ntasks=3\n" in script
    assert "#SBATCH --cpus-per-task=2\n" in script
    (launch,) = [line for line in script.splitlines() if line.startswith("exec ")]
    assert launch.startswith("exec srun --kill-on-bad-exit=1 --ntasks=3 --cpus-per-task=2 ")
    assert launch.endswith(f"-m kerastui train {run_dir}/config.toml --run-dir {run_dir} --plain")
    # bash itself accepts the script
    assert subprocess.run(["bash", "-n", str(run_dir / "job.sbatch")], check=False).returncode == 0


def test_one_task_job_runs_kerastui_directly(tmp_path):
    script = (prepare(tmp_path) / "job.sbatch").read_text()
    assert "--ntasks" not in script and "srun" not in script
    assert any(line.startswith("exec ") and "-m kerastui train" in line for line in script.splitlines())


def test_several_tasks_need_the_multiworker_strategy(tmp_path):
    plain = spec.Experiment(name="plain", layers=TINY.layers)
    with pytest.raises(SpecError, match="more than one task needs strategy 'multiworker'"):
        prepare(tmp_path, experiment=plain, tasks=2)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize("tasks", [0, -1, True, "2"])
def test_tasks_must_be_a_whole_number_of_at_least_one(tasks):
    problems = SlurmSettings(tasks=tasks).problems()
    assert [p.field for p in problems] == ["slurm.tasks"]


def test_tasks_come_from_the_config_file_and_overrides():
    assert slurm_settings({"tasks": 4}, environ={}).tasks == 4
    assert slurm_settings({"tasks": 4}, environ={}, tasks=2).tasks == 2
    assert slurm_settings({}, environ={}).tasks == 1


def test_submit_dry_run_with_tasks_flag(tmp_path, capsys):
    config = spec.save(TINY, tmp_path / "tiny.toml")
    code = main(["submit", str(config), "--tasks", "2", "--dry-run", "--runs-dir", str(tmp_path / "runs")])
    assert code == 0, capsys.readouterr().err
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert "#SBATCH --ntasks=2" in (run_dir / "job.sbatch").read_text()


def test_submit_refuses_tasks_without_multiworker(tmp_path, capsys):
    config = spec.save(replace(TINY, strategy="default"), tmp_path / "plain.toml")
    code = main(["submit", str(config), "--tasks", "2", "--dry-run", "--runs-dir", str(tmp_path / "runs")])
    assert code == 2
    assert "needs strategy 'multiworker'" in capsys.readouterr().err


def test_port_base_is_the_same_for_every_task_of_a_job_and_differs_between_jobs():
    first = job_port_base({"SLURM_JOB_ID": "1234", "SLURM_PROCID": "0"})
    assert first == job_port_base({"SLURM_JOB_ID": "1234", "SLURM_PROCID": "1"})
    assert first != job_port_base({"SLURM_JOB_ID": "1235"})
    assert abs(first - job_port_base({"SLURM_JOB_ID": "1235"})) >= distribute.PORTS_PER_JOB
    assert all(1024 < job_port_base({"SLURM_JOB_ID": str(j)}) < 65535 - distribute.PORTS_PER_JOB for j in range(0, 5000, 7))
    assert job_port_base({"SLURM_JOB_ID": "1234", "KERASTUI_PORT_BASE": "40000"}) == 40000
    with pytest.raises(StrategyError, match="KERASTUI_PORT_BASE"):
        job_port_base({"KERASTUI_PORT_BASE": "80"})


def test_gpu_count_without_nvidia_smi_is_zero_not_a_crash():
    assert visible_gpu_count({}, which=lambda name: None) == 0
    assert visible_gpu_count({"CUDA_VISIBLE_DEVICES": "0,1"}, which=lambda name: None) == 2
    assert visible_gpu_count({"CUDA_VISIBLE_DEVICES": ""}, which=lambda name: None) == 0


def test_task_layout_reads_slurms_step_variables():
    env = {"SLURM_PROCID": "3", "SLURM_STEP_NODELIST": "node[07-08],gpu1", "SLURM_STEP_TASKS_PER_NODE": "2(x2),1"}
    assert slurm_task_layout(env) == (3, {"node07": 2, "node08": 2, "gpu1": 1})
    with pytest.raises(StrategyError, match="srun"):
        slurm_task_layout({"SLURM_PROCID": "0"})


@pytest.mark.slow
def test_cluster_spec_on_cpu_nodes_gives_every_task_an_address_in_rank_order():
    """Stock SlurmClusterResolver fails here (nvidia-smi missing / range step 0); ours does not."""
    code = r"""
import json, os
os.environ.update({"SLURM_JOB_ID": "77", "SLURM_PROCID": "2", "SLURM_STEP_NUM_TASKS": "4",
                   "SLURM_STEP_NODELIST": "cpu[1-2]", "SLURM_STEP_TASKS_PER_NODE": "2(x2)", "PATH": "/nonexistent"})
os.environ.pop("CUDA_VISIBLE_DEVICES", None)
from kerastui.core.distribute import slurm_cluster_resolver, job_port_base
resolver = slurm_cluster_resolver()
print(json.dumps({"spec": resolver.cluster_spec().as_dict(), "task": resolver.get_task_info(),
                  "port": job_port_base(), "gpus": resolver.num_accelerators(),
                  "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}))
"""
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    port = answer["port"]
    assert answer["spec"] == {"worker": [f"cpu1:{port}", f"cpu1:{port + 1}", f"cpu2:{port}", f"cpu2:{port + 1}"]}
    assert answer["task"] == ["worker", 2]
    assert answer["gpus"] == {"GPU": 0}
    assert answer["cuda"] is None  # nothing hidden from TensorFlow on a CPU node
