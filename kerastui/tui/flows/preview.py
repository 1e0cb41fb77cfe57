"""The build screen's previewer made ready off the UI thread, once that screen exists.

`previewer.load()` may block (a Keras previewer imports Keras: seconds); the registry's default
answers at once. Either way the app's `keras_ready`/`keras_error` say how it went, for the screens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kerastui.tui.flows import call_from_thread_if_open

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.tui.host import Shell


class PreviewerWarmUp:
    def __init__(self, app: Shell) -> None:
        self.app = app
        self.requested = False

    def request(self) -> None:
        if not self.requested:
            self.requested = True
            # The registry's previewer imports no framework: say what is prepared, not "Keras".
            self.app.sub_title = "preparing the model summary…"
            self.app.run_worker(self._load, thread=True, group="warm-up", exit_on_error=False)

    def _load(self) -> None:
        # The run monitor and its chart library too, so the first ctrl+r does not import them on
        # the event loop while the run starts (plotext alone: 0.16 s of a core, as the fit begins).
        import plotext  # noqa: F401

        import kerastui.tui.screens.monitor  # noqa: F401
        from kerastui.tui.screens.help import load_sections

        load_sections()  # and f1's screens, so help's first answer imports nothing

        try:
            backend = self.app.previewer.load()
        except Exception as error:  # a broken install must not take the app down
            call_from_thread_if_open(self.app, self._failed, f"{type(error).__name__}: {error}")
            return
        call_from_thread_if_open(self.app, self._loaded, backend)

    def _loaded(self, backend: str) -> None:
        self.app.keras_backend = backend
        self.app.keras_ready = True
        self.app.sub_title = f"ready (runs train with Keras on {backend})"

    def _failed(self, message: str) -> None:
        self.app.keras_error = message
        self.app.sub_title = "no model summary"
        self.app.notify(f"The model summary could not be prepared: {message}", title="Summary", severity="error",
                        timeout=30)
