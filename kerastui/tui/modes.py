"""The app's top-level modes and the screen each opens with, imported when the mode is first opened
(the train and evaluate screens pull in plotting libraries the first frame does not need)."""

from __future__ import annotations

from textual.screen import Screen

MODE_NAMES = ("build", "train", "evaluate", "runs")


def mode_base_screen(mode: str) -> Screen:
    """A new base screen for `mode` (one of MODE_NAMES)."""
    if mode == "build":
        from kerastui.tui.screens.build import BuildScreen

        return BuildScreen()
    if mode == "train":
        from kerastui.tui.screens.monitor import RunMonitor

        return RunMonitor()
    if mode == "runs":
        from kerastui.tui.screens.runs import RunsScreen

        return RunsScreen()
    if mode == "evaluate":
        from kerastui.tui.screens.evaluate import EvaluateScreen

        return EvaluateScreen()
    raise ValueError(f"no mode {mode!r}; the modes are {', '.join(MODE_NAMES)}")
