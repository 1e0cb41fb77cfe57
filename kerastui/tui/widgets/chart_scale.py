"""The numbers a chart shows, shared by the live charts and the runs compare view: whole-epoch x
ticks, round ("nice") y ticks, and exponential smoothing. Plain functions, no drawing."""

from __future__ import annotations

import math

import numpy as np

NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
# Cycled by the smoothing key of the live charts and the compare view: off, light, strong.
SMOOTHING_LEVELS = (0.0, 0.6, 0.9)


def next_level(levels: tuple, current: object) -> object:
    """The level after `current` in `levels`, round and round (a key that cycles a setting);
    the first one when `current` is none of them."""
    return levels[(levels.index(current) + 1) % len(levels)] if current in levels else levels[0]


def nice_step(span: float, most: int) -> float:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) giving at most `most` ticks."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    rough = span / max(1, most - 1)
    magnitude = 10 ** math.floor(math.log10(rough))
    for factor in NICE_STEPS:
        if factor * magnitude >= rough:
            return factor * magnitude
    return 10 * magnitude


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values covering [low, high]: e.g. 0.71..1.04 -> 0.7, 0.8, 0.9, 1.0, 1.1."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        pad = abs(low) * 0.05 or 0.05
        low, high = low - pad, high + pad
    step = nice_step(high - low, most)
    first = math.floor(low / step + 1e-9) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 12))
        value += step
    return ticks


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels with the same, fewest decimals that tell the ticks apart (0.70, 0.75, 0.80)."""
    if not ticks:
        return []
    for decimals in range(0, 7):
        labels = [f"{t:.{decimals}f}" for t in ticks]
        if len(set(labels)) == len(labels) and all(abs(float(label) - t) < 1e-9 * max(1.0, abs(t)) for label, t in zip(labels, ticks)):
            return labels
    return [f"{t:.3g}" for t in ticks]


def epoch_ticks(longest: int, most: int = 6) -> list[int]:
    """Whole epoch numbers for the x axis of 1..longest: 1, then multiples of a round step
    (1, 2, 5, 10, 20, 25, 50...); plotext's own ticks read 0.8, 22.2, 43.5."""
    return whole_ticks(1, longest, most)


def whole_ticks(start: int, end: int, most: int = 6) -> list[int]:
    """Whole numbers for an x axis from `start` to `end`: `start`, then multiples of a round step."""
    span = end - start
    if span <= 0:
        return [start]
    step = 1
    for magnitude in (1, 10, 100, 1_000, 10_000, 100_000):
        step = next((m * magnitude for m in (1, 2, 2.5, 5) if span / (m * magnitude) <= most - 1
                     and float(m * magnitude).is_integer()), 0)
        if step:
            break
    step = int(step) or max(1, span // (most - 1))
    first_multiple = -(-start // step) * step
    return sorted({start, *range(first_multiple, end + 1, step)})


def smooth(values: list[float], weight: float) -> list[float]:
    """Exponential moving average with debiasing (TensorBoard's smoothing); weight 0 is the data."""
    return list(SmoothedSeries().of(values, weight))


class SmoothedSeries:
    """The smoothed values of a series that only grows (epochs arriving), kept and extended: a
    frame smooths the points added since the last one, not the whole run again (at 100,000
    points the smoothing was most of a frame). `clear()` when the series starts again."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.weight: float | None = None
        self.values: list[float] = []
        self._average, self._count = 0.0, 0

    def of(self, values: list[float], weight: float) -> list[float]:
        """`values` smoothed with `weight` (its points so far unchanged, new ones appended)."""
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing weight must be in [0, 1), not {weight}")
        if weight != self.weight or len(values) < len(self.values):
            self.clear()
            self.weight = weight
        for value in values[len(self.values):]:
            self.values.append(self._step(value, commit=True))
        return self.values

    def next(self, value: float) -> float:
        """What one more point `value` would smooth to, without adding it (the running batch)."""
        return self._step(value, commit=False)

    def _step(self, value: float, commit: bool) -> float:
        weight = self.weight or 0.0
        if weight == 0.0 or not math.isfinite(value):
            return value  # a NaN stays visible as a gap instead of poisoning the average
        average, count = weight * self._average + (1.0 - weight) * value, self._count + 1
        if commit:
            self._average, self._count = average, count
        return average / (1.0 - weight**count)


def decimate(xs: list[float], ys: list[float], buckets: int) -> tuple[list[float], list[float]]:
    """At most two points per bucket of equal x width: each bucket's lowest and highest, in x order.

    A chart `buckets` cells wide cannot show more (braille has two dots per cell), so drawing
    costs the same for 10 epochs as for 500 with batch curves; the minima and maxima survive, so
    a spike is never smoothed away by the decimation itself; the first and the latest point are
    always kept. Points must be in x order (each bucket is then one run of them); vectorised, so
    thinning 100,000 points takes about a millisecond.
    """
    count = len(xs)
    if buckets < 1 or count <= 2 * buckets:
        return list(xs), list(ys)
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    span = (x[-1] - x[0]) or 1.0
    bucket = np.minimum(((x - x[0]) / span * buckets).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    sizes = np.diff(np.r_[starts, count])
    from_end = count - np.arange(count)  # the first index holding a bucket's extreme wins
    picks = [np.array([0, count - 1])]
    for extreme in (np.minimum, np.maximum):
        at_extreme = y == np.repeat(extreme.reduceat(y, starts), sizes)
        picks.append(count - np.maximum.reduceat(np.where(at_extreme, from_end, 0), starts))
    keep = np.unique(np.concatenate(picks))
    return x[keep].tolist(), y[keep].tolist()
