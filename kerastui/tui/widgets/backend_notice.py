"""Which Keras backends are installed, and what choosing another one takes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kerastui.core.backend import installed_backends


def backend_text(current: str = "", wanted: str = "", installed: dict[str, bool] | None = None) -> Text:
    """One or two lines: installed backends (✓/✗), the one the app's model summary uses, and that
    each run gets the backend its experiment names.

    `current` is the backend this process loaded ("" while Keras is still loading); `wanted`
    is the experiment's backend field.
    """
    installed = installed_backends() if installed is None else installed
    text = Text("Keras backends: ")
    for name, present in installed.items():
        text.append(f"{name} {'✓' if present else '✗'}", style="green" if present else "dim")
        text.append("  ")
    if current:
        text.append(f"│ the model summary uses {current}", style="bold")
    if wanted and not installed.get(wanted, False):
        text.append(f"\nThe experiment asks for {wanted}, which is not installed: pip install 'kerastui[{wanted}]'.",
                    style="yellow")
    else:
        # Every run is a process of its own, started with the experiment's backend.
        text.append("\nEach run trains in its own process with the experiment's backend (Training tab, or --backend).",
                    style="dim")
    return text


class BackendNotice(Static):
    """Read-only backend panel, refreshed with `show(current, wanted)`."""

    def show(self, current: str = "", wanted: str = "") -> None:
        self.update(backend_text(current, wanted))
