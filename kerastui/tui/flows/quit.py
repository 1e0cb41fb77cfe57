"""The quit flow (ctrl+q): at once when the local queue is empty; else ask whether it goes on.

The queue belongs to its runner process, not to the app: keep (k) quits and leaves it running and
starting its waiting runs; stop (s) stops its runs and cancels the waiting ones first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kerastui.tui.screens.confirm import QuitWhileTrainingScreen

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.tui.host import Shell


def request_quit(app: Shell) -> None:
    """Exit, asking first while local runs train or wait: keep the queue going, stop it, or stay."""
    active = app.launcher.active
    if not active:
        app.exit()
        return

    def answered(choice: str | None) -> None:
        if choice in ("keep", "stop"):
            app.keep_runs_on_exit = choice == "keep"  # read by the app's on_unmount
            app.exit()

    app.push_screen(QuitWhileTrainingScreen(len(active), len(app.launcher.queued)), answered)
