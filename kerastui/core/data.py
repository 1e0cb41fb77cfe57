"""Datasets: the built-in names and the user's own files, all loaded into one `Dataset` shape.

Built-ins: the embedded scikit-learn sets (digits, iris, wine, breast_cancer) and the Keras sets
(mnist, fashion_mnist, cifar10) read from the Keras cache without network. Anything else is a path:
a `.npz`, a directory of MNIST-format IDX files, or a `.csv` with a label column.
Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from kerastui.core.datasets.base import Dataset, DatasetError, DatasetInfo, check_test_fraction
from kerastui.core.datasets.csv_file import load_csv_file
from kerastui.core.datasets.embedded import EMBEDDED_SETS, embedded_info, load_embedded
from kerastui.core.datasets.idx import load_idx_directory
from kerastui.core.datasets.keras_cache import KERAS_SETS, keras_home, keras_info, load_keras_set
from kerastui.core.datasets.npz_file import load_npz_file

__all__ = [
    "BUILTIN_DATASETS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "dataset_info",
    "keras_home",
    "list_datasets",
    "load_dataset",
]

BUILTIN_DATASETS: tuple[str, ...] = (
    "digits",
    "iris",
    "wine",
    "breast_cancer",
    "mnist",
    "fashion_mnist",
    "cifar10",
)
FILE_KINDS = "a .npz (x_train, y_train, x_test, y_test), a .csv with a label column, or a directory of IDX files"


def builtin_name(name_or_path: str) -> str | None:
    """The built-in a string names, forgiving case and dashes ("Fashion-MNIST"), unless it is a path."""
    if name_or_path in BUILTIN_DATASETS:
        return name_or_path
    normalised = name_or_path.strip().lower().replace("-", "_")
    aliases = {"cifar_10": "cifar10", "fashion": "fashion_mnist"}
    normalised = aliases.get(normalised, normalised)
    if normalised in BUILTIN_DATASETS and not Path(name_or_path).expanduser().exists():
        return normalised
    return None


def unknown_dataset(name_or_path: str) -> DatasetError:
    path = Path(name_or_path).expanduser()
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):  # RuntimeError: pathlib's word for a symlink loop
            return DatasetError(f"{path}: a symbolic link that leads nowhere (a loop, or a missing target); "
                                f"give the path of the data file itself")
        return DatasetError(f"{path}: points to {target}, which cannot be read")
    return DatasetError(
        f"unknown dataset {name_or_path!r}: not a built-in ({', '.join(BUILTIN_DATASETS)}) "
        f"and no such file or directory {path.absolute()}; "
        f"give a built-in name or the path of {FILE_KINDS}"
    )


def list_datasets() -> list[DatasetInfo]:
    """Every built-in, in menu order, with whether it can be loaded here (Keras sets: cached or not)."""
    return [dataset_info(name) for name in BUILTIN_DATASETS]


def dataset_info(name_or_path: str) -> DatasetInfo:
    """Cheap for the built-ins (constants plus a cache check); a file is loaded to describe it."""
    name = builtin_name(name_or_path)
    if name in EMBEDDED_SETS:
        return embedded_info(name)
    if name in KERAS_SETS:
        return keras_info(name)
    return load_dataset(name_or_path).info()


def load_dataset(name_or_path: str, *, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """Load a built-in or a file. `seed` and `test_fraction` shape the held-out split where a set has no test part."""
    return replace(_load(name_or_path, seed=seed, test_fraction=test_fraction), seed=seed)


def experiment_dataset(experiment: Any) -> Dataset:
    """The data an experiment trains and is evaluated on: its dataset, split with its seed.

    Training (headless, Slurm or in the app), re-evaluation and the app's views of a saved run all
    load data this way, so a run's test set is the same wherever it is looked at. Its targets are
    those of the experiment's task when it names one (regression on class numbers, say).
    """
    return load_dataset(experiment.dataset, seed=experiment.seed).for_task(getattr(experiment, "task", ""))


def _load(name_or_path: str, *, seed: int, test_fraction: float) -> Dataset:
    check_test_fraction(test_fraction)
    name = builtin_name(name_or_path)
    if name in EMBEDDED_SETS:
        return load_embedded(name, seed=seed, test_fraction=test_fraction)
    if name in KERAS_SETS:
        return load_keras_set(name)
    if not name_or_path.strip():
        raise DatasetError(
            f"no dataset given: choose one of {', '.join(BUILTIN_DATASETS)} or the path of {FILE_KINDS}"
        )
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise unknown_dataset(name_or_path)
    path = path.resolve()
    if path.is_dir():
        return load_idx_directory(path, name_or_path, seed=seed, test_fraction=test_fraction)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return load_npz_file(path, name_or_path)
    if suffix == ".csv":
        return load_csv_file(path, name_or_path, seed=seed, test_fraction=test_fraction)
    raise DatasetError(
        f"{path}: unsupported file type {suffix or '(no extension)'!r}; expected {FILE_KINDS}"
    )
