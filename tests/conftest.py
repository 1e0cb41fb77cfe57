"""Shared test set-up: quiet TensorFlow, keep every test's files in its own temporary places."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@pytest.fixture(autouse=True)
def isolated_places(tmp_path, monkeypatch):
    """No test reads the user's Keras cache, config or runs, and none writes into the checkout."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("KERASTUI_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("KERASTUI_CONFIG", str(tmp_path / "kerastui-config.toml"))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    # An app under test keeps no trainer process warm (a TensorFlow import each) unless a test asks.
    monkeypatch.setenv("KERASTUI_WARM_TRAINER", "0")


def slurm_cluster_problem() -> str | None:
    """Why the real-cluster tests cannot run here, or None when a local Slurm answers."""
    if shutil.which("sbatch") is None:
        return "no Slurm client (sbatch) on PATH; run .ci/slurm-up.sh to install and start a local cluster"
    try:
        result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "Slurm controller does not answer (sinfo timed out); run .ci/slurm-up.sh"
    states = [state.rstrip("*~#$@+") for state in result.stdout.split()]
    if result.returncode != 0 or not any(s in ("idle", "mixed", "allocated", "completing") for s in states):
        why = (result.stderr or "").strip().splitlines()[-1:] or [f"node states {states or 'none'}"]
        return f"no responsive Slurm cluster ({why[0]}); run .ci/slurm-up.sh"
    return None


def pytest_configure(config):
    # pytest-xdist's workers inherit COLUMNS=80 and LINES=24, which would fix the size of every
    # app and table a test starts; a serial run has neither.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


def pytest_collection_modifyitems(config, items):
    """Tests marked `slurm` run against the real local cluster, or skip saying why (asked once)."""
    slurm_items = [item for item in items if item.get_closest_marker("slurm")]
    for item in slurm_items:
        # Under pytest-xdist (--dist loadgroup) the jobs share one node's two CPUs: one worker runs
        # them all, in turn, so that no job waits behind another's allocation past its timeout.
        item.add_marker(pytest.mark.xdist_group("slurm"))
    if not slurm_items:
        return
    problem = slurm_cluster_problem()
    if problem is not None:
        for item in slurm_items:
            item.add_marker(pytest.mark.skip(reason=problem))

