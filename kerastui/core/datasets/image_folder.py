"""A folder of images as a streamed data set: one subfolder per class, train/ val/ test/ folders of
class subfolders, or images with a labels CSV beside them.

Layouts, the first that fits:
  labels file    [data] labels names a CSV (relative to the folder's parent, as every path beside
                 the data is, or else to the folder), or the folder holds `labels.csv`, or a single
                 .csv and fewer than two subfolders. One column holds file names (relative to the
                 folder; [data] x names it, else one called filename, file, image, path, name, id,
                 ...; a name without a suffix finds the image with that stem); the label columns are
                 [data] y (a comma list), else those named label/target/class or label_*/target_*,
                 else every other column. One column of class names or whole numbers: multiclass or
                 binary; several 0/1 columns: multilabel; other numbers: regression
                 (kerastui.core.datasets.csv_file.encode_labels reads them, as for any CSV).
  split folders  train/ (required), val/ (or valid/, validation/) and test/, each of class subfolders.
  class folders  one subfolder per class; class names are the folder names, sorted (images in
                 deeper subfolders belong to their class folder).
Without a test/ folder a seeded, stratified share (test_fraction) is held out for testing.

Validation rows: the images of val/ are the LAST rows of x_train (and y_train), and
`x_train.source.validation_positions` holds their positions in x_train; without val/,
[data] validation_split (if set) picks a seeded share of x_train there instead. `None` there means
the experiment's fit.validation_split decides (kerastui.core.train.streamed_fit_inputs reads it).

Image size: [data] image_size = [H, W]; by default the most common size among the images' headers,
scaled down (aspect kept) so that its longer side is at most 256 pixels. Every image is resized to
it (stretched, as Keras's image_dataset_from_directory does by default) and converted to RGB or
grayscale ([data] color): a grayscale image in an RGB set, RGBA and palette PNGs (alpha dropped, as
Keras's load_img does), CMYK JPEGs and 16-bit PNGs (scaled to 8 bits, not clipped) alike.

Loading lists the files (os.scandir) and reads each image's header only (Pillow's Image.open
reads no pixels): 10,000 files take a fraction of a second. A file whose header is unreadable is
skipped, counted and listed (skipped_images, write_skipped). Pixels are decoded in
`ImageFiles.read`, a batch at a time, in the batch loader's threads (kerastui.core.batches); an
image that fails there (truncated after its header, removed, replaced) becomes a zero image and is
listed too: a run never stops for one file. Hidden files and folders (names starting with ".") and
files of other suffixes are ignored. Nothing is opened before os.stat says it is a regular file,
and then without blocking, so a FIFO never hangs a load; a folder met twice (a symlink loop) is
listed as skipped, not walked again.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerastui.core.datasets.base import (
    IMAGE,
    Dataset,
    DatasetError,
    check_test_fraction,
    checked_targets,
    held_out_split,
)
from kerastui.core.datasets.image_files import (
    IMAGE_SUFFIXES,
    ImageFiles,
    Listing,
    TopLevel,
    folder_identity,
    is_image_name,
    os_reason,
    read_headers,
    special_kind,
    top_level,
    walk_images,
)
from kerastui.core.datasets.settings import DataSettings
from kerastui.core.datasets.streamed import Preprocessing, StreamedArray

# The names that make a directory an IDX data set instead (kerastui.core.datasets.idx).
IDX_PREFIXES = ("train-images", "train-labels", "t10k-images", "t10k-labels")
SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
SPLITS = ("train", "val", "test")
LABELS_FILE = "labels.csv"
FILE_COLUMNS = ("filename", "file_name", "file", "image", "image_name", "image_path", "path", "name",
                "img", "fname", "id", "image_id")
DEFAULT_LONGEST_SIDE = 256
SKIPPED_FILE = "skipped_images.txt"
SHOWN = 5  # file names quoted in one message

LAYOUT_CLASSES = "class folders"
LAYOUT_SPLITS = "train/val/test folders"
LAYOUT_LABELS = "labels file"


# ---------------------------------------------------------------- layouts

@dataclass
class FolderScan:
    """A folder as listed and header-checked: the usable images of each split with their labels."""

    path: Path
    layout: str
    files: dict[str, list[str]]  # "train", "val", "test" (given folders) or "all" (to be split)
    labels: dict[str, np.ndarray]  # class numbers, or a labels file's values, per split
    class_names: tuple[str, ...] | None  # classes (folder names, a CSV's names); None: numbers
    target_names: tuple[str, ...] | None = None  # a labels file's label columns
    sizes: Counter = field(default_factory=Counter)  # (height, width) -> images
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0
    labels_file: str = ""

    @property
    def image_count(self) -> int:
        return sum(len(f) for f in self.files.values())


def no_images_error(path: Path) -> DatasetError:
    return DatasetError(
        f"{path}: holds no images (nor IDX files): give a folder with one subfolder of images per class, "
        f"train/ and test/ folders of class subfolders, images with a {LABELS_FILE} (file name, label), "
        "or the IDX files train-images-idx3-ubyte and train-labels-idx1-ubyte"
    )


def quoted(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


class HeaderCheck:
    """Headers of many files read in one go (threads), then handed back per group of files."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    def add(self, files: list[str]) -> int:
        self.groups.append(files)
        return len(self.groups) - 1

    def run(self) -> tuple[list[list[str]], list[list[tuple[int, int]]], list[tuple[str, str]]]:
        """(readable files per group, their (height, width), skipped (file, why))."""
        everything = [f for group in self.groups for f in group]
        results = iter(read_headers(everything))
        readable, sizes, skipped = [], [], []
        for group in self.groups:
            kept, kept_sizes = [], []
            for path in group:
                result = next(results)
                if isinstance(result, str):
                    skipped.append((path, result))
                else:
                    kept.append(path)
                    kept_sizes.append((result[1], result[0]))
            readable.append(kept)
            sizes.append(kept_sizes)
        return readable, sizes, skipped


