"""plotext drawings of a test evaluation: ROC and precision-recall curves with the threshold's
point on them, each class's score distribution with the threshold line, predicted against true,
and the residuals. Each function returns a Draw for PlotextChart.plot; the curves come decimated
from kerastui.core.evaluation.threshold, so 100,000 test samples draw as fast as 300.

Series are told apart by marker as well as colour (NO_COLOR terminals): braille lines for curves
and negatives, dots for positives, "o" for the operating point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kerastui.tui.widgets.chart_scale import nice_ticks, tick_labels
from kerastui.tui.widgets.plotext_chart import Draw, axis_ticks, line

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.evaluation.threshold import Curve, Histogram

UNIT_TICKS = [0.0, 0.25, 0.5, 0.75, 1.0]
MAX_SCATTER_POINTS = 2_000  # a chart of 60x15 cells shows at most ~3,600 braille dots


def _message(figure: Any, text: str) -> None:
    figure.draw(figure.text(0.5, 0.5, text, alignment="center"))
    axis_ticks(figure, "x", 0.0, 1.0, [], [])
    axis_ticks(figure, "y", 0.0, 1.0, [], [])


def _unit_axes(figure: Any, x_label: str) -> None:
    # plotext writes a y label under the chart, beside the x one: the title names the y axis.
    labels = ["0", ".25", ".5", ".75", "1"]
    axis_ticks(figure, "x", 0.0, 1.0, UNIT_TICKS, labels)
    axis_ticks(figure, "y", 0.0, 1.0, UNIT_TICKS, labels)
    figure.label(x_label, axis="x")


def curve_draw(title: str, curve: Curve, point: tuple[float, float] | None, x_label: str,
               undefined: str = "", diagonal: bool = False) -> Draw:
    """A ROC or precision-recall curve on the unit square, the threshold's point marked o; the
    title names the y axis."""
    xs, ys = [float(v) for v in curve.x], [float(v) for v in curve.y]

    def draw(figure: Any) -> None:
        figure.title(title)
        if not xs:
            _message(figure, undefined or "undefined")
            return
        if diagonal:  # the ROC of a coin toss, for scale
            line(figure, [0.0, 1.0], [0.0, 1.0], "gray", "braille")
        line(figure, xs, ys, "cyan", "braille")
        if point is not None and all(np.isfinite(point)):
            line(figure, [point[0]], [point[1]], "green", "o", connect=False)
        _unit_axes(figure, x_label)

    return draw


def score_draw(histogram: Histogram, threshold: float, names: tuple[str, str]) -> Draw:
    """Each class's scores as the share of that class per bin (a rare class stays visible), and the
    threshold as a vertical line: what lies right of it is called positive."""
    edges = histogram.edges
    centres = [float(v) for v in (edges[:-1] + edges[1:]) / 2]
    shares = []
    for counts in (histogram.negatives, histogram.positives):
        total = counts.sum()
        shares.append([float(v) for v in (counts / total if total else counts * 0.0)])
    top = max((max(s) for s in shares if s), default=1.0) or 1.0
    ticks = nice_ticks(0.0, top, most=4)
    low, high = float(edges[0]), float(edges[-1])

    def draw(figure: Any) -> None:
        figure.title(f"scores: {names[0]} ⠒ / {names[1]} •")
        line(figure, centres, shares[0], "cyan", "braille")
        line(figure, centres, shares[1], "orange", "•")
        at = float(np.clip(threshold, low, high))
        line(figure, [at, at], [0.0, ticks[-1]], "green", "braille")
        x_ticks = nice_ticks(low, high, most=5)
        axis_ticks(figure, "x", low, high, x_ticks, tick_labels(x_ticks))
        axis_ticks(figure, "y", 0.0, ticks[-1], ticks, tick_labels(ticks))

    return draw


def scatter_draw(y_true: np.ndarray, predicted: np.ndarray, name: str) -> Draw:
    """Predicted against true, with y = x for a perfect model; at most MAX_SCATTER_POINTS dots,
    an even sample (seeded: the same picture every time)."""
    true, pred = np.asarray(y_true, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    if len(true) > MAX_SCATTER_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(true), MAX_SCATTER_POINTS, replace=False))
        true, pred = true[keep], pred[keep]
    finite = np.isfinite(true) & np.isfinite(pred)
    true, pred = true[finite], pred[finite]
    low = float(min(true.min(), pred.min())) if len(true) else 0.0
    high = float(max(true.max(), pred.max())) if len(true) else 1.0
    if high <= low:
        low, high = low - 0.5, high + 0.5
    ticks = nice_ticks(low, high, most=5)

    def draw(figure: Any) -> None:
        figure.title(f"{name}: predicted against true")
        line(figure, [ticks[0], ticks[-1]], [ticks[0], ticks[-1]], "gray", "braille")
        # Braille dots: two columns and four rows of points a cell, where "•" would snap to rows.
        line(figure, [float(v) for v in true], [float(v) for v in pred], "cyan", "braille", connect=False)
        figure.label("true", axis="x")
        axis_ticks(figure, "x", ticks[0], ticks[-1], ticks, tick_labels(ticks))
        axis_ticks(figure, "y", ticks[0], ticks[-1], ticks, tick_labels(ticks))

    return draw


def residual_draw(residuals: np.ndarray, name: str, bins: int = 30) -> Draw:
    """A histogram of predicted - true: centred on 0 for an unbiased model, narrow for a good one."""
    values = np.asarray(residuals, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        values = np.zeros(1)
    reach = float(np.abs(values).max()) or 1.0
    counts, edges = np.histogram(values, bins=bins, range=(-reach, reach))
    centres = [float(v) for v in (edges[:-1] + edges[1:]) / 2]
    y_ticks = nice_ticks(0.0, float(counts.max()) or 1.0, most=4)
    x_ticks = nice_ticks(-reach, reach, most=5)
    heights = [float(c) for c in counts]

    def draw(figure: Any) -> None:
        figure.title(f"{name}: residuals (predicted - true)")
        line(figure, centres, heights, "orange", "braille")
        line(figure, [0.0, 0.0], [0.0, y_ticks[-1]], "gray", "braille")
        axis_ticks(figure, "x", -reach, reach, x_ticks, tick_labels(x_ticks))
        axis_ticks(figure, "y", 0.0, y_ticks[-1], y_ticks, tick_labels(y_ticks))

    return draw
