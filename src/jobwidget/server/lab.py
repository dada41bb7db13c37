"""The ``jobwidget demo`` command: a live demo server plus JupyterLab on the quickstart notebook."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .cli import positive_rate

__all__ = ["add_demo_parser", "demo"]

logger = logging.getLogger(__name__)

#: Environment variable the notebooks read to find a running server instead of embedding one.
URL_VARIABLE = "JOBWIDGET_URL"


def add_demo_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand to a subparsers object."""
    parser = subparsers.add_parser(
        "demo",
        help="run a demo server and JupyterLab on the quickstart notebook",
        description=(
            "Start the reference server with a live demo workload and JupyterLab on the "
            "quickstart notebook, both on loopback, until Ctrl+C."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address of both servers")
    parser.add_argument("--port", type=int, default=8765, help="job server port")
    parser.add_argument("--lab-port", type=int, default=8888, help="JupyterLab port")
    parser.add_argument(
        "--rate", type=positive_rate, default=1.0, help="demo jobs created per second"
    )
    parser.add_argument("--db", default=":memory:", help="SQLite file of the demo queue")
    parser.add_argument(
        "--notebooks", type=Path, default=Path("notebooks"), help="folder of the notebooks"
    )
    parser.add_argument(
        "--notebook", default="01-quickstart.ipynb", help="notebook to open (in --notebooks)"
    )
    parser.set_defaults(handler=demo)


def _lab_command(args: argparse.Namespace, token: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.ip={args.host}",
        f"--ServerApp.port={args.lab_port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={args.notebooks.resolve()}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]


def _wait_for_lab(url: str, lab: subprocess.Popen[bytes], timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and lab.poll() is None:
        try:
            if httpx.get(f"{url}/api/status", timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl+C; return the exit status."""
    from .runner import JobServer

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    notebook = args.notebooks / args.notebook
    if not notebook.is_file():
        logger.error("no notebook at %s (run this from the jobwidget checkout)", notebook)
        return 2
    server = JobServer(host=args.host, port=args.port, db=args.db, demo=args.rate)
    server.start()
    token = secrets.token_hex(16)
    env = {**os.environ, URL_VARIABLE: server.url}
    lab = subprocess.Popen(_lab_command(args, token), env=env)
    lab_url = f"http://{args.host}:{args.lab_port}"
    try:
        if not _wait_for_lab(lab_url, lab):
            logger.error("JupyterLab did not start (is port %s free?)", args.lab_port)
            return 1
        sys.stdout.write(
            f"\n  job server : {server.url}  ({args.rate:g} demo jobs/s)\n"
            f"  JupyterLab : {lab_url}/lab/tree/{args.notebook}?token={token}\n"
            "  Ctrl+C stops both.\n\n"
        )
        sys.stdout.flush()
        return lab.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if lab.poll() is None:
            lab.terminate()
            try:
                lab.wait(10)
            except subprocess.TimeoutExpired:
                lab.kill()
        server.close()