def class_files(path: Path, where: str, folders: dict[str, Path], seen: set[tuple[int, int]],
                check: HeaderCheck, listing: Listing) -> dict[str, int]:
    """Each class folder walked; its files queued for the header check. class name -> group."""
    groups = {}
    for name, folder in sorted(folders.items()):
        found = Listing()
        walk_images(folder, found, seen)
        listing.skipped.extend(found.skipped)
        listing.ignored += found.ignored
        if not found.files:
            reasons = f"; skipped: {found.skipped[0][0]} {found.skipped[0][1]}" if found.skipped else ""
            others = f" ({found.ignored} other files, ignored)" if found.ignored else ""
            raise DatasetError(f"{path}: class folder {where}{name}/ holds no images{others}{reasons}; "
                               f"add images (suffixes {', '.join(IMAGE_SUFFIXES)}) or remove the folder")
        groups[name] = check.add(found.files)
    return groups


def checked_classes(path: Path, where: str, groups: dict[str, int], check: HeaderCheck,
                    readable: list[list[str]], skipped: dict[str, str]) -> None:
    """A class folder whose every image was skipped is named, with the first one's reason."""
    for name, group in groups.items():
        if not readable[group]:
            first = check.groups[group][0]
            raise DatasetError(f"{path}: class folder {where}{name}/ holds no readable images: all "
                               f"{len(check.groups[group])} were skipped ({first} {skipped.get(first, '')}); "
                               "replace them or remove the folder")


def class_folder_scan(path: Path, top: TopLevel, seen: set[tuple[int, int]]) -> FolderScan:
    if not top.folders:
        if top.images:
            raise DatasetError(f"{path}: holds {len(top.images)} images but no labels: put them in one subfolder "
                               f"per class, or add a {LABELS_FILE} beside them (a file-name column and a label column)")
        raise no_images_error(path)
    if len(top.folders) == 1:
        only = next(iter(top.folders))
        raise DatasetError(f"{path}: holds one class folder only ({only}/); a classifier needs at least two "
                           "classes: add one subfolder of images per class")
    listing = Listing(skipped=list(top.skipped))
    check = HeaderCheck()
    groups = class_files(path, "", top.folders, seen, check, listing)
    readable, sizes, skipped = check.run()
    listing.skipped.extend(skipped)
    checked_classes(path, "", groups, check, readable, dict(skipped))
    names = tuple(groups)
    files = [f for name in names for f in readable[groups[name]]]
    labels = np.concatenate([np.full(len(readable[groups[n]]), i, dtype=np.int64) for i, n in enumerate(names)])
    return FolderScan(path, LAYOUT_CLASSES, {"all": files}, {"all": labels}, names,
                      sizes=Counter(s for group in sizes for s in group), skipped=listing.skipped,
                      ignored=listing.ignored + len(top.images) + len(top.csv_files))


