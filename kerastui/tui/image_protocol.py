"""Sharper pictures where the terminal can show images (Kitty's graphics protocol or Sixel, drawn by
textual-image); half-blocks everywhere else. Decided once, before Textual starts.

textual-image finds out by asking the terminal (two queries of up to 0.1 s each, and 0.2 s to
import). That works only before Textual reads the keyboard, and a key typed meanwhile can be lost.
So by default it asks only where the environment says the terminal may answer yes (kitty, Ghostty,
WezTerm, iTerm2, Konsole, foot, mlterm; not inside tmux or screen, which drop images unless set up
for them). Every other start pays nothing. KERASTUI_IMAGES chooses:

    auto  (default) as above
    on    ask the terminal whatever the environment says: over SSH, TERM_PROGRAM does not travel
    off   half-blocks always
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from textual.widget import Widget

log = logging.getLogger(__name__)

IMAGES_ENV = "KERASTUI_IMAGES"
SETTINGS = ("auto", "on", "off")

# The terminal says who it is in one of these.
IMAGE_TERMS = ("xterm-kitty", "xterm-ghostty", "wezterm", "foot", "foot-extra", "mlterm")
IMAGE_TERM_PROGRAMS = ("WezTerm", "iTerm.app", "ghostty", "kitty")
IMAGE_TERMINAL_VARIABLES = ("KITTY_WINDOW_ID", "WEZTERM_PANE", "KONSOLE_VERSION", "GHOSTTY_RESOURCES_DIR")
# A multiplexer in between drops the images (tmux needs allow-passthrough, and Sixel support built in).
MULTIPLEXER_VARIABLES = ("TMUX", "STY")

_sharp_widget: type[Widget] | None = None


def terminal_may_show_images(environ: Mapping[str, str]) -> bool:
    """True when the environment names a terminal that can show images, outside a multiplexer."""
    if any(environ.get(name) for name in MULTIPLEXER_VARIABLES):
        return False
    return (
        environ.get("TERM", "") in IMAGE_TERMS
        or environ.get("TERM_PROGRAM", "") in IMAGE_TERM_PROGRAMS
        or any(environ.get(name) for name in IMAGE_TERMINAL_VARIABLES)
    )


def setting(environ: Mapping[str, str]) -> str:
    """KERASTUI_IMAGES, or "auto" (an unknown value is said once, and read as auto)."""
    value = environ.get(IMAGES_ENV, "auto").strip().lower() or "auto"
    if value not in SETTINGS:
        print(f"kerastui: {IMAGES_ENV}={value!r} is not one of {', '.join(SETTINGS)}; using auto", file=sys.stderr)
        return "auto"
    return value


def should_ask_terminal(environ: Mapping[str, str], is_terminal: bool) -> bool:
    chosen = setting(environ)
    if chosen == "off" or not is_terminal:
        return False
    return chosen == "on" or terminal_may_show_images(environ)


def detect(environ: Mapping[str, str] | None = None) -> str:
    """Ask the terminal, if worth it (see the module docstring), and remember the answer for
    `sharp_image_widget`. Call it before the app runs; returns the protocol ("sixel", "kitty" or
    "half-blocks")."""
    environ = os.environ if environ is None else environ
    stdout = sys.__stdout__
    on_terminal = bool(stdout and stdout.isatty() and sys.stdin is not None and sys.stdin.isatty())
    if not should_ask_terminal(environ, on_terminal):
        return "half-blocks"
    try:
        # Importing it asks the terminal (Sixel first, then Kitty's protocol) and its cell size.
        from textual_image import widget as textual_image
        from textual_image.renderable import sixel, tgp
    except Exception as error:  # not installed, or a terminal that answered nonsense: half-blocks
        log.info("textual-image unavailable (%s): images drawn in half-blocks", error)
        return "half-blocks"
    renderable = textual_image.AutoRenderable
    if renderable is sixel.Image:
        use(textual_image.SixelImage)
        return "sixel"
    if renderable is tgp.Image:
        use(textual_image.TGPImage)
        return "kitty"
    return "half-blocks"


def use(widget: type[Widget] | None) -> None:
    """Draw pictures with `widget` (a textual-image widget class), or half-blocks with None."""
    global _sharp_widget
    _sharp_widget = widget


def sharp_image_widget() -> type[Widget] | None:
    """The textual-image widget class to draw pictures with, or None for half-blocks."""
    return _sharp_widget
