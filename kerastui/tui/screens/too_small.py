"""Covers everything while the terminal is smaller than the layouts need."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

MIN_WIDTH = 80
MIN_HEIGHT = 24


def too_small_message(width: int, height: int) -> str:
    return (
        f"terminal too small: need at least {MIN_WIDTH}x{MIN_HEIGHT}, have {width}x{height}\n\n"
        "Enlarge the window (or reduce the font size); ctrl+q quits."
    )


class TooSmallScreen(ModalScreen[None]):
    """Shown by the app on resize; it removes the screen again once the terminal is large enough."""

    DEFAULT_CSS = """
    TooSmallScreen {
        background: $background;
    }

    #too-small-message {
        width: 100%;
        height: auto;
        content-align: center middle;
        text-align: center;
        text-style: bold;
        color: $warning;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.message = ""

    def compose(self) -> ComposeResult:
        yield Static(id="too-small-message")

    def show_size(self, width: int, height: int) -> None:
        self.message = too_small_message(width, height)
        if self.is_mounted:
            self.query_one("#too-small-message", Static).update(self.message)

    def on_mount(self) -> None:
        self.query_one("#too-small-message", Static).update(self.message)


class SizeGuard:
    """Covers the app with a TooSmallScreen while the terminal is below MIN_WIDTH x MIN_HEIGHT."""

    def __init__(self) -> None:
        self._screen: TooSmallScreen | None = None

    @property
    def covering(self) -> bool:
        return self._screen is not None

    def check(self, app: App, width: int, height: int) -> None:
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            if self._screen is None:
                self._screen = TooSmallScreen()
                app.push_screen(self._screen)
            self._screen.show_size(width, height)
        elif self._screen is not None:
            screen, self._screen = self._screen, None
            if screen in app.screen_stack:
                screen.dismiss()