def split_folder_scan(path: Path, top: TopLevel, seen: set[tuple[int, int]]) -> FolderScan:
    splits: dict[str, str] = {}  # split -> folder name
    others = []
    for name in top.folders:
        split = SPLIT_FOLDERS.get(name.lower())
        if split is None:
            others.append(name + "/")
        elif split in splits:
            raise DatasetError(f"{path}: has both {splits[split]}/ and {name}/ for the {split} split; keep one")
        else:
            splits[split] = name
    if others:
        raise DatasetError(f"{path}: mixes split folders ({', '.join(n + '/' for n in splits.values())}) with other "
                           f"folders ({quoted(others)}); keep train/, val/ and test/ only, each of class subfolders")
    if "train" not in splits:
        raise DatasetError(f"{path}: has {', '.join(n + '/' for n in splits.values())} but no train/ folder; "
                           "add train/ with one subfolder of images per class")
    listing = Listing(skipped=list(top.skipped))
    check = HeaderCheck()
    groups: dict[str, dict[str, int]] = {}
    class_names: tuple[str, ...] = ()
    for split in SPLITS:
        if split not in splits:
            continue
        where = splits[split] + "/"
        inner = top_level(path / splits[split], seen)
        listing.skipped.extend(inner.skipped)
        if not inner.folders:
            loose = f" ({len(inner.images)} images lie there loose)" if inner.images else ""
            raise DatasetError(f"{path}: {where} holds no class folders{loose}; put one subfolder of images per "
                               f"class in {where}")
        if split == "train":
            if len(inner.folders) == 1:
                raise DatasetError(f"{path}: {where} holds one class folder only ({next(iter(inner.folders))}/); "
                                   "a classifier needs at least two classes: add one subfolder per class")
            class_names = tuple(sorted(inner.folders))
        else:
            unknown = sorted(set(inner.folders) - set(class_names))
            if unknown:
                raise DatasetError(f"{path}: {where} has class folders that train/ has not "
                                   f"({quoted([u + '/' for u in unknown])}); a model learns only the classes of "
                                   f"train/ ({quoted(list(class_names))})")
        groups[split] = class_files(path, where, inner.folders, seen, check, listing)
    readable, sizes, skipped = check.run()
    listing.skipped.extend(skipped)
    files, labels = {}, {}
    for split, by_class in groups.items():
        checked_classes(path, splits[split] + "/", by_class, check, readable, dict(skipped))
        files[split] = [f for name in sorted(by_class) for f in readable[by_class[name]]]
        labels[split] = np.concatenate([np.full(len(readable[by_class[name]]), class_names.index(name),
                                                dtype=np.int64) for name in sorted(by_class)])
    return FolderScan(path, LAYOUT_SPLITS, files, labels, class_names,
                      sizes=Counter(s for group in sizes for s in group), skipped=listing.skipped,
                      ignored=listing.ignored)


# ---------------------------------------------------------------- a labels file

def labels_file_path(folder: Path, labels: str) -> Path:
    """Where [data] labels points for an image folder: an absolute path as it is; a relative one
    beside the folder (its parent, as for every data file) or else inside it. A job that starts
    elsewhere stores this path (kerastui.core.data.with_absolute_paths)."""
    given = Path(labels).expanduser()
    if given.is_absolute():
        return given
    beside, inside = Path(folder).parent / given, Path(folder) / given
    return inside if not os.path.lexists(beside) and os.path.lexists(inside) else beside


