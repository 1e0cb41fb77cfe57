"""What the data tab shows of a data file or an image folder, gathered in a thread worker: the
arrays of a file from its headers, the inspector's look at them (ranges, NaN counts, labels, a
sample), or an image folder's summary with a few thumbnails.

No Textual here and nothing that blocks on its own: the paths are checked with os.stat before
anything opens them, the inspector reads headers and a bounded sample (kerastui.core.datasets.
inspect), a folder's summary reads listings and image headers, and a thumbnail is one small
image decoded by Pillow. Every failure becomes the look's `error`, worded by the core.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.datasets.array_files import ArrayEntry
    from kerastui.core.datasets.inspect import Inspection
    from kerastui.core.datasets.settings import DataSettings

ARRAYS = "arrays"  # a file of named arrays: HDF5, NetCDF, .npy, .npz
IMAGES = "images"  # a folder of images: class subfolders, train/val/test, or a labels CSV
THUMBNAIL_CLASSES = 8  # classes with a thumbnail (a row of them fits 120 columns)
THUMBNAIL_SIDE = 48  # pixels: a thumbnail shows what the model sees, shrunk past this


@dataclass(frozen=True, eq=False)
class Thumbnail:
    """One image of a class, as the model sees it (resized, in its colour), in 0..1."""

    class_name: str
    file: str
    pixels: np.ndarray | None  # None: the file could not be decoded (`problem` says why)
    problem: str = ""


@dataclass(frozen=True, eq=False)
class DataLook:
    """What `look_at` found for a dataset name and its [data] table."""

    name: str
    settings: DataSettings
    form: str  # ARRAYS, IMAGES, or "" (a built-in, a CSV table, IDX files, a path that is not there)
    entries: tuple[ArrayEntry, ...] = ()  # ARRAYS: every array of the file, from its headers
    inspection: Inspection | None = None  # ARRAYS: ranges, labels and a sample (None when it failed)
    folder: dict[str, Any] = field(default_factory=dict)  # IMAGES: image_folder.folder_summary
    thumbnails: tuple[Thumbnail, ...] = ()
    error: str = ""  # why the file or the table cannot be read as it is
    seconds: float = 0.0  # how long the look took

    @property
    def key(self) -> tuple[str, DataSettings]:
        return (self.name, self.settings)


def data_form(name: str) -> str:
    """ARRAYS, IMAGES or "" for a dataset name: the forms whose [data] table the data tab edits."""
    from kerastui.core.data import builtin_name
    from kerastui.core.datasets.array_files import ARRAY_SUFFIXES

    if not name.strip() or builtin_name(name) is not None:
        return ""
    path = Path(name).expanduser()
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return ""
    if stat.S_ISDIR(mode):
        from kerastui.core.datasets.image_folder import is_image_folder

        return IMAGES if is_image_folder(path) else ""
    # A FIFO or device named .h5 is no array file: the loader refuses it by name.
    return ARRAYS if stat.S_ISREG(mode) and path.suffix.lower() in ARRAY_SUFFIXES else ""


def look_at(name: str, settings: DataSettings) -> DataLook:
    """The look at `name` with `settings` (blocking: a thread worker calls it)."""
    started = time.monotonic()
    try:
        form = data_form(name)
        if form == ARRAYS:
            look = _look_at_arrays(name, settings)
        elif form == IMAGES:
            look = _look_at_folder(name, settings)
        else:
            look = DataLook(name, settings, "")
    except Exception as error:  # noqa: BLE001 - a library's own failure is shown, never raised into the UI
        look = DataLook(name, settings, ARRAYS, error=f"{name}: cannot be read ({type(error).__name__}: {error})")
    return DataLook(**{**look.__dict__, "seconds": time.monotonic() - started})


def _look_at_arrays(name: str, settings: DataSettings) -> DataLook:
    from kerastui.core.datasets.array_files import describe_arrays
    from kerastui.core.datasets.base import DatasetError
    from kerastui.core.datasets.inspect import inspect_path
    from kerastui.core.user_paths import special_file_problem

    path = Path(name).expanduser()
    problem = special_file_problem(path)
    if problem:
        return DataLook(name, settings, ARRAYS, error=f"{path} {problem}")
    try:
        entries = tuple(describe_arrays(path))
    except DatasetError as error:
        return DataLook(name, settings, ARRAYS, error=str(error))
    try:
        inspection = inspect_path(path, settings)
    except DatasetError as error:  # a key that is not there, axes that do not fit: the arrays still list
        return DataLook(name, settings, ARRAYS, entries=entries, error=str(error))
    return DataLook(name, settings, ARRAYS, entries=entries, inspection=inspection)


def _look_at_folder(name: str, settings: DataSettings) -> DataLook:
    from kerastui.core.datasets.base import DatasetError
    from kerastui.core.datasets.image_folder import folder_summary

    path = Path(name).expanduser()
    try:
        summary = folder_summary(path, settings)
    except DatasetError as error:
        return DataLook(name, settings, IMAGES, error=str(error))
    height, width = summary.get("image_size") or (THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    thumbnails = []
    for class_name, files in list(summary.get("sample_files", {}).items())[:THUMBNAIL_CLASSES]:
        if files:
            thumbnails.append(thumbnail(class_name, files[0], (int(height), int(width)), summary.get("color", "rgb")))
    return DataLook(name, settings, IMAGES, folder=summary, thumbnails=tuple(thumbnails))


def thumbnail(class_name: str, file: str, size: tuple[int, int], color: str) -> Thumbnail:
    """`file` resized to `size` (H, W) in `color`, as the model sees it, then shrunk to at most
    THUMBNAIL_SIDE pixels a side for the terminal."""
    from PIL import Image, UnidentifiedImageError

    from kerastui.core.user_paths import special_file_problem

    problem = special_file_problem(Path(file))
    if problem:
        return Thumbnail(class_name, file, None, problem)
    try:
        with Image.open(file) as image:
            image.draft("RGB", (size[1], size[0]))  # JPEG: decode at a fraction of the size
            shown = image.convert("L" if color == "grayscale" else "RGB").resize((size[1], size[0]))
    except (OSError, UnidentifiedImageError, ValueError) as error:
        return Thumbnail(class_name, file, None, str(error))
    shown.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return Thumbnail(class_name, file, np.asarray(shown, dtype=np.float32) / 255.0)
