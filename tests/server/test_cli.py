"""``jobwidget serve`` as a real process: starts, serves demo jobs, stops cleanly on SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from jobwidget.__main__ import main

from ..helpers import free_port
from .conftest import WAIT, wait_for


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2, headers={"Authorization": "Bearer t0k"})
    except httpx.TransportError:
        return None


def test_serve_process_with_demo_and_token(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "cli.sqlite3"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "jobwidget", "serve", "--port", str(port), "--db", str(db)),
            *("--demo", "20", "--workers", "2", "--token", "t0k"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/jobs"
        wait_for(lambda: (r := _get(url)) is not None and r.json()["total_count"] >= 3, WAIT)
        assert httpx.get(url, timeout=WAIT).status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stdout is not None
    with proc.stdout:
        output = proc.stdout.read().decode()
    assert f"serving http://127.0.0.1:{port}" in output
    assert "GET /api/jobs" not in output  # access log is quiet
    assert db.exists()


def test_help_and_bad_arguments() -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        main(["serve", "--quirks", "downstream"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["serve", "--workers", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main([])