def labels_file_of(path: Path, top: TopLevel, settings: DataSettings) -> Path | None:
    """The labels CSV the layout rules find, or None for folder layouts."""
    from kerastui.core.user_paths import special_file_problem

    if settings.labels:
        chosen = labels_file_path(path, settings.labels)
        if not os.path.lexists(chosen):
            given = Path(settings.labels).expanduser()
            also = "" if given.is_absolute() else f" (nor {path / given})"
            raise DatasetError(f"[data] labels: no such file {chosen}{also}")
        problem = special_file_problem(chosen)
        if problem or chosen.is_dir():
            raise DatasetError(f"[data] labels: {chosen} {problem or 'is a folder; name the labels CSV'}")
        return chosen
    named = [c for c in top.csv_files if c.name.lower() == LABELS_FILE]
    if named:
        return named[0]
    if len(top.csv_files) == 1 and len(top.folders) < 2:
        return top.csv_files[0]
    return None


def file_column_of(header: list[str], first_row: list[str], settings: DataSettings, csv_path: Path) -> int:
    names = [h.strip() for h in header]
    if settings.x:
        if settings.x not in names:
            raise DatasetError(f"{csv_path}: has no column {settings.x!r} ([data] x, the file names); "
                               f"its columns: {', '.join(names)}")
        return names.index(settings.x)
    lowered = [n.lower() for n in names]
    for wanted in FILE_COLUMNS:
        if wanted in lowered:
            return lowered.index(wanted)
    for index, cell in enumerate(first_row):
        if is_image_name(cell.strip()):
            return index
    raise DatasetError(f"{csv_path}: which column holds the image file names? none is named "
                       f"{', '.join(FILE_COLUMNS[:4])} ... or holds names ending in .jpg, .png, ...; name it in the "
                       f"[data] table (x = \"...\"); its columns: {', '.join(names)}")


def label_columns(header: list[str], file_column: int, settings: DataSettings, csv_path: Path) -> tuple[int, ...]:
    from kerastui.core.datasets.csv_file import LABEL_COLUMNS, LABEL_PREFIXES

    names = [h.strip() for h in header]
    if settings.y:
        wanted = [w.strip() for w in settings.y.split(",") if w.strip()]
        missing = [w for w in wanted if w not in names]
        if missing:
            raise DatasetError(f"{csv_path}: has no column {', '.join(repr(m) for m in missing)} ([data] y, the "
                               f"labels); its columns: {', '.join(names)}")
        chosen = tuple(names.index(w) for w in wanted)
        if file_column in chosen:
            raise DatasetError(f"{csv_path}: [data] y names {names[file_column]!r}, the file-name column; "
                               "name the label columns")
        return chosen
    others = [i for i in range(len(names)) if i != file_column]
    if not others:
        raise DatasetError(f"{csv_path}: has only the file-name column ({names[file_column]!r}); add a label column")
    lowered = {i: names[i].lower() for i in others}
    prefixed = tuple(i for i in others if lowered[i].startswith(LABEL_PREFIXES))
    if prefixed:
        return prefixed
    for name in LABEL_COLUMNS:
        for i in others:
            if lowered[i] == name:
                return (i,)
    return tuple(others)


