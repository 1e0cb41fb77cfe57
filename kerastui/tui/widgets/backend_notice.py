"""Which Keras backends are installed, and what choosing another one takes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kerastui.core.backend import installed_backends


def backend_text(current: str = "", wanted: str = "", installed: dict[str, bool] | None = None) -> Text:
    """One or two lines: installed backends (✓/✗), the one this UI runs, what a change requires.

    `current` is the backend this process loaded ("" while Keras is still loading); `wanted`
    is the experiment's backend field.
    """
    installed = installed_backends() if installed is None else installed
    text = Text("Keras backends: ")
    for name, present in installed.items():
        text.append(f"{name} {'✓' if present else '✗'}", style="green" if present else "dim")
        text.append("  ")
    if current:
        text.append(f"│ this UI runs {current}", style="bold")
    if wanted and wanted != current and current:
        if not installed.get(wanted, False):
            text.append(f"\nThe experiment asks for {wanted}, which is not installed: pip install 'kerastui[{wanted}]'.",
                        style="yellow")
        else:
            text.append(
                f"\nThe experiment asks for {wanted}: it applies to headless and Slurm runs (KERAS_BACKEND={wanted}); "
                f"to train it here, restart with KERAS_BACKEND={wanted} kerastui.",
                style="yellow",
            )
    else:
        text.append("\nA different backend applies to headless/Slurm runs, or here after a restart with KERAS_BACKEND=…",
                    style="dim")
    return text


class BackendNotice(Static):
    """Read-only backend panel, refreshed with `show(current, wanted)`."""

    def show(self, current: str = "", wanted: str = "") -> None:
        self.update(backend_text(current, wanted))
