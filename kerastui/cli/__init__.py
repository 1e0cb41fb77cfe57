"""The `kerastui` command: no subcommand opens the terminal UI; subcommands work headless.

Each subcommand is one module in this package with:

    HELP: str                                            # one line for `kerastui --help`
    def configure(parser: argparse.ArgumentParser) -> None   # add its arguments
    def run(args: argparse.Namespace) -> int                  # do it; return the exit status

and its name in SUBCOMMANDS below. To add `kerastui submit`: write kerastui/cli/submit.py with
those three names and add "submit" to SUBCOMMANDS. Keep heavy imports (keras, the data loaders)
inside `run`, so `kerastui --help` stays instant and never imports TensorFlow.

`run` may raise `kerastui.cli.common.UsageError` for bad input: each of its lines is printed as
an error and the command exits 2. Ctrl+C anywhere exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from kerastui import __version__
from kerastui.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, UsageError, print_error
from kerastui.native_stderr import divert_native_stderr_on_terminal

# Subcommand modules, in the order `--help` lists them.
SUBCOMMANDS = ["train", "runs", "evaluate", "watch", "submit", "sweep", "data", "export", "queue"]


def _subcommand(name: str) -> ModuleType:
    return importlib.import_module(f"kerastui.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerastui",
        description="Design, train and evaluate Keras models from the terminal. "
        "Without a subcommand, opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"kerastui {__version__}")
    parser.add_argument("-e", "--experiment", type=Path, metavar="CONFIG.toml", help="open this experiment in the UI")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = _subcommand(name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error argparse already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        with divert_native_stderr_on_terminal():
            if args.command is None:
                return launch_ui(args.experiment)
            return args.handler(args)
    except UsageError as error:
        for line in error.lines:
            print_error(line)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kerastui: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def launch_ui(experiment: Path | None = None) -> int:
    try:
        from kerastui.tui.app import run_app
    except ImportError as error:
        print_error(f"the terminal UI cannot start here ({error}); the headless commands work: kerastui --help")
        return EXIT_FAILED
    return run_app(str(experiment) if experiment is not None else None)
