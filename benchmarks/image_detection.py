"""What finding the terminal's image protocol adds to start-up, in a pseudo-terminal.

    python benchmarks/image_detection.py [--runs 5]

Each figure is a fresh Python process on a pseudo-terminal, timing `image_protocol.detect()`
(what `kerastui` runs before its first frame; importing the module, which imports Textual's
widget module as the app does anyway, is in every figure), median of --runs, and what asking
adds to the case that does not ask:
- not asked: a terminal the environment does not name (TERM=xterm-256color), the default case;
- asked, Sixel answer: TERM=foot, and the terminal answers the device-attributes query at once;
- asked, no answer: KERASTUI_IMAGES=on, and the terminal answers nothing (both queries time out).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import sys
import termios
import time

PROBE = (
    "import time\nstarted = time.perf_counter()\nfrom kerastui.tui import image_protocol\n"
    "found = image_protocol.detect()\nprint(f'RESULT {time.perf_counter() - started:.4f} {found}', flush=True)\n"
)


def measure(environ: dict[str, str], answer: bool) -> tuple[float, str]:
    env = dict(os.environ, **environ)
    env.pop("TMUX", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-c", PROBE], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 1200, 800))
    output = b""
    deadline = time.monotonic() + 30
    while b"RESULT" not in output or not output.rstrip().endswith((b"sixel", b"kitty", b"half-blocks")):
        if time.monotonic() > deadline:
            raise TimeoutError(output[-200:])
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 4096)
            output += chunk
            if answer and b"\x1b[c" in chunk:
                os.write(fd, b"\x1b[?62;4;22c")
    os.waitpid(pid, 0)
    os.close(fd)
    _, seconds, found = output[output.index(b"RESULT"):].split()[:3]
    return float(seconds), found.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cases = [
        ("not asked (TERM=xterm-256color)", {"TERM": "xterm-256color"}, False),
        ("asked, Sixel answer (TERM=foot)", {"TERM": "foot"}, True),
        ("asked, no answer (KERASTUI_IMAGES=on)", {"TERM": "xterm-256color", "KERASTUI_IMAGES": "on"}, False),
    ]
    print(f"{'case':40} {'ms':>6} {'added ms':>9}  found")
    baseline = None
    for label, environ, answer in cases:
        results = [measure(environ, answer) for _ in range(runs)]
        median = statistics.median(s for s, _ in results) * 1000
        baseline = median if baseline is None else baseline
        print(f"{label:40} {median:6.0f} {median - baseline:9.0f}  {results[0][1]}")


if __name__ == "__main__":
    main()
