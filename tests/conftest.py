"""Fixtures shared by the network tests: real reference servers on 127.0.0.1 and fast clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jobwidget.backoff import Backoff
from jobwidget.client import QueueClient
from jobwidget.server import JobServer, run_in_thread

#: Client timings shrunk for tests: backoff 0.1 s doubling to 0.5 s, poll 0.3 s, relist 1 s.
FAST: dict[str, Any] = {
    "backoff": Backoff(initial=0.1, maximum=0.5, min_gap=0.1),
    "poll_interval": 0.3,
    "relist_interval": 1.0,
    "timeout": 5.0,
}


@pytest.fixture
def server() -> Iterator[JobServer]:
    """A reference server in normal mode with an in-memory database."""
    with run_in_thread(port=0, workers=4, stats_interval=0.5) as srv:
        yield srv


@pytest.fixture
def quirks_server() -> Iterator[JobServer]:
    """A reference server that behaves like the upstream Go server on the wire."""
    with run_in_thread(port=0, workers=4, quirks="upstream", stats_interval=0.5) as srv:
        yield srv


@pytest.fixture
def make_client() -> Iterator[Callable[..., QueueClient]]:
    """Build clients with test timings; every client is closed at the end of the test."""
    clients: list[QueueClient] = []

    def make(url: str, **options: Any) -> QueueClient:
        client = QueueClient(url, **{**FAST, **options})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
