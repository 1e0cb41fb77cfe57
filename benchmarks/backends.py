"""Per-epoch training time of the seed MLP on each installed Keras backend, side by side.

    python benchmarks/backends.py [--digits-epochs 5] [--synthetic-epochs 3] [--backends tensorflow,jax]

Each backend runs in its own fresh process (Keras fixes its backend at import), through kerastui's
own Trainer, with the seed experiment's settings (preset "mlp", its batch size and validation split):
- digits: the embedded 8x8 digits set (1,437 training images);
- synthetic: MNIST-sized random data, 60,000 x 784 float32, 10 classes (no download needed).
The first epoch includes tracing/compilation, so it is shown apart; "later" is the median of the
other epochs, and the ratio is that median divided by TensorFlow's (below 1: faster than TensorFlow).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")

CHILD = r"""
import json, sys
from dataclasses import replace
import numpy as np
from kerastui.core.backend import select_backend
from kerastui.core.events import EpochEnded

backend, digits_epochs, synthetic_epochs, batch_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
select_backend(backend)  # before anything imports keras
from kerastui.core.data import Dataset, load_dataset
from kerastui.core.spec import preset_experiment
from kerastui.core.train import Trainer

def synthetic():
    rng = np.random.default_rng(0)
    x = rng.random((61_000, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=61_000).astype(np.int64)
    return Dataset("synthetic", x[:60_000], y[:60_000], x[60_000:], y[60_000:], tuple(str(i) for i in range(10)),
                   (784,), "tabular", "random numbers")

def epoch_seconds(data, epochs):
    experiment = preset_experiment("mlp", data.name, data.input_shape, data.num_classes, backend=backend)
    fit = experiment.fit if batch_size <= 0 else replace(experiment.fit, batch_size=batch_size)
    experiment = replace(experiment, fit=replace(fit, epochs=epochs))
    seconds = []
    result = Trainer(experiment, data, [lambda e: seconds.append(e.seconds) if isinstance(e, EpochEnded) else None]).run()
    if result.status != "finished":
        raise SystemExit(f"{backend} on {data.name}: {result.status}: {result.reason}")
    return {"seconds": seconds, "batch_size": experiment.fit.batch_size}

import keras
out = {"backend": keras.backend.backend(), "keras": keras.__version__,
       "digits": epoch_seconds(load_dataset("digits"), digits_epochs),
       "synthetic": epoch_seconds(synthetic(), synthetic_epochs)}
print("RESULT " + json.dumps(out))
"""


def measure(backend: str, digits_epochs: int, synthetic_epochs: int, batch_size: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, backend, str(digits_epochs), str(synthetic_epochs), str(batch_size)],
        check=False, capture_output=True, text=True, env=env,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{backend} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    measured = json.loads(lines[-1][len("RESULT "):])
    if measured["backend"] != backend:
        raise RuntimeError(f"asked for {backend} but Keras ran on {measured['backend']}")
    return measured


def later(seconds: list[float]) -> float:
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits-epochs", type=int, default=5)
    parser.add_argument("--synthetic-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=0, help="override the seed experiment's batch size")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated; those not installed are skipped")
    args = parser.parse_args(argv)

    wanted = [name.strip() for name in args.backends.split(",") if name.strip()]
    installed = [name for name in wanted if importlib.util.find_spec(name) is not None]
    for name in wanted:
        if name not in installed:
            print(f"skipping {name}: not installed (pip install 'kerastui[{name}]')")
    results = {}
    for name in installed:
        print(f"measuring {name} ...", flush=True)
        results[name] = measure(name, args.digits_epochs, args.synthetic_epochs, args.batch_size)
    if not results:
        return 1

    any_result = next(iter(results.values()))
    print(f"\nseed MLP (Flatten, Dense 128, Dense 64, Dense 10), keras {any_result['keras']}, "
          f"batch {any_result['digits']['batch_size']}, {os.cpu_count()} CPU(s) visible, seconds per epoch")
    header = f"{'backend':<11} {'digits 1st':>10} {'later':>7} {'vs tf':>6}   {'60k x 784 1st':>13} {'later':>7} {'vs tf':>6}"
    print(header)
    print("-" * len(header))
    base = results.get("tensorflow")
    for name, measured in results.items():
        cells = []
        for key in ("digits", "synthetic"):
            seconds = measured[key]["seconds"]
            ratio = f"{later(seconds) / later(base[key]['seconds']):.2f}" if base else "n/a"
            cells.append((seconds[0], later(seconds), ratio))
        (d_first, d_later, d_ratio), (s_first, s_later, s_ratio) = cells
        print(f"{name:<11} {d_first:>10.2f} {d_later:>7.2f} {d_ratio:>6}   {s_first:>13.2f} {s_later:>7.2f} {s_ratio:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
