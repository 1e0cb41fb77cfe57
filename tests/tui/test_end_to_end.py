"""The whole path by keys with real Keras: build -> train (digits, tiny MLP, 2 epochs, in a child
process the app launches and follows) -> evaluate."""

from __future__ import annotations

import json

import pytest
from fakes import tiny_experiment, wait_until
from sklearn.metrics import confusion_matrix

from kerastui.core.evaluate import Evaluation
from kerastui.core.events import EpochEnded
from kerastui.core.runs import load_run
from kerastui.tui.app import KerasTUI
from kerastui.tui.screens.evaluate import EvaluateScreen
from kerastui.tui.screens.monitor import RunMonitor
from kerastui.tui.widgets.confusion_table import ConfusionTable
from kerastui.tui.widgets.misclassified_browser import MisclassifiedBrowser
from kerastui.tui.widgets.training_progress import TrainingProgress


@pytest.mark.slow
async def test_build_train_evaluate_with_real_keras(tmp_path):
    runs_root = tmp_path / "runs"
    app = KerasTUI(experiment=tiny_experiment(epochs=2), runs_root=runs_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.keras_ready and app.dataset is not None, timeout=180, what="TensorFlow and digits")
        await pilot.press("ctrl+r")  # the build screen's train key
        await wait_until(pilot, lambda: isinstance(app.screen, RunMonitor) and app.screen.run_dir is not None, timeout=30, what="train screen")
        screen = app.screen
        await wait_until(pilot, lambda: screen.phase == "finished", timeout=300, what="training and evaluation")
        await pilot.pause(0.3)

        run_dir = screen.run_dir
        assert run_dir.parent == runs_root.resolve()
        info = json.loads((run_dir / "info.json").read_text())
        assert info["pid"] != __import__("os").getpid(), "trained in a process of its own"
        for name in ("config.toml", "metrics.jsonl", "model.keras", "evaluation.json", "status"):
            assert (run_dir / name).is_file(), name
        assert (run_dir / "status").read_text().strip() == "finished"

        # The charts hold exactly what the run wrote to metrics.jsonl.
        epochs = [e for e in load_run(run_dir).events if isinstance(e, EpochEnded)]
        assert len(epochs) == 2
        for chart, names in ((screen.loss_chart, ("loss", "val_loss")), (screen.accuracy_chart, ("accuracy", "val_accuracy"))):
            for name in names:
                assert chart.series(name) == pytest.approx([e.metrics[name] for e in epochs])
        assert screen.query_one(TrainingProgress).run_percentage == 1.0
        assert len(screen.query_one("#epoch-log").lines) == 2

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), timeout=30, what="evaluate screen")
        await pilot.pause()
        evaluation = Evaluation.from_dict(json.loads((run_dir / "evaluation.json").read_text()))
        expected = confusion_matrix(app.dataset.y_test, list(evaluation.predictions), labels=range(10))
        table = app.screen.query_one(ConfusionTable)
        assert table.displayed_counts() == expected.tolist()
        browser = app.screen.query_one(MisclassifiedBrowser)
        assert len(browser.filtered) == int(expected.sum() - expected.trace())
