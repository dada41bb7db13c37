"""Persistence across restarts (same object and a new process's worth of state) and token auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from jobwidget.server import JobServer, run_in_thread

from .conftest import FAST, SLOW, WAIT, Frames, wait_for, wait_status


def test_restart_keeps_jobs_and_fails_running_ones(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.sqlite3")
    with run_in_thread(port=0, db=path, workers=1) as srv:
        with httpx.Client(base_url=srv.url, timeout=WAIT) as http:
            done = http.post("/api/jobs", json={"name": "done", "config": FAST}).json()["id"]
            wait_status(http, done, "completed")
            running = http.post("/api/jobs", json={"name": "long", "config": SLOW}).json()["id"]
            wait_status(http, running, "running")
            queued = http.post("/api/jobs", json={"name": "queued", "config": FAST}).json()["id"]
            wait_for(
                lambda: http.get(f"/api/jobs/{running}").json()["progress"]["completed_urls"] > 0
            )
            before = http.get(f"/api/jobs/{done}").json()
            logs_before = http.get(f"/api/jobs/{done}/logs").json()["logs"]
        srv.stop()
        srv.start()
        with httpx.Client(base_url=srv.url, timeout=WAIT) as http:
            assert http.get(f"/api/jobs/{done}").json() == before
            assert http.get(f"/api/jobs/{done}/logs").json()["logs"] == logs_before
            failed = http.get(f"/api/jobs/{running}").json()
            assert failed["status"] == "failed"
            assert failed["error"] == "server restarted"
            assert failed["progress"]["completed_urls"] > 0
            wait_status(http, queued, "completed")  # pending jobs run after the restart
    # a brand-new server (a new process) on the same file sees the same jobs
    with run_in_thread(port=0, db=path) as again:
        listed = httpx.get(f"{again.url}/api/jobs", timeout=WAIT).json()
        assert listed["total_count"] == 3
        names = [job["name"] for job in listed["jobs"]]
        assert names == ["queued", "long", "done"]


def test_memory_db_survives_stop_start(server: JobServer) -> None:
    job_id = server.create_job(name="kept", config=FAST)
    server.stop()
    server.start()
    body = httpx.get(f"{server.url}/api/jobs/{job_id}", timeout=WAIT).json()
    assert body["name"] == "kept"


@pytest.fixture
def secured() -> Iterator[JobServer]:
    with run_in_thread(port=0, token="s3cret") as srv:
        yield srv


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/jobs"),
        ("GET", "/api/jobs/stats"),
        ("GET", "/api/jobs/x"),
        ("POST", "/api/jobs"),
        ("POST", "/api/jobs/x/cancel"),
        ("POST", "/api/jobs/x/rerun"),
        ("DELETE", "/api/jobs/x"),
        ("GET", "/api/jobs/x/logs"),
    ],
)
def test_token_required_on_every_rest_call(secured: JobServer, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        r = httpx.request(method, secured.url + path, headers=headers, timeout=WAIT)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.text.startswith("unauthorized")
    ok = httpx.request(
        method, secured.url + path, headers={"Authorization": "Bearer s3cret"}, timeout=WAIT
    )
    assert ok.status_code != 401


def test_token_required_on_ws_handshake(secured: JobServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        Frames(secured.ws_url)
    assert info.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        Frames(secured.ws_url, additional_headers={"Authorization": "Bearer nope"})
    by_header = Frames(secured.ws_url, additional_headers={"Authorization": "Bearer s3cret"})
    by_query = Frames(secured.ws_url + "?token=s3cret")
    wait_for(lambda: secured.ws_clients == 2, what="two authorised clients")
    by_header.close()
    by_query.close()


def test_token_from_environment_in_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from jobwidget.__main__ import build_parser

    monkeypatch.setenv("JOBWIDGET_TOKEN", "from-env")
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert args.token == "from-env"
    assert args.host == "127.0.0.1"
