"""A plotext line chart of one training metric and its validation twin, in epochs.

Epoch-end values are drawn at x = epoch + 1 (the end of that epoch); while an epoch runs, the
training curve is extended to x = epoch + step/steps with the running batch value, so the line
moves within the epoch. Data changes only mark the chart dirty; `replot()` (called by a
throttled timer) redraws at most once per change, so drawing never paces training. Each series
is decimated to the chart's width before plotting, so a long run draws as fast as a short one.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Collection

from kerastui.core.tasks import TASKS, metric_direction
from kerastui.tui.widgets.chart_scale import SmoothedSeries, decimate, nice_ticks, smooth, tick_labels, whole_ticks
from kerastui.tui.widgets.plotext_chart import PlotextChart, axis_ticks, line


def _from(xs: list[float], x_low: float, *columns: list[float]) -> tuple[list[float], ...]:
    """The points from x_low on (xs in order): xs and each column cut alike."""
    cut = bisect_left(xs, x_low)
    return tuple(column[cut:] if cut else column for column in (xs, *columns))


# The second chart's metric by what a run reports, for runs whose task is not recorded: AUC is
# only compiled for binary and multi-label tasks, MAE only for regression.
METRICS_BY_KEY = ("auc", "mae", "accuracy")
METRIC_TITLES = {"accuracy": "accuracy", "auc": "AUC", "mae": "MAE", "loss": "loss"}


def chart_metric_for(task: str = "", metric_keys: Collection[str] = ()) -> str:
    """The metric the second chart draws: the task's (accuracy for multiclass, auc for binary and
    multi-label, mae for regression), else the first of auc, mae, accuracy the run reports."""
    if task in TASKS:
        return TASKS[task].chart_metric
    for name in METRICS_BY_KEY:
        if name in metric_keys or f"val_{name}" in metric_keys:
            return name
    return "accuracy"


class MetricChart(PlotextChart):
    """Chart of `metric` (e.g. "loss") and `val_<metric>` against epochs."""

    def __init__(self, metric: str, title: str | None = None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._use_metric(metric, title)
        self.epochs_planned = 1
        self.log_scale = False
        # name -> x (epoch ends) and values, as two lists (drawing takes them so); finite values only.
        self._xs: dict[str, list[float]] = {self.metric: [], self.val_metric: []}
        self._ys: dict[str, list[float]] = {self.metric: [], self.val_metric: []}
        self._in_epoch_point: tuple[float, float] | None = None
        # Each series smoothed over the whole run, extended as epochs arrive (a zoom shows part of it).
        self._smoothed = {self.metric: SmoothedSeries(), self.val_metric: SmoothedSeries()}
        self._dirty = True
        self.smoothing = 0.0  # exponential smoothing weight of the drawn curves (0: raw)
        self.zoom_epochs = 0  # 0: the whole run; N: only the last N epochs
        # What the last replot drew (read by tests and the monitor's status).
        self.best: tuple[float, float] | None = None
        self.x_ticks: list[int] = []
        self.y_ticks: list[float] = []
        self.title_text = self.title

    def _use_metric(self, metric: str, title: str | None = None) -> None:
        self.metric = metric
        self.val_metric = f"val_{metric}"
        self.title = title or METRIC_TITLES.get(metric, metric)
        # Which end is better: the best-epoch mark is the highest AUC but the lowest MAE.
        self.direction = metric_direction(self.val_metric)

    def set_metric(self, metric: str, title: str | None = None) -> None:
        """Draw `metric` and its val_ twin from now on; the series drawn so far go."""
        if metric == self.metric and (title is None or title == self.title):
            return
        self._use_metric(metric, title)
        self._xs = {self.metric: [], self.val_metric: []}
        self._ys = {self.metric: [], self.val_metric: []}
        self._smoothed = {self.metric: SmoothedSeries(), self.val_metric: SmoothedSeries()}
        self._in_epoch_point = None
        self.best = None
        self.title_text = self.title
        self._dirty = True

    # ---- data (cheap; UI thread) ----------------------------------------------------------------

    def reset(self, epochs_planned: int) -> None:
        self.epochs_planned = max(1, epochs_planned)
        for column in (*self._xs.values(), *self._ys.values()):
            column.clear()
        for smoothed in self._smoothed.values():
            smoothed.clear()
        self._in_epoch_point = None
        self._dirty = True

    def add_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        for name in self._xs:
            value = metrics.get(name)
            if value is not None and math.isfinite(value):
                self._xs[name].append(epoch + 1.0)
                self._ys[name].append(float(value))
        self._in_epoch_point = None
        self._dirty = True

    def add_batch(self, epoch: int, step: int, steps: int, metrics: dict[str, float]) -> None:
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value) or steps <= 0:
            return
        self._in_epoch_point = (epoch + step / steps, float(value))
        self._dirty = True

    def set_log_scale(self, on: bool) -> None:
        self.log_scale = on
        self._dirty = True

    def series(self, name: str) -> list[float]:
        """Epoch-end values of `name` (the metric or its val_ twin), in epoch order."""
        return list(self._ys.get(name, []))

    @property
    def running_point(self) -> tuple[float, float] | None:
        return self._in_epoch_point

    @property
    def dirty(self) -> bool:
        return self._dirty

    # ---- drawing --------------------------------------------------------------------------------

    def replot(self, force: bool = False) -> bool:
        """Rebuild the plot if the data changed; returns whether it did."""
        if not (self._dirty or force):
            return False
        self._dirty = False
        train = self._with_smoothing(self.metric)
        if self._in_epoch_point is not None:
            x, y = self._in_epoch_point
            xs, ys, drawn = train
            running = self._smoothed[self.metric].next(y) if self.smoothing else y
            train = (xs + [x], ys + [y], drawn + [running])
        val = self._with_smoothing(self.val_metric)
        # The x range: the whole planned run (so curves do not jump as epochs arrive), or the
        # zoomed window of the last epochs; the y range follows what is shown.
        last = max((xs[-1] for xs, _, _ in (train, val) if xs), default=0.0)
        if self.zoom_epochs:
            x_low = max(0.0, math.floor(last) - self.zoom_epochs)
            x_high = max(last, x_low + 1)
        else:
            x_low, x_high = 0.0, float(self.epochs_planned)
        train, val = (_from(xs, x_low, ys, drawn) for xs, ys, drawn in (train, val))  # x is in order: no scan
        self.best = self._best(*val[:2])
        log = self.log_scale and all(min(ys) > 0 for _, ys, _ in (train, val) if ys)
        shown: list[float] = []
        # Training as a fine braille line, validation as dots: told apart without colour (NO_COLOR).
        series: list[tuple[list[float], list[float], str, str, bool]] = []
        buckets = self.decimation_buckets()
        for (xs, ys, drawn), color, marker, connect in ((train, "cyan", "braille", True), (val, "orange", "•", False)):
            if not xs:
                continue
            if self.smoothing:
                faint = decimate(xs, ys, buckets)
                series.append((*faint, "gray", "braille", True))  # the raw curve, kept faint
                shown += faint[1]
            curve = decimate(xs, drawn, buckets)
            series.append((*curve, color, marker if len(xs) > 1 else "•", connect))
            shown += curve[1]  # decimation keeps each bucket's extremes: the y range is the same
        if self.best is not None:
            series.append(([self.best[0]], [self.best[1]], "green", "o", False))
        self.title_text = self._title(train[:2], val[:2])
        self.x_ticks = whole_ticks(int(math.ceil(x_low)), int(math.floor(x_high)), most=7)
        self.y_ticks = nice_ticks(min(shown), max(shown), most=6) if shown and not log else []
        title, x_ticks, y_ticks = self.title_text, list(self.x_ticks), list(self.y_ticks)

        def draw(figure) -> None:
            figure.title(title)
            figure.label("epoch", axis="x")
            for xs, ys, color, marker, connect in series:
                line(figure, xs, ys, color, marker, connect=connect)
            axis_ticks(figure, "x", x_low, x_high, x_ticks, [str(t) for t in x_ticks])
            if not shown:
                figure.draw(figure.text((x_low + x_high) / 2, 0.5, "waiting for the first batch…", alignment="center"))
                figure.ruler("y").lim(0, 1)
            elif log:
                figure.ruler("y").scale("log")
            else:
                axis_ticks(figure, "y", y_ticks[0], y_ticks[-1], y_ticks, tick_labels(y_ticks))

        self.plot(draw)
        return True

    def _with_smoothing(self, name: str) -> tuple[list[float], list[float], list[float]]:
        """(x, values, the values as drawn): smoothed over the whole run when smoothing is on."""
        xs, ys = self._xs[name], self._ys[name]
        return xs, ys, self._smoothed[name].of(ys, self.smoothing) if self.smoothing else ys

    def _best(self, xs: list[float], ys: list[float]) -> tuple[float, float] | None:
        """(epoch, value) of the best validation epoch: where early stopping or a checkpoint picks."""
        if not ys:
            return None
        value = max(ys) if self.direction == "max" else min(ys)
        return xs[ys.index(value)], value

    def _title(self, train: tuple[list[float], list[float]], val: tuple[list[float], list[float]]) -> str:
        """The legend, in the title line so it never covers a curve: latest values and the best
        validation epoch (marked o on the chart); short enough for a 40-column chart."""
        parts = [self.title]
        if train[1]:
            parts.append(f"{train[1][-1]:.3g}")
        if val[1]:
            parts.append(f"• val {val[1][-1]:.3g}")
        if self.best is not None:
            parts.append(f"o best {self.best[1]:.3g}@{int(self.best[0])}")
        flags = [f"smooth {self.smoothing:g}" if self.smoothing else "", f"last {self.zoom_epochs}" if self.zoom_epochs else ""]
        extra = ", ".join(flag for flag in flags if flag)
        room = (self.size.width or 80) - 2
        # Narrow (two charts at 80 columns): the least needed parts go first, then the gaps.
        for keep, gap in ((len(parts), "  "), (len(parts), " "), (3, " "), (2, " ")):
            text = gap.join(parts[:keep]) + (f" ({extra})" if extra else "")
            if len(text) <= room:
                return text
        return text

    # ---- view options (keys on the monitor) -----------------------------------------------------

    def set_smoothing(self, weight: float) -> None:
        smooth([], weight)  # validates
        self.smoothing = weight
        self._dirty = True

    def set_zoom(self, last_epochs: int) -> None:
        """Show only the last `last_epochs` epochs (0: the whole run)."""
        self.zoom_epochs = max(0, int(last_epochs))
        self._dirty = True
