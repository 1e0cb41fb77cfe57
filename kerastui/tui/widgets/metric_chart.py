"""A plotext line chart of one training metric and its validation twin, in epochs.

Epoch-end values are drawn at x = epoch + 1 (the end of that epoch); while an epoch runs, the
training curve is extended to x = epoch + step/steps with the running batch value, so the line
moves within the epoch. Data changes only mark the chart dirty; `replot()` (called by a
throttled timer) redraws at most once per change, so drawing never paces training.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot


class MetricChart(PlotextPlot):
    """Chart of `metric` (e.g. "loss") and `val_<metric>` against epochs."""

    def __init__(self, metric: str, title: str | None = None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.val_metric = f"val_{metric}"
        self.title = title or metric
        self.epochs_planned = 1
        self.log_scale = False
        # name -> [(x, value)] at epoch ends; only finite values are kept.
        self._epoch_points: dict[str, list[tuple[float, float]]] = {self.metric: [], self.val_metric: []}
        self._in_epoch_point: tuple[float, float] | None = None
        self._dirty = True
        self.replots = 0  # how many times the plot was rebuilt (tests check throttling)

    # ---- data (cheap; UI thread) ----------------------------------------------------------------

    def reset(self, epochs_planned: int) -> None:
        self.epochs_planned = max(1, epochs_planned)
        for points in self._epoch_points.values():
            points.clear()
        self._in_epoch_point = None
        self._dirty = True

    def add_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        for name, points in self._epoch_points.items():
            value = metrics.get(name)
            if value is not None and math.isfinite(value):
                points.append((epoch + 1.0, float(value)))
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
        return [value for _, value in self._epoch_points.get(name, [])]

    @property
    def running_point(self) -> tuple[float, float] | None:
        return self._in_epoch_point

    @property
    def dirty(self) -> bool:
        return self._dirty

    # ---- drawing --------------------------------------------------------------------------------

    def render(self):
        try:
            return super().render()
        except (IndexError, ValueError, ZeroDivisionError):
            # plotext 5.3 fails now and then while building its legend (an IndexError in
            # _build.build_plot, seen mid-run after the log-scale toggle). A chart must never take
            # the app down: say so for this frame, and build it afresh at the next redraw.
            from rich.text import Text

            self._dirty = True
            return Text(f"{self.title}: redrawing…", style="dim")

    def replot(self, force: bool = False) -> bool:
        """Rebuild the plot if the data changed; returns whether it did."""
        if not (self._dirty or force):
            return False
        self._dirty = False
        self.replots += 1
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel("epoch")
        train = list(self._epoch_points[self.metric])
        if self._in_epoch_point is not None:
            train.append(self._in_epoch_point)
        val = self._epoch_points[self.val_metric]
        log = self.log_scale and all(v > 0 for _, v in train + val)
        plt.yscale("log" if log else "linear")
        if train:
            plt.plot([x for x, _ in train], [y for _, y in train], label=self.metric, marker="braille", color="cyan")
        if val:
            plt.plot([x for x, _ in val], [y for _, y in val], label=self.val_metric, marker="braille", color="orange")
        # A fixed x range for the whole run keeps the curve from jumping as epochs arrive.
        plt.xlim(0, self.epochs_planned)
        if not train and not val:
            plt.text("waiting for the first batch…", x=self.epochs_planned / 2, y=0.5, alignment="center")
            plt.ylim(0, 1)
        self.refresh()
        return True
