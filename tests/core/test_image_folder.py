"""Image folders as streamed data sets: each layout, conversions, skipped files, bad input.

Folders are tiny (8x8 images, under 50 files) and written by tests/image_files.py. Batches are
read the way the batch loader reads them (x.take); one slow test trains a tiny model for an epoch.
"""

from __future__ import annotations

import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from kerastui.core.data import load_dataset
from kerastui.core.datasets.base import DatasetError
from kerastui.core.datasets.image_folder import (
    SKIPPED_FILE,
    class_counts,
    folder_summary,
    is_image_folder,
    skipped_images,
    write_skipped,
)
from kerastui.core.datasets.settings import DataSettings
from kerastui.core.datasets.streamed import StreamedArray
from tests import image_files


def load(path: Path, **settings) -> object:
    return load_dataset(str(path), seed=3, settings=DataSettings(**settings))


def red_of(pixels: np.ndarray) -> np.ndarray:
    """Each sample's mean red value in 0..255 (the fixtures colour each class its own red)."""
    return np.round(pixels[..., 0].mean(axis=(1, 2)) * 255)


def all_of(x: StreamedArray) -> np.ndarray:
    return x.take(np.arange(len(x)))


# ---------------------------------------------------------------- layouts

def test_class_folders_name_the_classes_and_stream_their_images(tmp_path):
    folder = image_files.class_folders(tmp_path / "pets", classes=("dog", "cat", "eel"), per_class=5)
    data = load(folder)
    assert data.class_names == ("cat", "dog", "eel")  # sorted folder names
    assert isinstance(data.x_train, StreamedArray) and data.x_train.shape == (12, 8, 8, 3)
    assert data.x_test.shape == (3, 8, 8, 3) and data.input_shape == (8, 8, 3) and data.kind == "image"
    assert np.array_equal(np.bincount(data.y_test), [1, 1, 1])  # stratified
    # Each sample's colour is its class folder's: labels and files stay paired through the split.
    expected = np.array([image_files.class_colour(i)[0] for i in (1, 0, 2)])  # cat, dog, eel written as 1, 0, 2
    assert np.array_equal(red_of(all_of(data.x_train)), expected[data.y_train])
    again = load(folder)
    assert np.array_equal(all_of(again.x_test), all_of(data.x_test))  # the seeded split is the same


def test_split_folders_give_train_val_and_test_with_val_last_in_x_train(tmp_path):
    folder = image_files.split_folders(tmp_path / "splits", counts={"train": 4, "val": 2, "test": 3})
    data = load(folder)
    assert (len(data.x_train), len(data.x_test)) == (8 + 4, 6)
    given = data.x_train.source.validation_positions
    assert np.array_equal(given, np.arange(8, 12))
    files = [data.x_train.source.files[r] for r in data.x_train.rows[given]]
    assert all("/val/" in f for f in files)
    assert all("/test/" in data.x_test.source.files[r] for r in data.x_test.rows)
    assert class_counts(data) == {"train": {"cat": 4, "dog": 4}, "val": {"cat": 2, "dog": 2},
                                  "test": {"cat": 3, "dog": 3}}


def test_split_folders_without_test_hold_out_a_seeded_share_of_train(tmp_path):
    folder = image_files.split_folders(tmp_path / "splits", counts={"train": 5, "validation": 2})
    data = load_dataset(str(folder), seed=1, test_fraction=0.2)
    assert (len(data.x_train), len(data.x_test)) == (8 + 4, 2)
    assert all("/train/" in data.x_test.source.files[r] for r in data.x_test.rows)
    assert len(data.x_train.source.validation_positions) == 4


def test_validation_split_setting_picks_a_seeded_share_without_val_folder(tmp_path):
    data = load(image_files.class_folders(tmp_path / "pets", per_class=10), validation_split=0.25)
    given = data.x_train.source.validation_positions
    assert len(given) == 4 and given.max() < len(data.x_train)
    again = load(tmp_path / "pets", validation_split=0.25)
    assert np.array_equal(again.x_train.source.validation_positions, given)
    assert load(tmp_path / "pets").x_train.source.validation_positions is None  # fit.validation_split decides


