"""Shared fixtures for the UI tests: an app factory with a temporary runs directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# UI-B's scripted fakes (tests/tui/fakes.py); pytest puts this folder on sys.path.
from fakes import FakeLauncher, FakeRunExperiment, FakePreviewer

from kerastui.tui.app import KerasTUI


@pytest.fixture
def fake_run() -> FakeRunExperiment:
    return FakeRunExperiment(steps=3)


@pytest.fixture
def fake_launcher(tmp_path: Path, fake_run: FakeRunExperiment) -> FakeLauncher:
    return FakeLauncher(fake_run, tmp_path / "runs")


@pytest.fixture
def make_app(tmp_path: Path, fake_launcher: FakeLauncher) -> Callable[..., KerasTUI]:
    """KerasTUI with runs under tmp_path, the scripted trainer's launcher and an instant stand-in Keras.

    Pass previewer=KerasPreviewer() for tests that need the real Keras (model summaries).
    """

    def make(**overrides: Any) -> KerasTUI:
        options: dict[str, Any] = {
            "runs_root": tmp_path / "runs",
            "launcher": fake_launcher,
            "previewer": FakePreviewer(),
        }
        options.update(overrides)
        return KerasTUI(**options)

    return make
