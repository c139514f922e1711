"""The ``patarm`` command line. Each subcommand is a module of ``patarm.workflow.commands`` that
defines ``register(subparsers)`` (adds its parser and sets ``func``); new commands need no
change here."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from .._core import __version__
from .._optional import MissingDependency
from . import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patarm",
        description="PaTaRM judge data, rewards and evaluation (Rust core).",
    )
    parser.add_argument("--version", action="version", version=f"patarm {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MissingDependency as exc:
        # An optional package is missing: its one line says which and the pip command.
        print(f"patarm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        # Caller mistakes (bad files, bad options) get one clear line, not a traceback.
        print(f"patarm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