@pytest.mark.parametrize(("rows", "header", "task", "names"), [
    ([(f"im{i}.png", "cat dog".split()[i % 2]) for i in range(10)], ("filename", "label"), "binary", ("cat", "dog")),
    ([(f"im{i}.png", str(i % 3)) for i in range(12)], ("file", "class"), "multiclass", ("0", "1", "2")),
    ([(f"im{i}.png", str(i % 2), str(i // 2 % 2)) for i in range(12)], ("image", "sunny", "windy"), "multilabel",
     ("sunny", "windy")),
    ([(f"im{i}.png", f"{i * 0.5}") for i in range(10)], ("path", "weight"), "regression", ("weight",)),
], ids=["class-names", "class-numbers", "multilabel", "regression"])
def test_labels_file_beside_the_images(tmp_path, rows, header, task, names):
    folder = image_files.labelled_folder(tmp_path / "flat", rows, header)
    data = load(folder)
    assert data.task == task and data.class_names == names
    assert len(data.x_train) + len(data.x_test) == len(rows)
    assert folder_summary(folder)["layout"] == "labels file"


def test_labels_file_named_in_data_table_with_ids_without_suffix_and_chosen_columns(tmp_path):
    folder = tmp_path / "photos"
    for i in range(10):
        image_files.write_image(folder / f"p{i}.jpg", image_files.class_colour(i % 2))
    lines = ["id,notes,species"] + [f"p{i},seen {i},{'ab'[i % 2]}" for i in range(10)]
    (tmp_path / "meta.csv").write_text("\n".join(lines) + "\n")  # beside the folder, not in it
    data = load(folder, labels="meta.csv", y="species")
    assert data.class_names == ("a", "b") and data.task == "binary"
    assert np.array_equal(red_of(all_of(data.x_train)), [image_files.class_colour(y)[0] for y in data.y_train])


# ---------------------------------------------------------------- pixels

def test_grayscale_jpeg_in_an_rgb_set_is_converted(tmp_path):
    data = load(image_files.grayscale_in_rgb(tmp_path / "mixed"))
    source = data.x_train.source
    row = source.files.index(str(tmp_path / "mixed" / "cat" / "gray.jpg"))
    pixels = source.read(np.array([row]))[0]
    assert pixels.shape == (8, 8, 3) and pixels.dtype == np.uint8
    assert np.all(pixels[..., 0] == pixels[..., 1]) and abs(int(pixels.mean()) - 90) <= 2


def test_rgba_and_palette_pngs_are_converted_and_grayscale_is_one_channel(tmp_path):
    folder = image_files.rgba_png(tmp_path / "pngs")
    data = load(folder)
    source = data.x_train.source
    alpha = source.read(np.array([source.files.index(str(folder / "dog" / "alpha.png"))]))[0]
    palette = source.read(np.array([source.files.index(str(folder / "cat" / "palette.png"))]))[0]
    assert alpha.shape == palette.shape == (8, 8, 3)
    assert tuple(alpha[0, 0]) == image_files.class_colour(1) and tuple(palette[0, 0]) == image_files.class_colour(0)
    gray = load(folder, color="grayscale")
    assert gray.x_train.shape[1:] == (8, 8, 1) and gray.input_shape == (8, 8, 1)


def test_image_size_setting_and_the_default_rule(tmp_path):
    folder = image_files.class_folders(tmp_path / "wide", per_class=3, size=(300, 150))
    assert load(folder).input_shape == (128, 256, 3)  # the most common size, its longer side down to 256
    resized = load(folder, image_size=(20, 10))
    assert resized.input_shape == (20, 10, 3) and resized.x_test[0].shape == (20, 10, 3)
    assert folder_summary(folder)["sizes_seen"] == [[150, 300, 6]]


def test_a_batch_read_through_take_is_scaled_to_unit_range_also_after_pickling(tmp_path):
    data = load(image_files.class_folders(tmp_path / "pets", per_class=8))
    positions = np.array([5, 0, 9, 0])
    batch = data.x_train.take(positions)
    assert batch.dtype == np.float32 and batch.shape == (4, 8, 8, 3)
    assert 0.0 <= batch.min() and batch.max() <= 1.0 and batch.max() > 0.5
    assert np.array_equal(batch[1], batch[3])
    copy = pickle.loads(pickle.dumps(data.x_train))  # what a process worker or a job gets
    assert np.array_equal(copy.take(positions), batch)
    with ThreadPoolExecutor(4) as pool:  # the loader's threads read the same source at once
        parallel = list(pool.map(data.x_train.take, [positions] * 8))
    assert all(np.array_equal(p, batch) for p in parallel)


# ---------------------------------------------------------------- skipped files

def test_corrupt_file_is_skipped_listed_and_written_to_the_run(tmp_path):
    folder = image_files.with_corrupt_file(tmp_path / "pets")
    data = load(folder)
    assert len(data.x_train) + len(data.x_test) == 12
    broken = str(folder / "dog" / "broken.jpg")
    assert skipped_images(data) == [(broken, "is not an image Pillow can read (unknown or damaged header)")]
    assert folder_summary(folder)["skipped_count"] == 1 and "1 skipped" in data.source
    run = tmp_path / "run"
    run.mkdir()
    written = write_skipped(run, data)
    assert written == run / SKIPPED_FILE and f"{broken}\tis not an image" in written.read_text()


def test_nothing_written_when_nothing_was_skipped(tmp_path):
    data = load(image_files.class_folders(tmp_path / "pets"))
    assert skipped_images(data) == [] and write_skipped(tmp_path, data) is None
    assert not (tmp_path / SKIPPED_FILE).exists()


def test_an_image_that_fails_to_decode_in_a_batch_is_zeros_and_listed(tmp_path):
    folder = image_files.class_folders(tmp_path / "pets")
    truncated = image_files.write_truncated(folder / "cat" / "half.jpg")  # its header reads fine
    data = load(folder)
    source = data.x_train.source
    row = source.files.index(str(truncated))
    pixels = source.read(np.array([row, 0]))
    assert not pixels[0].any() and pixels[1].any()
    ((file, why),) = skipped_images(data)
    assert file == str(truncated) and "could not be decoded" in why
    os.remove(folder / "dog" / "dog_0.jpg")  # removed mid-run: the same
    source.read(np.array([source.files.index(str(folder / "dog" / "dog_0.jpg"))]))
    assert skipped_images(data)[-1] == (str(folder / "dog" / "dog_0.jpg"),
                                        "does not exist (removed, or a symlink to nothing)")


@pytest.mark.timeout(20)
def test_a_fifo_in_a_class_folder_is_skipped_without_being_opened(tmp_path):
    data = load(image_files.with_fifo(tmp_path / "pets"))
    assert skipped_images(data) == [(str(tmp_path / "pets" / "cat" / "pipe.jpg"),
                                     "is a FIFO (named pipe), not a regular file")]


@pytest.mark.timeout(20)
def test_symlink_loops_are_skipped_and_the_walk_ends(tmp_path):
    data = load(image_files.with_symlink_loop(tmp_path / "pets"))
    reasons = dict(skipped_images(data))
    assert "symlink loop" in reasons[str(tmp_path / "pets" / "cat" / "again")]
    assert "symlink loop" in reasons[str(tmp_path / "pets" / "dog" / "self.jpg")]
    assert len(data.x_train) + len(data.x_test) == 12


def test_non_image_files_are_ignored_not_counted_as_skipped(tmp_path):
    folder = image_files.class_folders(tmp_path / "pets")
    (folder / "cat" / "README.txt").write_text("notes")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "dog" / "._dog_0.jpg").write_bytes(b"apple double")  # hidden: ignored too
    data = load(folder)
    assert skipped_images(data) == [] and folder_summary(folder)["ignored_count"] == 1


# ---------------------------------------------------------------- bad input

def only_text(root: Path) -> None:
    root.mkdir()
    (root / "a.txt").write_text("x")


def loose_images(root: Path) -> None:
    image_files.write_image(root / "a.jpg")
    image_files.write_image(root / "b.jpg")


def class_of_a_fifo(root: Path) -> None:
    image_files.class_folders(root)
    (root / "bird").mkdir()
    os.mkfifo(root / "bird" / "only.jpg")


def class_of_a_corrupt_file(root: Path) -> None:
    image_files.class_folders(root)
    image_files.write_corrupt(root / "bird" / "x.png")


def val_class_not_in_train(root: Path) -> None:
    image_files.split_folders(root)
    image_files.write_image(root / "val" / "eel" / "e.png")


def splits_and_other_folders(root: Path) -> None:
    image_files.split_folders(root)
    image_files.write_image(root / "misc" / "m.png")


def without_train(root: Path) -> None:
    image_files.split_folders(root, counts={"test": 2})


def csv_naming_missing_files(root: Path) -> None:
    rows = [("a.png", "cat"), ("b.png", "dog"), ("gone.png", "cat"), ("lost.jpg", "dog")]
    image_files.labelled_folder(root, rows, write_images=False)
    image_files.write_image(root / "a.png")
    image_files.write_image(root / "b.png")


def csv_of_one_label(root: Path) -> None:
    image_files.labelled_folder(root, [(f"{i}.png", "cat") for i in range(4)])


BAD_FOLDERS = {
    "empty-class": (image_files.empty_class, r"class folder bird/ holds no images \(1 other files, ignored\)"),
    "one-class": (image_files.one_class, r"one class folder only \(cat/\); a classifier needs at least two"),
    "no-images": (only_text, r"holds no images \(nor IDX files\).*train-images-idx3-ubyte"),
    "loose-images": (loose_images, r"holds 2 images but no labels: put them in one subfolder per class, or add a "
                                   r"labels.csv"),
    "fifo-only": (class_of_a_fifo, r"class folder bird/ holds no images; skipped: .*only.jpg is a FIFO"),
    "corrupt-only": (class_of_a_corrupt_file,
                     r"class folder bird/ holds no readable images: all 1 were skipped \(.*x.png is not an image"),
    "unknown-val-class": (val_class_not_in_train, r"val/ has class folders that train/ has not \(eel/\)"),
    "mixed-splits": (splits_and_other_folders, r"mixes split folders .* with other folders \(misc/\)"),
    "no-train": (without_train, r"has test/ but no train/ folder"),
    "missing-files": (csv_naming_missing_files, r"labels.csv: names 2 files that do not exist in .*: gone.png, lost.jpg"),
    "one-label": (csv_of_one_label, r"every image has label 'cat' \(column 'label'\)"),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("case", list(BAD_FOLDERS))
def test_bad_folders_are_named(tmp_path, case):
    make, complaint = BAD_FOLDERS[case]
    folder = tmp_path / "data"
    make(folder)
    with pytest.raises(DatasetError, match=complaint) as caught:
        load(folder)
    assert str(folder) in str(caught.value)


@pytest.mark.parametrize(("settings", "complaint"), [
    ({"y": "species"}, r"has no column 'species' \(\[data\] y, the labels\); its columns: filename, label"),
    ({"x": "picture"}, r"has no column 'picture' \(\[data\] x, the file names\)"),
    ({"labels": "nowhere.csv"}, r"\[data\] labels: no such file .*nowhere.csv"),
    ({"x_test": "x"}, r"\[data\] x_test is for array files"),
    ({"axes": (0, 2, 1, 3)}, r"\[data\] axes is for array files"),
])
def test_settings_that_do_not_fit_a_labels_file_are_named(tmp_path, settings, complaint):
    folder = image_files.labelled_folder(tmp_path / "flat", [(f"{i}.png", "ab"[i % 2]) for i in range(6)])
    with pytest.raises(DatasetError, match=complaint):
        load(folder, **settings)


def test_labels_file_without_a_file_column(tmp_path):
    folder = tmp_path / "flat"
    image_files.write_image(folder / "a.png")
    (folder / "labels.csv").write_text("code,label\nA1,cat\nB2,dog\n")
    with pytest.raises(DatasetError, match=r"which column holds the image file names\?.*its columns: code, label"):
        load(folder)


def test_column_settings_on_class_folders_are_refused(tmp_path):
    with pytest.raises(DatasetError, match=r"\[data\] y names a column of a labels CSV"):
        load(image_files.class_folders(tmp_path / "pets"), y="label")


def test_idx_directories_stay_idx(tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    assert not is_image_folder(tmp_path / "idx")
    assert is_image_folder(image_files.class_folders(tmp_path / "pets"))


# ---------------------------------------------------------------- summary

def test_folder_summary_counts_classes_and_offers_thumbnails_without_decoding(tmp_path):
    folder = image_files.split_folders(tmp_path / "splits", counts={"train": 4, "test": 2})
    image_files.write_corrupt(folder / "train" / "cat" / "bad.png")
    summary = folder_summary(folder)
    assert summary["layout"] == "train/val/test folders" and summary["class_names"] == ["cat", "dog"]
    assert summary["counts"] == {"train": {"cat": 4, "dog": 4}, "test": {"cat": 2, "dog": 2}}
    assert summary["image_count"] == 12 and summary["skipped_count"] == 1 and summary["image_size"] == [8, 8]
    assert len(summary["sample_files"]["dog"]) == 3 and all(Path(f).is_file() for f in summary["sample_files"]["dog"])


def test_a_labels_file_named_relative_is_found_beside_or_inside_the_folder(tmp_path):
    from kerastui.core.datasets.image_folder import labels_file_path

    folder = image_files.labelled_folder(tmp_path / "flat", [(f"{i}.png", "ab"[i % 2]) for i in range(6)],
                                         csv_name="tags.csv")
    assert labels_file_path(folder, "tags.csv") == folder / "tags.csv"
    assert load(folder, labels="tags.csv").class_names == ("a", "b")
    (tmp_path / "tags.csv").write_text((folder / "tags.csv").read_text())
    assert labels_file_path(folder, "tags.csv") == tmp_path / "tags.csv"  # beside wins, as for every data file


@pytest.mark.timeout(20)
def test_a_fifo_named_in_the_labels_file_is_skipped_once_with_its_row(tmp_path):
    folder = image_files.labelled_folder(tmp_path / "flat", [(f"{i}.png", "ab"[i % 2]) for i in range(6)])
    os.mkfifo(folder / "pipe.png")
    with open(folder / "labels.csv", "a") as labels:
        labels.write("pipe.png,a\n")
    data = load(folder)
    assert skipped_images(data) == [(str(folder / "pipe.png"), "is a FIFO (named pipe), not a regular file")]
    assert len(data.y_train) + len(data.y_test) == 6


# ---------------------------------------------------------------- training (a tiny model, one epoch)

@pytest.mark.slow
def test_training_reads_val_folder_as_validation_and_survives_a_broken_image(tmp_path):
    from dataclasses import replace

    from kerastui.core.events import TrainingFinished, TrainingStarted
    from kerastui.core.spec import FitSettings, preset_experiment
    from kerastui.core.train import Trainer

    folder = image_files.split_folders(tmp_path / "pets", counts={"train": 6, "val": 3, "test": 2})
    image_files.write_corrupt(folder / "train" / "cat" / "broken.jpg")  # skipped at load
    truncated = image_files.write_truncated(folder / "train" / "dog" / "half.jpg")  # fails in a batch
    data = load(folder)
    experiment = replace(preset_experiment("mlp", str(folder), data.input_shape, data.num_classes,
                                           data_task=data.task),
                         fit=FitSettings(epochs=1, batch_size=4, validation_split=0.5))
    events = []
    result = Trainer(experiment, data, listeners=[events.append]).run()
    started = next(e for e in events if isinstance(e, TrainingStarted))
    assert (started.train_samples, started.validation_samples) == (13, 6)  # val/, not fit's 0.5
    assert isinstance(events[-1], TrainingFinished), result
    reasons = dict(skipped_images(data))
    assert "is not an image" in reasons[str(folder / "train" / "cat" / "broken.jpg")]
    assert "could not be decoded" in reasons[str(truncated)]
