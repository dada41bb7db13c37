"""Small helpers shared by the network tests: polling for a condition, comparing mirrors."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx

from jobwidget import protocol


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Poll ``predicate`` until it is truthy; fail the test with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")


def server_jobs(url: str, token: str | None = None) -> dict[str, protocol.Job]:
    """Every job the server lists right now, decoded as the client decodes them."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{url}/api/jobs", params={"limit": 0}, headers=headers, timeout=30)
    response.raise_for_status()
    page = protocol.decode_job_list(response.content)
    return {job.id: job for job in page.jobs or []}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
