"""The keys that move a decision threshold, shared by the binary view and the multi-label table:
left/right by 0.01, shift+left/right by 0.1, each step landing on the 0.01 grid."""

from __future__ import annotations

import math

from textual.binding import Binding

STEP = 0.01
THRESHOLD_BINDINGS = [
    Binding("right", "move(1)", "Threshold +0.01", show=False),
    Binding("left", "move(-1)", "Threshold -0.01", show=False),
    Binding("shift+right", "move(10)", "Threshold +0.1", show=False),
    Binding("shift+left", "move(-10)", "Threshold -0.1", show=False),
    Binding("0", "reset", "Threshold back"),
]


def stepped(threshold: float, steps: int) -> float:
    """`threshold` moved `steps` grid steps, within [0, 1]: 0.5 -> 0.51, and 0.5037 (left by a jump
    to an operating point) -> 0.51 up or 0.50 down."""
    position = threshold / STEP
    start = math.floor(position + 1e-9) if steps > 0 else math.ceil(position - 1e-9)
    return round(min(1.0, max(0.0, (start + steps) * STEP)), 4)
