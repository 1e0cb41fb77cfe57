"""Image files one at a time, and the row source over them: listing a folder without following
loops or opening anything that is not a regular file, reading headers only (Pillow's Image.open
reads no pixels), and decoding a batch of pixels, resized and converted to RGB or grayscale.

A file that cannot be used raises `Unreadable` with the reason that goes into the run's skipped
list; kerastui.core.datasets.image_folder arranges the files into layouts and splits.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# Headers are read by a few threads: a networked file system (Lustre, GPFS) answers each open
# slowly but in parallel; on a local disk the threads cost little.
HEADER_THREADS = 4
HEADER_CHUNK = 512
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")

# ---------------------------------------------------------------- files, one at a time

class Unreadable(Exception):
    """Why one file cannot be used; its message is the reason in the skipped list."""


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def special_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def os_reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "is a symlink loop (too many levels of symbolic links)"
    if error.errno == errno.ENOENT:
        return "does not exist (removed, or a symlink to nothing)"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    return f"cannot be read ({error.strerror or error})"


def open_regular(path: str) -> Any:
    """The file opened for reading, refused (Unreadable) unless it is a non-empty regular file.
    O_NONBLOCK: a FIFO put where an image was opens at once, instead of waiting for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise Unreadable(os_reason(error)) from None
    try:
        info = os.fstat(fd)
    except OSError as error:
        os.close(fd)
        raise Unreadable(os_reason(error)) from None
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise Unreadable(f"is {special_kind(info.st_mode)}, not a regular file")
    if info.st_size == 0:
        os.close(fd)
        raise Unreadable("is empty (0 bytes)")
    return os.fdopen(fd, "rb")


def image_reason(error: Exception) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(error, Unreadable):
        return str(error)
    if isinstance(error, UnidentifiedImageError):
        return "is not an image Pillow can read (unknown or damaged header)"
    if isinstance(error, Image.DecompressionBombError):
        return f"is too large to decode ({error})"
    return f"could not be decoded ({type(error).__name__}: {error})"


def probe(path: str) -> tuple[int, int]:
    """(width, height) from the image's header; Unreadable saying why not. No pixels are read."""
    from PIL import Image

    with open_regular(path) as handle:
        try:
            with Image.open(handle) as image:
                return image.size
        except Exception as error:  # each format's parser raises its own kinds
            raise Unreadable(image_reason(error)) from None


def in_mode(image: Any, mode: str) -> Any:
    """The image as RGB or L."""
    from PIL import Image

    if image.mode == mode:
        return image
    if image.mode in SIXTEEN_BIT_MODES:
        # Pillow's convert clips 16-bit values at 255; scale them to 8 bits instead.
        image = Image.fromarray((np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8))
    elif image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # what Pillow asks for before such a palette image is converted
    return image if image.mode == mode else image.convert(mode)


def decode(path: str, height: int, width: int, mode: str) -> np.ndarray:
    """One image as uint8 (height, width, channels)."""
    from PIL import Image

    with open_regular(path) as handle, Image.open(handle) as image:
        if image.format == "JPEG":
            # Decoded at 1/2, 1/4 or 1/8 scale when that still covers the size: much faster for photos.
            image.draft(mode, (width, height))
        image = in_mode(image, mode)
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., np.newaxis] if pixels.ndim == 2 else pixels


# ---------------------------------------------------------------- the row source

class ImageFiles:
    """A RowSource over image files: row i is `files[i]` decoded, converted to RGB or L and resized
    to (height, width), as uint8 (N, H, W, C). Thread-safe (each read opens its own files), and it
    pickles as its file list, so batch workers and a Slurm job read the images themselves."""

    def __init__(self, folder: Path, files: list[str], height: int, width: int, color: str,
                 skipped_at_load: list[tuple[str, str]] = ()):
        self.path = Path(folder)
        self.files = list(files)
        self.height, self.width = int(height), int(width)
        self.mode = "L" if color == "grayscale" else "RGB"
        self.shape = (len(self.files), self.height, self.width, 1 if self.mode == "L" else 3)
        self.dtype = np.dtype(np.uint8)
        self.skipped_at_load = list(skipped_at_load)
        # Positions in x_train of the validation rows (val/'s images, or a seeded share when
        # [data] validation_split is set); None: the experiment's fit.validation_split decides.
        self.validation_positions: np.ndarray | None = None
        self.packing, self.key = None, ""  # a RowSource's: images are never CF-packed, nor keyed
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lock"] = None
        state["_failed"] = dict(self._failed)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def check_unchanged(self) -> None:
        pass  # each read opens its files afresh, and an image unreadable now is named then

    def read(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), *self.shape[1:]), dtype=np.uint8)
        for index, row in enumerate(np.asarray(rows, dtype=np.int64)):
            path = self.files[row]
            if path in self._failed:
                continue  # failed once: a zero image again, without another try
            try:
                out[index] = decode(path, self.height, self.width, self.mode)
            except Exception as error:  # any decoder's failure: a run never stops for one image
                with self._lock:
                    self._failed.setdefault(path, image_reason(error))
        return out

    def failed_reads(self) -> list[tuple[str, str]]:
        """Images that failed while batches were read (each given as zeros), with why."""
        with self._lock:
            return list(self._failed.items())

    def skipped(self) -> list[tuple[str, str]]:
        return [*self.skipped_at_load, *self.failed_reads()]


