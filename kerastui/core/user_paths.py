"""Paths a user names (a data file, an experiment TOML): a FIFO, socket or device there would
block the reader forever or feed it endless bytes, so each is refused by name before it is opened."""

from __future__ import annotations

import stat
from pathlib import Path


def special_file_kind(path: Path) -> str:
    """"a FIFO", "a socket", "a device" for such a path; "" for a regular file, a directory or a
    path that does not exist (its reader says so in its own words)."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return ""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return ""


def special_file_problem(path: Path) -> str:
    """Why `path` cannot be read as a file ("" when it can be tried)."""
    kind = special_file_kind(path)
    return f"is {kind}, not a regular file: name a file" if kind else ""
