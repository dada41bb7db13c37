"""The REST contract of the reference server over real HTTP: every endpoint, status and error."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from jobwidget.protocol import decode_action, decode_job, decode_job_list, decode_logs, decode_stats
from jobwidget.server import JobContext, JobServer

from .conftest import FAST, SLOW, wait_for, wait_status


def create(http: httpx.Client, **body: object) -> dict[str, object]:
    body.setdefault("name", "job")
    body.setdefault("config", FAST)
    r = http.post("/api/jobs", json=body)
    assert r.status_code == 201, r.text
    job: dict[str, object] = r.json()
    return job


def assert_text_error(r: httpx.Response, status: int, fragment: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.endswith("\n")
    assert r.text.count("\n") == 1
    assert fragment.lower() in r.text.lower()


def test_empty_list_shape(http: httpx.Client) -> None:
    r = http.get("/api/jobs")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert "access-control-allow-origin" not in r.headers  # only the quirks mode sends CORS
    assert r.content.endswith(b"\n")
    assert r.json() == {"jobs": [], "total_count": 0, "limit": 50, "offset": 0}


def test_create_get_and_decode(http: httpx.Client) -> None:
    body = {
        "name": "Jira issues",
        "job_type": "crawl",
        "source_type": "jira",
        "entity_type": "issues",
        "config": {"pages": 3, "page_delay": 0.01, "fail_rate": 0, "max_depth": 2},
        "seed_urls": ["https://jira.example.org/"],
    }
    r = http.post("/api/jobs", json=body)
    assert r.status_code == 201
    assert r.content.endswith(b"\n")
    job = decode_job(r.content)
    assert job.name == "Jira issues"
    assert job.source_type == "jira"
    assert job.entity_type == "issues"
    assert job.config.max_depth == 2
    assert job.seed_urls == ["https://jira.example.org/"]
    assert job.created_at is not None
    done = wait_status(http, job.id, "completed")
    got = decode_job(http.get(f"/api/jobs/{job.id}").content)
    assert got.status == "completed"
    assert got.prog.total_urls == 3 == got.prog.completed_urls
    assert got.result_count == 3
    assert got.started_at is not None
    assert got.completed_at is not None
    assert got.duration is not None
    assert got.duration >= 0
    assert done["progress"]["percentage"] == 100.0


def test_get_unknown_is_404(http: httpx.Client) -> None:
    assert_text_error(http.get("/api/jobs/nope"), 404, "Job not found")


def test_list_paging_and_all(http: httpx.Client) -> None:
    ids = [create(http, name=f"j{i}")["id"] for i in range(7)]
    page = decode_job_list(http.get("/api/jobs", params={"limit": 3, "offset": 2}).content)
    assert page.total_count == 7
    assert (page.limit, page.offset) == (3, 2)
    newest_first = list(reversed(ids))
    assert [j.id for j in page.jobs] == newest_first[2:5]
    everything = http.get("/api/jobs", params={"limit": 0, "offset": 5}).json()
    assert [j["id"] for j in everything["jobs"]] == newest_first
    negative = http.get("/api/jobs", params={"limit": -1}).json()
    assert len(negative["jobs"]) == 7
    asc = http.get("/api/jobs", params={"order_by": "created_at", "order_dir": "asc"}).json()
    assert [j["id"] for j in asc["jobs"]] == ids
    by_name = http.get("/api/jobs", params={"order_by": "name", "order_dir": "DESC"}).json()
    assert [j["name"] for j in by_name["jobs"]] == [f"j{i}" for i in range(6, -1, -1)]


def test_filters_and_total_count(http: httpx.Client, server: JobServer) -> None:
    for source, entity in [("jira", "issues"), ("jira", "projects"), ("github", "repos")]:
        create(http, source_type=source, entity_type=entity)
    slow = create(http, source_type="confluence", entity_type="spaces", config=SLOW)
    wait_status(http, str(slow["id"]), "running")
    wait_for(lambda: server.stats()["completed_jobs"] == 3, what="3 completed")

    def ids(**params: str) -> tuple[int, int]:
        body = http.get("/api/jobs", params=params).json()
        return body["total_count"], len(body["jobs"])

    assert ids(source="jira") == (2, 2)
    assert ids(source="jira,github") == (3, 3)
    assert ids(entity="issues,spaces") == (2, 2)
    assert ids(status="running") == (1, 1)
    assert ids(status="running,completed") == (4, 4)
    assert ids(status="failed") == (0, 0)
    assert ids(status="completed", source="jira", limit="1") == (2, 1)
    assert ids() == (4, 4)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"order_by": "name; DROP TABLE jobs"}, "invalid order_by"),
        ({"order_dir": "sideways"}, "invalid order_dir"),
        ({"limit": "ten"}, "invalid limit"),
        ({"offset": "x"}, "invalid offset"),
        ({"offset": "-3"}, "invalid offset"),
    ],
)
def test_bad_list_query_is_400(http: httpx.Client, params: dict[str, str], fragment: str) -> None:
    assert_text_error(http.get("/api/jobs", params=params), 400, fragment)


def test_stats(http: httpx.Client) -> None:
    create(http)
    slow = create(http, config=SLOW)
    wait_status(http, str(slow["id"]), "running")
    r = http.get("/api/jobs/stats", params={"status": "failed"})
    assert r.status_code == 200
    stats = decode_stats(r.content)
    assert stats.total_jobs == 2
    assert stats.running_jobs == 1
    assert stats.pending_jobs + stats.completed_jobs == 1


def test_cancel_running_and_pending(server: JobServer, http: httpx.Client) -> None:
    running = str(create(http, config=SLOW)["id"])
    wait_status(http, running, "running")
    r = http.post(f"/api/jobs/{running}/cancel")
    assert r.status_code == 200
    assert decode_action(r.content).job_id == running
    wait_status(http, running, "cancelled")

    server.job_types.register("hold")(_hold)
    holders = [str(create(http, job_type="hold")["id"]) for _ in range(4)]
    for job_id in holders:
        wait_status(http, job_id, "running")
    pending = str(create(http)["id"])
    assert http.get(f"/api/jobs/{pending}").json()["status"] == "pending"
    r = http.post(f"/api/jobs/{pending}/cancel")
    assert r.status_code == 200
    assert http.get(f"/api/jobs/{pending}").json()["status"] == "cancelled"
    for job_id in holders:
        assert http.post(f"/api/jobs/{job_id}/cancel").status_code == 200
    for job_id in holders:
        wait_status(http, job_id, "cancelled")
    job = http.get(f"/api/jobs/{pending}").json()
    assert job["status"] == "cancelled"
    assert "started_at" not in job  # it never ran


async def _hold(ctx: JobContext) -> None:
    while True:
        await ctx.sleep(0.05)


def test_cancel_errors(http: httpx.Client) -> None:
    assert_text_error(http.post("/api/jobs/nope/cancel"), 500, "not found")
    done = str(create(http)["id"])
    wait_status(http, done, "completed")
    assert_text_error(http.post(f"/api/jobs/{done}/cancel"), 500, "not running")


def test_delete(http: httpx.Client, frames: object) -> None:
    running = str(create(http, config=SLOW)["id"])
    wait_status(http, running, "running")
    assert_text_error(http.delete(f"/api/jobs/{running}"), 400, "cancel it first")
    assert_text_error(http.delete("/api/jobs/nope"), 500, "not found")
    http.post(f"/api/jobs/{running}/cancel")
    wait_status(http, running, "cancelled")
    r = http.delete(f"/api/jobs/{running}")
    assert r.status_code == 200
    assert decode_action(r.content).job_id == running
    assert http.get(f"/api/jobs/{running}").status_code == 404
    assert http.get("/api/jobs").json()["total_count"] == 0


def test_rerun(http: httpx.Client) -> None:
    original = create(http, source_type="github", entity_type="repos", seed_urls=["https://g/"])
    job_id = str(original["id"])
    wait_status(http, job_id, "completed")
    r = http.post(f"/api/jobs/{job_id}/rerun")
    assert r.status_code == 201
    assert r.content.endswith(b"\n")
    body = r.json()
    assert body["original_job_id"] == job_id
    new_id = body["new_job_id"]
    assert new_id != job_id
    copy = http.get(f"/api/jobs/{new_id}").json()
    for key in ("name", "source_type", "entity_type", "config", "seed_urls"):
        assert copy[key] == original[key]
    wait_status(http, new_id, "completed")
    assert_text_error(http.post("/api/jobs/nope/rerun"), 404, "not found")
    slow = str(create(http, config=SLOW)["id"])
    wait_status(http, slow, "running")
    assert_text_error(http.post(f"/api/jobs/{slow}/rerun"), 400, "running")


def test_logs(server: JobServer, http: httpx.Client) -> None:
    @server.job_type("chatty")
    def chatty(ctx: JobContext) -> None:
        for i in range(1500):
            ctx.log(f"line {i}", level="debug" if i % 2 else "info")

    job_id = str(create(http, job_type="chatty")["id"])
    wait_status(http, job_id, "completed")
    asc = decode_logs(http.get(f"/api/jobs/{job_id}/logs").content)
    assert asc.order == "asc"
    assert asc.count == len(asc.logs) == 1000
    assert asc.logs[0]["message"] == "line 0"
    assert asc.logs[1]["level"] == "DEBUG"
    desc = http.get(f"/api/jobs/{job_id}/logs", params={"order": "desc"}).json()
    assert desc["order"] == "desc"
    assert desc["logs"][0]["message"] == "line 1499"
    assert_text_error(http.get(f"/api/jobs/{job_id}/logs", params={"order": "up"}), 400, "order")
    assert_text_error(http.get("/api/jobs/nope/logs"), 404, "not found")


def test_crawl_logs_and_failures(http: httpx.Client) -> None:
    failing = create(http, config={"pages": 30, "page_delay": 0.0, "job_fail_rate": 1.0})
    flaky = create(http, config={"pages": 20, "page_delay": 0.0, "fail_rate": 0.5, "seed": 1})
    job = wait_status(http, str(failing["id"]), "failed")
    assert "synthetic crawl error" in job["error"]
    flaky_job = wait_status(http, str(flaky["id"]), "completed")
    assert flaky_job["failed_count"] > 0
    progress = flaky_job["progress"]
    assert progress["completed_urls"] + progress["failed_urls"] == progress["total_urls"] == 20
    logs = http.get(f"/api/jobs/{flaky['id']}/logs").json()["logs"]
    assert any(line["level"] == "WARN" for line in logs)


def test_bad_crawl_config_fails_the_job(http: httpx.Client) -> None:
    job = create(http, config={"pages": "many"})
    done = wait_status(http, str(job["id"]), "failed")
    assert "config.pages" in done["error"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"[1, 2]", "invalid JSON"),
        (b'{"name": 5}', "$.name"),
        (b'{"seed_urls": "https://x/"}', "$.seed_urls"),
        (b'{"job_type": "teleport"}', "unknown job_type"),
    ],
)
def test_bad_create_body_is_400(http: httpx.Client, content: bytes, fragment: str) -> None:
    r = http.post("/api/jobs", content=content, headers={"content-type": "application/json"})
    assert_text_error(r, 400, fragment)


def test_body_cap(http: httpx.Client) -> None:
    huge = b'{"name": "' + b"x" * (2 << 20) + b'"}'
    assert_text_error(http.post("/api/jobs", content=huge), 413, "too large")

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    r = http.post("/api/jobs", content=chunks())  # chunked: no content-length
    assert_text_error(r, 413, "too large")
    assert http.get("/api/jobs").json()["total_count"] == 0


def test_unknown_route_and_method(http: httpx.Client) -> None:
    assert_text_error(http.get("/api/nothing"), 404, "not found")
    assert_text_error(http.put("/api/jobs/x"), 405, "method not allowed")
    r = http.options("/api/jobs")
    assert r.status_code == 204
    assert "access-control-allow-origin" not in r.headers


def test_user_job_types(server: JobServer, http: httpx.Client) -> None:
    @server.job_type("count")
    async def count(ctx: JobContext) -> None:
        n = int(ctx.config["n"])
        for i in range(n):
            await ctx.check()
            ctx.progress(completed=i + 1, total=n, results=i + 1, current_url=f"item {i}")
        ctx.log("counted")

    @server.job_type("boom")
    def boom(ctx: JobContext) -> None:
        raise ValueError("it broke")

    @server.job_type("spin")
    def spin(ctx: JobContext) -> None:
        while True:
            ctx.check()  # sync functions use check() without await
            ctx.progress(completed=1, total=2)

    counted = str(create(http, job_type="count", config={"n": 40})["id"])
    broken = str(create(http, job_type="boom")["id"])
    spinning = str(create(http, job_type="spin")["id"])
    job = wait_status(http, counted, "completed")
    assert (job["result_count"], job["progress"]["total_urls"]) == (40, 40)
    assert wait_status(http, broken, "failed")["error"] == "it broke"
    wait_status(http, spinning, "running")
    assert http.post(f"/api/jobs/{spinning}/cancel").status_code == 200
    wait_status(http, spinning, "cancelled")


def test_in_process_helpers(server: JobServer, http: httpx.Client) -> None:
    job_id = server.create_job(name="helper", source_type="jira", config=SLOW)
    wait_status(http, job_id, "running")
    assert server.cancel_job(job_id) == "Job cancellation requested"
    wait_status(http, job_id, "cancelled")
    with pytest.raises(RuntimeError, match="already running"):
        server.start()


def test_seed_jobs_in_bulk(server: JobServer, http: httpx.Client) -> None:
    ids = server.seed_jobs(2000, status="failed", source_type="jira", entity_type="issues")
    body = http.get("/api/jobs", params={"limit": 0, "status": "failed"}).json()
    assert body["total_count"] == 2000
    assert [job["id"] for job in body["jobs"]] == list(reversed(ids))
    assert body["jobs"][0]["error"] == "seeded failure"
    assert http.get("/api/jobs/stats").json()["failed_jobs"] == 2000
    with pytest.raises(ValueError, match="finished"):
        server.seed_jobs(1, status="running")  # type: ignore[arg-type]
