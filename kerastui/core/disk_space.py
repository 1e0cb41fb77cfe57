"""Room on disk for the model and the training state, checked before Keras writes them.

h5py, which Keras saves weights with, meets a full disk with a crash as it cleans up (a
segfault), not an error; a run checks the space first and fails with a message instead.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

import numpy as np

MARGIN_BYTES = 64 * 1024  # the file format's own overhead, and room for the run's last small files


class DiskFull(OSError):
    """Too little room for a save; str() is the whole message (no errno prefix)."""

    def __str__(self) -> str:
        return str(self.strerror)


def state_bytes(model: Any) -> int:
    """About what saving the model's weights and optimizer state takes on disk."""
    variables = list(getattr(model, "weights", []))
    optimizer = getattr(model, "optimizer", None)
    variables += list(getattr(optimizer, "variables", []) or [])
    total = 0
    for variable in variables:
        try:
            total += int(np.prod(variable.shape)) * np.dtype(str(variable.dtype)).itemsize
        except (TypeError, ValueError):
            continue
    return total


def files_bytes(directory: Path) -> int:
    """The size of the files directly in `directory` (0 when it does not exist)."""
    try:
        return sum(entry.stat().st_size for entry in Path(directory).iterdir() if entry.is_file())
    except OSError:
        return 0


def check_free_space(directory: Path, needed: int, what: str, reclaimed: int = 0) -> None:
    """DiskFull naming `what` when `directory`'s disk cannot take `needed` bytes and a margin;
    `reclaimed` is what the save frees as it goes (files it overwrites in place)."""
    probe = Path(directory)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return  # cannot tell: the write itself will say
    wanted = int(needed * 1.1) + MARGIN_BYTES
    if free + reclaimed < wanted:
        raise DiskFull(errno.ENOSPC, f"the disk is full: {what} needs about {wanted // 1024} KiB and "
                                     f"{free // 1024} KiB are free in {directory}")
