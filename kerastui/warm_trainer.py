"""A trainer process started before it is needed: Keras already imported, waiting for its run.

The app keeps one ready (kerastui.core.launcher), so ctrl+r starts training at once instead of
after TensorFlow's 3-6 s import. Started as `python -m kerastui.warm_trainer` with
KERAS_BACKEND set; it imports Keras, then reads one JSON line from stdin:

    {"argv": ["train", "<run>/config.toml", "--run-dir", "<run>", "--plain"], "log": "<run>/train.log"}

and runs exactly `kerastui <argv>` in this process, its output going to the log. End of input
before a request (the app quit, or chose another backend) ends it quietly, and so does waiting
longer than $KERASTUI_WARM_IDLE seconds (default 600): an idle trainer gives its memory back.

It sits at the package's top, beside __main__, because it runs the CLI: kerastui.core (which
starts it) imports neither the CLI nor the UI.
"""

from __future__ import annotations

import json
import os
import select
import sys

DEFAULT_IDLE_S = 600.0


def _idle_seconds() -> float:
    try:
        value = float(os.environ.get("KERASTUI_WARM_IDLE", DEFAULT_IDLE_S))
    except ValueError:
        return DEFAULT_IDLE_S
    return value if value > 0 else DEFAULT_IDLE_S


def _redirect_output(log_path: str) -> None:
    """stdout and stderr (also native writes from TensorFlow) into the run's log file."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from kerastui.cli import main as kerastui_main
    from kerastui.core.backend import import_keras

    try:
        keras = import_keras(os.environ.get("KERAS_BACKEND") or None)
        # Backends start their devices on first use (JAX: ~2 s); do it now, not after ctrl+r.
        keras.ops.convert_to_numpy(keras.ops.ones((2, 2)) @ keras.ops.ones((2, 2)))
        # What every run needs next, so the first batch comes soon after the request.
        import kerastui.cli.train  # noqa: F401  (imported now: the run needs it)
        import kerastui.core.build  # noqa: F401  (imported now: the run needs it)
        import kerastui.core.data  # noqa: F401  (imported now: the run needs it)
        import kerastui.core.evaluate  # noqa: F401  (imported now: the run needs it)
        import kerastui.core.pipeline  # noqa: F401  (imported now: the run needs it)
        import kerastui.core.train  # noqa: F401  (imported now: the run needs it)
    except Exception:
        pass  # the run itself will report the broken install, in its own run directory
    # One wait with a deadline, no polling: the request, end of input, or the idle time.
    ready, _, _ = select.select([sys.stdin], [], [], _idle_seconds())
    if not ready:
        return 0
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    request = json.loads(line)
    sys.stdin.close()
    _redirect_output(request["log"])
    return kerastui_main(list(request["argv"]))


if __name__ == "__main__":
    sys.exit(main())
