"""Shared test set-up: quiet TensorFlow, keep every test's files in its own temporary places."""

from __future__ import annotations

import os

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
