"""What every task's evaluate view has: `show(evaluation, test_samples)` (kept until the view is
mounted: the screen mounts a task's view and shows the evaluation in one step), `step(delta)`
through its mistakes, and `focus_first()` on the widget its keys belong to."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical


class EvaluationView(Vertical):
    DEFAULT_CSS = "EvaluationView { height: auto; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._pending: tuple[Any, Any] | None = None

    def show(self, evaluation: Any, test: Any) -> None:
        if not self.is_mounted:
            self._pending = (evaluation, test)
            return
        self.fill(evaluation, test)

    def on_mount(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.fill(*pending)
            self.focus_first()

    def fill(self, evaluation: Any, test: Any) -> None:
        raise NotImplementedError

    def step(self, delta: int) -> None:
        """The next (delta 1) or previous (-1) mistake."""

    def focus_first(self) -> None:
        self.focus()
