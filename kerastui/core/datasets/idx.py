"""MNIST-format IDX files (plain or gzipped), parsed with numpy, and directories of them.

An IDX file is: two zero bytes, a type code, the number of dimensions, each dimension as a
big-endian uint32, then the values big-endian and row-major.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from kerastui.core.datasets.base import Dataset, DatasetError, held_out_split, image_dataset

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# (split, kind) -> base file name; ".gz" may follow, and some unpackers write "train-images.idx3-ubyte".
IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


def read_idx_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                return stream.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DatasetError(f"{path}: cannot be read ({error})") from None


def parse_idx(data: bytes, origin: str, expected_ndim: int) -> np.ndarray:
    """Validate the header (magic, dimensions, size) and return the array."""
    if len(data) < 4:
        raise DatasetError(f"{origin}: not an IDX file (only {len(data)} bytes)")
    zero1, zero2, type_code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero1 or zero2 or type_code not in IDX_TYPES:
        raise DatasetError(f"{origin}: bad IDX magic number 0x{magic:08x} (expected 0x0000TTDD)")
    if ndim != expected_ndim:
        what = "images (N, rows, cols)" if expected_ndim == 3 else "labels (N,)"
        raise DatasetError(
            f"{origin}: IDX header says {ndim} dimensions (magic 0x{magic:08x}) but {what} need {expected_ndim}"
        )
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise DatasetError(f"{origin}: IDX header is truncated")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[type_code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header_end
    if found != expected:
        raise DatasetError(
            f"{origin}: header announces shape {dims} ({expected} bytes of data) but the file holds {found}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header_end).reshape(dims)


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    return parse_idx(read_idx_bytes(path), str(path), expected_ndim)


def find_idx_file(directory: Path, base: str) -> Path | None:
    """The file for `base` in `directory`, plain or gzipped, dash or dot before "idx"."""
    dotted = base.replace("-idx", ".idx")
    for name in (base, base + ".gz", dotted, dotted + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def read_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    return images, labels


def load_idx_directory(
    directory: Path,
    name: str,
    *,
    seed: int,
    test_fraction: float,
    class_names: tuple[str, ...] | None = None,
    task_hint: str = "",
) -> Dataset:
    """train-* files are required; without t10k-* files a held-out split is made with `seed`."""
    found = {key: find_idx_file(directory, base) for key, base in IDX_FILES.items()}
    missing_train = [
        IDX_FILES[key] for key in IDX_FILES if key[0] == "train" and found[key] is None
    ]
    if missing_train:
        raise DatasetError(
            f"{directory}: not an IDX dataset directory, missing {' and '.join(missing_train)}[.gz] "
            f"(expected train-images-idx3-ubyte, train-labels-idx1-ubyte and optionally t10k-* files)"
        )
    x_train, y_train = read_idx_pair(found["train", "images"], found["train", "labels"])
    test_images, test_labels = found["test", "images"], found["test", "labels"]
    if test_images is None and test_labels is None:
        x_train, y_train, x_test, y_test = held_out_split(
            x_train, y_train.astype(np.int64), seed=seed, test_fraction=test_fraction
        )
    elif test_images is None or test_labels is None:
        missing = (
            IDX_FILES["test", "images"] if test_images is None else IDX_FILES["test", "labels"]
        )
        raise DatasetError(
            f"{directory}: has one t10k file but not {missing}[.gz]; add it or remove both"
        )
    else:
        x_test, y_test = read_idx_pair(test_images, test_labels)
    return image_dataset(
        name,
        x_train,
        y_train,
        x_test,
        y_test,
        source=f"file: {directory}",
        origin=str(directory),
        class_names=class_names,
        title=directory.name,
        task_hint=task_hint,
    )
