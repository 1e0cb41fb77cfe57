"""Seconds to evaluate 100,000 test predictions for each task, and milliseconds a threshold step
costs when the screen moves it 100 times.

    python benchmarks/evaluate_cost.py [--samples 100000] [--repeats 3] [--steps 100]

The predictions are synthetic and informative (scores that lean towards the true class, targets
with noise), as a trained model's are, so the mistake lists are of a realistic length:
binary; multilabel with 12 labels; regression with 1 and with 3 targets; multiclass with 10 classes.
"evaluate" is kerastui.core.evaluation.<task>.evaluate (scikit-learn's metrics, the rounding of
the kept scores, the lists for the screen), the median of the repeats; "JSON" is the size of its
evaluation.json (to_dict, json.dumps), "arrays" whether the scores (or targets and predictions)
are in it (up to kerastui.core.evaluation.common.MAX_STORED_VALUES numbers).

A threshold step is what a key press on the evaluate screen costs: for binary
ThresholdSweep.at(t) (the counts and rates) and BinaryEvaluation.with_threshold(t) (a new
evaluation at t), for multilabel MultilabelEvaluation.with_threshold(label, t) for one label.
"prepare" is the one-off sort before the first step. Targets: evaluation < 1 s, a step < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kerastui.core.evaluation import binary, multiclass, multilabel, regression  # noqa: E402
from kerastui.core.evaluation.threshold import ThresholdSweep  # noqa: E402

EVALUATION_TARGET_S = 1.0
STEP_TARGET_MS = 50.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def binary_case(n: int, rng: np.random.Generator) -> tuple[Callable[[], Any], dict]:
    y = (rng.random(n) < 0.2).astype(np.int64)
    scores = sigmoid(rng.normal(size=n) * 1.5 + 3.0 * y - 1.5).astype(np.float32)
    return lambda: binary.evaluate(y, scores, ("noise", "signal"), 0.3), {}


def multilabel_case(n: int, rng: np.random.Generator, labels: int = 12) -> tuple[Callable[[], Any], dict]:
    y = (rng.random((n, labels)) < 0.15).astype(np.int64)
    scores = sigmoid(rng.normal(size=(n, labels)) * 1.5 + 3.0 * y - 1.5).astype(np.float32)
    names = tuple(f"station_{i}" for i in range(labels))
    return lambda: multilabel.evaluate(y, scores, names, 0.3), {}


def regression_case(n: int, rng: np.random.Generator, targets: int) -> tuple[Callable[[], Any], dict]:
    y = (rng.normal(size=(n, targets)) * 10 + 50).astype(np.float32)
    predictions = (y + rng.normal(size=(n, targets)) * 3).astype(np.float32)
    names = tuple(f"target_{i}" for i in range(targets))
    y_in = y[:, 0] if targets == 1 else y
    return lambda: regression.evaluate(y_in, predictions, names, 9.0), {}


def multiclass_case(n: int, rng: np.random.Generator, classes: int = 10) -> tuple[Callable[[], Any], dict]:
    y = rng.integers(0, classes, size=n)
    logits = rng.normal(size=(n, classes))
    logits[np.arange(n), y] += 2.5  # about 80% right, as a small trained model
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probabilities = probabilities.astype(np.float32)
    names = tuple(str(i) for i in range(classes))
    return lambda: multiclass.evaluate(y, probabilities, names, 0.6), {}


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def steps_ms(step: Callable[[float], Any], steps: int) -> float:
    """Mean ms per step over `steps` thresholds swept across [0.02, 0.98], as keys move it."""
    thresholds = np.linspace(0.02, 0.98, steps)
    started = time.perf_counter()
    for t in thresholds:
        step(float(t))
    return (time.perf_counter() - started) * 1000 / steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.samples
    cases = [
        ("binary", binary_case(n, rng)),
        ("multilabel, 12 labels", multilabel_case(n, rng)),
        ("regression, 1 target", regression_case(n, rng, 1)),
        ("regression, 3 targets", regression_case(n, rng, 3)),
        ("multiclass, 10 classes", multiclass_case(n, rng)),
    ]
    print(f"{n:,} test predictions: evaluate (median of {args.repeats}), target < {EVALUATION_TARGET_S:g} s; "
          f"threshold moved {args.steps} times, target < {STEP_TARGET_MS:g} ms a step")
    print(f"{'task':<24} {'evaluate s':>10} {'JSON MB':>8} {'arrays':>8}   {'threshold step':<36} {'prepare ms':>10} "
          f"{'ms/step':>8}")
    worst_evaluation, worst_step = 0.0, 0.0
    for name, (evaluate, _) in cases:
        seconds, evaluation = timed(evaluate, args.repeats)
        saved = evaluation.to_dict()
        megabytes = len(json.dumps(saved, allow_nan=False)) / 1e6
        kept = "kept" if saved.get("scores", saved.get("predictions")) is not None else "left out"
        worst_evaluation = max(worst_evaluation, seconds)
        steps: list[tuple[str, float, float]] = []
        if evaluation.task == "binary":
            started = time.perf_counter()
            sweep = ThresholdSweep(evaluation.y_true, evaluation.scores)
            prepare = (time.perf_counter() - started) * 1000
            steps.append(("ThresholdSweep.at", prepare, steps_ms(sweep.at, args.steps)))
            started = time.perf_counter()
            evaluation.sweep  # noqa: B018 (prepared on first use)
            prepare = (time.perf_counter() - started) * 1000
            steps.append(("BinaryEvaluation.with_threshold", prepare, steps_ms(evaluation.with_threshold, args.steps)))
        elif evaluation.task == "multilabel":
            started = time.perf_counter()
            evaluation.sweeps  # noqa: B018
            prepare = (time.perf_counter() - started) * 1000
            moved = [evaluation]

            def one_label(t: float) -> None:
                moved[0] = moved[0].with_threshold(3, t)

            steps.append(("MultilabelEvaluation.with_threshold", prepare, steps_ms(one_label, args.steps)))
        if evaluation.task == "multiclass":
            kept = "-"  # multiclass keeps its predictions and mistakes, never the (N, K) probabilities
        line = f"{name:<24} {seconds:>10.3f} {megabytes:>8.2f} {kept:>8}"
        if not steps:
            print(line)
        for i, (label, prepare, per_step) in enumerate(steps):
            start = line if i == 0 else " " * len(line)
            print(f"{start}   {label:<36} {prepare:>10.1f} {per_step:>8.4f}")
        worst_step = max([worst_step] + [s[2] for s in steps])
    ok = worst_evaluation < EVALUATION_TARGET_S and worst_step < STEP_TARGET_MS
    print(f"slowest evaluation {worst_evaluation:.3f} s, slowest step {worst_step:.4f} ms: "
          f"{'within' if ok else 'OVER'} the targets")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