# ---------------------------------------------------------------- listing

@dataclass
class Listing:
    """What a walk found: image files (by suffix, regular), what was skipped and why, and how
    many other files were ignored."""

    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: int = 0


FILE, FOLDER = "file", "folder"


def entry_kind(entry: os.DirEntry) -> str:
    """FILE, FOLDER, or why the entry is neither. Only stat is used (a FIFO is never opened)."""
    try:
        if entry.is_file():
            return FILE
        if entry.is_dir():
            return FOLDER
        return f"is {special_kind(entry.stat().st_mode)}, not a regular file"
    except OSError as error:
        return os_reason(error)


def folder_identity(path: str | os.DirEntry) -> tuple[int, int] | None:
    try:
        info = path.stat() if isinstance(path, os.DirEntry) else os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def sorted_entries(folder: Path, listing: Listing) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as error:
        listing.skipped.append((str(folder), os_reason(error)))
        return []


def walk_images(folder: Path, listing: Listing, seen: set[tuple[int, int]]) -> None:
    """The images under `folder`, subfolders included, in name order."""
    for entry in sorted_entries(folder, listing):
        kind = entry_kind(entry)
        if kind == FILE:
            if is_image_name(entry.name):
                listing.files.append(entry.path)
            else:
                listing.ignored += 1
        elif kind == FOLDER:
            identity = folder_identity(entry)
            if identity in seen:
                listing.skipped.append((entry.path, "is a symlink loop (a folder already listed)"))
                continue
            if identity is not None:
                seen.add(identity)
            walk_images(Path(entry.path), listing, seen)
        elif is_image_name(entry.name) or "symlink loop" in kind:
            listing.skipped.append((entry.path, kind))
        else:
            listing.ignored += 1


@dataclass
class TopLevel:
    """The folder's own entries: subfolders (name -> path), loose image files and CSV files."""

    folders: dict[str, Path]
    images: list[str]
    csv_files: list[Path]
    skipped: list[tuple[str, str]]


def top_level(folder: Path, seen: set[tuple[int, int]]) -> TopLevel:
    listing = Listing()
    folders: dict[str, Path] = {}
    images: list[str] = []
    csv_files: list[Path] = []
    for entry in sorted_entries(folder, listing):
        kind = entry_kind(entry)
        if kind == FOLDER:
            identity = folder_identity(entry)
            if identity in seen:
                listing.skipped.append((entry.path, "is a symlink loop (a folder already listed)"))
                continue
            if identity is not None:
                seen.add(identity)
            folders[entry.name] = Path(entry.path)
        elif kind == FILE and is_image_name(entry.name):
            images.append(entry.path)
        elif kind == FILE and entry.name.lower().endswith(".csv"):
            csv_files.append(Path(entry.path))
        elif "symlink loop" in kind:  # a loose FIFO is as ignored as a loose image; a loop may be a folder
            listing.skipped.append((entry.path, kind))
    return TopLevel(folders, images, csv_files, listing.skipped)


def read_headers(files: list[str]) -> list[tuple[int, int] | str]:
    """Each file's (width, height), or why it cannot be read, in the files' order."""
    def chunk(paths: list[str]) -> list[tuple[int, int] | str]:
        found: list[tuple[int, int] | str] = []
        for path in paths:
            try:
                found.append(probe(path))
            except Unreadable as error:
                found.append(str(error))
        return found

    from PIL import Image

    Image.init()  # every format's plugin registered once, before threads would race to do it
    chunks = [files[start:start + HEADER_CHUNK] for start in range(0, len(files), HEADER_CHUNK)]
    if len(chunks) <= 1:
        return chunk(files)
    with ThreadPoolExecutor(HEADER_THREADS) as pool:
        return [result for part in pool.map(chunk, chunks) for result in part]
