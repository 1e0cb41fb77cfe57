"""A run directory has one writer: finished work is never written into again, a second writer is
refused naming the holder, a submitted run is not submitted twice, and the writer's lock tells
followers whether it still lives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import TINY

from kerastui.core import spec
from kerastui.core.runs import LOCK_FILE, RunClaimError, RunWriter, writer_alive, writer_lock_held

REPO = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str], cwd: Path) -> dict:
    """`kerastui ARGV` in this process, its output captured."""
    import contextlib
    import io

    from kerastui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.is_file() and p.name != LOCK_FILE}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    config = root / "tiny.toml"
    spec.save(TINY, config)
    result = run_cli(["train", str(config), "--epochs", "1", "--runs-dir", str(root / "r"), "--plain"], root)
    assert result["code"] == 0, result["err"]
    (run_dir,) = [p for p in (root / "r").iterdir() if p.is_dir()]
    return run_dir


def test_training_into_a_finished_run_is_refused_and_changes_nothing(finished_run, tmp_path):
    before = snapshot(finished_run)
    result = run_cli(["train", str(finished_run / "config.toml"), "--run-dir", str(finished_run), "--plain"], tmp_path)
    assert result["code"] == 2
    assert "has already finished" in result["err"] and str(finished_run) in result["err"]
    assert snapshot(finished_run) == before  # byte for byte: model, metrics, evaluation, config, status


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    run_dir = RunWriter.create(TINY, root=tmp_path / "runs", name="held").path
    RunWriter(run_dir).set_status("queued")
    holder = RunWriter.open(run_dir, TINY)  # this process trains into it
    try:
        before = snapshot(run_dir)
        config = tmp_path / "tiny.toml"
        spec.save(TINY, config)
        result = subprocess.run(
            [sys.executable, "-m", "kerastui", "train", str(config), "--run-dir", str(run_dir), "--plain"],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert "being written by another process" in result.stderr and f"pid {os.getpid()}" in result.stderr
        assert snapshot(run_dir) == before
        assert writer_lock_held(run_dir) is True and writer_alive(run_dir) is True
    finally:
        holder.close()
    assert writer_lock_held(run_dir) is False and writer_alive(run_dir) is False  # released with its writer


def test_claiming_in_process_is_refused_too(tmp_path):
    run_dir = RunWriter.create(TINY, root=tmp_path / "runs", name="twice").path
    first = RunWriter(run_dir)
    first.claim()
    try:
        with pytest.raises(RunClaimError, match="being written by another process"):
            RunWriter(run_dir).claim()
    finally:
        first.close()
    second = RunWriter(run_dir)
    second.claim()  # free again once the first writer closed
    second.close()


def test_submit_prepared_refuses_a_run_that_already_has_a_job(tmp_path, capsys):
    run_dir = RunWriter.create(TINY, root=tmp_path / "runs", name="submitted").path
    writer = RunWriter(run_dir)
    writer.set_status("submitted")
    writer.update_info(slurm_job_id="4242")
    before = snapshot(run_dir)
    from kerastui.cli import main

    assert main(["submit", "--prepared", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "job 4242" in err and "not a prepared run" in err
    assert snapshot(run_dir) == before


# ---- bad input that reached a traceback or was silently accepted (issue 11) ------------------------


def test_a_toml_with_non_utf8_bytes_is_bad_input_naming_the_file(tmp_path):
    config = tmp_path / "latin1.toml"
    config.write_bytes(b'name = "caf\xe9"\n')
    result = run_cli(["train", str(config), "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2
    assert str(config) in result["err"] and "not UTF-8" in result["err"] and "Traceback" not in result["err"]
    assert not (tmp_path / "runs").exists()


def test_an_empty_dataset_option_is_bad_input_not_digits(tmp_path):
    result = run_cli(["train", "--dataset", "", "--runs-dir", str(tmp_path / "runs")], tmp_path)
    assert result["code"] == 2 and "--dataset is empty" in result["err"]
    assert not (tmp_path / "runs").exists()


def test_a_run_named_like_an_impossible_time_does_not_hide_the_others(finished_run, tmp_path):
    import shutil

    from kerastui.core.runs import list_runs

    root = tmp_path / "runs"
    shutil.copytree(finished_run, root / finished_run.name)
    odd = root / "20261399-256199-odd"
    odd.mkdir()
    (odd / "status").write_text("finished\n")
    names = {r.name for r in list_runs(root)}
    assert names == {finished_run.name, odd.name}
    result = run_cli(["runs", "--runs-dir", str(root)], tmp_path)
    assert result["code"] == 0 and "Traceback" not in result["err"]
