"""Web pages of other origins cannot drive a local server; DNS rebinding is refused."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from jobwidget.server import JobServer

EVIL = "https://evil.example"


def test_requests_from_other_origins_are_refused(server: JobServer) -> None:
    created = httpx.post(
        f"{server.url}/api/jobs", json={"name": "from a web page"}, headers={"Origin": EVIL}
    )
    assert created.status_code == 403
    assert "other origins" in created.text
    assert httpx.get(f"{server.url}/api/jobs").json()["total_count"] == 0  # nothing happened
    local = httpx.get(f"{server.url}/api/jobs", headers={"Origin": "http://127.0.0.1:8888"})
    assert local.status_code == 200  # a page served from this machine is fine
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url, origin=Origin(EVIL)).close()
    assert refused.value.response.status_code == 403


def test_dns_rebinding_is_refused(server: JobServer) -> None:
    r = httpx.get(f"{server.url}/api/jobs", headers={"Host": f"rebound.example:{server.port}"})
    assert r.status_code == 403
    assert "loopback" in r.text
    assert httpx.get(f"http://localhost:{server.port}/api/jobs/stats").status_code == 200


def test_quirks_mode_is_as_open_as_upstream(quirks_server: JobServer) -> None:
    r = httpx.get(f"{quirks_server.url}/api/jobs", headers={"Origin": EVIL})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
