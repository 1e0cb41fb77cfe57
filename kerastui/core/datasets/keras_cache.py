"""The Keras datasets, read straight from the Keras download cache.

`keras.datasets.*.load_data` would import TensorFlow and try the network, so the cached files are
read here with numpy, at the places Keras 3 puts them (keras/src/datasets/*.py and get_file):
  mnist               <keras home>/datasets/mnist.npz
  fashion_mnist       <keras home>/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
  cifar10             <keras home>/datasets/cifar-10-batches-py-target/cifar-10-batches-py/ (Keras >= 3.6)
                      or <keras home>/datasets/cifar-10-batches-py/ (older Keras, or extracted by hand)
  cifar100            <keras home>/datasets/cifar-100-python-target/cifar-100-python/{train,test}
                      (or cifar-100-python/ as older Keras left it)
  imdb                <keras home>/datasets/imdb.npz (+ imdb_word_index.json to show words)
  reuters             <keras home>/datasets/reuters.npz (+ reuters_word_index.json)
  boston_housing      <keras home>/datasets/boston_housing.npz
  california_housing  <keras home>/datasets/california_housing.npz
kerastui never downloads: when a file is missing the message says which one to place where.

The splits are Keras's own: the sets without a test part (reuters, boston_housing,
california_housing) are shuffled with np.random.RandomState(113) and cut at
int(N * (1 - test_fraction)), as load_data(test_split=test_fraction, seed=113) does, whatever the
experiment's seed: the test set is the one Keras users report on. imdb's reviews are shuffled the
same way (seed 113, train then test).

Options, written after the name (kerastui.core.datasets.options): `imdb:maxlen=100,num_words=5000`
  imdb, reuters        maxlen     sequence length: shorter reviews are padded with 0 in front,
                                  longer ones keep their last maxlen words (keras.utils.
                                  pad_sequences with padding and truncating "pre"); default 200
                       num_words  vocabulary size: words ranked num_words - 3 or later become 2
                                  (Keras's oov_char); default 10000
  california_housing   version    "large" (20,640 districts, the default) or "small" (the first 600)
  cifar100             label_mode "fine" (100 classes, the default) or "coarse" (20 superclasses)
Word indices follow Keras's conventions: 0 pads, 1 starts a sequence, 2 is a word outside the
vocabulary, and a word's rank r in the word index is index r + 3.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kerastui.core.datasets.base import (
    IMAGE,
    TABULAR,
    TEXT,
    Dataset,
    DatasetError,
    DatasetInfo,
    image_dataset,
    keras_split,
    tabular_dataset,
    text_dataset,
)
from kerastui.core.datasets.idx import read_idx_pair
from kerastui.core.datasets.npz_file import read_npz_arrays
from kerastui.core.datasets.options import DatasetOption, canonical_name, parse_options, with_defaults

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR100_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
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
CIFAR100_FILES = ("train", "test")
CIFAR100_DIRS = (
    ("cifar-100-python-target", "cifar-100-python"),
    ("cifar-100-python",),
    ("cifar-100-python_extracted", "cifar-100-python"),
)
# Keras's seed for its shuffles and splits (load_data(seed=113)).
KERAS_SEED = 113
# Keras's word index conventions (load_data's start_char, oov_char, index_from).
PAD, START_CHAR, OOV_CHAR, INDEX_FROM = 0, 1, 2, 3

CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# The cifar-100-python meta file's fine_label_names and coarse_label_names, in label order.
CIFAR100_FINE = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
    "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
    "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
    "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)
CIFAR100_COARSE = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
    "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
    "vehicles_1", "vehicles_2",
)
# keras.datasets.reuters.get_label_names(), in label order.
REUTERS_TOPICS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
    "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
    "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail",
    "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)
BOSTON_FEATURES = ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT")
CALIFORNIA_FEATURES = ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude")

SEQUENCE_OPTIONS = (
    DatasetOption("maxlen", 200, "sequence length: padded or truncated in front", minimum=1, maximum=10_000),
    DatasetOption("num_words", 10000, "vocabulary size, the rarer words become 2", minimum=4, maximum=10_000_000),
)


@dataclass(frozen=True)
class KerasSet:
    """What a picker shows about a Keras set without loading it; shapes and sizes may follow its options."""

    name: str
    title: str
    kind: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]  # classes, or the regression target's name
    train_size: int
    test_size: int
    task: str = "multiclass"
    options: tuple[DatasetOption, ...] = ()
    # Sets without a test part: all their samples, split as Keras splits them (test_fraction).
    total: int = 0
    feature_names: tuple[str, ...] = ()
    # The options' effect on the description: (shape, train, test, vocabulary, names) from the options.
    describe: Callable[[KerasSet, dict[str, Any], float], dict[str, Any]] | None = field(default=None, repr=False)

    def described(self, values: dict[str, Any], test_fraction: float) -> dict[str, Any]:
        base: dict[str, Any] = {"input_shape": self.input_shape, "train_size": self.train_size,
                                "test_size": self.test_size, "vocabulary_size": 0,
                                "class_names": self.class_names}
        if self.total:
            cut = int(self.total * (1 - test_fraction))
            base.update(train_size=cut, test_size=self.total - cut)
        if self.describe is not None:
            base.update(self.describe(self, values, test_fraction))
        return base


def _sequences(spec: KerasSet, values: dict[str, Any], test_fraction: float) -> dict[str, Any]:
    return {"input_shape": (int(values["maxlen"]),), "vocabulary_size": int(values["num_words"])}


def _california(spec: KerasSet, values: dict[str, Any], test_fraction: float) -> dict[str, Any]:
    total = 600 if values["version"] == "small" else spec.total
    cut = int(total * (1 - test_fraction))
    return {"train_size": cut, "test_size": total - cut}


def _cifar100(spec: KerasSet, values: dict[str, Any], test_fraction: float) -> dict[str, Any]:
    return {"class_names": CIFAR100_COARSE if values["label_mode"] == "coarse" else CIFAR100_FINE}


KERAS_SETS: dict[str, KerasSet] = {
    s.name: s
    for s in (
        KerasSet("mnist", "MNIST (28x28 handwritten digits)", IMAGE, (28, 28, 1), tuple(str(i) for i in range(10)),
                 60000, 10000),
        KerasSet(
            "fashion_mnist",
            "Fashion-MNIST (28x28 clothing)",
            IMAGE,
            (28, 28, 1),
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
            60000,
            10000,
        ),
        KerasSet("cifar10", "CIFAR-10 (32x32 colour photos)", IMAGE, (32, 32, 3), CIFAR10_NAMES, 50000, 10000),
        KerasSet("cifar100", "CIFAR-100 (32x32 colour photos, 100 classes)", IMAGE, (32, 32, 3), CIFAR100_FINE,
                 50000, 10000,
                 options=(DatasetOption("label_mode", "fine", "fine: 100 classes, coarse: 20 superclasses",
                                        choices=("fine", "coarse")),),
                 describe=_cifar100),
        KerasSet("imdb", "IMDB reviews (sentiment, word indices)", TEXT, (200,), ("negative", "positive"),
                 25000, 25000, task="binary", options=SEQUENCE_OPTIONS, describe=_sequences),
        KerasSet("reuters", "Reuters newswires (46 topics, word indices)", TEXT, (200,), REUTERS_TOPICS,
                 8982, 2246, task="multiclass", options=SEQUENCE_OPTIONS, total=11228, describe=_sequences),
        KerasSet("boston_housing", "Boston housing prices (k$)", TABULAR, (13,), ("median value (k$)",),
                 404, 102, task="regression", total=506, feature_names=BOSTON_FEATURES),
        KerasSet("california_housing", "California housing prices ($)", TABULAR, (8,), ("median value ($)",),
                 16512, 4128, task="regression", total=20640, feature_names=CALIFORNIA_FEATURES,
                 options=(DatasetOption("version", "large", "large: 20,640 districts, small: the first 600",
                                        choices=("large", "small")),),
                 describe=_california),
    )
}
# Sets kept in one .npz at <keras home>/datasets/<file>, and their optional word index.
NPZ_FILES = {
    "mnist": "mnist.npz",
    "imdb": "imdb.npz",
    "reuters": "reuters.npz",
    "boston_housing": "boston_housing.npz",
    "california_housing": "california_housing.npz",
}
WORD_INDEX_FILES = {"imdb": "imdb_word_index.json", "reuters": "reuters_word_index.json"}


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


def _folder_lookup(candidates: list[Path], files: tuple[str, ...], fallback: Path) -> CacheLookup:
    for folder in candidates:
        if all((folder / f).is_file() for f in files):
            return CacheLookup(folder, ())
    # Report against a partly filled folder if there is one, else the plain folder older Keras used.
    partial = [f for f in candidates if any((f / b).is_file() for b in files)]
    folder = partial[0] if partial else fallback
    return CacheLookup(folder, tuple(b for b in files if not (folder / b).is_file()))


def lookup(name: str) -> CacheLookup:
    datasets = cache_dir()
    if name in NPZ_FILES:
        path = datasets / NPZ_FILES[name]
        return CacheLookup(path, () if path.is_file() else (NPZ_FILES[name],))
    if name == "fashion_mnist":
        folder = datasets / "fashion-mnist"
        return CacheLookup(folder, tuple(f for f in FASHION_FILES if not (folder / f).is_file()))
    if name == "cifar100":
        return _folder_lookup([datasets.joinpath(*p) for p in CIFAR100_DIRS], CIFAR100_FILES,
                              datasets / "cifar-100-python")
    return _folder_lookup([datasets.joinpath(*p) for p in CIFAR10_DIRS], CIFAR10_BATCHES,
                          datasets / "cifar-10-batches-py")


def not_cached_reason(name: str, found: CacheLookup) -> str:
    """One line naming the exact file(s) to place and where; kerastui does not download."""
    prefix = f"{name} is not cached and offline (kerastui never downloads)"
    for folder in (keras_home(), cache_dir()):
        if folder.exists() and not folder.is_dir():
            where = "KERAS_HOME" if folder == keras_home() and "KERAS_HOME" in os.environ else "the Keras cache"
            return (f"{prefix}, and {where} ({folder}) is a file, not a directory: point KERAS_HOME at a "
                    f"directory; Keras keeps its datasets in <KERAS_HOME>/datasets")
    if name in NPZ_FILES:
        file = NPZ_FILES[name]
        reason = f"{prefix}: place {file} at {found.location} (download: {KERAS_ORIGIN}{file})"
        if name in WORD_INDEX_FILES:
            words = WORD_INDEX_FILES[name]
            reason += f", and {words} beside it to show samples as words ({KERAS_ORIGIN}{words})"
        return reason
    if name == "fashion_mnist":
        return (
            f"{prefix}: place {', '.join(found.missing)} in {found.location}/ "
            f"(download each from {KERAS_ORIGIN}<file name>)"
        )
    archive, origin = (("cifar-100-python.tar.gz", CIFAR100_ORIGIN) if name == "cifar100"
                       else ("cifar-10-python.tar.gz", CIFAR10_ORIGIN))
    return (
        f"{prefix}: place {', '.join(found.missing)} in {found.location}/ by extracting "
        f"{archive} (download: {origin}) in {found.location.parent}/"
    )


def keras_info(name: str, options: dict[str, Any] | None = None, test_fraction: float = 0.2) -> DatasetInfo:
    """Constants and a cache check: nothing is read."""
    spec = KERAS_SETS[name]
    given = options or {}
    described = spec.described(with_defaults(given, spec.options), test_fraction)
    found = lookup(name)
    return DatasetInfo(
        name=canonical_name(name, given, spec.options),
        title=spec.title,
        kind=spec.kind,
        input_shape=described["input_shape"],
        num_classes=len(described["class_names"]),
        class_names=described["class_names"],
        train_size=described["train_size"],
        test_size=described["test_size"],
        source=f"Keras cache: {found.location}",
        available=found.available,
        unavailable_reason="" if found.available else not_cached_reason(name, found),
        task=spec.task,
        vocabulary_size=described["vocabulary_size"],
    )


def parse_keras_options(name: str, text: str | None) -> dict[str, Any]:
    return parse_options(name, text, KERAS_SETS[name].options)


def load_keras_set(name: str, options: dict[str, Any] | None = None, *, test_fraction: float = 0.2) -> Dataset:
    spec = KERAS_SETS[name]
    given = options or {}
    values = with_defaults(given, spec.options)
    found = lookup(name)
    if not found.available:
        raise DatasetError(not_cached_reason(name, found))
    full_name = canonical_name(name, given, spec.options)
    source = f"Keras cache: {found.location}"
    origin = str(found.location)
    described = spec.described(values, test_fraction)
    if spec.kind == TEXT:
        return _load_sequences(spec, found.location, values, test_fraction, full_name, source)
    if spec.kind == TABULAR:
        x, y = _read_xy(found.location)
        if name == "california_housing" and values["version"] == "small":
            x, y = x[:600], y[:600]
        x_train, y_train, x_test, y_test = keras_split(x, y, test_fraction, KERAS_SEED)
        return tabular_dataset(full_name, x_train, y_train, x_test, y_test, source=source, origin=origin,
                               target_names=spec.class_names, title=spec.title, feature_names=spec.feature_names,
                               task=spec.task)
    if name == "mnist":
        arrays = read_npz_arrays(found.location, optional=())
        x_train, y_train, x_test, y_test = (
            arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
    elif name == "fashion_mnist":
        folder = found.location
        x_train, y_train = read_idx_pair(folder / FASHION_FILES[0], folder / FASHION_FILES[1])
        x_test, y_test = read_idx_pair(folder / FASHION_FILES[2], folder / FASHION_FILES[3])
    elif name == "cifar100":
        label_key = f"{values['label_mode']}_labels"
        x_train, y_train = read_cifar_batch(found.location / "train", label_key, "CIFAR-100")
        x_test, y_test = read_cifar_batch(found.location / "test", label_key, "CIFAR-100")
    else:
        x_train, y_train, x_test, y_test = read_cifar10(found.location)
    dataset = image_dataset(
        full_name,
        x_train,
        y_train,
        x_test,
        y_test,
        source=source,
        origin=origin,
        class_names=described["class_names"],
        title=spec.title,
        task=spec.task,
    )
    if dataset.input_shape != spec.input_shape:
        raise DatasetError(
            f"{found.location}: {name} images should have shape {spec.input_shape}, found {dataset.input_shape}"
        )
    return dataset


# ---------------------------------------------------------------- safe unpickling

class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR batches and the sequences of imdb.npz and reuters.npz are pickles; allow only what
    rebuilds numpy arrays (and Python's lists, ints and bytes, which need no lookup), so a planted
    file cannot run code."""

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            # A numpy integer inside a sequence (a cache file re-saved from numpy lists); builds a number.
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
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


