"""Keep TensorFlow's C++ log lines off the user's terminal.

TensorFlow 2.2x logs through absl before its logging is initialised, so TF_CPP_MIN_LOG_LEVEL no
longer silences lines such as "Could not find cuda drivers". They are written straight to file
descriptor 2, where they would tear through a Textual screen or a rich progress display.
`divert_native_stderr` points descriptor 2 at a log file and gives Python a private duplicate of
the original stderr, so Python output (tracebacks, Textual's own drawing, which goes to
sys.__stderr__) still reaches the terminal while native chatter lands in the log.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def divert_native_stderr(log_path: Path) -> Iterator[Path]:
    """Within the block, native writes to fd 2 go to `log_path`; Python's stderr is unchanged."""
    try:
        sys.stderr.flush()
        original_fd = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters, odd test runners)
        yield log_path
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    terminal = os.fdopen(original_fd, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="replace")
    saved = sys.stderr, sys.__stderr__
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stderr = sys.__stderr__ = terminal
    try:
        yield log_path
    finally:
        terminal.flush()
        sys.stderr, sys.__stderr__ = saved
        os.dup2(original_fd, 2)
        terminal.close()


def default_native_log() -> Path:
    """Where native library output goes when no run directory is at hand."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kerastui" / "native.log"


def divert_native_stderr_on_terminal(log_path: Path | None = None) -> contextlib.AbstractContextManager:
    """Divert only when fd 2 is a terminal: piped or captured stderr (CI, Slurm logs, tests) is left alone.

    Nesting is harmless: inside a diversion fd 2 is the log file, no longer a terminal.
    """
    if not os.isatty(2):
        return contextlib.nullcontext(log_path)
    return divert_native_stderr(log_path or default_native_log())
