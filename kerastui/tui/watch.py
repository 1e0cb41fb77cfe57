"""`kerastui watch RUN_DIR` on a terminal: the app opened on the run monitor of that run.

The runs screen is underneath (escape shows every run), and the run's own experiment is the
app's design, so its dataset is the one loaded for the evaluation and b shows how it was built.
A watcher is cheap: it starts no trainer process and imports Keras only if b is pressed (the
model summary), so following a run on a login node costs little CPU and memory.
"""

from __future__ import annotations

from pathlib import Path

from kerastui.core.launcher import LocalLauncher
from kerastui.core.runs import load_run
from kerastui.tui import image_protocol
from kerastui.tui.app import KerasTUI
from kerastui.tui.follow import DEFAULT_QUIET_AFTER


class WatchApp(KerasTUI):
    """KerasTUI starting on the runs screen with the monitor of one run on top."""

    DEFAULT_MODE = "runs"

    def __init__(self, run_dir: Path, *, quiet_after: float = DEFAULT_QUIET_AFTER, **kwargs) -> None:
        run_dir = Path(run_dir)
        record = load_run(run_dir) if run_dir.exists() else None
        if record is not None and record.experiment is not None:
            kwargs.setdefault("experiment", record.experiment)
        if kwargs.get("runs_root") is None:
            # A run's directory lives in its runs root: list its siblings underneath.
            kwargs["runs_root"] = run_dir.resolve().parent
        kwargs.setdefault("launcher", LocalLauncher(runs_root=kwargs["runs_root"], keep_warm=False))
        kwargs.setdefault("load_design_eagerly", False)
        super().__init__(**kwargs)
        self.watch_dir = run_dir
        self.quiet_after = quiet_after
        self._monitor_opened = False

    def on_mount(self) -> None:
        # KerasTUI.on_mount runs too (Textual calls each class's handler): data and size check.
        # On a real terminal the runs mode may not be installed yet at the first refresh (a monitor
        # pushed before it would be replaced by it): the monitor opens once the runs screen is
        # shown, told by Textual's screen-change signal rather than found by polling.
        self.screen_change_signal.subscribe(self, self._open_monitor)
        self.call_after_refresh(self._open_monitor)

    def _open_monitor(self, _screen: object = None) -> None:
        from kerastui.tui.screens.monitor import RunMonitor
        from kerastui.tui.screens.runs import RunsScreen

        if self._monitor_opened or not isinstance(self.screen, RunsScreen):
            return  # once only: escape closes it for good, back to the runs screen
        self._monitor_opened = True
        self.push_screen(RunMonitor(self.watch_dir, closable=True, quiet_after=self.quiet_after))


def watch_in_app(run_dir: Path, runs_root: Path | None = None, quiet_after: float = DEFAULT_QUIET_AFTER) -> int:
    app = WatchApp(Path(run_dir), runs_root=runs_root, quiet_after=quiet_after)
    image_protocol.detect()  # the mistakes of a followed run's evaluation are pictures too
    app.run()
    return app.return_code or 0
