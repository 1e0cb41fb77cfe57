"""What the stable screens look like, at 80x24 and 120x40, compared with accepted SVG snapshots
(pytest-textual-snapshot): a change in layout, styling or wording fails here.

Everything shown is fixed: the digits data (split with seed 42), a stand-in model summary, made-up
evaluations and run directories with fixed names, times and hosts under a fixed path. After an
intended change: `python -m pytest tests/tui/test_snapshots.py --snapshot-update`, then look at
the SVGs under tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fakes import FakeLauncher, FakeRunExperiment, FakePreviewer, tiny_experiment, wait_until
from run_dirs import make_run

from kerastui.core.build import LayerPreview, ModelPreview, PreviewResult
from kerastui.core.data import load_dataset
from kerastui.core.pipeline import RunOutcome
from kerastui.core.runs import INFO_FILE
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.help import HelpScreen
from kerastui.tui.screens.runs import RunsScreen

pytest.importorskip("pytest_textual_snapshot")

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
# The same path on every machine: the runs screen shows where each run is.
RUNS_ROOT = Path("/tmp/kerastui-snapshots/runs")
# One fixed runs folder (its path is in the pictures), so these tests share one xdist worker: a
# screen that trains here on one worker must not add a run to the runs screen drawn on the other.
pytestmark = pytest.mark.xdist_group("snapshots")


class FixedPreviewer(FakePreviewer):
    """The summary Keras gives for the tiny MLP on digits (Flatten, Dense 8, Dense 10), as figures."""

    def preview(self, layers, input_shape, num_classes, task=None):
        shapes = [(None, 64), (None, 8), (None, 10)]
        params = [0, 520, 90]
        previews = tuple(LayerPreview(i, f"layer_{i}", spec.describe(), shapes[i], params[i])
                         for i, spec in enumerate(layers[:3]))
        return PreviewResult(ModelPreview(tuple(input_shape), previews, 610, 610), None)


def snapshot_app(**options) -> KerasTUI:
    options.setdefault("runs_root", RUNS_ROOT)
    return KerasTUI(experiment=tiny_experiment(), launcher=FakeLauncher(FakeRunExperiment(), RUNS_ROOT),
                    previewer=FixedPreviewer(), **options)


async def ready(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, what="Keras and the data")
    await pilot.pause(0.3)  # the summary's quiet delay and the sample images' fitting


def fixed_runs() -> None:
    """Two finished runs and a failed one, with fixed names, times and hosts."""
    shutil.rmtree(RUNS_ROOT.parent, ignore_errors=True)
    digits = load_dataset("digits")
    for index, (name, shift, final) in enumerate([("mlp", 0.0, "finished"), ("wider", 0.1, "finished"),
                                                   ("lr-high", 0.0, "failed")]):
        made = make_run(RUNS_ROOT, name, epochs=4, shift=shift, final=final, dataset=digits)
        path = made.rename(RUNS_ROOT / f"2026112{index}-09{index}500-{name}")
        info = json.loads((path / INFO_FILE).read_text())
        created = 1795600000.0 + 3600 * index
        info.update(created="2026-11-24T09:15:00+00:00", created_time=created, started_time=created,
                    ended_time=created + 42.0, duration=42.0, host="login1", pid=4242)
        (path / INFO_FILE).write_text(json.dumps(info, indent=2))


@pytest.mark.parametrize("size", SIZES)
def test_build_screen_data_tab(snap_compare, size):
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_build_screen_model_tab(snap_compare, size):
    async def model_tab(pilot):
        await ready(pilot)
        await pilot.press("f3")
        await pilot.pause(0.5)

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=model_tab)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, size):
    async def help_screen(pilot):
        await ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=help_screen)


@pytest.mark.parametrize("size", SIZES)
def test_evaluate_screen(snap_compare, size):
    async def evaluation(pilot):
        app = pilot.app
        await ready(pilot)
        outcome = RunOutcome(run_dir=RUNS_ROOT / "20261124-091500-mlp", status="finished", result=None,
                             evaluation=FakeRunExperiment(accuracy=0.8).evaluation(app.dataset))
        app.show_evaluation(outcome)
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen) and app.screen.outcome is outcome,
                         what="the evaluate screen")
        await pilot.pause(0.3)

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=evaluation)


@pytest.mark.parametrize("size", SIZES)
def test_runs_screen(snap_compare, size):
    fixed_runs()

    async def runs(pilot):
        await ready(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.listed,
                         what="the runs")
        await pilot.pause(0.3)

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=runs)
