"""The ``/ws`` stream of the reference server: lifecycle frames, seq, coalescing, fan-out."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from jobwidget.protocol import JobStatusChange, decode_frame
from jobwidget.server import JobContext, JobServer, run_in_thread

from .conftest import FAST, SLOW, WAIT, Frames, wait_for, wait_status


def test_lifecycle_frames_with_real_counts(
    server: JobServer, http: httpx.Client, frames: Frames
) -> None:
    job_id = str(
        http.post(
            "/api/jobs",
            json={"name": "c", "source_type": "jira", "entity_type": "issues", "config": FAST},
        ).json()["id"]
    )
    done = frames.wait_status(job_id, "completed")
    pending = frames.wait_status(job_id, "pending")
    running = frames.wait_status(job_id, "running")
    assert pending["payload"]["source_type"] == "jira"
    assert running["payload"]["entity_type"] == "issues"
    payload = done["payload"]
    assert payload["total_urls"] == payload["completed_urls"] == payload["result_count"] == 5
    assert payload["pending_urls"] == 0
    assert payload["duration"] >= 0
    assert "error" not in payload
    decoded = decode_frame(json.dumps(done))
    assert isinstance(decoded.payload, JobStatusChange)
    assert decoded.payload.timestamp is not None
    assert done["payload"]["timestamp"].endswith("Z")
    assert len(done["payload"]["timestamp"].split(".")[1]) == 10  # nanoseconds + Z


def test_failed_and_cancelled_frames_keep_counts(http: httpx.Client, frames: Frames) -> None:
    failing = http.post(
        "/api/jobs", json={"config": {"pages": 10, "page_delay": 0.01, "job_fail_rate": 1.0}}
    ).json()["id"]
    failed = frames.wait_status(failing, "failed")["payload"]
    assert "synthetic crawl error" in failed["error"]
    assert failed["total_urls"] >= 1  # real counts, unlike upstream
    slow = http.post("/api/jobs", json={"config": SLOW}).json()["id"]
    frames.wait(
        lambda f: f["payload"].get("job_id") == slow and f["payload"].get("completed_urls", 0) > 0,
        what="progress of the slow job",
    )
    http.post(f"/api/jobs/{slow}/cancel")
    cancelled = frames.wait_status(slow, "cancelled")["payload"]
    assert cancelled["completed_urls"] > 0
    assert cancelled["total_urls"] > 0


def test_seq_grows_by_one_without_gaps(server: JobServer, http: httpx.Client) -> None:
    reader = Frames(server.ws_url)
    wait_for(lambda: server.ws_clients >= 1, what="client registered")
    ids = [http.post("/api/jobs", json={"config": FAST}).json()["id"] for _ in range(5)]
    for job_id in ids:
        reader.wait_status(job_id, "completed")
    seqs = [f["seq"] for f in reader.snapshot()]
    reader.close()
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_progress_is_coalesced_but_never_lost(server: JobServer, frames: Frames) -> None:
    @server.job_type("burst")
    async def burst(ctx: JobContext) -> None:
        for i in range(1, 2001):
            ctx.progress(completed=i, total=2000)
            if i % 100 == 0:
                await ctx.sleep(0.05)

    @server.job_type("tick_then_wait")
    async def tick_then_wait(ctx: JobContext) -> None:
        ctx.progress(completed=1, total=10)
        ctx.progress(completed=7, total=10)  # within 0.5 s of the start frame: coalesced
        await ctx.sleep(30)

    started = time.monotonic()
    job_id = server.create_job(job_type="burst")
    frames.wait_status(job_id, "completed")
    elapsed = time.monotonic() - started
    running = frames.of("job_status_change", job_id)
    running = [f for f in running if f["payload"]["status"] == "running"]
    # 2000 updates, yet at most one frame per 0.5 s (plus the start frame and slack).
    assert len(running) <= elapsed / 0.5 + 3
    waiting = server.create_job(job_type="tick_then_wait")
    last = frames.wait(
        lambda f: f["payload"].get("job_id") == waiting and f["payload"].get("completed_urls") == 7,
        what="the coalesced last progress",
    )
    assert last["payload"]["status"] == "running"
    assert last["payload"]["pending_urls"] == 3
    server.cancel_job(waiting)


def test_delete_rerun_and_queue_stats_frames(
    server: JobServer, http: httpx.Client, frames: Frames
) -> None:
    job_id = http.post("/api/jobs", json={"config": FAST}).json()["id"]
    wait_status(http, job_id, "completed")
    new_id = http.post(f"/api/jobs/{job_id}/rerun").json()["new_job_id"]
    frames.wait_status(new_id, "pending")
    frames.wait_status(new_id, "completed")
    http.delete(f"/api/jobs/{job_id}")
    deleted = frames.wait(lambda f: f["type"] == "job_deleted", what="job_deleted")
    assert deleted["payload"]["job_id"] == job_id
    stats = frames.wait(lambda f: f["type"] == "queue_stats", what="queue_stats")
    assert stats["payload"]["concurrency"] == 4
    assert stats["payload"]["queue_name"] == "jobs"
    assert decode_frame(json.dumps(stats)).type == "queue_stats"


def test_broadcast_to_50_clients(server: JobServer, http: httpx.Client) -> None:
    async def run() -> list[list[int]]:
        conns = [
            await websockets.connect(server.ws_url, open_timeout=WAIT, max_queue=None)
            for _ in range(50)
        ]
        deadline = time.monotonic() + WAIT
        while server.ws_clients < 50:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        job_ids = await asyncio.to_thread(
            lambda: [http.post("/api/jobs", json={"config": FAST}).json()["id"] for _ in range(5)]
        )

        async def collect(conn: Any) -> list[int]:
            seen: list[int] = []
            done: set[str] = set()
            while done != set(job_ids):
                frame = json.loads(await asyncio.wait_for(conn.recv(), WAIT))
                seen.append(frame["seq"])
                payload = frame["payload"]
                if payload.get("status") == "completed":
                    done.add(payload["job_id"])
            await conn.close()
            return seen

        return await asyncio.gather(*(collect(c) for c in conns))

    results = asyncio.run(run())
    shortest = min(len(r) for r in results)
    assert shortest >= 15  # 5 jobs x (pending, running, completed)
    first = results[0][:shortest]
    assert all(r[:shortest] == first for r in results)


def _stalled_ws(port: int) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sock


@pytest.mark.slow
def test_stalled_client_is_dropped_and_others_get_everything() -> None:
    with run_in_thread(port=0, client_queue=50, stats_interval=60) as srv:
        healthy = Frames(srv.ws_url, max_size=None)
        stalled = _stalled_ws(srv.port)
        wait_for(lambda: srv.ws_clients == 2, what="two clients")
        blob = "x" * 16384
        count = 1500  # ~25 MB: more than the kernel buffers of the stalled socket
        for i in range(count):
            srv.send_frame("bulk", {"i": i, "blob": blob})
            if srv.ws_clients == 1:
                break
        wait_for(lambda: srv.ws_clients == 1, what="the stalled client dropped")
        sent = i + 1
        got = wait_for(
            lambda: len(healthy.of("bulk")) == sent and healthy.of("bulk"), what="all frames"
        )
        assert [f["payload"]["i"] for f in got] == list(range(sent))
        healthy.close()
        stalled.close()


def test_drop_connections_and_keep_serving(server: JobServer, http: httpx.Client) -> None:
    readers = [Frames(server.ws_url) for _ in range(3)]
    wait_for(lambda: server.ws_clients == 3, what="three clients")
    assert server.drop_connections() == 3
    for reader in readers:
        wait_for(lambda r=reader: r.closed is not None, what="client sees the drop")
        assert reader.closed is not None
        assert reader.closed.rcvd is None  # no close frame: abrupt
    wait_for(lambda: server.ws_clients == 0, what="server forgot the clients")
    assert http.get("/api/jobs").status_code == 200
    again = Frames(server.ws_url)
    job_id = http.post("/api/jobs", json={"config": FAST}).json()["id"]
    again.wait_status(job_id, "completed")
    again.close()


def test_pause_ws_refuses_handshakes_rest_stays(server: JobServer, http: httpx.Client) -> None:
    server.pause_ws(True)
    with pytest.raises(InvalidStatus) as info:
        Frames(server.ws_url)
    assert info.value.response.status_code == 503
    assert http.get("/api/jobs/stats").status_code == 200
    server.pause_ws(False)
    reader = Frames(server.ws_url)
    wait_for(lambda: server.ws_clients == 1, what="client accepted")
    reader.close()


def test_stop_and_restart_on_same_port(server: JobServer) -> None:
    port = server.port
    reader = Frames(server.ws_url)
    server.stop()
    wait_for(lambda: reader.closed is not None, what="client sees the stop")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/api/jobs", timeout=5)
    server.start()
    assert server.port == port
    assert httpx.get(f"{server.url}/api/jobs", timeout=WAIT).status_code == 200
