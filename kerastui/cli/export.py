"""Write a run as the plain Keras code that reproduces it, without kerastui.

  kerastui export RUN --script FILE.py         one readable script: data, model, compile, fit, evaluation
  kerastui export RUN --notebook FILE.ipynb    the same steps as notebook cells with markdown headings
  kerastui export RUN --submission DIR         a challenge submission: model.py (class Model: load(),
                                               predict(X)), the run's weights, its preprocessing
                                               statistics, requirements.txt, and DIR.zip

The code is generated from the run's config.toml and its saved preprocessing, and the data is read
from where the run read it (the paths are written into the code, to change on another machine).
Existing files are kept unless --force. A run that cannot be written as Keras code says why (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kerastui.cli.common import EXIT_OK, UsageError, resolve_run

HELP = "write a run as a plain Keras script, notebook or challenge submission"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="run directory, its name under the runs dir, a unique part of it, or 'latest'")
    parser.add_argument("--script", type=Path, metavar="FILE.py", help="write the run as one Python script")
    parser.add_argument("--notebook", type=Path, metavar="FILE.ipynb", help="write the run as a Jupyter notebook")
    parser.add_argument("--submission", type=Path, metavar="DIR", help="write a challenge submission folder (and DIR.zip)")
    parser.add_argument("--force", action="store_true", help="replace files that exist already")
    parser.add_argument("--runs-dir", type=Path, metavar="DIR", help="default $KERASTUI_RUNS_DIR or ./runs")


def run(args: argparse.Namespace) -> int:
    from kerastui.core.export import ExportError, destination_problem, export, load_run_source

    wanted = [(kind, getattr(args, kind)) for kind in ("script", "notebook", "submission") if getattr(args, kind)]
    if not wanted:
        raise UsageError("say what to write: --script FILE.py, --notebook FILE.ipynb or --submission DIR")
    # Every destination is checked before the run is read or anything is written.
    problems = [problem for kind, path in wanted if (problem := destination_problem(path, kind, args.force))]
    if problems:
        raise UsageError("\n".join(problems))
    path = resolve_run(args.run, args.runs_dir)
    try:
        source = load_run_source(path)
        for kind, destination in wanted:
            written = export(source, kind, destination, overwrite=args.force)
            print(f"{kind}: {written[0] if kind != 'submission' else destination} "
                  + (f"({', '.join(p.name for p in written)})" if kind == "submission" else ""), flush=True)
    except ExportError as error:
        raise UsageError(str(error)) from None
    return EXIT_OK
