"""Fixtures for the reference-server tests (servers come from tests/conftest.py): readers, waits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from jobwidget.server import JobServer

#: Generous: two shared, noisy cores.
WAIT = 20.0

#: A crawl that finishes quickly.
FAST = {"pages": 5, "page_delay": 0.01, "fail_rate": 0.0}
#: A crawl that runs for about 30 s unless cancelled.
SLOW = {"pages": 300, "page_delay": 0.1, "fail_rate": 0.0}


def wait_for(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Frames:
    """A WebSocket client reading every frame on a thread into a list."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.conn: ClientConnection = connect(url, open_timeout=WAIT, **kwargs).__enter__()
        self.frames: list[dict[str, Any]] = []
        self.closed: ConnectionClosed | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                frame = json.loads(self.conn.recv())
                with self._lock:
                    self.frames.append(frame)
        except ConnectionClosed as exc:
            self.closed = exc

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.frames)

    def of(self, kind: str, job_id: str | None = None) -> list[dict[str, Any]]:
        """Frames of one type (and of one job)."""
        return [
            f
            for f in self.snapshot()
            if f["type"] == kind and (job_id is None or f["payload"].get("job_id") == job_id)
        ]

    def wait(self, pred: Callable[[dict[str, Any]], bool], what: str = "frame") -> dict[str, Any]:
        """The first frame matching ``pred``, waiting for it."""
        return wait_for(lambda: next((f for f in self.snapshot() if pred(f)), None), what=what)

    def wait_status(self, job_id: str, status: str) -> dict[str, Any]:
        return self.wait(
            lambda f: (
                f["type"] == "job_status_change"
                and f["payload"]["job_id"] == job_id
                and f["payload"]["status"] == status
            ),
            what=f"{status} frame of {job_id}",
        )

    def close(self) -> None:
        self.conn.close()
        self._thread.join(WAIT)


@contextmanager
def reading(srv: JobServer) -> Iterator[Frames]:
    """A :class:`Frames` reader of ``srv``, registered by the server before it is handed out."""
    reader = Frames(srv.ws_url)
    wait_for(lambda: srv.ws_clients >= 1, what="client registered")
    yield reader
    reader.close()


@pytest.fixture
def http(server: JobServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=WAIT) as client:
        yield client


@pytest.fixture
def frames(server: JobServer) -> Iterator[Frames]:
    with reading(server) as reader:
        yield reader


def wait_status(http: httpx.Client, job_id: str, *statuses: str) -> dict[str, Any]:
    """Poll ``GET /api/jobs/{id}`` until the job has one of ``statuses``; return it."""

    def check() -> dict[str, Any] | None:
        job: dict[str, Any] = http.get(f"/api/jobs/{job_id}").json()
        return job if job["status"] in statuses else None

    result: dict[str, Any] = wait_for(check, what=f"job {job_id} {statuses}")
    return result
