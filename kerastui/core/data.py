"""Datasets: the built-in names and the user's own files, all loaded into one `Dataset` shape.

Built-ins: the embedded scikit-learn sets (digits, iris, wine, breast_cancer, diabetes, linnerud)
and the Keras sets (mnist, fashion_mnist, cifar10, cifar100, imdb, reuters, boston_housing,
california_housing) read from the Keras cache without network. Some built-ins take options after
their name: `imdb:maxlen=100,num_words=5000` (sequence length and vocabulary), `reuters:...` the
same, `california_housing:version=small`, `cifar100:label_mode=coarse` (kerastui.core.datasets.
keras_cache says what each does; `dataset_options(name)` lists them for a form).

Anything else is a path: a `.npz` (x_train, y_train, x_test, y_test: images, rows, (N, T, C)
signals or (N, T) word indices, kerastui.core.datasets.npz_file), a directory of MNIST-format IDX
files, or a `.csv` with one or more label columns; `data.csv:label=y1,y2` names them
(kerastui.core.datasets.csv_file has the rules). Each dataset carries the task its labels suggest
(multiclass, binary, multilabel, regression). Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kerastui.core.datasets.base import KINDS, Dataset, DatasetError, DatasetInfo, check_test_fraction
from kerastui.core.datasets.csv_file import load_csv_file
from kerastui.core.datasets.embedded import EMBEDDED_SETS, embedded_info, load_embedded
from kerastui.core.datasets.idx import load_idx_directory
from kerastui.core.datasets.keras_cache import (
    KERAS_SETS,
    keras_home,
    keras_info,
    load_keras_set,
    parse_keras_options,
)
from kerastui.core.datasets.array_files import HDF5_SUFFIXES, NETCDF_SUFFIXES
from kerastui.core.datasets.keyed_arrays import load_array_file
from kerastui.core.datasets.npz_file import load_npz_file
from kerastui.core.datasets.options import DatasetOption, canonical_name, split_options, usage
from kerastui.core.datasets.settings import DataSettings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.core.spec import Experiment

__all__ = [
    "BUILTIN_DATASETS",
    "KINDS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DatasetOption",
    "dataset_info",
    "dataset_options",
    "keras_home",
    "list_datasets",
    "load_dataset",
    "with_options",
]

BUILTIN_DATASETS: tuple[str, ...] = (
    "digits",
    "iris",
    "wine",
    "breast_cancer",
    "diabetes",
    "linnerud",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "cifar100",
    "imdb",
    "reuters",
    "boston_housing",
    "california_housing",
)
FILE_KINDS = ("a .npz (x_train, y_train, x_test, y_test, or keys named in [data]), a .npy, an HDF5 (.h5) or "
              "NetCDF (.nc) file, a .csv with a label column, a folder of images (one subfolder per class), "
              "or a directory of IDX files")
ALIASES = {"cifar_10": "cifar10", "cifar_100": "cifar100", "fashion": "fashion_mnist", "boston": "boston_housing",
           "california": "california_housing"}
STREAMED_SUFFIXES = (".npy", *HDF5_SUFFIXES, *NETCDF_SUFFIXES)
# A CSV's label columns written after its path: data.csv:label=y1,y2,y3.
CSV_LABEL_OPTION = ":label="


def _builtin_base(text: str) -> str | None:
    if text in BUILTIN_DATASETS:
        return text
    normalised = text.strip().lower().replace("-", "_")
    normalised = ALIASES.get(normalised, normalised)
    return normalised if normalised in BUILTIN_DATASETS else None


def builtin_name(name_or_path: str) -> str | None:
    """The built-in a string names, forgiving case and dashes ("Fashion-MNIST"), with any options
    it was given after a colon ("IMDB:maxlen=100" -> "imdb:maxlen=100"), unless it is a path."""
    if name_or_path in BUILTIN_DATASETS:
        return name_or_path
    if Path(name_or_path).expanduser().exists():
        return None
    base, options = split_options(name_or_path)
    found = _builtin_base(base)
    if found is None:
        return None
    return found if options is None else f"{found}:{options.strip()}"


def dataset_options(name: str) -> tuple[DatasetOption, ...]:
    """The options a built-in takes after its name (empty for most): for a form, each with its
    name, default, help and choices or range."""
    base = _builtin_base(split_options(name)[0])
    return KERAS_SETS[base].options if base in KERAS_SETS else ()


def with_options(name: str, **values: int | str) -> str:
    """The dataset string for a built-in with these options (checked): with_options("imdb",
    maxlen=100) -> "imdb:maxlen=100"."""
    base = _builtin_base(split_options(name)[0])
    if base is None:
        raise DatasetError(f"unknown dataset {name!r}: not a built-in ({', '.join(BUILTIN_DATASETS)})")
    text = ",".join(f"{k}={v}" for k, v in values.items())
    options = dataset_options(base)
    given = _options(base, text if values else None)
    return canonical_name(base, given, options)


def _options(base: str, text: str | None) -> dict[str, Any]:
    if base in KERAS_SETS:
        return parse_keras_options(base, text)
    if text is not None:
        raise DatasetError(f"{base}: {usage(base, ())}; write {base}")
    return {}


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
        f"give a built-in name (imdb:maxlen=100,num_words=5000 for options) or the path of {FILE_KINDS}"
    )


def list_datasets() -> list[DatasetInfo]:
    """Every built-in, in menu order, with whether it can be loaded here (Keras sets: cached or not)."""
    return [dataset_info(name) for name in BUILTIN_DATASETS]


def dataset_info(name_or_path: str, *, task: str = "", settings: DataSettings | None = None) -> DatasetInfo:
    """Cheap for the built-ins (constants plus a cache check); a file is loaded to describe it.

    `task` is the experiment's (if it names one): integer labels that are not classes then load as
    regression targets rather than being refused (see load_dataset).
    """
    name = builtin_name(name_or_path)
    if name is not None:
        base, text = split_options(name)
        options = _options(base, text)
        if base in EMBEDDED_SETS:
            return embedded_info(base)
        return keras_info(base, options)
    return load_dataset(name_or_path, task=task, settings=settings).info()


def load_dataset(name_or_path: str, *, seed: int = 0, test_fraction: float = 0.2, task: str = "",
                 settings: DataSettings | None = None) -> Dataset:
    """Load a built-in or a file. `seed` and `test_fraction` shape the held-out split where a set
    has no test part (the Keras sets are split as Keras splits them). `task`, the experiment's if
    it names one, only decides what labels that fit no class task are: with "regression" they
    load as targets; the targets' form for the task is Dataset.for_task's work. `settings`, the
    experiment's [data] table, say where in a file the arrays are and how they are prepared.
    HDF5, NetCDF, .npy and image folders are streamed (kerastui.core.datasets.streamed)."""
    settings = settings if settings is not None else DataSettings()
    return replace(_load(name_or_path, seed=seed, test_fraction=test_fraction, task=task, settings=settings),
                   seed=seed)


def experiment_dataset(experiment: Experiment) -> Dataset:
    """The data an experiment trains and is evaluated on: its dataset, split with its seed.

    Training (headless, Slurm or in the app), re-evaluation and the app's views of a saved run all
    load data this way, so a run's test set is the same wherever it is looked at. Its targets are
    those of the experiment's task when it names one (regression on class numbers, say).
    """
    return load_dataset(experiment.dataset, seed=experiment.seed, task=experiment.task,
                        settings=experiment.data).for_task(experiment.task)


def with_absolute_paths(experiment: Any) -> Any:
    """The experiment with its data file (and a separate labels file) as absolute paths, for a job
    that starts elsewhere; built-in names stay names."""
    dataset = experiment.dataset
    if builtin_name(dataset) is None:
        path = Path(dataset).expanduser()
        if path.exists():
            dataset = str(path.resolve())
    data = experiment.data
    if data.labels and not Path(data.labels).expanduser().is_absolute():
        base = Path(dataset)
        if base.is_dir():
            from kerastui.core.datasets.image_folder import labels_file_path

            labels = labels_file_path(base, data.labels)
        else:
            labels = base.parent / Path(data.labels).expanduser()
        data = replace(data, labels=str(labels))
    return replace(experiment, dataset=dataset, data=data)


def run_dataset(experiment: Any, run_dir: Path | None = None) -> Dataset:
    """The data a run trained on, ready to evaluate: experiment_dataset, with a streamed set's
    preprocessing as the run saved it (its training statistics), or computed again."""
    from kerastui.core.datasets.keyed_arrays import prepare_dataset
    from kerastui.core.datasets.streamed import load_preprocessing

    saved = load_preprocessing(run_dir) if run_dir is not None else None
    return prepare_dataset(experiment_dataset(experiment), saved)


def _csv_with_labels(name_or_path: str) -> tuple[Path, tuple[str, ...]] | None:
    """(path, label columns) of "data.csv:label=y1,y2" when the path before it exists."""
    head, found, columns = name_or_path.rpartition(CSV_LABEL_OPTION)
    if not found or not head:
        return None
    path = Path(head).expanduser()
    if not path.exists():
        return None
    names = tuple(c.strip() for c in columns.split(","))
    if not all(names):
        raise DatasetError(f"{name_or_path}: name the label columns after :label=, separated by commas "
                           f"(data.csv:label=y1,y2)")
    return path, names


def _load(name_or_path: str, *, seed: int, test_fraction: float, task: str = "",
          settings: DataSettings = DataSettings()) -> Dataset:
    check_test_fraction(test_fraction)
    name = builtin_name(name_or_path)
    if name is not None:
        base, text = split_options(name)
        options = _options(base, text)
        if base in EMBEDDED_SETS:
            return load_embedded(base, seed=seed, test_fraction=test_fraction)
        return load_keras_set(base, options, test_fraction=test_fraction)
    if not name_or_path.strip():
        raise DatasetError(
            f"no dataset given: choose one of {', '.join(BUILTIN_DATASETS)} or the path of {FILE_KINDS}"
        )
    labelled = _csv_with_labels(name_or_path)
    label_columns = None
    path = Path(name_or_path).expanduser()
    if labelled is not None and not path.exists():
        path, label_columns = labelled
        if path.resolve().suffix.lower() != ".csv":
            raise DatasetError(f"{path}: :label= names the label columns of a .csv file only")
    if not path.exists():
        raise unknown_dataset(name_or_path)
    path = path.resolve()
    from kerastui.core.user_paths import special_file_problem

    problem = special_file_problem(path)
    if problem:
        raise DatasetError(f"{path} {problem}")
    if path.is_dir():
        from kerastui.core.datasets import image_folder

        if image_folder.is_image_folder(path):
            return image_folder.load_image_folder(path, name_or_path, settings, seed=seed,
                                                  test_fraction=test_fraction, task_hint=task)
        return load_idx_directory(path, name_or_path, seed=seed, test_fraction=test_fraction, task_hint=task)
    suffix = path.suffix.lower()
    if suffix in STREAMED_SUFFIXES or (suffix == ".npz" and not settings.is_default):
        return load_array_file(path, name_or_path, settings, seed=seed, test_fraction=test_fraction, task_hint=task)
    if suffix == ".npz":
        return load_npz_file(path, name_or_path, task_hint=task)
    if suffix == ".csv":
        return load_csv_file(path, name_or_path, seed=seed, test_fraction=test_fraction,
                             label_columns=label_columns, task_hint=task)
    raise DatasetError(
        f"{path}: unsupported file type {suffix or '(no extension)'!r}; expected {FILE_KINDS}"
    )
