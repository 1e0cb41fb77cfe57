"""Issue 17's bad input that gets past the checks and must still end well: a run trains, and what
it cannot score is said (AUC undefined, and why) rather than crashing; the data changing under a
finished run is named when it is re-evaluated, its evaluation.json kept byte for byte; a task the
user chose reads integers that are no classes as targets; a Keras set missing from the cache is
bad input naming the file to place. The refusals before training are in tests/test_faults.py's
table (test_bad_input_is_exit_2_with_a_message_and_no_run_directory).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_faults import no_traceback, only_run, run_cli, snapshot

RNG = np.random.default_rng(17)
X, X_TEST = RNG.normal(size=(60, 4)).astype(np.float32), RNG.normal(size=(20, 4)).astype(np.float32)


def tiny_npz(path: Path, y_train, y_test, x_train=X, x_test=X_TEST) -> Path:
    np.savez(path, x_train=x_train, y_train=np.asarray(y_train), x_test=x_test, y_test=np.asarray(y_test))
    return path


def train(data: Path, runs: Path, *extra: str) -> dict:
    return run_cli(["train", "--dataset", str(data), "--epochs", "1", "--batch-size", "16", "--plain",
                    "--runs-dir", str(runs), *extra], runs.parent)


@pytest.fixture(scope="module")
def one_class_run(tmp_path_factory) -> tuple[Path, Path]:
    """A binary run whose test split holds negatives only, and its data file."""
    root = tmp_path_factory.mktemp("one-class")
    data = tiny_npz(root / "data.npz", np.arange(60) % 2, np.zeros(20, dtype=int))
    result = train(data, root / "runs")
    assert result["code"] == 0, result["err"]
    no_traceback(result)
    assert "AUC is undefined: the test split has only negatives (0 positives among 20)" in result["out"]
    return only_run(root / "runs"), data


def test_a_binary_test_split_of_one_class_reports_auc_undefined_and_why(one_class_run, tmp_path):
    run_dir, _ = one_class_run
    saved = json.loads((run_dir / "evaluation.json").read_text())
    assert saved["task"] == "binary" and saved["roc_auc"] is None and saved["average_precision"] is None
    assert saved["undefined_reason"] == "AUC is undefined: the test split has only negatives (0 positives among 20)"
    assert saved["confusion"][1] == [0, 0]  # no positives: the matrix is still there
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    result = run_cli(["evaluate", str(copy)], tmp_path)
    assert result["code"] == 0, result["err"]
    assert "AUC is undefined: the test split has only negatives" in result["out"] and "TPR undefined" in result["out"]
    no_traceback(result)


@pytest.mark.parametrize("change, message", [
    ("wider", "the saved model takes samples of shape (4,) but"),
    ("three classes", "does not fit"),
    ("two targets", "read as a regression task (2 targets): the data or the run's task changed"),
])
def test_re_evaluating_on_data_that_changed_names_it_and_keeps_the_evaluation(one_class_run, tmp_path, change, message):
    run_dir, data = one_class_run
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    moved = tmp_path / "data.npz"
    config = copy / "config.toml"
    config.write_text(config.read_text().replace(str(data), str(moved)))
    if change == "wider":
        tiny_npz(moved, np.arange(60) % 2, np.arange(20) % 2, x_train=np.zeros((60, 6), np.float32),
                 x_test=np.zeros((20, 6), np.float32))
    elif change == "three classes":
        tiny_npz(moved, np.arange(60) % 3, np.arange(20) % 3)
    else:
        tiny_npz(moved, RNG.normal(size=(60, 2)).astype(np.float32), RNG.normal(size=(20, 2)).astype(np.float32))
    before = snapshot(copy)
    result = run_cli(["evaluate", str(copy)], tmp_path)
    assert result["code"] == 1, result
    assert message in result["err"], result["err"]
    assert "Input 0" not in result["err"] and "incompatible" not in result["err"]  # Keras's words, not the data's
    no_traceback(result)
    assert snapshot(copy) == before  # the finished run's evaluation.json untouched


def test_task_regression_reads_integer_counts_and_a_constant_as_targets(tmp_path):
    counts = tiny_npz(tmp_path / "counts.npz", RNG.integers(25, 346, 60), RNG.integers(25, 346, 20))
    refused = train(counts, tmp_path / "refused")
    assert refused["code"] == 2 and "choose the regression task if they are counts" in refused["err"]
    assert not (tmp_path / "refused").exists()
    result = train(counts, tmp_path / "runs", "--task", "regression")
    assert result["code"] == 0, result["err"]
    assert "R²" in result["out"]
    constant = tiny_npz(tmp_path / "constant.npz", np.ones(60, np.float32), np.ones(20, np.float32))
    result = train(constant, tmp_path / "constant-runs", "--task", "regression")
    assert result["code"] == 0, result["err"]
    assert "R² is undefined: the test targets are constant" in result["out"]
    saved = json.loads((only_run(tmp_path / "constant-runs") / "evaluation.json").read_text())
    assert saved["task"] == "regression" and saved["r2"] is None and "constant" in saved["undefined_reason"]


@pytest.mark.parametrize("name, file", [("imdb", "imdb.npz"), ("reuters", "reuters.npz"),
                                        ("imdb:maxlen=50", "imdb.npz")])
def test_a_keras_text_set_missing_from_the_cache_is_bad_input_naming_the_file(tmp_path, monkeypatch, name, file):
    home = tmp_path / "keras"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    result = run_cli(["train", "--dataset", name, "--plain", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2
    assert "is not cached and offline (kerastui never downloads)" in result["err"]
    assert f"place {file} at {home / 'datasets' / file}" in result["err"]
    assert len(result["err"].strip().splitlines()) == 1
    no_traceback(result)
    assert not (tmp_path / "runs").exists()


def test_a_damaged_keras_cache_file_says_to_replace_it(tmp_path, monkeypatch):
    home = tmp_path / "keras"
    (home / "datasets").mkdir(parents=True)
    for file in ("imdb.npz", "boston_housing.npz"):
        (home / "datasets" / file).write_bytes(b"<html>not found</html>")
    monkeypatch.setenv("KERAS_HOME", str(home))
    for name in ("imdb", "boston_housing"):
        result = run_cli(["train", "--dataset", name, "--plain", "--runs-dir", str(tmp_path / "runs")], tmp_path)
        assert result["code"] == 2
        assert "may be truncated or damaged: replace it" in result["err"] and "pickled" not in result["err"]
        no_traceback(result)
    assert not (tmp_path / "runs").exists()
