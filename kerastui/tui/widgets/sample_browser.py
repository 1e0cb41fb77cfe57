"""Step through test samples one at a time, each drawn by its kind (SampleView: a picture, a line
per signal channel, words, a table row) beside what the evaluation says about it.

The binary, multi-label and regression views fill it with their mistakes: false positives or
false negatives by score, a label's wrong calls, the largest errors. n/p (or left/right when it
has focus) step through them, wrapping round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kerastui.tui.widgets.sample_view import SampleView


@dataclass(frozen=True)
class BrowserItem:
    index: int  # the test sample's row
    details: Text  # what the evaluation says about it (true, score, error, ...)


@dataclass(frozen=True)
class TestSamples:
    """The test inputs the browser draws, and how: None samples when the app holds other data."""

    samples: np.ndarray | None
    kind: str = "image"
    feature_names: tuple[str, ...] = ()
    index_words: tuple[str, ...] = ()


class SampleBrowser(Vertical, can_focus=True):
    """A list of test samples, one shown; `heading` says what the list is."""

    DEFAULT_CSS = """
    SampleBrowser {
        height: auto;
        padding: 0 1;
        border-top: solid $primary 50%;
    }
    SampleBrowser:focus { border-top: solid $accent; }
    SampleBrowser > .browser-title { height: auto; }
    SampleBrowser > Horizontal { height: auto; }
    SampleBrowser .browser-details { width: 38; height: auto; margin-right: 2; }
    SampleBrowser .browser-sample { width: 1fr; }
    """

    BINDINGS = [
        Binding("right", "next", "Next", show=False),
        Binding("left", "previous", "Previous", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.heading = ""
        self.empty = "Nothing to show."
        self.hint = ""
        self.items: tuple[BrowserItem, ...] = ()
        self.position = 0
        self.test = TestSamples(None)

    def compose(self) -> ComposeResult:
        yield Static(classes="browser-title")
        # What the evaluation says first (a few short lines), the sample in the rest of the width.
        with Horizontal():
            yield Static(classes="browser-details")
            yield SampleView(classes="browser-sample")

    def on_mount(self) -> None:
        test = self.test
        self.query_one(SampleView).configure(test.kind, test.feature_names, test.index_words)
        self._refresh_view()

    def set_samples(self, test: TestSamples) -> None:
        self.test = test
        if self.is_mounted:
            self.query_one(SampleView).configure(test.kind, test.feature_names, test.index_words)
        self._refresh_view()

    def set_items(self, heading: str, items: Sequence[BrowserItem], empty: str, hint: str = "",
                  keep_position: bool = False) -> None:
        """Show `items` under `heading` ("False positives"), or `empty` when there are none;
        `hint` names the keys that change the list."""
        current = self.current.index if keep_position and self.current is not None else None
        self.heading, self.items, self.empty, self.hint = heading, tuple(items), empty, hint
        indices = [item.index for item in self.items]
        self.position = indices.index(current) if current in indices else 0
        self._refresh_view()

    @property
    def current(self) -> BrowserItem | None:
        return self.items[self.position] if self.items else None

    def action_next(self) -> None:
        self.step(1)

    def action_previous(self) -> None:
        self.step(-1)

    def step(self, delta: int) -> None:
        if self.items:
            self.position = (self.position + delta) % len(self.items)
        self._refresh_view()

    def title_text(self) -> Text:
        hint = f"   {self.hint}" if self.hint else ""
        if not self.items:
            return Text.assemble((self.empty, "bold"), (hint, "dim"))
        return Text.assemble((f"{self.heading} {self.position + 1} of {len(self.items)}", "bold"),
                             ("   n/p: next/previous" + hint, "dim"))

    def _refresh_view(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(".browser-title", Static).update(self.title_text())
        item = self.current
        view = self.query_one(SampleView)
        details = self.query_one(".browser-details", Static)
        if item is None:
            view.show(None)
            details.update("")
            return
        samples = self.test.samples
        if samples is not None and 0 <= item.index < len(samples):
            view.show(np.asarray(samples[item.index]), f"test sample #{item.index}")
        else:
            view.show(None, "")
        text = item.details.copy()
        if samples is None:
            text.append("\n(sample not drawn: the app holds other data now)", style="dim")
        details.update(text)
