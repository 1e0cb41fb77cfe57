"""The warm trainer only where training will happen: never on a login node, not before a run is
asked for (unless the setting says start-up), and gone after its idle time."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from kerastui.core import launcher as launcher_module
from kerastui.core.launcher import LocalLauncher
from kerastui.core.slurm import looks_like_login_node


def test_login_node_rule_is_sbatch_without_a_job():
    assert looks_like_login_node({}, which=lambda _: "/usr/bin/sbatch")
    assert not looks_like_login_node({"SLURM_JOB_ID": "7"}, which=lambda _: "/usr/bin/sbatch")
    assert not looks_like_login_node({}, which=lambda _: None)


def test_no_warm_trainer_on_a_login_node_whatever_the_setting(monkeypatch):
    monkeypatch.setenv("KERASTUI_WARM_TRAINER", "start")
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.setattr("kerastui.core.slurm.looks_like_login_node", lambda: True)
    assert LocalLauncher().keep_warm is False
    monkeypatch.setattr("kerastui.core.slurm.looks_like_login_node", lambda: False)
    launcher = LocalLauncher()
    assert launcher.keep_warm is True and launcher.warm_at_start is True


def test_no_trainer_starts_before_a_run_is_asked_for(monkeypatch, tmp_path):
    # The queue's runner keeps the warm trainer that the queue's `warm` file asks for.
    runners = []
    monkeypatch.setattr(LocalLauncher, "ensure_runner", lambda self: runners.append(self.queue.warm()) or 1)
    launcher = LocalLauncher(runs_root=tmp_path, keep_warm=True, warm_at_start=False)
    launcher.warm_up("jax")  # the app's start-up and a backend change
    launcher.pump()
    assert runners == [] and launcher.queue.warm() is None
    eager = LocalLauncher(runs_root=tmp_path, keep_warm=True, warm_at_start=True)
    eager.warm_up("jax")
    assert runners == ["jax"] and eager.queue.warm() == "jax"
    never = LocalLauncher(runs_root=tmp_path / "login", keep_warm=False, warm_at_start=True)  # a login node
    never.warm_up("jax")
    assert runners == ["jax"] and never.queue.warm() is None


def test_idle_setting_is_read_and_bad_values_fall_back(monkeypatch):
    monkeypatch.setenv("KERASTUI_WARM_IDLE", "2.5")
    assert launcher_module.warm_idle_seconds() == 2.5
    for bad in ("soon", "-1", "0"):
        monkeypatch.setenv("KERASTUI_WARM_IDLE", bad)
        assert launcher_module.warm_idle_seconds() == 600.0


def test_warm_trainer_exits_after_its_idle_time_with_its_input_still_open():
    env = dict(os.environ, KERAS_BACKEND="jax", KERASTUI_WARM_IDLE="1")
    process = subprocess.Popen([sys.executable, "-m", "kerastui.warm_trainer"], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        began = time.monotonic()
        assert process.wait(timeout=60) == 0
        assert time.monotonic() - began < 60
    finally:
        if process.poll() is None:
            process.kill()
        process.stdin.close()
