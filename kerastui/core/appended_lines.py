"""A file another process appends lines to (metrics.jsonl, resources.jsonl), read as the lines
added since the last look: the one incremental reader of run files, for every follower.
"""

from __future__ import annotations

import os
from pathlib import Path


class AppendedLines:
    """Keeps its byte offset, holds back a half-written last line until its newline arrives, and
    starts over from the top when the file was rewritten (a new inode, or shorter than before)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._buffer = b""
        self._inode: int | None = None

    def read(self) -> list[bytes] | None:
        """The complete lines appended since the last call; None when nothing was appended (or
        there is no file), [] when bytes came but not yet a whole line."""
        try:
            handle = open(self.path, "rb")
        except OSError:
            return None
        with handle:
            stat = os.fstat(handle.fileno())
            if self._inode not in (None, stat.st_ino) or stat.st_size < self.offset:
                self.offset, self._buffer = 0, b""  # rewritten from scratch: its new content from the start
            self._inode = stat.st_ino
            if stat.st_size == self.offset:
                return None
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        return lines

    def grew(self) -> bool:
        """Whether more has been appended than was read (without reading it)."""
        try:
            return self.path.stat().st_size > self.offset
        except OSError:
            return False
