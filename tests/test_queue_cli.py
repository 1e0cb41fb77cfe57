"""`kerastui queue`: lists the local runs waiting or training and cancels them; bad input exits 2."""

from __future__ import annotations

from dataclasses import replace

from test_cli import TINY

from kerastui.cli import main
from kerastui.core.launcher import prepare_local_run
from kerastui.core.queue_runner import QueueRunner
from kerastui.core.run_queue import RunQueue
from kerastui.core.runs import RunWriter, read_status


def _queued(runs, name):
    return prepare_local_run(replace(TINY, name=name, backend="jax"), runs, name=name)


def test_lists_the_queue_in_order_and_cancels_a_queued_run(tmp_path, capsys):
    runs = tmp_path / "runs"
    first, second = _queued(runs, "first"), _queued(runs, "second")
    RunWriter(_queued(runs, "done")).set_status("finished")
    queue = RunQueue(runs)
    holder = QueueRunner(runs)  # holds the queue as its runner would: nothing starts in this test
    assert holder.acquire()
    try:
        queue.add(first)
        queue.add(second)
        assert main(["queue", "--runs-dir", str(runs)]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[-1] for line in lines] == [first.name, second.name]  # the finished one is not queued
        assert main(["queue", "--runs-dir", str(runs), "--cancel", second.name]) == 0
        assert "cancelled" in capsys.readouterr().out
        assert read_status(second) == "cancelled" and read_status(first) == "queued"
        assert [e.run for e in queue.entries()] == [first], "off the queue: its runner never starts it"
    finally:
        holder.release()


def test_bad_input_is_a_clear_message_and_exit_2(tmp_path, capsys):
    runs = tmp_path / "runs"
    queued = _queued(runs, "waiting")
    RunWriter(_queued(runs, "done")).set_status("finished")
    assert main(["queue", "--runs-dir", str(runs), "--cancel", "done", "--cancel", queued.name]) == 2
    assert "done is finished, not queued or running" in capsys.readouterr().err
    assert read_status(queued) == "queued", "nothing is cancelled when one name is bad"
    assert main(["queue", "--runs-dir", str(runs), "--cancel", "nosuchrun"]) == 2
    assert "no run 'nosuchrun'" in capsys.readouterr().err
    for blank in ("", "  "):  # an empty name is not the current folder
        assert main(["queue", "--runs-dir", str(runs), "--cancel", blank]) == 2
        assert "the run's name is empty" in capsys.readouterr().err
    assert main(["queue", "--runs-dir", str(runs), "--cancel", str(tmp_path)]) == 2  # a folder, not a run
    assert "is not a run directory" in capsys.readouterr().err
    assert read_status(queued) == "queued"
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert main(["queue", "--runs-dir", str(a_file)]) == 2
    assert main(["queue", "--runs-dir", str(tmp_path / "empty")]) == 0
    assert "empty" in capsys.readouterr().out
