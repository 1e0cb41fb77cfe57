"""Each data source as the code that loads it the way kerastui did: the same files, keys, columns,
split (seed and stratification) and the same preparation (kerastui.core.datasets.streamed's
Preprocessing: axis order, pixel scale, standardisation).

`data_code(source)` returns a DataCode: import lines, the code that leaves the raw splits in
`x_train, y_train, x_test, y_test`, the Preprocessing that turns raw samples into the model's
inputs, and how fit holds out its validation rows. Forms that cannot be written (IDX folders, an
image folder's labels file, packed NetCDF variables) raise ExportError saying so.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.datasets.streamed import Preprocessing
from kerastui.core.export.layer_code import literal
from kerastui.core.export.source import ExportError, RunSource

SPLIT = "split"  # Keras's validation_split: the last share of the training arrays
SEEDED = "seeded"  # a seeded random share of the training rows (data read from files)
LAST_ROWS = "last"  # the last rows of the training split (an image folder's val/)


@dataclass(frozen=True)
class DataCode:
    imports: tuple[str, ...]
    about: str  # a sentence for the notebook's heading: where the data comes from
    load: str  # code leaving the raw splits in x_train, y_train, x_test, y_test
    preprocessing: Preprocessing  # raw samples -> the model's inputs (statistics filled for a submission)
    raw_input: str  # what predict(X) takes, in words
    validation: str = SPLIT
    validation_rows: int = 0  # LAST_ROWS: how many
    validation_share: float | None = None  # SEEDED: the share, when the data says (else fit's)
    helpers: str = ""  # functions the loading uses that a submission needs too (reading an image)
    # Per-feature statistics computed from the raw training inputs, for a submission (in-memory
    # sets; a streamed set's are in the run's preprocessing.json already).
    statistics: Any = None  # callable () -> Preprocessing with mean and deviation
    helper_imports: tuple[str, ...] = field(default_factory=tuple)


def data_code(source: RunSource) -> DataCode:
    from kerastui.core.data import builtin_name
    from kerastui.core.datasets.embedded import EMBEDDED_SETS
    from kerastui.core.datasets.keras_cache import KERAS_SETS
    from kerastui.core.datasets.keyed_arrays import is_streamed
    from kerastui.core.datasets.options import split_options

    experiment, dataset = source.experiment, source.dataset
    name = builtin_name(experiment.dataset)
    if name is not None:
        base, options = split_options(name)
        if base in EMBEDDED_SETS:
            return _embedded(source, base)
        if base in KERAS_SETS:
            return _keras_set(source, base)
    path = _data_path(experiment.dataset)
    if is_streamed(dataset):
        from kerastui.core.datasets.image_folder import image_source

        if image_source(dataset) is not None:
            return _image_folder(source, path)
        return _array_file(source, path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _npz(source, path)
    if suffix == ".csv":
        return _csv(source, path)
    raise ExportError(f"{path}: a folder of IDX files cannot be exported yet; save the arrays as an .npz "
                      "(x_train, y_train, x_test, y_test) and train on that, or export another run")


# ---- shared pieces ------------------------------------------------------------------------------


def _data_path(dataset: str) -> Path:
    from kerastui.core.data import _csv_with_labels

    path = Path(dataset).expanduser()
    if not path.exists():
        labelled = _csv_with_labels(dataset)
        if labelled is not None:
            path = labelled[0]
    return path.resolve()


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def stratified(y: Any, seed: int, test_fraction: float = 0.2) -> bool:
    """Whether kerastui's held-out split (kerastui.core.datasets.base.held_out_split) stratified
    these labels: one whole number >= 0 per sample, each class twice, room for each on both sides."""
    from kerastui.core.datasets.base import split_sizes

    y = np.asarray(y)
    if not (y.ndim == 1 and y.dtype.kind in "iub" and y.size and y.min() >= 0):
        return False
    counts = np.unique(y, return_counts=True)[1]
    _, test = split_sizes(len(y), test_fraction)
    return bool(counts.min() >= 2 and test >= counts.size and len(y) - test >= counts.size)


def split_call(x: str, y: str, labels: Any, seed_name: str = "SEED") -> str:
    stratify = f", stratify={y}" if stratified(labels, 0) else ""
    return f"train_test_split({x}, {y}, test_size=0.2, random_state={seed_name}{stratify})"


def _targets_line(task: str) -> str:
    """How the labels are typed as training saw them."""
    if task == "regression":
        return 'y_train, y_test = y_train.astype("float32"), y_test.astype("float32")\n'
    return 'y_train, y_test = y_train.astype("int64"), y_test.astype("int64")\n'


def in_memory_preprocessing(kind: str, raw_train: np.ndarray, dataset: Any) -> Preprocessing:
    """The Preprocessing kerastui's in-memory loaders apply (kerastui.core.datasets.base's
    image_dataset, tabular_dataset, signal_dataset, text_dataset), for raw inputs like these."""
    if kind == "text":
        return Preprocessing(dtype="int32")
    if kind == "image":
        high = float(raw_train.max()) if raw_train.size else 0.0
        scale = 1 / 255 if raw_train.dtype == np.uint8 or high > 1.0 else 1.0
        return Preprocessing(scale=scale, expand_channel=raw_train.ndim == 3)
    return Preprocessing(standardize="per_feature", expand_channel=kind == "signal" and raw_train.ndim == 2)


def fitted(prep: Preprocessing, raw_train: np.ndarray) -> Preprocessing:
    """`prep` with the per-feature mean and deviation of these raw training inputs."""
    if prep.standardize != "per_feature":
        return prep
    x = prep.arranged(np.asarray(raw_train)).astype(np.float64) * prep.scale
    flat = x.reshape(-1, x.shape[-1])
    mean, deviation = flat.mean(axis=0), flat.std(axis=0)
    deviation[deviation == 0] = 1.0
    return replace(prep, mean=tuple(float(v) for v in mean), deviation=tuple(float(v) for v in deviation))


def _kind_words(kind: str, shape: tuple[int, ...]) -> str:
    return {"image": "images", "tabular": "feature rows", "signal": "signals (steps, channels)",
            "text": "word-index sequences"}.get(kind, "samples") + f" of shape {tuple(shape)}"


# ---- the embedded scikit-learn sets -------------------------------------------------------------


def _embedded(source: RunSource, name: str) -> DataCode:
    import sklearn.datasets

    from kerastui.core.datasets.base import held_out_split
    from kerastui.core.datasets.embedded import EMBEDDED_SETS, embedded_targets

    spec = EMBEDDED_SETS[name]
    bunch = getattr(sklearn.datasets, spec.loader)()
    y = embedded_targets(name, bunch)
    seed = source.experiment.seed
    raw = bunch.images if name == "digits" else bunch.data
    if name == "digits":
        inputs, words = "data.images", "8x8 images of grey levels 0..16"
        prep = Preprocessing(scale=1 / 16, expand_channel=True)
    else:
        inputs, words = "data.data", f"rows of {raw.shape[1]} features"
        prep = Preprocessing(standardize="per_feature")
    if spec.relabel == (1, 0):
        labels = "y = 1 - data.target  # kerastui numbers the positive class (malignant) 1; scikit-learn numbers it 0\n"
    elif spec.relabel is not None:
        labels = f"y = np.array({list(spec.relabel)})[data.target]\n"
    else:
        labels = "y = data.target\n"
    load = (f"data = {spec.loader}()\n"
            f"x = {inputs}\n" + labels
            + f"x_train, x_test, y_train, y_test = {split_call('x', 'y', y)}\n"
            + _targets_line(spec.task))

    def statistics() -> Preprocessing:
        x_train, _, _, _ = held_out_split(raw, y, seed=seed, test_fraction=0.2)
        return fitted(prep, x_train)

    return DataCode(
        imports=(f"from sklearn.datasets import {spec.loader}", "from sklearn.model_selection import train_test_split"),
        about=f"scikit-learn's {spec.title} ({spec.loader}), a test share of 20% held out with the seed "
              "(stratified by class where there are classes).",
        load=load, preprocessing=prep, raw_input=f"{words}, as {spec.loader}() gives them",
        statistics=statistics)


# ---- the Keras sets -----------------------------------------------------------------------------


def _keras_set(source: RunSource, name: str) -> DataCode:
    from kerastui.core.datasets.keras_cache import KERAS_SETS, with_defaults
    from kerastui.core.datasets.options import split_options

    from kerastui.core.data import builtin_name
    from kerastui.core.datasets.keras_cache import parse_keras_options

    spec = KERAS_SETS[name]
    _, text = split_options(builtin_name(source.experiment.dataset) or name)
    values = with_defaults(parse_keras_options(name, text), spec.options)
    call = f"keras.datasets.{name}.load_data"
    if spec.kind == "text":
        load = code(f"""
            (x_train, y_train), (x_test, y_test) = {call}(num_words={values['num_words']})
            # Reviews padded with 0 in front (or cut to their last words) to {values['maxlen']} words.
            x_train = keras.utils.pad_sequences(x_train, maxlen={values['maxlen']})
            x_test = keras.utils.pad_sequences(x_test, maxlen={values['maxlen']})
            """)
        prep = Preprocessing(dtype="int32")
        words = f"word-index sequences padded to {values['maxlen']}"
    elif spec.kind == "tabular":
        version = ', version="small"' if values.get("version") == "small" else ""
        load = f"(x_train, y_train), (x_test, y_test) = {call}(test_split=0.2, seed=113{version})\n"
        prep = Preprocessing(standardize="per_feature")
        words = f"rows of {spec.input_shape[0]} features"
    else:
        mode = f'label_mode="{values["label_mode"]}"' if name == "cifar100" else ""
        load = (f"(x_train, y_train), (x_test, y_test) = {call}({mode})\n"
                + ("y_train, y_test = y_train.ravel(), y_test.ravel()  # one label per image\n"
                   if name.startswith("cifar") else ""))
        prep = Preprocessing(scale=1 / 255, expand_channel=len(spec.input_shape) == 3 and name in ("mnist", "fashion_mnist"))
        words = "images of 0..255 pixels"
    load += _targets_line(spec.task)

    def statistics() -> Preprocessing:
        from kerastui.core.datasets.base import keras_split
        from kerastui.core.datasets.keras_cache import _read_xy, lookup

        x, y = _read_xy(lookup(name).location)
        if name == "california_housing" and values.get("version") == "small":
            x, y = x[:600], y[:600]
        return fitted(prep, keras_split(x, y, 0.2, 113)[0])

    return DataCode(imports=(), about=f"Keras's {spec.title} ({call}), split as Keras splits it.",
                    load=load, preprocessing=prep, raw_input=f"{words}, as {call}() gives them",
                    statistics=statistics if spec.kind == "tabular" else None)


# ---- a user's .npz (x_train, y_train, x_test, y_test), in memory ---------------------------------


def _npz(source: RunSource, path: Path) -> DataCode:
    from kerastui.core.datasets.npz_file import read_npz_arrays

    arrays = read_npz_arrays(path)
    kind = source.dataset.kind
    prep = in_memory_preprocessing(kind, arrays["x_train"], source.dataset)
    flatten = ""
    if np.asarray(arrays["y_train"]).ndim == 2 and np.asarray(arrays["y_train"]).shape[1] == 1:
        flatten = "y_train, y_test = y_train.ravel(), y_test.ravel()  # one label per sample\n"
    load = code(f"""
        DATA = Path({literal(str(path))})
        with np.load(DATA) as arrays:
            x_train, y_train = arrays["x_train"], arrays["y_train"]
            x_test, y_test = arrays["x_test"], arrays["y_test"]
        """) + flatten + _targets_line(source.dataset.task)
    return DataCode(imports=("from pathlib import Path",), about=f"`{path.name}`: its x_train, y_train, x_test and y_test.",
                    load=load, preprocessing=prep,
                    raw_input=_kind_words(kind, arrays["x_train"].shape[1:]) + " as the .npz holds them",
                    statistics=lambda: fitted(prep, arrays["x_train"]))


# ---- a CSV ---------------------------------------------------------------------------------------


def _csv(source: RunSource, path: Path) -> DataCode:
    from kerastui.core.data import _csv_with_labels
    from kerastui.core.datasets.base import held_out_split
    from kerastui.core.datasets.csv_file import companion_test_file, encode_labels, read_csv_table

    labelled = _csv_with_labels(source.experiment.dataset)
    wanted = labelled[1] if labelled is not None and not Path(source.experiment.dataset).expanduser().exists() else None
    table = read_csv_table(path, wanted)
    test_path = companion_test_file(path)
    tables = [table] if test_path is None else [table, read_csv_table(test_path, wanted)]
    (y, *_), class_names, _ = encode_labels(tables, source.experiment.task)
    features = [h for i, h in enumerate(table.header) if i not in table.label_columns]
    labels = [table.header[i] for i in table.label_columns]
    task = source.dataset.task
    if class_names is not None:
        target = "np.array([CLASS_NAMES.index(row[labels[0]].strip()) for row in body])"
        names = f"CLASS_NAMES = {literal(list(class_names))}  # the label column's names, sorted\n"
    elif len(labels) > 1:
        target = "np.array([[float(row[i]) for i in labels] for row in body])"
        names = ""
    else:
        target = "np.array([float(row[labels[0]]) for row in body])"
        names = ""
    reader = code(f'''
        FEATURES = {literal(features)}
        LABELS = {literal(labels)}
        {names}

        def read_table(path):
            """The feature columns and the label column(s) of one CSV file (a header line, one sample a row)."""
            with open(path, newline="", encoding="utf-8-sig") as file:
                rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]
            header = [name.strip() for name in rows[0]]
            body = rows[1:]
            features = [header.index(name) for name in FEATURES]
            labels = [header.index(name) for name in LABELS]
            x = np.array([[float(row[i]) for i in features] for row in body])
            return x, {target}
        ''').replace("\n\n\n\n", "\n\n\n")
    if test_path is None:
        load = reader + code(f"""

            DATA = Path({literal(str(path))})
            x, y = read_table(DATA)
            x_train, x_test, y_train, y_test = {split_call('x', 'y', y)}
            """)
        about = f"`{path.name}`, a test share of 20% held out with the seed."
    else:
        load = reader + code(f"""

            x_train, y_train = read_table(Path({literal(str(path))}))
            x_test, y_test = read_table(Path({literal(str(test_path))}))
            """)
        about = f"`{path.name}`, tested on `{test_path.name}`."
    load += _targets_line(task)
    prep = Preprocessing(standardize="per_feature")
    seed = source.experiment.seed

    def statistics() -> Preprocessing:
        raw = table.features if test_path is not None else held_out_split(table.features, y, seed=seed,
                                                                            test_fraction=0.2)[0]
        return fitted(prep, raw)

    return DataCode(imports=("import csv", "from pathlib import Path", "from sklearn.model_selection import train_test_split"),
                    about=about, load=load, preprocessing=prep,
                    raw_input=f"rows of the {len(features)} feature columns {', '.join(features[:6])}"
                              + ("..." if len(features) > 6 else ""),
                    statistics=statistics)


# ---- files of named arrays, streamed in kerastui (HDF5, NetCDF, .npy, .npz with a [data] table) ---


def _reader(fmt: str, path_name: str, key: str) -> tuple[str, str]:
    """(import line, expression) reading one whole array of the file."""
    if fmt == "npy":
        return "", f"np.load({path_name})"
    if fmt == "npz":
        return "", f"np.load({path_name})[{literal(key)}]"
    if fmt == "netcdf3":
        return "from scipy.io import netcdf_file", f"netcdf_file({path_name}, mmap=False).variables[{literal(key)}][:]"
    return "import h5py", f"h5py.File({path_name}, \"r\")[{literal(key)}][:]"


def _array_file(source: RunSource, path: Path) -> DataCode:
    from kerastui.core.datasets.array_files import describe_arrays, file_format
    from kerastui.core.datasets.keyed_arrays import DEFAULT_X, DEFAULT_Y, _choose, labels_path

    settings, dataset = source.experiment.data, source.dataset
    fmt = file_format(path)
    entries = describe_arrays(path)
    names = [e.name for e in entries]
    x_key = _choose(entries, settings.x, DEFAULT_X, "x", path)
    for entry in entries:
        if entry.packing is not None:
            raise ExportError(f"{path}: {entry.name} is a packed NetCDF variable (scale_factor, _FillValue); the "
                              "export reads arrays as they are stored and would get other numbers: unpack the file "
                              "first (xarray: ds.to_netcdf()), or export another run")
    imports = {"from pathlib import Path", "from sklearn.model_selection import train_test_split"}
    lines = [f"DATA = Path({literal(str(path))})"]
    x_import, x_read = _reader(fmt, "DATA", x_key)
    imports.add(x_import)
    lines.append(f"x = {x_read}")
    if settings.labels:
        labels = labels_path(settings, path)
        lines.append(f"LABELS = Path({literal(str(labels))})")
        if labels.suffix.lower() == ".csv":
            imports.add("import csv")
            column = settings.y
            if column:
                cols = [c.strip() for c in column.split(",")]
                lines += ["with open(LABELS, newline=\"\", encoding=\"utf-8-sig\") as file:",
                          "    rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]",
                          "header = [name.strip() for name in rows[0]]",
                          f"columns = [header.index(name) for name in {literal(cols)}]",
                          "y = np.array([[float(row[i]) for i in columns] for row in rows[1:]])",
                          "y = y[:, 0] if y.shape[1] == 1 else y"]
            else:
                lines += ["y = np.loadtxt(LABELS, delimiter=\",\", ndmin=1)"]
                if _has_header(labels):
                    lines[-1] = "y = np.loadtxt(LABELS, delimiter=\",\", skiprows=1, ndmin=1)"
        else:
            from kerastui.core.datasets.array_files import file_format as fmt_of

            label_entries = describe_arrays(labels)
            y_key = label_entries[0].name if len(label_entries) == 1 and not settings.y else _choose(
                label_entries, settings.y, DEFAULT_Y, "y", labels)
            y_import, y_read = _reader(fmt_of(labels), "LABELS", y_key)
            imports.add(y_import)
            lines.append(f"y = {y_read}")
    else:
        y_key = _choose(entries, settings.y, DEFAULT_Y, "y", path)
        imports.add(_reader(fmt, "DATA", y_key)[0])
        lines.append(f"y = {_reader(fmt, 'DATA', y_key)[1]}")
    test_key = settings.x_test or ("x_test" if x_key == "x_train" and "x_test" in names else "")
    labels_for_split = np.asarray(dataset.y_train)
    if test_key:
        y_test_key = settings.y_test or "y_test"
        lines += ["x_train, y_train = x, y",
                  f"x_test = {_reader(fmt, 'DATA', test_key)[1]}",
                  f"y_test = {_reader(fmt, 'DATA', y_test_key)[1]}"]
        about = f"`{path.name}`: inputs {x_key}, tested on {test_key}."
    else:
        y_all = np.concatenate([np.asarray(dataset.y_train), np.asarray(dataset.y_test)])
        labels_for_split = y_all
        stratify = ", stratify=y" if stratified(y_all, 0) else ""
        lines += ["# A test share of 20% held out with the seed; rows kept in file order.",
                  "rows = np.arange(len(y))",
                  f"train_rows, test_rows = train_test_split(rows, test_size=0.2, random_state=SEED{stratify})",
                  "train_rows, test_rows = np.sort(train_rows), np.sort(test_rows)",
                  "x_train, y_train = x[train_rows], y[train_rows]",
                  "x_test, y_test = x[test_rows], y[test_rows]"]
        about = f"`{path.name}`: inputs {x_key}, a test share of 20% held out with the seed."
    del labels_for_split
    if dataset.task in ("binary", "multiclass"):
        lines.append("y_train, y_test = y_train.reshape(len(y_train)), y_test.reshape(len(y_test))")
    load = "\n".join(lines) + "\n" + _targets_line(dataset.task)
    prep = dataset.x_train.preprocessing
    raw_shape = tuple(dataset.x_train.source.shape[1:])
    return DataCode(imports=tuple(sorted(i for i in imports if i)), about=about, load=load, preprocessing=prep,
                    raw_input=f"samples of shape {raw_shape} as {x_key} holds them in the file",
                    validation=SEEDED)


def _has_header(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            first = handle.readline().split(",")
    except OSError:
        return False
    try:
        [float(cell) for cell in first]
    except ValueError:
        return True
    return False


# ---- a folder of images -------------------------------------------------------------------------

IMAGE_HELPERS = '''\
def image_files(folder):
    """The images under a folder, subfolders included, in name order (hidden files left out)."""
    found = []
    for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += image_files(entry.path)
        elif entry.name.lower().endswith(IMAGE_SUFFIXES):
            found.append(entry.path)
    return found


def load_image(path):
    """One image as (height, width, channels) pixels 0..255, converted to {mode} and resized (stretched)."""
    with Image.open(path) as image:
        image = image.convert("{mode}")
        if image.size != (IMAGE_WIDTH, IMAGE_HEIGHT):
            image = image.resize((IMAGE_WIDTH, IMAGE_HEIGHT), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., np.newaxis] if pixels.ndim == 2 else pixels
'''


def _image_folder(source: RunSource, path: Path) -> DataCode:
    import os

    from kerastui.core.datasets.image_folder import SPLIT_FOLDERS, image_source

    dataset, settings = source.dataset, source.experiment.data
    files_source = image_source(dataset)
    mode = files_source.mode
    helpers = IMAGE_HELPERS.replace("{mode}", mode)
    constants = code(f"""
        IMAGE_SUFFIXES = {literal(tuple(_suffixes()))}
        IMAGE_HEIGHT, IMAGE_WIDTH = {files_source.height}, {files_source.width}
        """)
    folders = {entry.name: entry.name for entry in os.scandir(path) if entry.is_dir() and not entry.name.startswith(".")}
    splits = {SPLIT_FOLDERS[name.lower()]: name for name in folders if name.lower() in SPLIT_FOLDERS}
    class_names = list(dataset.class_names)
    namespace: dict[str, Any] = {"os": os, "np": np, "IMAGE_SUFFIXES": tuple(_suffixes())}
    exec(compile(helpers.split("\n\n\ndef load_image")[0], "<export>", "exec"), namespace)  # the listing the script uses
    listed = namespace["image_files"]
    skipped = {p for p, _ in files_source.skipped_at_load}

    def listing(folder: Path) -> list[str]:
        return [f for name in class_names for f in listed(str(folder / name)) if f not in skipped]

    if "train" in splits and set(folders) <= set(SPLIT_FOLDERS) | set():
        parts = {split: listing(path / name) for split, name in splits.items()}
        expected = [*parts.get("train", []), *parts.get("val", []), *parts.get("test", [])]
        layout = "split"
    elif set(folders) >= set(class_names) and len(folders) == len(class_names):
        expected = sorted(listing(path))
        layout = "classes"
    else:
        raise ExportError(f"{path}: an image folder labelled by a CSV file cannot be exported yet; arrange the "
                          "images in one subfolder per class, or export another run")
    if sorted(expected) != sorted(files_source.files):
        raise ExportError(f"{path}: the export's listing of the images ({len(expected)}) differs from the run's "
                          f"({len(files_source.files)}); the folder changed since the run, or holds files kerastui "
                          "skipped in a way the script cannot repeat")
    lines = [constants, helpers, "", ""]
    lines.append(f"FOLDER = Path({literal(str(path))})")
    lines.append(f"CLASS_NAMES = {literal(class_names)}  # the class folders, sorted")
    if skipped:
        lines.append(f"SKIPPED = {literal(sorted(skipped))}  # unreadable when the run listed them")
    keep = " if file not in SKIPPED" if skipped else ""
    lines.append(code(f'''

        def labelled_files(folder):
            """The image files of each class folder under `folder`, and their class numbers."""
            files, labels = [], []
            for label, name in enumerate(CLASS_NAMES):
                found = [file for file in image_files(folder / name){keep}]
                files += found
                labels += [label] * len(found)
            return files, np.array(labels)


        def load_images(files):
            return np.stack([load_image(file) for file in files])

        '''))
    validation, rows, share = SEEDED, 0, settings.validation_split
    if layout == "classes":
        stratify = ", stratify=labels" if stratified(np.concatenate([dataset.y_train, dataset.y_test]), 0) else ""
        lines.append(code(f"""
            files, labels = labelled_files(FOLDER)
            rows = np.arange(len(files))
            train_rows, test_rows = train_test_split(rows, test_size=0.2, random_state=SEED{stratify})
            train_rows, test_rows = np.sort(train_rows), np.sort(test_rows)
            x_train, y_train = load_images([files[i] for i in train_rows]), labels[train_rows]
            x_test, y_test = load_images([files[i] for i in test_rows]), labels[test_rows]
            """))
        about = f"the images of `{path.name}`, one folder per class, a test share of 20% held out with the seed."
    else:
        train, val, test = (f"FOLDER / {literal(splits[s])}" if s in splits else None for s in ("train", "val", "test"))
        lines.append(f"train_files, y_train = labelled_files({train})")
        if val:
            lines.append(f"validation_files, y_validation = labelled_files({val})")
            validation, rows = LAST_ROWS, len(parts.get("val", []))
        if test:
            lines.append(f"test_files, y_test = labelled_files({test})")
        else:
            lines.append(code("""
                rows = np.arange(len(train_files))
                kept, held = train_test_split(rows, test_size=0.2, random_state=SEED, stratify=y_train)
                kept, held = np.sort(kept), np.sort(held)
                test_files, y_test = [train_files[i] for i in held], y_train[held]
                train_files, y_train = [train_files[i] for i in kept], y_train[kept]
                """).rstrip("\n"))
        if val:
            lines.append("# val/'s images are the last rows of the training split: fit validates on them.")
            lines.append("train_files, y_train = train_files + validation_files, np.concatenate([y_train, y_validation])")
        lines.append("x_train, x_test = load_images(train_files), load_images(test_files)")
        about = f"the images of `{path.name}`: {', '.join(n + '/' for n in splits.values())}."
    load = "\n".join(lines).rstrip("\n") + "\n" + _targets_line(dataset.task)
    channels = 1 if mode == "L" else 3
    return DataCode(
        imports=("import os", "from pathlib import Path", "from PIL import Image",
                 "from sklearn.model_selection import train_test_split"),
        about=about, load=load, preprocessing=dataset.x_train.preprocessing,
        raw_input=f"images as pixels 0..255 of shape ({files_source.height}, {files_source.width}, {channels}) "
                  "(load_image(path) reads one so)",
        validation=validation, validation_rows=rows, validation_share=share,
        # A submission reads images itself: the constants and load_image, not the folder's listing.
        helpers=constants + "\n\n" + "def load_image" + helpers.split("\n\n\ndef load_image")[1],
        helper_imports=("from PIL import Image",))


def _suffixes() -> list[str]:
    from kerastui.core.datasets.image_files import IMAGE_SUFFIXES

    return list(IMAGE_SUFFIXES)


def scale_code(scale: float) -> str:
    """` / 255` for 1/255, ` * 0.5` otherwise."""
    if scale == 1.0:
        return ""
    inverse = 1 / scale
    if math.isclose(inverse, round(inverse), rel_tol=1e-9):
        return f" / {round(inverse)}"
    return f" * {scale!r}"
