"""One line beside the curves: what the run uses of the machine (CPU, memory, GPUs), with a
short sparkline of each and a warning when something is wasted or about to run out.

It reads kerastui.core.resources' samples (resources.jsonl), so a Slurm run's figures show the
same way as a local run's.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kerastui.core.resources import ResourceLog, format_bytes

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_ASCII = " .:-=+*#"  # NO_COLOR terminals may lack the block glyphs' fonts too
SPARK_SAMPLES = 12  # a minute of samples at 5 s


def sparkline(values: list[float], high: float, ascii_only: bool = False) -> str:
    """The last few values as block characters scaled to 0..high."""
    blocks = SPARK_ASCII if ascii_only else SPARK_BLOCKS
    shown = values[-SPARK_SAMPLES:]
    if not shown or high <= 0:
        return ""
    top = len(blocks) - 1
    return "".join(blocks[max(0, min(top, round(v / high * top)))] for v in shown)


class ResourceBar(Static):
    """`show(log, training)` draws the latest figures; nothing (one dim line) before any sample."""

    DEFAULT_CSS = """
    ResourceBar {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    ResourceBar.-warning {
        color: $warning;
    }
    """

    def show(self, log: ResourceLog, training: bool) -> None:
        self.update(resource_text(log, training, ascii_only=bool(self.app.no_color)))
        self.set_class(bool(log.warnings(training)), "-warning")


def resource_text(log: ResourceLog, training: bool, ascii_only: bool = False) -> Text:
    latest = log.latest
    text = Text()  # wraps onto a second line at 80 columns rather than hiding a warning
    if latest is None:
        text.append("resources: no sample yet (taken every few seconds by the run)", style="dim")
        return text
    cpus = log.cpus or 1
    text.append("CPU ", style="bold")
    text.append(sparkline(log.series("cpu"), cpus, ascii_only))
    text.append(f" {latest['cpu']:.1f} of {cpus} cores")
    efficiency = log.cpu_efficiency
    if efficiency is not None:
        text.append(f" ({efficiency:.0%} used)", style="dim")
    text.append("  │  ")
    text.append("mem ", style="bold")
    limit = log.memory_limit_bytes
    peak = log.peak_rss_bytes or latest["rss_bytes"]
    text.append(sparkline([float(v) for v in log.series("rss_bytes")], float(limit or peak), ascii_only))
    text.append(f" {format_bytes(latest['rss_bytes'])}")
    text.append(f" (peak {format_bytes(peak)}{f' of {format_bytes(limit)}' if limit else ''})", style="dim")
    for gpu in latest.get("gpus") or []:
        text.append("  │  ")
        text.append(f"GPU{gpu['index']} ", style="bold")
        history = [float(g["util"]) for s in log.samples for g in s.get("gpus") or [] if g["index"] == gpu["index"]]
        text.append(sparkline(history, 100.0, ascii_only))
        text.append(f" {gpu['util']:.0f}% {format_bytes(gpu['mem_used'])}/{format_bytes(gpu['mem_total'])}")
    for warning in log.warnings(training):
        text.append("  ⚠ " if not ascii_only else "  ! ", style="bold")
        text.append(warning)
    return text
