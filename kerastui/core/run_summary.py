"""How a run is summarised for people, the same in `kerastui runs` and on the runs screen."""

from __future__ import annotations

# Rich style names per run status; anything else is shown dim.
STATUS_STYLES = {
    "finished": "green",
    "running": "cyan",
    "prepared": "blue",
    "submitted": "blue",
    "requeued": "blue",
    "stopped": "yellow",
    "failed": "red",
    "interrupted": "magenta",
    "cancelled": "magenta",
}


def format_duration(seconds: float | None) -> str:
    """A run's length: '-' when unknown, '42.0s', '5m02s', '1h05m'."""
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def plural(count: int, word: str) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def peak_memory_text(resources: dict) -> str:
    """'1.2 GiB' (and '/ 8.0 GiB' when the job asked for a limit), or '-'."""
    from kerastui.core.resources import format_bytes

    peak = resources.get("peak_rss_bytes")
    if not peak:
        return "-"
    limit = resources.get("memory_limit_bytes")
    return f"{format_bytes(peak)} / {format_bytes(limit)}" if limit else format_bytes(peak)


def percent_text(value: float | None, of_one: bool = True) -> str:
    """A fraction (0.84) or a percentage (84.0) as '84%', or '-'."""
    if value is None:
        return "-"
    return f"{value * 100:.0f}%" if of_one else f"{value:.0f}%"
