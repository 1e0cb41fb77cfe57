"""The sweep leaderboard's study views by keys: v steps history -> importances -> parameter (->
Pareto front with several objectives), p steps the parameter; computed in a thread worker from
the study the screen is handed (no training, no Optuna at the app's start)."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings

import pytest
from fakes import wait_until
from rich.console import Console
from study_fixtures import add_trials, sweep_study, two_objective_study
from textual.app import App
from textual.widgets import Static

from kerastui.tui.screens.sweep import SweepScreen
from kerastui.tui.widgets.plotext_chart import PlotextChart
from kerastui.tui.widgets.study_charts import status_text
from kerastui.tui.widgets.study_panel import StudyPanel

pytest.importorskip("optuna")


class BoardApp(App):
    def __init__(self, screen: SweepScreen) -> None:
        super().__init__()
        self.board = screen

    def on_mount(self) -> None:
        self.push_screen(self.board)


def _panel_text(panel: StudyPanel) -> str:
    heading = str(panel.query_one("#study-heading", Static).render())
    body = ""
    if panel.query_one("#study-text").display:
        console = Console(width=120, file=io.StringIO(), color_system=None)
        console.print(panel.query_one("#study-text", Static).content)
        body = console.file.getvalue()
    chart = str(panel.query_one(PlotextChart).render()) if panel.query_one(PlotextChart).display else ""
    return "\n".join((heading, body, chart))


async def test_keys_step_through_the_views_of_a_study_and_new_trials_show(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = sweep_study()
    reads = []
    app = BoardApp(SweepScreen(tmp_path, load_study=lambda d: reads.append(d) or study))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.screen.query_one(StudyPanel)
        await wait_until(pilot, lambda: panel.views is not None, what="the study's views")
        assert reads == [tmp_path]
        shown = _panel_text(panel)
        assert "optimisation history" in shown and "6 complete, 2 pruned, 1 failed" in shown
        assert "best val_accuracy 0.95 (trial 6)" in shown and "val_accuracy (max) by trial" in shown

        await pilot.press("v")
        shown = _panel_text(panel)
        assert panel.view == "importances" and "parameter importances (PED-ANOVA)" in shown
        assert "parameter importances (fANOVA)" in shown and "left out" in shown

        await pilot.press("v")
        assert panel.view == "parameter" and "against compile.learning_rate (log)" in _panel_text(panel)
        await pilot.press("p")
        assert "value against a parameter 2/4" in _panel_text(panel)
        assert "against layers[1].units" in _panel_text(panel)
        await pilot.press("v")
        assert panel.view == "history"  # one objective: no Pareto view in the round

        add_trials(study, [(1e-2, 128, "adam", None, [0.8, 0.97], "complete")])  # a trial ends
        app.screen._read_study()
        await wait_until(pilot, lambda: panel.views.counts.complete == 7, what="the new trial")
        assert "best val_accuracy 0.97 (trial 9)" in _panel_text(panel)


async def test_several_objectives_add_the_pareto_front_and_a_bad_study_is_a_line(tmp_path):
    study = two_objective_study()
    app = BoardApp(SweepScreen(tmp_path, load_study=lambda d: study))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.screen.query_one(StudyPanel)
        await wait_until(pilot, lambda: panel.views is not None, what="the study's views")
        for _ in range(3):
            await pilot.press("v")
        assert panel.view == "pareto"
        shown = _panel_text(panel)
        assert "Pareto front: 3 of 5 complete trials" in shown and "params (min) against val_accuracy" in shown

    def unreadable(sweep_dir):
        raise OSError("journal truncated")

    app = BoardApp(SweepScreen(tmp_path, load_study=unreadable))
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.screen.query_one(StudyPanel)
        await wait_until(pilot, lambda: "cannot be read" in panel.message, what="the error line")
        assert "journal truncated" in _panel_text(panel)
        await pilot.press("v", "p")  # keys on no study: a notice, no crash
        assert app.screen is app.board


def test_pruned_and_failed_trials_are_marked_in_the_leaderboard():
    assert str(status_text("pruned", "dim")) == "✂ pruned" and str(status_text("failed", "red")) == "✗ failed"
    assert str(status_text("finished", "green")) == "finished"


def test_the_app_and_the_leaderboard_screen_import_no_optuna():
    code = "import sys, kerastui.tui.app, kerastui.tui.screens.sweep; print('optuna' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
