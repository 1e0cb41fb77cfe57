"""`kerastui data PATH`: the inspection printed (arrays, labels, the sample as its kind), exit 0;
bad input exit 2 with the message and no traceback; the drawing helpers on their own."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from rich.console import Console

from kerastui.cli import main
from kerastui.cli.data_drawing import heat_map_text, image_text, inspection_renderables, signal_text
from kerastui.core.datasets.inspect import GRID, IMAGE, SIGNAL, Sample, inspect_path
from tests.core.test_inspect import sea_level_grid, strain, write_hdf5, write_netcdf3, write_netcdf4


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["data", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains(capsys):
    assert main(["data", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--axes" in out and "50 GB" in out and "Exit status" in out


def test_hdf5_table_labels_and_signal(tmp_path, capsys):
    x, y = strain(40)
    x[2, 0, 5] = np.nan
    path = write_hdf5(tmp_path / "strain.h5", strain=x, flag=y)
    code, out, err = run(capsys, str(path), "--x", "strain", "--y", "flag", "--width", "100")
    assert code == 0, err
    assert "strain" in out and "(40, 2, 200)" in out and "float32" in out
    row = next(line for line in out.splitlines() if line.startswith("strain "))
    assert row.split()[-5:-3] == ["1", "0"] and "all 40 rows" in row  # one NaN, no inf, read whole
    assert "binary" in out and "50.0%" in out and "█" in out  # the class balance
    assert "signal: 200 steps × 2 channels" in out and "ch 0" in out and "ch 1" in out
    assert "--axes 0,2,1" in out  # channels first: the note says how to turn it
    assert "\x1b[" not in out  # not a terminal: no colour
    code, out, _ = run(capsys, str(path), "--x", "strain", "--y", "flag", "--axes", "0,2,1", "--sample", "1")
    assert code == 0 and "sample 1 of strain  label 1" in out and "--axes 0,2,1" not in out


def test_netcdf4_grid_as_a_heat_map(tmp_path, capsys):
    path = write_netcdf4(tmp_path / "sea.nc", sea_level_grid())
    code, out, err = run(capsys, str(path), "--x", "sla", "--y", "trend", "--width", "110")
    assert code == 0, err
    assert "time, lat, lon" in out and " m " in out and "regression" in out
    assert "grid: 12 × 24" in out and "NaN: blank" in out
    drawn = out[out.index("grid: 12 × 24"):].splitlines()[1:7]
    assert all(len(line) == 24 for line in drawn) and any(" " in line for line in drawn)  # the land mask


def test_netcdf3_npy_and_npz(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4)).astype(np.float32)
    code, out, _ = run(capsys, str(write_netcdf3(tmp_path / "c.nc", x, np.arange(30) % 3)))
    assert code == 0 and "NetCDF-3" in out and "multiclass" in out and "tabular: 4 values" in out
    np.save(tmp_path / "frames.npy", rng.integers(0, 255, size=(5, 12, 12), dtype=np.uint8))
    code, out, _ = run(capsys, str(tmp_path / "frames.npy"))
    assert code == 0 and "image: 12 × 12" in out and "no labels found" in out
    np.savez(tmp_path / "d.npz", x_train=rng.random((20, 6)), y_train=rng.random(20))
    code, out, _ = run(capsys, str(tmp_path / "d.npz"))
    assert code == 0 and "regression" in out and " – " in out  # a histogram of the targets


def test_a_builtin(capsys):
    code, out, _ = run(capsys, "digits")
    assert code == 0 and "x_train" in out and "image: 8 × 8" in out and "multiclass" in out and "builtin" not in out


@pytest.mark.parametrize("case", ["missing", "fifo", "empty", "loop", "key", "axes", "sample"])
def test_bad_input_exits_2_without_a_traceback(tmp_path, capsys, case):
    path = tmp_path / "data.h5"
    args = [str(path)]
    if case == "fifo":
        os.mkfifo(path)
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "loop":
        (tmp_path / "other").symlink_to(path)
        path.symlink_to(tmp_path / "other")
    elif case in ("key", "axes", "sample"):
        write_hdf5(path, strain=np.zeros((3, 2, 5), np.float32))
        args += {"key": ["--x", "signal"], "axes": ["--axes", "0,x"], "sample": ["--sample", "9"]}[case]
    code, out, err = run(capsys, *args)
    assert code == 2 and "Traceback" not in err and err.startswith("kerastui: error: ")
    expected = {"missing": "no such file", "fifo": "FIFO", "empty": "empty", "loop": "symbolic link",
                "key": "strain (3, 2, 5)", "axes": "--axes", "sample": "sample 9 is outside"}[case]
    assert expected in err


# ---------------------------------------------------------------- the drawing helpers

def rendered(renderable, width: int = 80, colour: bool = True) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=colour, color_system="truecolor" if colour else None)
    console.print(renderable)
    return buffer.getvalue()


def test_images_fit_the_width_in_half_blocks():
    sample = Sample(IMAGE, np.arange(64 * 200, dtype=np.float64).reshape(64, 200) % 256, 0.0, 255.0, "x", 0)
    text = image_text(sample, width=60, colour=True)
    lines = text.plain.splitlines()
    assert max(len(line) for line in lines) <= 60 and set(text.plain) <= {"▀", "\n"}
    assert "\x1b[38;2;" in rendered(text, 80)  # top pixel colours
    small = image_text(Sample(IMAGE, np.eye(8), 0.0, 1.0, "x", 0), width=80, colour=False)
    assert len(small.plain.splitlines()[0]) == 32  # an 8x8 image is enlarged by whole pixels


def test_heat_map_has_a_scale_and_marks_missing_cells():
    grid = np.linspace(-1, 1, 40 * 10).reshape(10, 40)
    grid[0:2, 0:3] = np.nan
    sample = Sample(GRID, grid, -1.0, 1.0, "sla", 0)
    plain = heat_map_text(sample, width=80, colour=False).plain
    assert plain.splitlines()[0].startswith("   ") and plain.splitlines()[-1].startswith("-1 ")
    assert "NaN" in plain
    assert "\x1b[38;2;" in rendered(heat_map_text(sample, width=80, colour=True))


def test_signal_lines_per_channel():
    t = np.linspace(0, 6, 5000)
    sample = Sample(SIGNAL, np.stack([np.sin(t), np.cos(t)], axis=1), -1.0, 1.0, "strain", 0)
    plain = signal_text(sample, width=70, colour=False).plain
    assert "ch 0" in plain and "ch 1" in plain and max(len(line) for line in plain.splitlines()) <= 70
    coloured = signal_text(sample, width=70, colour=True)
    assert "━━ ch 1" in coloured.plain


def test_the_whole_inspection_renders_narrow(tmp_path):
    x, y = strain(10)
    found = inspect_path(write_hdf5(tmp_path / "s.h5", x=x, y=y))
    for colour in (True, False):
        out = "".join(rendered(part, width=60, colour=colour) for part in inspection_renderables(found, 60, colour))
        assert "x" in out and "binary" in out
