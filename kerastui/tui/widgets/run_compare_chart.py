"""One metric of several runs overlaid on one plotext chart, optionally smoothed.

Smoothing is TensorBoard's: an exponential moving average with weight w, debiased so the first
points are not pulled towards zero. Raw values are kept; smoothing only changes what is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual_plotext import PlotextPlot

from kerastui.core.runs import RunRecord
from kerastui.tui.widgets.chart_scale import SMOOTHING_LEVELS, decimate, epoch_ticks, smooth

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


class RunCompareChart(PlotextPlot):
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
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        title = self.metric if not self.smoothing else f"{self.metric} (smoothed {self.smoothing:g})"
        plt.title(title)
        plt.xlabel("epoch")
        longest = max((len(c.values) for c in self.curves), default=0)
        for index, curve in enumerate(self.curves):
            values = self.drawn(curve)
            xs = [i + 1 for i, v in enumerate(values) if math.isfinite(v)]
            ys = [v for v in values if math.isfinite(v)]
            if not ys:
                continue
            # A one-epoch run is a single point: draw it as a visible marker, not an invisible line.
            xs, ys = decimate(xs, ys, max(16, self.size.width or 80))  # no more than the width shows
            plt.plot(xs, ys, label=_short(curve.label), marker="braille" if len(ys) > 1 else "dot",
                     color=RUN_COLORS[index % len(RUN_COLORS)])
        if longest:
            plt.xlim(0.8, max(longest, 1) + 0.2)
            ticks = epoch_ticks(longest)
            plt.xticks(ticks, [str(t) for t in ticks])  # plotext's own ticks read 0.8, 22.2, 43.5...
        else:
            plt.text(f"no run logged {self.metric}", x=0.5, y=0.5, alignment="center")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        self.refresh()


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]
