"""Milliseconds per frame of the live training chart as a run grows: every point drawn (the chart
before decimation) against the chart as it draws now (each series thinned to two points per cell
of its width), side by side in one run.

    python benchmarks/chart_cost.py [--points 240,1000,10000,100000] [--size 60x20] [--frames 5]

One frame is what the monitor pays each time a chart changes: `MetricChart.replot()` (plotext
gets the series, ticks, title) and `render()` (plotext builds the canvas that Textual draws),
for a loss chart with its validation twin, smoothing on (so the faint raw curve is drawn too).
It runs the real widget in a headless Textual app at the given chart size.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult  # noqa: E402

from kerastui.tui.widgets.metric_chart import MetricChart  # noqa: E402


class EveryPointChart(MetricChart):
    """The chart before decimation: every point goes to plotext."""

    def decimation_buckets(self) -> int:
        return 10**12


def fill(chart: MetricChart, points: int) -> None:
    rng = random.Random(0)
    chart.reset(points)
    for epoch in range(points):
        loss = 2.0 * math.exp(-epoch / (points / 4)) + 0.05 * rng.random()
        chart.add_epoch(epoch, {"loss": loss, "val_loss": loss * 1.1 + 0.05 * rng.random()})
    chart.set_smoothing(0.6)


def frame_ms(chart: MetricChart, frames: int) -> float:
    times = []
    for _ in range(frames):
        started = time.perf_counter()
        chart.replot(force=True)
        chart.render()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Bench(App):
    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.charts = [EveryPointChart("loss"), MetricChart("loss")]
        self.chart_size = (width, height)

    def compose(self) -> ComposeResult:
        for chart in self.charts:
            chart.styles.width, chart.styles.height = self.chart_size
            yield chart


async def measure(points: list[int], width: int, height: int, frames: int) -> list[tuple[int, float, float]]:
    app = Bench(width, height)
    rows = []
    async with app.run_test(size=(width * 2 + 2, height + 2)) as pilot:
        await pilot.pause()
        old, new = app.charts
        for count in points:
            fill(old, count)
            fill(new, count)
            rows.append((count, frame_ms(old, max(1, frames if count < 50_000 else 2)), frame_ms(new, frames)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", default="240,1000,10000,100000")
    parser.add_argument("--size", default="60x20", help="one chart's width x height in cells")
    parser.add_argument("--frames", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    points = [int(p) for p in args.points.split(",")]
    rows = asyncio.run(measure(points, width, height, args.frames))
    print(f"loss chart {width}x{height} cells, val twin, smoothing on: ms per frame (median of {args.frames})")
    print(f"{'points':>8}  {'every point':>12}  {'decimated':>10}  {'ratio':>6}")
    for count, old, new in rows:
        print(f"{count:>8}  {old:>12.1f}  {new:>10.1f}  {new / old:>6.2f}")
    flat = rows[-1][2] / rows[0][2]
    print(f"decimated: {rows[-1][0]:,} points cost {flat:.2f}x what {rows[0][0]:,} do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
