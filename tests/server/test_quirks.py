"""Upstream-quirks mode: each behaviour of the upstream Go server, checked on the wire."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from jobwidget.protocol import decode_job
from jobwidget.server import JobContext, JobServer

from .conftest import FAST, SLOW, WAIT, Frames, reading, wait_for, wait_status

UNSET = "0001-01-01T00:00:00Z"
WHOLE_SECONDS_PLUS_11 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+11:00$")
NANOS_PLUS_11 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+11:00$")


@pytest.fixture
def qhttp(quirks_server: JobServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=quirks_server.url, timeout=WAIT) as client:
        yield client


@pytest.fixture
def qframes(quirks_server: JobServer) -> Iterator[Frames]:
    with reading(quirks_server) as reader:
        yield reader


def test_rest_times_whole_seconds_local_offset_and_unset(qhttp: httpx.Client) -> None:
    job_id = qhttp.post("/api/jobs", json={"config": SLOW}).json()["id"]
    pending = qhttp.post("/api/jobs", json={"config": FAST})
    assert pending.status_code == 201
    wait_status(qhttp, job_id, "running")
    job = qhttp.get(f"/api/jobs/{job_id}").json()
    assert WHOLE_SECONDS_PLUS_11.match(job["created_at"])
    assert WHOLE_SECONDS_PLUS_11.match(job["started_at"])
    assert job["completed_at"] == UNSET
    assert job["progress"]["estimated_completion"] in (UNSET,) or WHOLE_SECONDS_PLUS_11.match(
        job["progress"]["estimated_completion"]
    )
    assert decode_job(qhttp.get(f"/api/jobs/{job_id}").content).completed_at is None
    assert qhttp.post(f"/api/jobs/{job_id}/cancel").status_code == 200


def test_lifecycle_frames_zeroed_like_upstream(
    quirks_server: JobServer, qhttp: httpx.Client, qframes: Frames
) -> None:
    ok = qhttp.post("/api/jobs", json={"source_type": "jira", "config": FAST}).json()["id"]
    bad = qhttp.post(
        "/api/jobs", json={"config": {"pages": 20, "page_delay": 0.01, "job_fail_rate": 1.0}}
    ).json()["id"]
    slow = qhttp.post("/api/jobs", json={"config": SLOW}).json()["id"]
    completed = qframes.wait_status(ok, "completed")["payload"]
    assert completed["total_urls"] == completed["completed_urls"] == 5
    assert completed["pending_urls"] == 0
    assert completed["duration"] >= 0
    for status in ("pending", "running"):
        payload = qframes.wait_status(ok, status)["payload"]
        assert payload["source_type"] == "jira"
        counts = [payload[k] for k in ("result_count", "total_urls", "completed_urls")]
        assert counts == [0, 0, 0]
    failed = qframes.wait_status(bad, "failed")["payload"]
    assert failed["total_urls"] == 0
    assert "synthetic crawl error" in failed["error"]
    progress = qframes.wait(lambda f: f["type"] == "crawl_progress", what="crawl_progress")
    assert progress["payload"]["jobId"] == slow
    assert {"totalUrls", "completedUrls", "pendingUrls", "percentage"} <= progress["payload"].keys()
    qhttp.post(f"/api/jobs/{slow}/cancel")
    cancelled = qframes.wait_status(slow, "cancelled")["payload"]
    assert cancelled["total_urls"] == 0
    assert cancelled["completed_urls"] > 0
    assert NANOS_PLUS_11.match(cancelled["timestamp"])
    assert all("seq" not in f for f in qframes.snapshot())


def test_no_frame_for_delete_or_rerun(qhttp: httpx.Client, qframes: Frames) -> None:
    job_id = qhttp.post("/api/jobs", json={"config": FAST}).json()["id"]
    qframes.wait_status(job_id, "completed")
    new_id = qhttp.post(f"/api/jobs/{job_id}/rerun").json()["new_job_id"]
    assert qhttp.delete(f"/api/jobs/{job_id}").status_code == 200
    qframes.wait_status(new_id, "completed")  # frames of the rerun job once it runs ...
    qframes.wait(lambda f: f["type"] == "queue_stats", what="a later queue_stats")
    assert not qframes.of("job_deleted")
    assert (
        not [  # ... but no `pending` frame for its creation
            f
            for f in qframes.of("job_status_change", new_id)
            if f["payload"]["status"] == "pending"
        ]
    )


def test_noise_frames(qframes: Frames) -> None:
    for kind in ("status", "log", "auth", "queue_stats"):
        qframes.wait(lambda f, k=kind: f["type"] == k, what=f"a {kind} frame")
    log = qframes.of("log")[0]["payload"]
    assert re.match(r"^\d\d:\d\d:\d\d$", log["timestamp"])
    assert "cookies" in qframes.of("auth")[0]["payload"]


def test_frames_are_shuffled(quirks_server: JobServer, qframes: Frames) -> None:
    for i in range(200):
        quirks_server.send_frame("counter", {"i": i})
    got = wait_for(
        lambda: len(qframes.of("counter")) == 200 and qframes.of("counter"), what="200 frames"
    )
    order = [f["payload"]["i"] for f in got]
    assert sorted(order) == list(range(200))
    assert order != list(range(200))


def test_single_value_filters(quirks_server: JobServer, qhttp: httpx.Client) -> None:
    for source in ("jira", "github"):
        qhttp.post("/api/jobs", json={"source_type": source, "entity_type": "x", "config": FAST})
    assert qhttp.get("/api/jobs", params={"source": "jira"}).json()["total_count"] == 1
    assert qhttp.get("/api/jobs", params={"source": "jira,github"}).json()["total_count"] == 0
    assert qhttp.get("/api/jobs", params={"entity": "x,y"}).json()["jobs"] == []
    assert qhttp.get("/api/jobs", params={"entity": "x"}).json()["total_count"] == 2


def test_cancel_pending_answers_500(quirks_server: JobServer, qhttp: httpx.Client) -> None:
    @quirks_server.job_type("hold")
    async def hold(ctx: JobContext) -> None:
        await ctx.sleep(60)

    holders = [qhttp.post("/api/jobs", json={"job_type": "hold"}).json()["id"] for _ in range(4)]
    for job_id in holders:
        wait_status(qhttp, job_id, "running")
    pending = qhttp.post("/api/jobs", json={"config": FAST}).json()["id"]
    r = qhttp.post(f"/api/jobs/{pending}/cancel")
    assert r.status_code == 500
    assert "not running" in r.text
    assert qhttp.get(f"/api/jobs/{pending}").json()["status"] == "pending"
    for job_id in holders:
        qhttp.post(f"/api/jobs/{job_id}/cancel")
    wait_status(qhttp, pending, "completed")
