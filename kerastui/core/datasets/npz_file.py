"""A user's `.npz` with x_train, y_train, x_test, y_test (the layout of Keras's mnist.npz).

Optional `class_names` (an array of strings) names the classes. x of shape (N, F) is tabular,
(N, H, W) or (N, H, W, C) is images.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from kerastui.core.datasets.base import Dataset, DatasetError, image_dataset, tabular_dataset

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """The four arrays (plus class_names if present); pickled objects are refused, never executed."""
    if path.is_file() and not zipfile.is_zipfile(path):
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
            wanted = [*NPZ_KEYS, *(["class_names"] if "class_names" in present else [])]
            return {key: archive[key] for key in wanted}
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(
            f"{path}: not a readable .npz file of numeric arrays ({error})"
        ) from None


def load_npz_file(path: Path, name: str) -> Dataset:
    arrays = read_npz_arrays(path)
    class_names = None
    if "class_names" in arrays:
        names = arrays["class_names"]
        if names.ndim != 1:
            raise DatasetError(
                f"{path}: class_names must be a 1-D array of names, got shape {names.shape}"
            )
        class_names = tuple(str(n) for n in names)
    x_train = arrays["x_train"]
    make = tabular_dataset if x_train.ndim == 2 else image_dataset
    if x_train.ndim not in (2, 3, 4):
        raise DatasetError(
            f"{path}: x_train must have shape (N, features), (N, H, W) or (N, H, W, C), got {x_train.shape}"
        )
    return make(
        name,
        x_train,
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        source=f"file: {path}",
        origin=str(path),
        class_names=class_names,
        title=path.name,
    )
