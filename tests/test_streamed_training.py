"""Training and evaluating from a streamed file: `kerastui train` on an HDF5 file with its own keys,
re-evaluation with the run's saved statistics, and a file larger than the memory allowed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kerastui.cli import main
from tests.array_files import signals, write_hdf5

pytestmark = pytest.mark.slow

CONFIG = """\
name = "streamed"
dataset = "{dataset}"

[data]
x = "strain"
y = "flag"
axes = [0, 2, 1]
standardize = "per_feature"

[[layers]]
type = "Flatten"

[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"

[compile]
loss = "binary_crossentropy"
learning_rate = 0.01

[fit]
epochs = 2
batch_size = 16
"""


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One HDF5 run, trained by the CLI, shared by the tests below."""
    root = tmp_path_factory.mktemp("streamed")
    x, y = signals(160)
    write_hdf5(root / "strain.h5", strain=x, flag=y)
    config = root / "streamed.toml"
    config.write_text(CONFIG.format(dataset=root / "strain.h5"))
    code = main(["train", str(config), "--runs-dir", str(root / "runs"), "--plain"])
    assert code == 0
    (run_dir,) = (root / "runs").iterdir()
    return run_dir, x, y


def test_a_run_trains_from_hdf5_keys_and_saves_the_training_statistics(trained_run):
    run_dir, x, _ = trained_run
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert evaluation["positives"] + evaluation["negatives"] == 32  # the held-out fifth of 160
    assert evaluation["roc_auc"] > 0.8  # the bump is easy to find once the scale of 1e-21 is standardised
    saved = json.loads((run_dir / "preprocessing.json").read_text())
    assert saved["standardize"] == "per_feature" and saved["axes"] == [0, 2, 1]
    assert len(saved["mean"]) == 2 and abs(saved["deviation"][0] - 1.4e-21) < 1e-21
    assert 'x = "strain"' in (run_dir / "config.toml").read_text()


def test_re_evaluation_applies_the_saved_statistics_and_gives_the_same_scores(trained_run, capsys):
    run_dir, _, _ = trained_run
    before = json.loads((run_dir / "evaluation.json").read_text())
    assert main(["evaluate", str(run_dir)]) == 0
    after = json.loads((run_dir / "evaluation.json").read_text())
    assert after["roc_auc"] == pytest.approx(before["roc_auc"])
    assert after["test_loss"] == pytest.approx(before["test_loss"], rel=1e-5)


def test_a_missing_key_is_exit_2_with_the_keys_listed_and_no_run_made(tmp_path, capsys):
    x, y = signals(40)
    write_hdf5(tmp_path / "strain.h5", strain=x, flag=y)
    config = tmp_path / "bad.toml"
    config.write_text(CONFIG.format(dataset=tmp_path / "strain.h5").replace('x = "strain"', 'x = "strains"'))
    assert main(["train", str(config), "--runs-dir", str(tmp_path / "runs"), "--plain"]) == 2
    err = capsys.readouterr().err
    assert "no array or variable 'strains'" in err and "strain (40, 2, 32) float32" in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


LIMITED_CHILD = textwrap.dedent("""
    import resource, sys
    import h5py, keras, numpy as np
    # The framework's own mappings first (XLA reserves its address space when it first runs):
    # the limit then bounds what the data may add.
    warm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    warm.compile("adam", "mse")
    warm.fit(np.zeros((8, 4)), np.zeros((8, 1)), verbose=0)
    from kerastui.cli import main
    size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    limit = size + int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    code = main(["train", sys.argv[1], "--runs-dir", sys.argv[3], "--plain"])
    try:
        with h5py.File(sys.argv[4]) as handle:
            handle["images"][:]
        print("read whole")
    except MemoryError:
        print("reading it whole is refused")
    sys.exit(code)
""")


def test_a_file_larger_than_the_memory_allowed_trains(tmp_path):
    """x holds 1.6 GB (a chunked HDF5 dataset of fill values beyond its first rows, so the file
    itself is small); once Keras is up, the child may map only 1 GB more: reading x whole is
    refused, and streaming it trains and evaluates."""
    import h5py

    samples, side = 25_000, 128
    rng = np.random.default_rng(0)
    with h5py.File(tmp_path / "big.h5", "w") as handle:
        images = handle.create_dataset("images", shape=(samples, side, side), dtype="float32",
                                       chunks=(64, side, side), fillvalue=0.5)
        images[:256] = rng.random((256, side, side), dtype=np.float32)
        handle["kind"] = (np.arange(samples) % 2).astype(np.int64)
    headroom = 1_000_000_000
    assert samples * side * side * 4 > 1.5 * headroom
    config = tmp_path / "big.toml"
    config.write_text(textwrap.dedent("""\
        dataset = "big.h5"
        backend = "jax"
        [data]
        x = "images"
        y = "kind"
        [[layers]]
        type = "GlobalAveragePooling2D"
        [[layers]]
        type = "Dense"
        units = 1
        activation = "sigmoid"
        [compile]
        loss = "binary_crossentropy"
        [fit]
        epochs = 1
        batch_size = 512
        validation_split = 0.1
        """))
    env = {**os.environ, "KERAS_BACKEND": "jax", "MALLOC_ARENA_MAX": "2"}
    result = subprocess.run([sys.executable, "-c", LIMITED_CHILD, str(config), str(headroom), str(tmp_path / "runs"),
                             str(tmp_path / "big.h5")], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "reading it whole is refused" in result.stdout
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert json.loads((run_dir / "evaluation.json").read_text())["positives"] > 0


def test_the_data_table_can_be_given_as_options_and_bad_ones_are_named(tmp_path, capsys):
    x, y = signals(60)
    write_hdf5(tmp_path / "strain.h5", strain=x, flag=y)
    common = ["train", "--dataset", str(tmp_path / "strain.h5"), "--x", "strain", "--y", "flag",
              "--runs-dir", str(tmp_path / "runs"), "--plain", "--epochs", "1"]
    assert main([*common, "--axes", "0,2,1", "--standardize", "per_sample"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    from kerastui.core import spec

    stored = spec.load(run_dir / "config.toml").data
    assert (stored.x, stored.y, stored.axes, stored.standardize) == ("strain", "flag", (0, 2, 1), "per_sample")
    capsys.readouterr()
    assert main([*common, "--axes", "0,x", "--standardize", "zscore"]) == 2
    err = capsys.readouterr().err
    assert "--axes '0,x': give whole numbers" in err
    assert main([*common, "--standardize", "zscore"]) == 2
    assert "--standardize 'zscore': allowed: auto, none, per_sample, per_feature" in capsys.readouterr().err
