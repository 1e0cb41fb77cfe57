"""One metric of several runs overlaid on one plotext chart, optionally smoothed.

Smoothing is TensorBoard's: an exponential moving average with weight w, debiased so the first
points are not pulled towards zero. Raw values are kept; smoothing only changes what is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kerastui.core.runs import RunRecord
from kerastui.tui.widgets.chart_scale import SMOOTHING_LEVELS, decimate, epoch_ticks, smooth
from kerastui.tui.widgets.plotext_chart import PlotextChart, axis_ticks, line

__all__ = ["SMOOTHING_LEVELS", "Curve", "RunCompareChart", "epoch_ticks", "smooth"]

# Distinct plotext colours, in the order runs are selected.
RUN_COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "white")


@dataclass(frozen=True)
class Curve:
    label: str
    values: tuple[float, ...]      # per epoch, raw


def curves_for(records: list[RunRecord], metric: str) -> list[Curve]:
    """The metric's per-epoch values of each run that logged it."""
    found = []
    for record in records:
        values = record.metrics_history.get(metric)
        if values:
            found.append(Curve(record.name, tuple(values)))
    return found


class RunCompareChart(PlotextChart):
    """Overlay of `metric` for several runs; x = epoch (1-based), one colour per run."""

    def __init__(self, metric: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.smoothing = 0.0
        self.curves: list[Curve] = []

    def set_runs(self, records: list[RunRecord], metric: str | None = None) -> None:
        if metric is not None:
            self.metric = metric
        self.curves = curves_for(records, self.metric)
        self.replot()

    def drawn(self, curve: Curve) -> list[float]:
        """The values as drawn (smoothed when smoothing is on)."""
        return smooth(list(curve.values), self.smoothing)

    def replot(self) -> None:
        title = self.metric if not self.smoothing else f"{self.metric} (smoothed {self.smoothing:g})"
        longest = max((len(c.values) for c in self.curves), default=0)
        series = []
        for index, curve in enumerate(self.curves):
            values = self.drawn(curve)
            xs = [i + 1 for i, v in enumerate(values) if math.isfinite(v)]
            ys = [v for v in values if math.isfinite(v)]
            if not ys:
                continue
            xs, ys = decimate(xs, ys, self.decimation_buckets())  # no more than the width shows
            # A one-epoch run is a single point: draw it as a visible marker, not an invisible line.
            series.append((xs, ys, RUN_COLORS[index % len(RUN_COLORS)], "braille" if len(ys) > 1 else "•",
                           _short(curve.label)))
        metric = self.metric

        def draw(figure) -> None:
            figure.title(title)
            figure.label("epoch", axis="x")
            for xs, ys, color, marker, label in series:
                line(figure, xs, ys, color, marker, label=label)
            if longest:
                ticks = epoch_ticks(longest)  # plotext's own ticks over 0.8..n+0.2 read 0.8, 22.2, 43.5...
                axis_ticks(figure, "x", 0.8, max(longest, 1) + 0.2, ticks, [str(t) for t in ticks])
            else:
                figure.draw(figure.text(0.5, 0.5, f"no run logged {metric}", alignment="center"))
                figure.ruler("x").lim(0, 1)
                figure.ruler("y").lim(0, 1)

        self.plot(draw)


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]
