"""Browse the test samples the model got wrong: the image (or feature values), labels, confidence.

Items come from Evaluation.misclassified (most confident mistakes first). A (true, predicted)
filter narrows them to one confusion-matrix cell; n/p (or left/right) step through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from kerastui.tui import image_protocol
from kerastui.tui.widgets.image_view import colour_allowed, render_image
from kerastui.tui.widgets.picture import SharpImageView
from kerastui.tui.widgets.sample_view import SIGNAL, TEXT, SampleView

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluate import Misclassified

MAX_FEATURES_SHOWN = 40


def image_width_for(width: int) -> int:
    """Columns to draw an image `width` pixels wide: small images (8x8 digits) are doubled."""
    return width * 2 if width <= 14 else min(width, 32)


class MisclassifiedBrowser(Vertical, can_focus=True):
    """One misclassified sample at a time, with 'k of n' and the active filter."""

    DEFAULT_CSS = """
    MisclassifiedBrowser {
        height: auto;
        padding: 0 1;
        border-top: solid $primary 50%;
    }

    MisclassifiedBrowser:focus {
        border-top: solid $accent;
    }

    #browser-body {
        height: auto;
    }

    #browser-sample {
        width: auto;
        height: auto;
        margin-right: 2;
    }

    #browser-details {
        width: 1fr;
        height: auto;
    }
    """

    BINDINGS = [
        Binding("right", "next", "Next", show=False),
        Binding("left", "previous", "Previous", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: tuple[Misclassified, ...] = ()
        self.class_names: tuple[str, ...] = ()
        self.samples: np.ndarray | None = None  # x_test, indexed by Misclassified.index
        self.kind = "image"
        self.feature_names: tuple[str, ...] = ()  # tabular column names, when the data has them
        self.index_words: tuple[str, ...] = ()  # the words of a text set's numbers, when known
        self.filter: tuple[int, int] | None = None
        self.position = 0  # 0-based index into `filtered`

    def compose(self) -> ComposeResult:
        yield Static(id="browser-title")
        with Horizontal(id="browser-body"):
            yield Static(id="browser-sample")
            # Word numbers and signals are drawn as their kind reads (words, a line per channel).
            yield SampleView(id="browser-kind-sample")
            sharp = image_protocol.sharp_image_widget()
            if sharp is not None:  # the terminal shows images: pictures of image samples are drawn by it
                yield SharpImageView(sharp, np.zeros((1, 1)), id="browser-picture")
            yield Static(id="browser-details")

    def on_mount(self) -> None:
        self._refresh_view()

    # ---- state ----------------------------------------------------------------------------------

    def set_items(self, items: Sequence[Misclassified], class_names: Sequence[str], samples: np.ndarray | None, kind: str) -> None:
        self.items = tuple(items)
        self.class_names = tuple(class_names)
        self.samples = samples
        self.kind = kind
        self.filter = None
        self.position = 0
        self._refresh_view()

    def set_filter(self, pair: tuple[int, int] | None) -> None:
        self.filter = pair
        self.position = 0
        self._refresh_view()

    @property
    def filtered(self) -> list[Misclassified]:
        if self.filter is None:
            return list(self.items)
        true, predicted = self.filter
        return [m for m in self.items if m.true == true and m.predicted == predicted]

    @property
    def current(self) -> Misclassified | None:
        items = self.filtered
        return items[self.position] if items else None

    def action_next(self) -> None:
        self._step(1)

    def action_previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        count = len(self.filtered)
        if count:
            # Wraps around so a short list can be cycled with one key.
            self.position = (self.position + delta) % count
        self._refresh_view()

    # ---- drawing --------------------------------------------------------------------------------

    def title_text(self) -> str:
        count = len(self.filtered)
        where = ""
        if self.filter is not None:
            true, predicted = self.filter
            where = f" with true {self.class_label(true)} predicted {self.class_label(predicted)} (esc: all)"
        if not count:
            if self.filter is not None:
                return f"No misclassified test samples{where}."
            return "No misclassified test samples." if self.class_names else "No evaluation yet."
        return f"Misclassified {self.position + 1} of {count}{where}   n/p: next/previous"

    def class_label(self, index: int) -> str:
        return self.class_names[index] if 0 <= index < len(self.class_names) else str(index)

    def _refresh_view(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#browser-title", Static).update(Text(self.title_text(), style="bold"))
        item = self.current
        details = self.query_one("#browser-details", Static)
        self._show_sample(item.index if item is not None else None)
        if item is None:
            details.update("")
            return
        text = Text()
        text.append("true       ", style="dim")
        text.append(self.class_label(item.true), style="bold green")
        text.append("\npredicted  ", style="dim")
        text.append(self.class_label(item.predicted), style="bold red")
        text.append(f"  ({item.confidence:.1%} confident)")
        text.append(f"\ntest sample #{item.index}", style="dim")
        details.update(text)

    def _show_sample(self, index: int | None) -> None:
        """Test sample `index` (None: nothing): an image drawn by the terminal where it shows
        images (the #browser-picture), else in text."""
        sample_view = self.query_one("#browser-sample", Static)
        by_kind = self.query_one("#browser-kind-sample", SampleView)
        drawn_by_kind = self.kind in (TEXT, SIGNAL) and index is not None and self.samples is not None \
            and 0 <= index < len(self.samples)
        by_kind.display = drawn_by_kind
        if drawn_by_kind:
            by_kind.configure(self.kind, self.feature_names, self.index_words)
            by_kind.show(np.asarray(self.samples[index]))
            sample_view.display = False
            for sharp in self.query("#browser-picture").results(SharpImageView):
                sharp.display = False
            return
        image = self._image_sample(index) if index is not None else None
        sharp = next(iter(self.query("#browser-picture").results(SharpImageView)), None)
        if sharp is not None:
            sharp.display = image is not None
            if image is not None:
                sharp.show(image, width=image_width_for(image.shape[1]))
        sample_view.display = sharp is None or image is None
        if sample_view.display:
            sample_view.update(self._sample_renderable(index) if index is not None else "")

    def _image_sample(self, index: int) -> np.ndarray | None:
        """Test sample `index` when it is an image the browser can draw, else None."""
        if self.samples is None or not 0 <= index < len(self.samples) or self.kind != "image":
            return None
        sample = np.asarray(self.samples[index])
        return sample if sample.ndim in (2, 3) else None

    def _sample_renderable(self, index: int) -> Any:
        if self.samples is None or not 0 <= index < len(self.samples):
            return Text("(sample not available: dataset not loaded)", style="dim")
        image = self._image_sample(index)
        if image is not None:
            colour = not self.app.no_color and colour_allowed()
            return render_image(image, image_width_for(image.shape[1]), colour=colour)
        return feature_table(np.asarray(self.samples[index]).reshape(-1), self.feature_names)


def feature_table(values: np.ndarray, names: Sequence[str] = ()) -> Table:
    """A tabular sample's (standardised) feature values, four per row."""
    table = Table(box=None, padding=(0, 1), show_header=False, pad_edge=False)
    # Long column names (a CSV header, "mean concave points") pair up two to a row to stay in 80 columns.
    per_row = 4 if max((len(n) for n in names), default=0) <= 10 else 2
    shown = values[:MAX_FEATURES_SHOWN]
    for _ in range(per_row):
        table.add_column(no_wrap=True, style="dim")
        table.add_column(justify="right", no_wrap=True)
    for start in range(0, len(shown), per_row):
        cells: list[str] = []
        for offset, value in enumerate(shown[start : start + per_row]):
            column = start + offset
            name = names[column] if column < len(names) else f"f{column}"
            cells += [name, f"{float(value):+.2f}"]
        table.add_row(*cells)
    if len(values) > MAX_FEATURES_SHOWN:
        table.caption = f"first {MAX_FEATURES_SHOWN} of {len(values)} features"
    return table