def labels_file_scan(path: Path, csv_path: Path, top: TopLevel, settings: DataSettings,
                     task_hint: str) -> FolderScan:
    from kerastui.core.datasets.csv_file import CsvTable, encode_labels, read_rows

    rows = read_rows(csv_path)
    if not rows:
        raise DatasetError(f"{csv_path}: is empty; give a header (file name, label columns) and one row per image")
    _, first = rows[0]
    has_header = not any(is_image_name(cell.strip()) for cell in first)
    if has_header:
        header, body = first, rows[1:]
    else:
        header = ["file", *(["label"] if len(first) == 2 else [f"label_{i}" for i in range(1, len(first))])]
        body = rows
    if not body:
        raise DatasetError(f"{csv_path}: has a header but no rows; add one row per image")
    file_column = file_column_of(header, body[0][1], settings, csv_path)
    chosen = label_columns(header, file_column, settings, csv_path)
    wanted = max(file_column, *chosen)
    short = next((line for line, row in body if len(row) <= wanted), None)
    if short is not None:
        raise DatasetError(f"{csv_path} line {short}: has fewer cells than the header's {len(header)} columns")
    stems = {}
    for image in top.images:
        stems.setdefault(Path(image).stem, image)
    located, missing = [], []
    for line, row in body:
        name = row[file_column].strip()
        candidate = Path(name).expanduser()
        if not candidate.is_absolute():
            # Relative to the folder; else to the CSV's own folder (a labels file beside the folder).
            beside = csv_path.parent / candidate
            candidate = path / candidate
            candidate = beside if not os.path.lexists(candidate) and os.path.lexists(beside) else candidate
        if not name or not os.path.lexists(candidate):
            found = stems.get(name) if name and not Path(name).suffix else None
            if found is None:
                missing.append(name or f"(empty cell, line {line})")
                continue
            candidate = Path(found)
        located.append((line, str(candidate), [row[i].strip() for i in chosen]))
    if missing:
        raise DatasetError(f"{csv_path}: names {len(missing)} file{'s' if len(missing) != 1 else ''} that "
                           f"{'do' if len(missing) != 1 else 'does'} not exist in {path}: {quoted(missing)}; "
                           "fix the names (relative to the folder) or remove those rows")
    kinds = Listing()
    checkable = []
    for line, file, cells in located:
        try:
            info = os.stat(file)  # follows symlinks; never opens
        except OSError as error:
            kinds.skipped.append((file, os_reason(error)))
            continue
        if not stat.S_ISREG(info.st_mode):
            kinds.skipped.append((file, f"is {special_kind(info.st_mode)}, not a regular file"))
            continue
        checkable.append((line, file, cells))
    check = HeaderCheck()
    check.add([file for _, file, _ in checkable])
    readable, sizes, skipped = check.run()
    kept = set(readable[0])
    usable = [entry for entry in checkable if entry[1] in kept]
    if not usable:
        raise DatasetError(f"{csv_path}: none of the {len(located)} images it names can be read "
                           f"(first: {(kinds.skipped + skipped)[0][0]} {(kinds.skipped + skipped)[0][1]})")
    label_names = tuple(header[i].strip() for i in chosen)
    table = CsvTable(path=csv_path, header=tuple(h.strip() for h in header), label_columns=chosen,
                     features=np.zeros((len(usable), 0)), labels=tuple(tuple(cells) for _, _, cells in usable),
                     label_lines=tuple(line for line, _, _ in usable))
    (values,), class_names, target_names = encode_labels([table], task_hint)
    if class_names is not None and len(class_names) == 1:
        raise DatasetError(f"{csv_path}: every image has label {class_names[0]!r} (column {label_names[0]!r}); "
                           "a classifier needs at least two classes")
    return FolderScan(path, LAYOUT_LABELS, {"all": [file for _, file, _ in usable]}, {"all": values}, class_names,
                      target_names=target_names if class_names is None else None,
                      sizes=Counter(sizes[0]), skipped=kinds.skipped + skipped,  # the named files' only
                      labels_file=str(csv_path))


def scan_folder(path: Path, settings: DataSettings | None = None, task_hint: str = "") -> FolderScan:
    """The folder listed and its headers read, by the layout rules of the module's docstring."""
    settings = settings if settings is not None else DataSettings()
    path = Path(path)
    seen = {identity} if (identity := folder_identity(str(path))) is not None else set()
    top = top_level(path, seen)
    csv_path = labels_file_of(path, top, settings)
    has_splits = any(name.lower() in SPLIT_FOLDERS for name in top.folders)
    if csv_path is not None and (settings.labels or not has_splits):
        return labels_file_scan(path, csv_path, top, settings, task_hint)
    for field_name in ("x", "y"):
        if getattr(settings, field_name):
            raise DatasetError(f"{path}: [data] {field_name} names a column of a labels CSV, but this folder has "
                               f"no {LABELS_FILE}; leave {field_name} empty for class folders")
    if has_splits:
        return split_folder_scan(path, top, seen)
    return class_folder_scan(path, top, seen)


# ---------------------------------------------------------------- the data set

def is_image_folder(path: Path) -> bool:
    """Every folder that is not a directory of IDX files: class subfolders, train/ val/ test/, images
    with a labels CSV (and an empty or foreign folder, so its message names what an image folder needs)."""
    try:
        with os.scandir(path) as entries:
            return not any(entry.name.startswith(IDX_PREFIXES) for entry in entries)
    except OSError:
        return False


