"""Time to the app's first frame, next to the time a bare `import tensorflow` takes.

    python benchmarks/startup.py [--runs 3]

Each measurement is a fresh Python process (what a user waits for, interpreter start included):
- first frame: `KerasTUI` runs headless and reports when Textual's Ready event arrives (the first
  frame has been composed and displayed); the same process then reports when the build screen's
  summary is ready (the app's keras_ready: its previewer loaded, which for the registry's previewer
  imports no Keras);
- import tensorflow: `python -c "import tensorflow"`.
Prints the medians and the ratio first frame / import tensorflow (well below 1 means the UI does
not wait for TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
started = float(sys.argv[1])
out = sys.argv[2]
from kerastui.tui.app import KerasTUI

class Measured(KerasTUI):
    first_frame = None

    def on_ready(self) -> None:
        self.first_frame = time.time() - started
        self.watch(self, "keras_ready", self._keras_done)

    def _keras_done(self, ready: bool) -> None:
        if ready:
            with open(out, "w") as f:
                json.dump({"first_frame": self.first_frame, "keras_ready": time.time() - started}, f)
            self.exit()

app = Measured()
app.run(headless=True, size=(120, 40))
"""


def quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("KERASTUI_RUNS_DIR", tempfile.mkdtemp(prefix="kerastui-bench-runs-"))
    return env


def measure_app() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "times.json"
        started = time.time()
        subprocess.run(
            [sys.executable, "-c", CHILD, repr(started), str(out)],
            env=quiet_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
        )
        return json.loads(out.read_text())


def measure_import_tensorflow() -> float:
    started = time.time()
    subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        env=quiet_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300,
    )
    return time.time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="processes per measurement (median is shown)")
    args = parser.parse_args()

    # Alternate the two so a slow moment of a shared machine does not hit only one of them.
    apps, imports = [], []
    for _ in range(args.runs):
        apps.append(measure_app())
        imports.append(measure_import_tensorflow())
    first_frame = statistics.median(a["first_frame"] for a in apps)
    keras_ready = statistics.median(a["keras_ready"] for a in apps)
    tensorflow = statistics.median(imports)
    print(f"runs per measurement:         {args.runs} (median)")
    print(f"kerastui first frame:         {first_frame:6.2f} s")
    print(f"kerastui summary ready:       {keras_ready:6.2f} s   (background thread, UI usable meanwhile)")
    print(f"python -c 'import tensorflow': {tensorflow:6.2f} s")
    print(f"first frame / import tensorflow = {first_frame / tensorflow:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
