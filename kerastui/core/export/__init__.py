"""Hand-off: a run as the plain Keras code that made it, generated from its experiment and saved
preprocessing (never from the model file), in three layouts of the same steps:

  script      one readable .py file: data, preparation, model, compile, fit, evaluation
  notebook    the same steps as cells with a markdown heading each (nbformat)
  submission  a challenge folder: model.py (class Model: load(), predict(X)), the run's weights,
              preprocessing statistics, requirements.txt, and a zip of it

Pieces: source (the run and its data), layer_code (each layer type's Keras code), data_code (each
data source's loader), steps (the one generator of steps), layouts (script, notebook),
submission. ExportError says why a run cannot be exported, or why the place to write is wrong.
Nothing here imports Keras: exporting is reading and writing text.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kerastui.core.export.source import ExportError, RunSource, load_run_source

KINDS = ("script", "notebook", "submission")
SUFFIXES = {"script": ".py", "notebook": ".ipynb"}

__all__ = ["KINDS", "ExportError", "RunSource", "destination_problem", "export", "load_run_source", "preview"]


def destination_problem(path: Path, kind: str, overwrite: bool = False) -> str:
    """Why `path` cannot receive a `kind` export ("" when it can): the kind of what is there is
    checked with os.stat, never by opening it (a FIFO would block)."""
    path = Path(path).expanduser()
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        return f"{path}: cannot be checked ({error.strerror or error})"
    if mode is not None:
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            what = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            return f"{path}: is {what}; name a {'folder' if kind == 'submission' else 'file'} to write"
        if kind == "submission":
            if not stat.S_ISDIR(mode):
                return f"{path}: is a file; a submission is a folder: name a new folder"
            if any(path.iterdir()) and not overwrite:
                return f"{path}: a folder that is not empty; name a new folder (or replace its files: --force)"
        elif stat.S_ISDIR(mode):
            return f"{path}: is a folder; name the {SUFFIXES[kind]} file to write in it (such as {path / ('run' + SUFFIXES[kind])})"
        elif not overwrite:
            return f"{path}: exists; choose another name (or replace it: --force)"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return f"{path}: no folder {parent} to write it in"
    if not os.access(parent, os.W_OK | os.X_OK) or (mode is not None and not os.access(path, os.W_OK)):
        return f"{path}: cannot be written here (no permission in {parent if mode is None else path})"
    if kind == "submission":
        archive = path.with_name(path.name + ".zip")
        if archive.exists() and (not archive.is_file() or not overwrite):
            return f"{archive}: exists (the submission's zip goes there); remove it or name another folder"
    elif path.suffix.lower() != SUFFIXES[kind]:
        return f"{path}: a {kind} is a {SUFFIXES[kind]} file; name it so (such as {path.with_suffix(SUFFIXES[kind]).name})"
    return ""


def preview(source: RunSource, file_name: str = "script.py") -> str:
    """The script's text (what the app shows before writing anything)."""
    from kerastui.core.export.layouts import script_text
    from kerastui.core.export.steps import plan

    return script_text(plan(source), file_name)


def export(source: RunSource, kind: str, path: Path, overwrite: bool = False) -> list[Path]:
    """Write the `kind` export of the run to `path`; the files written. ExportError for a run
    that cannot be expressed or a path that cannot take it (checked before anything is written)."""
    from kerastui.core.atomic import write_bytes_atomic, write_text_atomic
    from kerastui.core.export.steps import plan

    if kind not in KINDS:
        raise ExportError(f"unknown export {kind!r}; choose {', '.join(KINDS)}")
    path = Path(path).expanduser()
    problem = destination_problem(path, kind, overwrite)
    if problem:
        raise ExportError(problem)
    steps = plan(source)
    try:
        if kind == "script":
            from kerastui.core.export.layouts import script_text

            return [write_text_atomic(path, script_text(steps, path.name))]
        if kind == "notebook":
            from kerastui.core.export.layouts import notebook_text

            return [write_text_atomic(path, notebook_text(steps))]
        from kerastui.core.export.submission import submission_files, zip_bytes

        files = submission_files(steps)  # everything made before the first byte is written
        path.mkdir(parents=False, exist_ok=True)
        written = [write_bytes_atomic(path / name, content) for name, content in files.items()]
        written.append(write_bytes_atomic(path.with_name(path.name + ".zip"), zip_bytes(files)))
        return written
    except OSError as error:
        raise ExportError(f"{path}: cannot be written ({error.strerror or error})") from None