def image_size_for(scan: FolderScan, settings: DataSettings) -> tuple[int, int]:
    """[data] image_size, or the most common size, its longer side brought down to 256."""
    if len(settings.image_size) == 2:
        return int(settings.image_size[0]), int(settings.image_size[1])
    if not scan.sizes:
        return DEFAULT_LONGEST_SIDE, DEFAULT_LONGEST_SIDE
    (height, width), _ = scan.sizes.most_common(1)[0]
    longest = max(height, width)
    if longest > DEFAULT_LONGEST_SIDE:
        height = max(1, round(height * DEFAULT_LONGEST_SIDE / longest))
        width = max(1, round(width * DEFAULT_LONGEST_SIDE / longest))
    return height, width


def refused_settings(path: Path, settings: DataSettings) -> None:
    for field_name in ("x_test", "y_test"):
        if getattr(settings, field_name):
            raise DatasetError(f"{path}: [data] {field_name} is for array files; an image folder's test split is "
                               "its test/ folder, or a seeded share: leave it empty")
    if settings.axes:
        raise DatasetError(f"{path}: [data] axes is for array files; images are read as (height, width, "
                           "channels): leave it empty")


def seeded_split(files: list[str], labels: np.ndarray, seed: int, fraction: float
                 ) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """A stratified, seeded share of the files held out, each part in file order (read front to back)."""
    index = np.arange(len(files), dtype=np.int64)
    kept, _, held, _ = held_out_split(index, labels, seed=seed, test_fraction=fraction)
    kept, held = np.sort(kept), np.sort(held)
    return [files[i] for i in kept], labels[kept], [files[i] for i in held], labels[held]


def load_image_folder(path: Path, name: str, settings: DataSettings | None, *, seed: int, test_fraction: float,
                      task_hint: str = "") -> Dataset:
    """The folder as a Dataset of StreamedArray views over one ImageFiles source: x_train holds
    train's rows and then val/'s (see the module's docstring), x_test the test rows; y_* are numpy
    arrays checked by checked_targets. Only headers are read here, never pixels."""
    settings = settings if settings is not None else DataSettings()
    path = Path(path)
    check_test_fraction(test_fraction)
    refused_settings(path, settings)
    scan = scan_folder(path, settings, task_hint)
    height, width = image_size_for(scan, settings)
    if "all" in scan.files:
        train, y_train, test, y_test = seeded_split(scan.files["all"], scan.labels["all"], seed, test_fraction)
        val, y_val = [], scan.labels["all"][:0]
    else:
        train, y_train = scan.files["train"], scan.labels["train"]
        val, y_val = scan.files.get("val", []), scan.labels.get("val", y_train[:0])
        if "test" in scan.files:
            test, y_test = scan.files["test"], scan.labels["test"]
        else:
            train, y_train, test, y_test = seeded_split(train, y_train, seed, test_fraction)
    source = ImageFiles(path, [*train, *val, *test], height, width, settings.color, scan.skipped)
    fitted = len(train) + len(val)
    if val:
        source.validation_positions = np.arange(len(train), fitted, dtype=np.int64)
    elif settings.validation_split is not None:
        from kerastui.core.batches import validation_positions

        _, held = validation_positions(len(train), float(settings.validation_split), seed)
        if len(held) >= len(train):
            raise DatasetError(f"{path}: [data] validation_split = {settings.validation_split} leaves no "
                               f"training images of {len(train)}; lower it")
        source.validation_positions = held
    standardize = "none" if settings.standardize == "auto" else settings.standardize
    prep = Preprocessing(scale=1 / 255, standardize=standardize)
    x_train = StreamedArray(source, np.arange(fitted, dtype=np.int64), prep, IMAGE)
    x_test = StreamedArray(source, np.arange(fitted, len(source.files), dtype=np.int64), prep, IMAGE)
    targets = checked_targets(str(path), x_train, np.concatenate([y_train, y_val]), x_test, y_test,
                              names=scan.class_names, target_names=scan.target_names, task_hint=task_hint)
    return Dataset(
        name=name, x_train=x_train, y_train=targets.y_train, x_test=x_test, y_test=targets.y_test,
        class_names=targets.names, input_shape=tuple(int(d) for d in x_train.shape[1:]), kind=IMAGE,
        source=f"image folder: {path} ({scan.layout}, {scan.image_count} images"
               + (f", {len(scan.skipped)} skipped)" if scan.skipped else ")"),
        title=path.name, task=targets.task,
    )


