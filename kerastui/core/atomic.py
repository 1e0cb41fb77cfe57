"""Atomic file writes: write a temporary file beside the target, then rename over it.

A reader (or a crash) never sees half a file: it sees the old content or the new. The file gets
the permissions the user's umask gives a new file (0644 under the usual 022, 0664 under a group
project's 002), not mkstemp's private 0600, so a shared project directory stays readable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Into an existing directory only: a run directory deleted mid-run must not come back half-empty."""
    path = Path(path)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def current_umask() -> int:
    """The process's umask: read from /proc where Linux shows it, since the portable way (set it,
    then set it back) briefly changes it for every thread."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
