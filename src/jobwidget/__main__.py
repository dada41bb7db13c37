"""Command line of jobwidget: ``jobwidget serve|demo ...`` or ``python -m jobwidget ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(prog="jobwidget", description=__doc__)
    parser.add_argument("--version", action="version", version=f"jobwidget {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", required=True)
    try:
        from .server.cli import add_serve_parser
        from .server.lab import add_demo_parser
    except ImportError as exc:  # the optional `server` extra is missing
        for name in ("serve", "demo"):
            missing = subparsers.add_parser(name, help=f"{name} (needs jobwidget[server])")
            missing.set_defaults(handler=None, missing=str(exc))
    else:
        add_serve_parser(subparsers)
        add_demo_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    if handler is None:
        parser.exit(
            2, f"jobwidget {args.command}: {args.missing}; pip install 'jobwidget[server]'\n"
        )
    status: int = handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
