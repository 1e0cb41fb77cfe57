"""The app's flows, one per job: the build session kept in step with the screens (design), the
experiment files, training, the sweep form and quitting. Each is what the app shell delegates to;
none is a screen, and none is imported by a screen.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App


def call_from_thread_if_open(app: App, callback: Callable[..., object], *args: object) -> None:
    """`app.call_from_thread`, from a thread worker whose app may have closed meanwhile."""
    try:
        app.call_from_thread(callback, *args)
    except RuntimeError:
        pass  # the app closed while the thread worked