# ---------------------------------------------------------------- what the other parts read

def image_source(dataset: Dataset) -> ImageFiles | None:
    x = dataset.x_train
    return x.source if isinstance(x, StreamedArray) and isinstance(x.source, ImageFiles) else None


def skipped_images(dataset: Any) -> list[tuple[str, str]]:
    """(file, why) for every image left out: at load (unreadable header, not a regular file, a
    symlink loop) and while batches were read (given as zeros). [] for other data sets."""
    source = image_source(dataset)
    return source.skipped() if source is not None else []


def write_skipped(run_dir: Path, dataset: Any) -> Path | None:
    """skipped_images.txt in the run directory (one `file<TAB>why` a line), when any image was
    skipped; None (and no file) when none was."""
    from kerastui.core.atomic import write_text_atomic

    skipped = skipped_images(dataset)
    if not skipped:
        return None
    lines = [f"# {len(skipped)} image{'s' if len(skipped) != 1 else ''} skipped (file, tab, why)"]
    lines += [f"{file}\t{why}" for file, why in skipped]
    return write_text_atomic(Path(run_dir) / SKIPPED_FILE, "\n".join(lines) + "\n")


def class_counts(dataset: Any) -> dict[str, dict[str, int]]:
    """Samples per class (per label, for multilabel) in each split: train, val (when the source
    brings its own validation rows) and test. {} when the targets are no classes (regression)."""
    if dataset.task == "regression":
        return {}
    y_train, y_test = np.asarray(dataset.y_train), np.asarray(dataset.y_test)
    parts = {"train": y_train}
    source = image_source(dataset)
    given = source.validation_positions if source is not None else None
    if given is not None and len(given):
        keep = np.ones(len(y_train), dtype=bool)
        keep[given] = False
        parts = {"train": y_train[keep], "val": y_train[given]}
    parts["test"] = y_test
    names = dataset.class_names
    counts = {}
    for split, y in parts.items():
        totals = y.sum(axis=0) if y.ndim == 2 else np.bincount(y.astype(np.int64), minlength=len(names))
        counts[split] = {name: int(totals[i]) for i, name in enumerate(names)}
    return counts


def folder_summary(path: Path, settings: DataSettings | None = None, samples_per_class: int = 3) -> dict[str, Any]:
    """What the data tab shows of an image folder, from its listing and headers only (no pixels):
    layout, classes, counts per split and class, image size, skipped files and a few sample files
    per class for thumbnails. DatasetError as load_image_folder would say it."""
    settings = settings if settings is not None else DataSettings()
    path = Path(path)
    scan = scan_folder(path, settings)
    height, width = image_size_for(scan, settings)
    names = scan.class_names
    counts: dict[str, dict[str, int]] = {}
    samples: dict[str, list[str]] = {}
    for split, files in scan.files.items():
        labels = scan.labels[split]
        if names is not None:
            tally = np.bincount(labels, minlength=len(names))
            counts[split] = {n: int(tally[i]) for i, n in enumerate(names)}
            for i, n in enumerate(names):
                picked = samples.setdefault(n, [])
                picked += [files[j] for j in np.flatnonzero(labels == i)[:samples_per_class - len(picked)]]
        else:
            counts[split] = {"images": len(files)}
            samples.setdefault("images", []).extend(files[:samples_per_class - len(samples.get("images", []))])
    return {
        "path": str(path),
        "layout": scan.layout,
        "labels_file": scan.labels_file,
        "class_names": list(names) if names is not None else [],
        "target_names": list(scan.target_names or ()),
        "split_sizes": {split: len(files) for split, files in scan.files.items()},
        "counts": counts,
        "image_count": scan.image_count,
        "image_size": [height, width],
        "color": settings.color,
        "sizes_seen": [[h, w, n] for (h, w), n in scan.sizes.most_common(5)],
        "skipped_count": len(scan.skipped),
        "skipped": scan.skipped[:20],
        "ignored_count": scan.ignored,
        "sample_files": samples,
    }
