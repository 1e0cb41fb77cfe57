"""The UI process never imports TensorFlow, Keras, JAX or torch (issue 19): a fresh interpreter
imports the app with its default collaborators (the registry's summary, the local launcher),
opens every screen by keys, starts a run (it trains in a child process) and then reports which
framework modules it holds; the CLI's runs, watch, sweep --show and submit paths likewise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")
TESTS_TUI = Path(__file__).parent

JOURNEY = r"""
import asyncio, json, sys
from pathlib import Path
from fakes import tiny_experiment, wait_until
from run_dirs import make_run
from kerastui.core.data import load_dataset

root = Path(sys.argv[1])
digits = load_dataset("digits")
for name, shift in (("first", 0.0), ("second", 0.1)):
    make_run(root, name, epochs=2, shift=shift, dataset=digits)

from kerastui.tui.app import KerasTUI

FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")
def frameworks():
    return sorted(name for name in sys.modules if name.split(".")[0] in FRAMEWORKS)

async def journey():
    app = KerasTUI(experiment=tiny_experiment(epochs=1), runs_root=root)
    seen = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: getattr(app.screen, "last_preview", None) is not None, 60, "the summary")
        seen.append(("summary", app.screen.last_preview.total_params))
        for key in ("f2", "f3", "f4", "f3"):  # data, model, training tabs
            await pilot.press(key)
            await pilot.pause(0.1)
        before = set(root.iterdir())
        await pilot.press("ctrl+r")  # trains in a child process
        new_runs = lambda: {p for p in set(root.iterdir()) - before if not p.name.startswith(".")}  # not .queue
        await wait_until(pilot, lambda: len(new_runs()) == 1, 60, "the run's directory")
        seen.append(("train", type(app.screen).__name__))
        for key in ("f1", "ctrl+g", "ctrl+b"):  # help, sweep, submit
            await pilot.press("b", key) if key != "f1" else await pilot.press(key)
            await pilot.pause(0.5)
            seen.append((key, type(app.screen).__name__))
            await pilot.press("escape")
            await pilot.pause(0.2)
        await pilot.press("r")
        await wait_until(pilot, lambda: getattr(app.screen, "listed", False), 30, "the runs screen")
        seen.append(("runs", type(app.screen).__name__))
        await pilot.press("s", "space", "down", "space", "c")  # compare two runs
        await pilot.pause(0.5)
        seen.append(("compare", type(app.screen).__name__))
        await pilot.press("escape")
        await pilot.pause(0.2)
        await pilot.press("enter")  # a saved run's evaluation
        await pilot.pause(0.8)
        seen.append(("open", type(app.screen).__name__))
        await pilot.press("e")
        await pilot.pause(0.5)
        seen.append(("evaluate", type(app.screen).__name__))
        loaded = frameworks()
        app.launcher.shutdown(keep_running=False)
    return seen, loaded

seen, loaded = asyncio.run(journey())
print(json.dumps({"seen": seen, "frameworks": loaded}))
"""


@pytest.mark.slow
def test_the_app_imports_no_framework_through_every_screen(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS_TUI), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", JOURNEY, str(tmp_path / "runs")], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    seen = dict((step, shown) for step, shown in report["seen"])
    assert seen["summary"] > 0  # the registry's summary, with its parameter count
    assert {step: shown for step, shown in seen.items() if step != "summary"} == {
        "train": "RunMonitor", "f1": "HelpScreen", "ctrl+g": "SweepForm", "ctrl+b": "SubmitScreen",
        "runs": "RunsScreen", "compare": "RunsScreen", "open": "RunMonitor", "evaluate": "EvaluateScreen"}
    assert report["frameworks"] == [], report


@pytest.mark.parametrize("arguments, code", [
    (["runs", "--runs-dir", "{root}"], 0),
    (["watch", "--help"], 0),
    (["sweep", "--show", "{root}"], 2),  # not a sweep: refused, after reading it
    (["submit", "--help"], 0),
])
def test_the_cli_read_paths_import_no_framework(tmp_path, arguments, code):
    (tmp_path / "runs").mkdir()
    argv = [argument.format(root=tmp_path / "runs") for argument in arguments]
    probe = ("import sys\n"
             f"sys.argv = ['kerastui', *{argv!r}]\n"
             "from kerastui.cli import main\n"
             "print('CODE', main(sys.argv[1:]))\n"
             f"print('FRAMEWORKS', sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    last = [line for line in done.stdout.splitlines() if line.startswith("FRAMEWORKS")]
    assert last == ["FRAMEWORKS []"], (done.stdout[-2000:], done.stderr[-2000:])
    assert f"CODE {code}" in done.stdout.splitlines()
