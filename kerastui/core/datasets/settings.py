"""The `[data]` table of an experiment: where in a file the inputs and labels are, and how they are
prepared before the model sees them.

    dataset = "strain.h5"

    [data]
    x = "strain"            # the key (HDF5, npz), variable (NetCDF) holding the inputs
    y = "label"             # ... and the labels
    x_test = ""             # a test split of its own; empty: a seeded share of x is held out
    y_test = ""
    labels = ""             # labels kept in another file: a CSV, .npy, or an HDF5/NetCDF/npz (key y)
    axes = [0, 2, 1]        # the inputs' axis order, the sample axis first: (N, 2, 200) -> (N, 200, 2)
    standardize = "per_sample"  # "auto" (the kind's own), "none", "per_sample", "per_feature"
    image_size = [64, 64]   # image folders: every image resized to H x W
    color = "rgb"           # image folders: "rgb" or "grayscale"
    validation_split = 0.2  # image folders without a val/ folder: the share of train/ held out

Empty keys take the defaults: npz files keep their x_train, y_train, x_test and y_test names, and an
HDF5 or NetCDF file with those names (or with x and y) needs no table at all.

Standardisation, for inputs of shape (N, ..., C):
  per_feature  each feature (a tabular column, a signal's or image's channel) centred and scaled by
               the training split's mean and deviation, computed in one streaming pass and saved
               with the run, so evaluation and export apply the same numbers;
  per_sample   each sample, channel by channel, by its own mean and deviation (gravitational-wave
               strain, whose scale changes from one recording to the next);
  none         the values as they are in the file;
  auto         the kind's own rule: 8-bit pixels / 255 (16-bit / 65535), everything else (tabular
               rows, signals, grids of measured values) per feature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from kerastui.core.problems import Problem

STANDARDIZE = ("auto", "none", "per_sample", "per_feature")
COLORS = ("rgb", "grayscale")
KEY_FIELDS = ("x", "y", "x_test", "y_test")
# An image side above this is almost surely a typo (and would not fit a batch in memory).
MAX_IMAGE_SIDE = 4096


@dataclass(frozen=True)
class DataSettings:
    x: str = ""
    y: str = ""
    x_test: str = ""
    y_test: str = ""
    labels: str = ""
    axes: tuple[int, ...] = ()
    standardize: str = "auto"
    image_size: tuple[int, ...] = ()
    color: str = "rgb"
    validation_split: float | None = None

    @property
    def is_default(self) -> bool:
        return self == DataSettings()

    def problems(self) -> list[Problem]:
        """Every problem with the table's values on their own (the file is checked when it is read)."""
        found: list[Problem] = []
        for name in (*KEY_FIELDS, "labels"):
            value = getattr(self, name)
            if not isinstance(value, str):
                found.append(Problem(f"data.{name}", value, "must be text in quotes (a key, variable or file name)"))
        found.extend(axes_problems(self.axes))
        if self.standardize not in STANDARDIZE:
            found.append(Problem("data.standardize", self.standardize, f"allowed: {', '.join(STANDARDIZE)}"))
        if self.color not in COLORS:
            found.append(Problem("data.color", self.color, f"allowed: {', '.join(COLORS)}"))
        size = self.image_size
        if size != () and (not isinstance(size, (tuple, list)) or len(size) != 2 or not all(
                isinstance(side, int) and not isinstance(side, bool) and 1 <= side <= MAX_IMAGE_SIDE for side in size)):
            found.append(Problem("data.image_size", list(size) if isinstance(size, (tuple, list)) else size,
                                 f"must be [height, width], whole numbers from 1 to {MAX_IMAGE_SIDE}"))
        share = self.validation_split
        if share is not None and (isinstance(share, bool) or not isinstance(share, (int, float))
                                  or not math.isfinite(share) or not 0.0 <= share < 1.0):
            found.append(Problem("data.validation_split", share, "must be at least 0 and less than 1"))
        return found


def axes_problems(axes: Any, rank: int | None = None) -> list[Problem]:
    """An axis order is a permutation of 0..rank-1 that keeps the samples first."""
    if axes in ((), []):
        return []
    if not isinstance(axes, (tuple, list)) or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        return [Problem("data.axes", axes, "must be a list of axis numbers, such as [0, 2, 1]")]
    axes = list(axes)
    if sorted(axes) != list(range(len(axes))):
        return [Problem("data.axes", axes, f"must hold each of 0 to {len(axes) - 1} once (a new order of the axes)")]
    if axes[0] != 0:
        return [Problem("data.axes", axes, "must start with 0: the samples stay the first axis")]
    if rank is not None and len(axes) != rank:
        return [Problem("data.axes", axes, f"orders {len(axes)} axes but the inputs have {rank} (shape with samples first)")]
    return []


def settings_from_dict(raw: Any, problems: list[Problem]) -> DataSettings:
    """The table as read from TOML; unknown keys and wrong types are added to `problems`."""
    if raw is None:
        return DataSettings()
    if not isinstance(raw, dict):
        problems.append(Problem("data", raw, "must be a table: [data] x = \"key\" ..."))
        return DataSettings()
    allowed = {f.name for f in fields(DataSettings)}
    for key in raw:
        if key not in allowed:
            problems.append(Problem(f"data.{key}", raw[key], f"unknown setting; allowed: {', '.join(sorted(allowed))}"))
    values = {k: v for k, v in raw.items() if k in allowed}
    for key in ("axes", "image_size"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    settings = DataSettings(**values)
    problems.extend(settings.problems())
    return settings


def settings_to_dict(settings: DataSettings) -> dict[str, Any]:
    """Only what differs from the defaults, so an experiment without a [data] table writes none."""
    default = DataSettings()
    out: dict[str, Any] = {}
    for f in fields(DataSettings):
        value = getattr(settings, f.name)
        if value != getattr(default, f.name):
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
