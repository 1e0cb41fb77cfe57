"""The [data] table as command-line options, for `kerastui train` (and `submit`) and `kerastui data`:
`--x strain --y label --axes 0,2,1 --standardize per_sample` says what the TOML's table says."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from kerastui.cli.common import UsageError
from kerastui.core.datasets.settings import COLORS, STANDARDIZE, DataSettings


def add_data_options(parser: argparse.ArgumentParser | Any, *, preparation: bool = True) -> None:
    """--x, --y, --x-test, --y-test, --labels, --axes; with `preparation`, also --standardize,
    --image-size, --color (what the model's inputs are made of, not only where they are)."""
    parser.add_argument("--x", metavar="KEY", help="the array or variable holding the inputs ([data] x)")
    parser.add_argument("--y", metavar="KEY", help="the array or variable holding the labels ([data] y)")
    parser.add_argument("--x-test", metavar="KEY", help="the test split's inputs, when the file has them")
    parser.add_argument("--y-test", metavar="KEY", help="the test split's labels")
    parser.add_argument("--labels", metavar="FILE",
                        help="labels kept in another file (a CSV, .npy, or an array file with key --y)")
    parser.add_argument("--axes", metavar="0,2,1",
                        help="the inputs' axis order, samples first: 0,2,1 turns (N, 2, 200) into (N, 200, 2)")
    if preparation:
        parser.add_argument("--standardize", metavar="HOW", help=f"{', '.join(STANDARDIZE)} ([data] standardize)")
        parser.add_argument("--image-size", metavar="H,W", help="image folders: every image resized to H x W")
        parser.add_argument("--color", metavar="MODE", help=f"image folders: {' or '.join(COLORS)}")


def parse_axes(text: str, option: str = "--axes") -> tuple[int, ...]:
    if not text.strip():
        return ()
    try:
        return tuple(int(part) for part in text.replace(" ", "").strip("[]()").split(","))
    except ValueError:
        raise UsageError(f"{option} {text!r}: give whole numbers separated by commas, such as 0,2,1") from None


def with_data_options(settings: DataSettings, args: argparse.Namespace) -> DataSettings:
    """`settings` with the options given on the command line over them, checked (UsageError
    naming each option at fault)."""
    changes: dict[str, Any] = {}
    for name in ("x", "y", "x_test", "y_test", "labels", "standardize", "color"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "axes", None) is not None:
        changes["axes"] = parse_axes(args.axes)
    if getattr(args, "image_size", None) is not None:
        changes["image_size"] = parse_axes(args.image_size, "--image-size")
    updated = replace(settings, **changes)
    problems = [p for p in updated.problems() if p.field.removeprefix("data.") in changes]
    if problems:
        raise UsageError(*(f"--{p.field.removeprefix('data.').replace('_', '-')} {p.value!r}: {p.message}"
                           for p in problems))
    return updated
