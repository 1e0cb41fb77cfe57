"""A user's `.npz` with x_train, y_train, x_test, y_test (the layout of Keras's mnist.npz).

The kind of data follows from x's shape and type:
  (N, F) floats (or bools, or uint8, or integers with a negative value)  tabular
  (N, T) integers >= 0 (int8..int64, uint16..uint64)                     text: word indices, 0 pads
  (N, T, C) not uint8, with C <= 16 channels and C < T                    signal: 1-D signals
  (N, H, W) otherwise, and (N, H, W, C)                                   images
An optional `kind` entry (a string: "image", "tabular", "signal" or "text") overrides the rule,
for (N, 10, 4) float images or 64-channel signals.

The targets' task follows from y (kerastui.core.tasks.infer_task): class numbers 0..K-1 are
multiclass (binary when K is 2), a 0/1 matrix (N, L) multilabel, other numbers regression (one
column or several). Optional arrays of strings name things:
  class_names   the classes (or, for a label matrix or several targets, its columns)
  label_names   the columns of a label matrix or of several targets (same as class_names there)
  index_words   for text: index -> word, to show samples as words
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from kerastui.core.datasets.base import (
    IMAGE,
    KINDS,
    SIGNAL,
    TABULAR,
    TEXT,
    Dataset,
    DatasetError,
    image_dataset,
    signal_dataset,
    tabular_dataset,
    text_dataset,
)

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
OPTIONAL_KEYS = ("class_names", "label_names", "index_words", "kind")
# More channels than this in (N, T, C) and the array is taken for a stack of grey images (N, H, W).
MAX_SIGNAL_CHANNELS = 16


def read_npz_arrays(path: Path, optional: tuple[str, ...] = OPTIONAL_KEYS) -> dict[str, np.ndarray]:
    """The four arrays (plus the optional ones present); pickled objects are refused, never executed."""
    if path.is_file() and not zipfile.is_zipfile(path):
        from kerastui.core.datasets.array_files import file_format

        file_format(path)  # names an empty file, a pickle (never unpickled), a .npy or HDF5 by its bytes
        # np.load would try it as a pickle and say "contains pickled (object) data", which sends
        # the user after the wrong problem (a truncated download, an HTML error page, a .npy).
        raise DatasetError(
            f"{path}: not a .npz archive (a .npz is a zip of arrays, as numpy.savez writes); "
            "the file may be truncated or not what its name says"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            present = set(archive.files)
            missing = [key for key in NPZ_KEYS if key not in present]
            if missing:
                raise DatasetError(
                    f"{path}: missing array(s) {', '.join(missing)}; a dataset .npz needs "
                    f"{', '.join(NPZ_KEYS)} (found: {', '.join(sorted(present)) or 'none'})"
                )
            wanted = [*NPZ_KEYS, *(key for key in optional if key in present)]
            return {key: archive[key] for key in wanted}
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(
            f"{path}: not a readable .npz file of numeric arrays ({error})"
        ) from None


def kind_of(x: np.ndarray) -> str:
    """The kind the module's docstring describes, from x's shape and type alone."""
    if x.ndim == 2:
        integers = x.dtype.kind in "iu" and x.dtype != np.uint8
        if integers and (not x.size or x.min() >= 0):
            return TEXT
        return TABULAR
    if x.ndim == 3:
        steps, channels = x.shape[1], x.shape[2]
        if x.dtype != np.uint8 and channels <= MAX_SIGNAL_CHANNELS and channels < steps:
            return SIGNAL
        return IMAGE
    return IMAGE


def _strings(arrays: dict[str, np.ndarray], key: str, path: Path) -> tuple[str, ...] | None:
    if key not in arrays:
        return None
    names = arrays[key]
    if names.ndim != 1:
        raise DatasetError(f"{path}: {key} must be a 1-D array of names, got shape {names.shape}")
    return tuple(str(n) for n in names)


def _declared_kind(arrays: dict[str, np.ndarray], path: Path) -> str | None:
    if "kind" not in arrays:
        return None
    kind = str(arrays["kind"].reshape(-1)[0]) if arrays["kind"].size == 1 else ""
    if kind not in KINDS:
        raise DatasetError(f"{path}: kind must be one of {', '.join(KINDS)} (a single string), got {arrays['kind']!r}")
    return kind


def load_npz_file(path: Path, name: str, *, task_hint: str = "") -> Dataset:
    arrays = read_npz_arrays(path)
    class_names = _strings(arrays, "class_names", path)
    label_names = _strings(arrays, "label_names", path)
    x_train = arrays["x_train"]
    kind = _declared_kind(arrays, path)
    if kind is None:
        if x_train.ndim not in (2, 3, 4):
            raise DatasetError(
                f"{path}: x_train must have shape (N, features), (N, T) word indices, (N, T, C) signals, "
                f"(N, H, W) or (N, H, W, C) images; got {x_train.shape}"
            )
        kind = kind_of(x_train)
    y_train = np.asarray(arrays["y_train"])
    # label_names name a matrix's columns; class_names name classes, or the columns when y is one.
    matrix = y_train.ndim == 2 and y_train.shape[1] > 1
    names = (label_names or class_names) if matrix else class_names
    common = dict(source=f"file: {path}", origin=str(path), class_names=names, title=path.name,
                  task_hint=task_hint)
    splits = (x_train, arrays["y_train"], arrays["x_test"], arrays["y_test"])
    if kind == TEXT:
        return text_dataset(name, *splits, index_words=_strings(arrays, "index_words", path) or (), **common)
    if kind == SIGNAL:
        return signal_dataset(name, *splits, **common)
    if kind == TABULAR:
        return tabular_dataset(name, *splits, **common)
    return image_dataset(name, *splits, **common)
