"""MNIST, Fashion-MNIST and CIFAR-10 read straight from the Keras download cache.

`keras.datasets.*.load_data` would import TensorFlow and try the network, so the cached files are
read here with numpy, at the places Keras 3 puts them (keras/src/datasets/*.py and get_file):
  mnist          <keras home>/datasets/mnist.npz
  fashion_mnist  <keras home>/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
  cifar10        <keras home>/datasets/cifar-10-batches-py-target/cifar-10-batches-py/ (Keras >= 3.6)
                 or <keras home>/datasets/cifar-10-batches-py/ (older Keras, or extracted by hand)
kerastui never downloads: when a file is missing the message says which one to place where.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from kerastui.core.datasets.base import IMAGE, Dataset, DatasetError, DatasetInfo, image_dataset
from kerastui.core.datasets.idx import read_idx_pair
from kerastui.core.datasets.npz_file import read_npz_arrays

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR10_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CIFAR10_DIRS = (
    ("cifar-10-batches-py-target", "cifar-10-batches-py"),
    ("cifar-10-batches-py",),
    ("cifar-10-batches-py_extracted", "cifar-10-batches-py"),
)


@dataclass(frozen=True)
class KerasSet:
    name: str
    title: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    train_size: int
    test_size: int


KERAS_SETS: dict[str, KerasSet] = {
    s.name: s
    for s in (
        KerasSet(
            "mnist",
            "MNIST (28x28 handwritten digits)",
            (28, 28, 1),
            tuple(str(i) for i in range(10)),
            60000,
            10000,
        ),
        KerasSet(
            "fashion_mnist",
            "Fashion-MNIST (28x28 clothing)",
            (28, 28, 1),
            (
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ),
            60000,
            10000,
        ),
        KerasSet(
            "cifar10",
            "CIFAR-10 (32x32 colour photos)",
            (32, 32, 3),
            (
                "airplane",
                "automobile",
                "bird",
                "cat",
                "deer",
                "dog",
                "frog",
                "horse",
                "ship",
                "truck",
            ),
            50000,
            10000,
        ),
    )
}


def keras_home() -> Path:
    """Where Keras keeps its cache: $KERAS_HOME, else ~/.keras (/tmp/.keras when ~ is read-only)."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    base = Path.home()
    return (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"


def cache_dir() -> Path:
    return keras_home() / "datasets"


@dataclass(frozen=True)
class CacheLookup:
    """Where a Keras set is (or would be) cached, and what is missing there."""

    location: Path
    missing: tuple[str, ...]

    @property
    def available(self) -> bool:
        return not self.missing


def lookup(name: str) -> CacheLookup:
    datasets = cache_dir()
    if name == "mnist":
        path = datasets / "mnist.npz"
        return CacheLookup(path, () if path.is_file() else ("mnist.npz",))
    if name == "fashion_mnist":
        folder = datasets / "fashion-mnist"
        return CacheLookup(folder, tuple(f for f in FASHION_FILES if not (folder / f).is_file()))
    candidates = [datasets.joinpath(*parts) for parts in CIFAR10_DIRS]
    for folder in candidates:
        if all((folder / batch).is_file() for batch in CIFAR10_BATCHES):
            return CacheLookup(folder, ())
    # Report against a partly filled folder if there is one, else the plain folder older Keras used.
    partial = [f for f in candidates if any((f / b).is_file() for b in CIFAR10_BATCHES)]
    folder = partial[0] if partial else datasets / "cifar-10-batches-py"
    return CacheLookup(folder, tuple(b for b in CIFAR10_BATCHES if not (folder / b).is_file()))


def not_cached_reason(name: str, found: CacheLookup) -> str:
    """One line naming the exact file(s) to place and where; kerastui does not download."""
    prefix = f"{name} is not cached and offline (kerastui never downloads)"
    for folder in (keras_home(), cache_dir()):
        if folder.exists() and not folder.is_dir():
            where = "KERAS_HOME" if folder == keras_home() and "KERAS_HOME" in os.environ else "the Keras cache"
            return (f"{prefix}, and {where} ({folder}) is a file, not a directory: point KERAS_HOME at a "
                    f"directory; Keras keeps its datasets in <KERAS_HOME>/datasets")
    if name == "mnist":
        return f"{prefix}: place mnist.npz at {found.location} (download: {KERAS_ORIGIN}mnist.npz)"
    if name == "fashion_mnist":
        return (
            f"{prefix}: place {', '.join(found.missing)} in {found.location}/ "
            f"(download each from {KERAS_ORIGIN}<file name>)"
        )
    return (
        f"{prefix}: place {', '.join(found.missing)} in {found.location}/ by extracting "
        f"cifar-10-python.tar.gz (download: {CIFAR10_ORIGIN}) in {found.location.parent}/"
    )


def keras_info(name: str) -> DatasetInfo:
    spec = KERAS_SETS[name]
    found = lookup(name)
    return DatasetInfo(
        name=name,
        title=spec.title,
        kind=IMAGE,
        input_shape=spec.input_shape,
        num_classes=len(spec.class_names),
        class_names=spec.class_names,
        train_size=spec.train_size,
        test_size=spec.test_size,
        source=f"Keras cache: {found.location}",
        available=found.available,
        unavailable_reason="" if found.available else not_cached_reason(name, found),
    )


def load_keras_set(name: str) -> Dataset:
    spec = KERAS_SETS[name]
    found = lookup(name)
    if not found.available:
        raise DatasetError(not_cached_reason(name, found))
    if name == "mnist":
        arrays = read_npz_arrays(found.location)
        x_train, y_train, x_test, y_test = (
            arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
    elif name == "fashion_mnist":
        folder = found.location
        x_train, y_train = read_idx_pair(folder / FASHION_FILES[0], folder / FASHION_FILES[1])
        x_test, y_test = read_idx_pair(folder / FASHION_FILES[2], folder / FASHION_FILES[3])
    else:
        x_train, y_train, x_test, y_test = read_cifar10(found.location)
    dataset = image_dataset(
        name,
        x_train,
        y_train,
        x_test,
        y_test,
        source=f"Keras cache: {found.location}",
        origin=str(found.location),
        class_names=spec.class_names,
        title=spec.title,
    )
    if dataset.input_shape != spec.input_shape:
        raise DatasetError(
            f"{found.location}: {name} images should have shape {spec.input_shape}, found {dataset.input_shape}"
        )
    return dataset


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR batches are pickles; allow only what rebuilds numpy arrays, so a planted file cannot run code."""

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            # Python 3 writes bytes as _codecs.encode(text, "latin1") under protocol 2; harmless.
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> type:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch: {b"data": (N, 3072) uint8, b"labels": [N ints]} -> (N, 32, 32, 3), (N,)."""
    try:
        with path.open("rb") as stream:
            batch = _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
    ) as error:
        raise DatasetError(f"{path}: not a CIFAR-10 python batch ({error})") from None
    if not isinstance(batch, dict):
        raise DatasetError(
            f"{path}: not a CIFAR-10 python batch (expected a dict, found {type(batch).__name__})"
        )
    batch = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    missing = [key for key in ("data", "labels") if key not in batch]
    if missing:
        raise DatasetError(f"{path}: CIFAR-10 batch lacks the key(s) {', '.join(missing)}")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{path}: CIFAR-10 data must have shape (N, 3072), found {data.shape}")
    if len(labels) != len(data):
        raise DatasetError(f"{path}: {len(data)} images but {len(labels)} labels")
    # Stored channel-first (N, 3, 32, 32); Keras layers expect channels last.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_cifar10(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    train = [read_cifar_batch(folder / batch) for batch in CIFAR10_BATCHES[:-1]]
    x_test, y_test = read_cifar_batch(folder / CIFAR10_BATCHES[-1])
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test
