"""Small image folders written in their real formats (JPEG, PNG) for the tests, in a tmp folder.

Each class's images have their own colour (class i: red = 40 + 60 i), so a test can tell which
file a decoded sample came from. Every generator returns the folder it wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 8


def class_colour(index: int) -> tuple[int, int, int]:
    return (40 + 60 * index) % 256, 100, 200


def write_image(path: Path, colour: tuple[int, int, int] = (40, 100, 200), size: tuple[int, int] = (SIDE, SIDE),
                mode: str = "RGB") -> Path:
    """One image of one colour, `size` = (width, height); the suffix picks the format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[...] = colour
    image = Image.fromarray(pixels)
    if mode == "L":
        image = image.convert("L")
    elif mode == "RGBA":
        image = image.convert("RGBA")
        image.putalpha(128)
    elif mode == "P":
        image = image.quantize(colors=4)  # exact colours (no dithering), index 3 marked transparent
        image.info["transparency"] = 3
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image.save(path, quality=95)
    else:
        image.save(path, **({"transparency": 3} if mode == "P" else {}))
    return path


def write_corrupt(path: Path) -> Path:
    """A file named like an image that is none (its header is garbage)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a JPEG at all" * 4)
    return path


def write_truncated(path: Path, side: int = 32) -> Path:
    """A JPEG whose header is whole but whose pixels stop half way: only decoding finds it out
    (noise, so that the pixel data is much longer than the header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def class_folders(root: Path, classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 6,
                  suffix: str = ".jpg", size: tuple[int, int] = (SIDE, SIDE)) -> Path:
    """root/<class>/<class>_<i><suffix>: the class-subfolder layout."""
    for index, name in enumerate(classes):
        for i in range(per_class):
            write_image(root / name / f"{name}_{i}{suffix}", class_colour(index), size)
    return root


def split_folders(root: Path, classes: tuple[str, ...] = ("cat", "dog"), counts: dict[str, int] | None = None,
                  suffix: str = ".png") -> Path:
    """root/train|val|test/<class>/...: the split-folder layout (counts per class in each split)."""
    counts = counts if counts is not None else {"train": 5, "val": 2, "test": 3}
    for split, count in counts.items():
        for index, name in enumerate(classes):
            for i in range(count):
                write_image(root / split / name / f"{split}_{name}_{i}{suffix}", class_colour(index))
    return root


def labelled_folder(root: Path, labels: list[tuple[str, ...]], header: tuple[str, ...] = ("filename", "label"),
                    csv_name: str = "labels.csv", write_images: bool = True) -> Path:
    """root/<file> images with root/labels.csv: one row per image, `labels[i]` = (file, label cells...)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] if header else []
    for i, row in enumerate(labels):
        if write_images and not (root / row[0]).exists():
            write_image(root / row[0], class_colour(i % 4))
        lines.append(",".join(row))
    (root / csv_name).write_text("\n".join(lines) + "\n")
    return root


def grayscale_in_rgb(root: Path) -> Path:
    """A class-folder set of RGB JPEGs with one grayscale JPEG among them."""
    class_folders(root)
    write_image(root / "cat" / "gray.jpg", (90, 90, 90), mode="L")
    return root


def rgba_png(root: Path) -> Path:
    """A class-folder set of PNGs with one RGBA and one palette PNG."""
    class_folders(root, suffix=".png")
    write_image(root / "dog" / "alpha.png", class_colour(1), mode="RGBA")
    write_image(root / "cat" / "palette.png", class_colour(0), mode="P")
    return root


def with_corrupt_file(root: Path) -> Path:
    class_folders(root)
    write_corrupt(root / "dog" / "broken.jpg")
    return root


def empty_class(root: Path) -> Path:
    class_folders(root)
    (root / "bird").mkdir()
    (root / "bird" / "notes.txt").write_text("no images here\n")
    return root


def one_class(root: Path) -> Path:
    return class_folders(root, classes=("cat",))


def with_fifo(root: Path) -> Path:
    class_folders(root)
    os.mkfifo(root / "cat" / "pipe.jpg")  # a reader that opened it would wait for a writer forever
    return root


def with_symlink_loop(root: Path) -> Path:
    class_folders(root)
    os.symlink(root, root / "cat" / "again")  # a folder that leads back to the top
    os.symlink(root / "dog" / "self.jpg", root / "dog" / "self.jpg")  # a link to itself
    return root
