"""Write a two-detector signal set shaped like the hackathon's gravitational-wave challenge.

    python examples/make_signals.py signals.npz [--samples 4000] [--seed 0]
    python examples/make_signals.py strain.h5       # the challenge's own layout, as HDF5

x: (N, 200, 2) float32, two detectors' strain; y: 1 when a chirp is buried in the noise, else 0
(about one sample in four). The chirp reaches the second detector a few steps later, as a real
signal would. Then:  kerastui train --dataset signals.npz --preset resnet1d

A path ending in .h5 gets the layout the challenge ships instead: one file, "strain" channels
first (N, 2, 200) at strain's own scale (about 1e-21) and "label" (N,), which
examples/strain_h5.toml reads through its [data] table (axes and per-sample scaling).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

STEPS = 200


def make_signals(samples: int, seed: int, positive_fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, STEPS, 2)).astype(np.float32)
    y = (rng.random(samples) < positive_fraction).astype(np.int64)
    t = np.arange(STEPS, dtype=np.float32)
    for index in np.flatnonzero(y):
        centre = rng.uniform(60, 140)
        width = rng.uniform(8, 20)
        frequency = rng.uniform(0.05, 0.15)
        amplitude = rng.uniform(0.8, 2.0)
        for detector, delay in enumerate((0.0, rng.uniform(-5, 5))):
            s = t - centre - delay
            # A sine-Gaussian whose frequency rises through the window: a chirp.
            x[index, :, detector] += amplitude * np.exp(-(s / width) ** 2) * np.sin(2 * np.pi * frequency * s * (1 + s / 400))
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    x, y = make_signals(args.samples, args.seed)
    if args.path.suffix.lower() in (".h5", ".hdf5"):
        import h5py

        with h5py.File(args.path, "w") as handle:
            handle["strain"] = (x.transpose(0, 2, 1) * 1e-21).astype(np.float32)
            handle["label"] = y
        print(f"wrote {args.path}: strain {(len(x), 2, STEPS)}, {int(y.sum())} signals among {len(y)}")
        return
    test = len(x) // 5
    np.savez(args.path, x_train=x[test:], y_train=y[test:], x_test=x[:test], y_test=y[:test],
             class_names=np.array(["noise", "signal"]))
    print(f"wrote {args.path}: x {x.shape}, {int(y.sum())} signals among {len(y)}")


if __name__ == "__main__":
    main()