def read_npy(stream: io.BytesIO, where: str) -> np.ndarray:
    """One .npy member. Numbers are read with pickling off; an object array (the ragged lists of
    word indices Keras stores in imdb.npz and reuters.npz, which numpy can only keep as a pickle)
    is read by the numpy-only unpickler instead of np.load(allow_pickle=True), which would run
    whatever a tampered cache file asks. Keras itself reads these files this way."""
    version = np.lib.format.read_magic(stream)
    if version[0] == 1:
        _, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version[0] in (2, 3):
        # numpy has no reader for the 3.0 header; it differs from 2.0 only in the header's text
        # encoding, and its length field is laid out the same.
        _, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise DatasetError(f"{where}: unsupported .npy version {version}")
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    array = _NumpyOnlyUnpickler(stream, encoding="latin1").load()
    if not isinstance(array, np.ndarray):
        raise DatasetError(f"{where}: expected an array, found {type(array).__name__}")
    return array


def read_sequence_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays `keys` of a Keras sequence archive (imdb.npz, reuters.npz)."""
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            missing = [k for k in keys if f"{k}.npy" not in members]
            if missing:
                raise DatasetError(
                    f"{path}: missing array(s) {', '.join(missing)} (found: "
                    f"{', '.join(sorted(m.removesuffix('.npy') for m in members)) or 'none'})"
                )
            for key in keys:
                with archive.open(f"{key}.npy") as raw:
                    arrays[key] = read_npy(io.BytesIO(raw.read()), f"{path} ({key})")
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, TypeError,
            AttributeError) as error:
        raise DatasetError(f"{path}: not a Keras sequence archive ({error}); {DAMAGED}") from None
    return arrays


# What to do about a cached file that cannot be read.
DAMAGED = "the cached file may be truncated or damaged: replace it with a fresh copy of Keras's file"


def _read_xy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """x and y of boston_housing.npz or california_housing.npz (plain numbers, no pickles)."""
    if path.is_file() and not zipfile.is_zipfile(path):
        # np.load would try it as a pickle and speak of "pickled (object) data".
        raise DatasetError(f"{path}: not a .npz archive (a zip of arrays); {DAMAGED}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in ("x", "y") if k not in archive.files]
            if missing:
                raise DatasetError(
                    f"{path}: missing array(s) {', '.join(missing)}; Keras's file holds x and y "
                    f"(found: {', '.join(sorted(archive.files)) or 'none'})"
                )
            return archive["x"], archive["y"]
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(f"{path}: not a readable .npz file of numeric arrays ({error}); {DAMAGED}") from None


# ---------------------------------------------------------------- word sequences

def pad_word_sequences(sequences: Any, maxlen: int, num_words: int, where: str) -> np.ndarray:
    """Keras's ragged lists of word ranks as an int32 (N, maxlen) matrix, as load_data (start_char
    1, oov_char 2, index_from 3, skip_top 0, maxlen None) then keras.utils.pad_sequences(maxlen,
    padding="pre", truncating="pre") make it: each sequence is 1 then its ranks + 3, ranks + 3 >=
    num_words become 2, and the last maxlen tokens are kept, right-aligned after 0s."""
    try:
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        # One pass over Python's ints (the real imdb.npz holds 6 million of them).
        words = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
    except (TypeError, ValueError, OverflowError) as error:
        raise DatasetError(f"{where}: sequences must be lists of whole numbers ({error})") from None
    if words.size and words.min() < 0:
        raise DatasetError(f"{where}: negative word index {int(words.min())}")
    # Column j of row i holds token lengths[i] - (maxlen - 1 - j) of [start, word 1, ..., word L]:
    # negative is padding, 0 the start token, k >= 1 the k-th word. Only kept tokens are touched,
    # a block of rows at a time so the index arrays stay small beside the result.
    out = np.zeros((len(lengths), maxlen), dtype=np.int32)
    starts = np.cumsum(lengths) - lengths
    from_end = np.arange(maxlen - 1, -1, -1)[np.newaxis, :]
    block = max(1, 2_000_000 // maxlen)
    for first in range(0, len(lengths), block):
        rows = slice(first, first + block)
        token = lengths[rows, np.newaxis] - from_end
        part = out[rows]
        part[token == 0] = START_CHAR
        is_word = token >= 1
        kept = words[(starts[rows, np.newaxis] + token - 1)[is_word]] + INDEX_FROM
        kept[kept >= num_words] = OOV_CHAR
        part[is_word] = kept
    return out


def read_index_words(path: Path, num_words: int) -> tuple[tuple[str, ...], str]:
    """index -> word for indices below num_words, from Keras's word index (word -> rank, from 1);
    ((), why) when the file is absent or unreadable: samples then show as numbers."""
    if not path.is_file():
        return (), f"no {path.name}: samples show as word numbers"
    try:
        ranks = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(ranks, dict):
            raise ValueError("not a word -> rank mapping")
        words = ["" for _ in range(num_words)]
        for word, rank in ranks.items():
            index = int(rank) + INDEX_FROM
            if INDEX_FROM <= index < num_words:
                words[index] = str(word)
    except (OSError, ValueError, TypeError) as error:
        return (), f"{path.name} unreadable ({error}): samples show as word numbers"
    words[PAD], words[START_CHAR], words[OOV_CHAR] = "<pad>", "<start>", "<unk>"
    return tuple(words), f"words from {path.name}"


def _load_sequences(spec: KerasSet, path: Path, values: dict[str, Any], test_fraction: float, full_name: str,
                    source: str) -> Dataset:
    maxlen, num_words = int(values["maxlen"]), int(values["num_words"])
    rng = np.random.RandomState(KERAS_SEED)
    if spec.name == "imdb":
        arrays = read_sequence_npz(path, ("x_train", "y_train", "x_test", "y_test"))
        splits = []
        # Keras shuffles the training reviews, then the test reviews, with one generator.
        for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
            x, y = arrays[x_key], arrays[y_key]
            if len(x) != len(y):
                raise DatasetError(f"{path}: {x_key} has {len(x)} reviews but {y_key} {len(y)} labels")
            indices = np.arange(len(x))
            rng.shuffle(indices)
            splits += [x[indices], y[indices]]
        x_train, y_train, x_test, y_test = splits
    else:
        arrays = read_sequence_npz(path, ("x", "y"))
        if len(arrays["x"]) != len(arrays["y"]):
            raise DatasetError(f"{path}: x has {len(arrays['x'])} newswires but y {len(arrays['y'])} labels")
        x_train, y_train, x_test, y_test = keras_split(arrays["x"], arrays["y"], test_fraction, KERAS_SEED)
    where = str(path)
    index_words, words_note = read_index_words(path.with_name(WORD_INDEX_FILES[spec.name]), num_words)
    return text_dataset(
        full_name,
        pad_word_sequences(x_train, maxlen, num_words, where),
        np.asarray(y_train),
        pad_word_sequences(x_test, maxlen, num_words, where),
        np.asarray(y_test),
        source=f"{source} ({words_note}; maxlen {maxlen}, num_words {num_words})",
        origin=where,
        class_names=spec.class_names,
        title=spec.title,
        task=spec.task,
        index_words=index_words,
        vocabulary_size=num_words,
    )


# ---------------------------------------------------------------- CIFAR

def read_cifar_batch(path: Path, label_key: str = "labels", what: str = "CIFAR-10") -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch: {b"data": (N, 3072) uint8, b"<label_key>": [N ints]} -> (N, 32, 32, 3), (N,)."""
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
        raise DatasetError(f"{path}: not a {what} python batch ({error})") from None
    if not isinstance(batch, dict):
        raise DatasetError(
            f"{path}: not a {what} python batch (expected a dict, found {type(batch).__name__})"
        )
    batch = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    missing = [key for key in ("data", label_key) if key not in batch]
    if missing:
        raise DatasetError(f"{path}: {what} batch lacks the key(s) {', '.join(missing)}")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch[label_key])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{path}: {what} data must have shape (N, 3072), found {data.shape}")
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
