"""The ``jobwidget serve`` command: run the reference job server in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType

__all__ = ["add_serve_parser", "positive_rate", "serve"]

logger = logging.getLogger(__name__)


def positive_rate(text: str) -> float:
    """argparse type: a float > 0 (jobs per second)."""
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("the demo rate must be > 0 jobs per second")
    return value


def _workers(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("--workers must be at least 1")
    return value


def add_serve_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` subcommand to a subparsers object."""
    parser = subparsers.add_parser(
        "serve",
        help="run the reference job server",
        description="Run the reference job server (REST + WebSocket) until Ctrl+C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: a free one)")
    parser.add_argument(
        "--db", default="jobwidget.sqlite3", help="SQLite file, or :memory: (default %(default)s)"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("JOBWIDGET_TOKEN") or None,
        help="bearer token required on every call (default: $JOBWIDGET_TOKEN)",
    )
    parser.add_argument("--workers", type=_workers, default=4, help="jobs running at once")
    parser.add_argument(
        "--demo",
        type=positive_rate,
        default=None,
        metavar="RATE",
        help="create RATE demo jobs per second",
    )
    parser.add_argument(
        "--quirks", choices=["upstream"], default=None, help="behave like the upstream Go server"
    )
    parser.add_argument("--log-level", default="info", help="logging level (default info)")
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until SIGINT or SIGTERM; return the exit status."""
    from .runner import JobServer

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("binding %s: the server is reachable from other machines", args.host)
    server = JobServer(
        host=args.host,
        port=args.port,
        db=args.db,
        token=args.token,
        workers=args.workers,
        demo=args.demo,
        quirks=args.quirks,
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    logger.info(
        "serving %s (db %s, %d workers%s%s)",
        server.url,
        args.db,
        args.workers,
        f", demo {args.demo}/s" if args.demo else "",
        ", upstream quirks" if args.quirks else "",
    )
    try:
        while not done.wait(0.5):
            if not server.running:
                logger.error("the server stopped unexpectedly")
                return 1
    finally:
        server.close()
    return 0
