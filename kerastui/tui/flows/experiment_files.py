"""Experiment files (ctrl+s, ctrl+o): the design saved as TOML, or replaced by a file's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from kerastui.core.build_session import read_experiment, refused_fields_refusal
from kerastui.core.problems import MAX_PROBLEMS_IN_DIALOG, bounded
from kerastui.tui.screens.path_dialog import PathDialog

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kerastui.tui.flows.design import DesignFlow
    from kerastui.tui.host import Shell


class ExperimentFiles:
    """The save and open dialogs of the app's design, and what each does with its path."""

    def __init__(self, app: Shell, design: DesignFlow) -> None:
        self.app = app
        self.design = design

    def ask_where_to_save(self) -> None:
        refused = self.design.invalid_fields()
        if refused:
            self.design.refuse(refused_fields_refusal("Not saved", refused))
            return
        self.app.push_screen(PathDialog("Save experiment as TOML", self.app.session.suggested_path(), self.save_to, "Save"))

    def ask_what_to_open(self) -> None:
        self.app.push_screen(PathDialog("Open experiment TOML", self.app.session.suggested_path(), self.open, "Open"))

    def save_to(self, path: str) -> str | None:
        """Save the experiment; the reason it failed, or None."""
        session = self.app.session
        problem = session.save(path)
        if problem is None:
            self.app.notify(f"Saved {session.path}", title="Experiment")
        return problem

    async def open(self, path: str) -> str | None:
        """Load an experiment; the reason it cannot be used, or None. The file is read and checked
        in a thread: a huge or slow file must not freeze the app."""
        if not path.strip():
            return "enter the path of an experiment .toml file"
        target = Path(path).expanduser()
        experiment, problems = await asyncio.to_thread(read_experiment, target)
        if problems or experiment is None:
            return "\n".join(bounded(problems, limit=MAX_PROBLEMS_IN_DIALOG))
        design = self.design
        self.app.session.replace_design(experiment, target)
        design.changed()
        build = design.build_screen()
        if build is not None:
            # Also when the file equals the current experiment: its values replace any refused text.
            build.show_experiment(experiment)
        self.app.notify(f"Opened {target}", title="Experiment")
        return None
