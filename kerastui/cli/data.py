"""Inspect a data set without training: what a file holds, its values, labels and a sample.

PATH is an HDF5 (.h5), NetCDF (.nc), .npy, .npz or .csv file, a folder of images, a folder of IDX
files, or a built-in name (digits, mnist, ...). For each array or variable it prints the shape,
dtype, dimensions and units, the value range with NaN and infinite counts, and which array would
be the inputs (x) and the labels (y); then the class balance of the labels (or a histogram of
regression targets) and one sample drawn as its kind: an image, a signal as lines per channel, a
2-D grid as a heat map, or a table row.

Value ranges come from a bounded sample of each array (a few blocks at the start, middle and end,
at most --rows rows or 16 MB): a 50 GB file answers in a moment, and the "read" column says how
many rows each range saw. Labels are counted whole unless there are millions.

The keys and the axis order are those of an experiment's [data] table:

  kerastui data strain.h5 --x strain --y label --axes 0,2,1
  kerastui data sea_level.nc --x sla
  kerastui data photos/          (one subfolder per class)

Exit status: 0 shown, 2 bad input (a missing file or key, a FIFO, a damaged file: the message says
which and what to do)."""

from __future__ import annotations

import argparse

from kerastui.cli.common import EXIT_OK, UsageError, plain_output
from kerastui.cli.data_options import add_data_options, with_data_options

HELP = "inspect a data file or folder: arrays, value ranges, NaN counts, labels, a sample"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="a data file (.h5 .nc .npy .npz .csv), a folder, or a built-in name")
    add_data_options(parser, preparation=False)
    parser.add_argument("--sample", metavar="N", type=int, default=0, help="which sample to draw (default 0)")
    parser.add_argument("--rows", metavar="N", type=int, default=2000,
                        help="rows read per array for its value range (default 2000; at most 16 MB)")
    parser.add_argument("--plain", action="store_true", help="no colour (also when not a terminal, or NO_COLOR)")
    parser.add_argument("--width", metavar="COLUMNS", type=int, default=0,
                        help="draw this many columns wide (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from kerastui.core.datasets.base import DatasetError
    from kerastui.core.datasets.inspect import inspect_path
    from kerastui.core.datasets.settings import DataSettings

    settings = with_data_options(DataSettings(), args)
    if args.rows < 1:
        raise UsageError(f"--rows {args.rows}: give at least 1")
    if args.sample < 0:
        raise UsageError(f"--sample {args.sample}: give a sample number from 0")
    try:
        inspection = inspect_path(args.path, settings, sample_rows=args.rows, sample_index=args.sample)
    except DatasetError as error:
        raise UsageError(str(error)) from None
    plain = plain_output(args.plain)
    console = Console(color_system=None if plain else "auto", highlight=False, emoji=False,
                      width=args.width if args.width > 0 else None, soft_wrap=False)
    from kerastui.cli.data_drawing import inspection_renderables

    for index, part in enumerate(inspection_renderables(inspection, width=console.width, colour=not plain)):
        if index:
            console.print()
        console.print(part)
    return EXIT_OK
