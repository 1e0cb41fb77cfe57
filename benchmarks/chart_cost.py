"""Milliseconds per frame of the live training chart as a run grows, the old chart stack against
the new, side by side in one run: each with every point drawn and with each series thinned to two
points per cell of its width (decimated).

    python benchmarks/chart_cost.py [--points 240,1000,10000,100000] [--size 60x20] [--frames 5] [--no-old]

The new stack is this checkout's chart (plotext 6, through kerastui's own widget). The old one is
the chart as it was before the move, on plotext 5.3 and textual-plotext: its code comes from this
repository's history (commit OLD_CHART_COMMIT, `git archive`), its two packages are installed once
with `pip install --target` into ~/.cache/kerastui/old-chart-stack (they cannot share a process
with plotext 6), and that commit's own copy of this script measures it in a child process.

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
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The last commit whose chart drew with plotext 5.3 through textual-plotext (decimation included).
OLD_CHART_COMMIT = "c53e3ef"
OLD_CHART_PACKAGES = ("plotext==5.3.2", "textual-plotext==1.0.1")
OLD_STACK_CACHE = Path.home() / ".cache" / "kerastui" / "old-chart-stack"

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


def measure_old_stack(points: list[int], size: str, frames: int) -> tuple[list[tuple[int, float, float]], str]:
    """(rows, "") measured on the old stack in a child process, or ([], why it could not be)."""
    packages = OLD_STACK_CACHE / "site-packages"
    try:
        if not (packages / "textual_plotext").is_dir():
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(packages),
                            *OLD_CHART_PACKAGES], check=True, capture_output=True, text=True, timeout=300)
        with tempfile.TemporaryDirectory() as old_tree:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", OLD_CHART_COMMIT, "kerastui", "benchmarks"],
                                     check=True, capture_output=True, timeout=60).stdout
            with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
                tar.extractall(old_tree, filter="data")
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(packages), old_tree]))
            result = subprocess.run([sys.executable, str(Path(old_tree) / "benchmarks" / "chart_cost.py"),
                                     "--points", ",".join(map(str, points)), "--size", size, "--frames", str(frames)],
                                    check=True, capture_output=True, text=True, env=env, timeout=1800)
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", "") or ""
        detail = detail.decode(errors="replace") if isinstance(detail, bytes) else detail
        return [], f"{error} {detail.strip().splitlines()[-1] if detail.strip() else ''}".strip()
    rows = []
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[0].isdigit():
            rows.append((int(fields[0]), float(fields[1]), float(fields[2])))
    return rows, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", default="240,1000,10000,100000")
    parser.add_argument("--size", default="60x20", help="one chart's width x height in cells")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--no-old", action="store_true", help="measure this checkout's chart only")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    points = [int(p) for p in args.points.split(",")]
    old_rows, why_not = ([], "--no-old") if args.no_old else measure_old_stack(points, args.size, args.frames)
    rows = asyncio.run(measure(points, width, height, args.frames))
    old_by_points = {count: (every, decimated) for count, every, decimated in old_rows}
    print(f"loss chart {width}x{height} cells, val twin, smoothing on: ms per frame (median of {args.frames})")
    print(f"{'':>8}  {'old: plotext 5.3 + textual-plotext':>34}  {'new: plotext 6, own widget':>28}")
    print(f"{'points':>8}  {'every point':>16}  {'decimated':>15}  {'every point':>13}  {'decimated':>12}  {'new/old':>7}")
    for count, every, decimated in rows:
        old_every, old_decimated = old_by_points.get(count, (math.nan, math.nan))
        print(f"{count:>8}  {old_every:>16.1f}  {old_decimated:>15.1f}  {every:>13.1f}  {decimated:>12.1f}"
              f"  {decimated / old_decimated:>7.2f}")
    if why_not:
        print(f"old stack not measured: {why_not}")
    flat = rows[-1][2] / rows[0][2]
    print(f"new, decimated: {rows[-1][0]:,} points cost {flat:.2f}x what {rows[0][0]:,} do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
