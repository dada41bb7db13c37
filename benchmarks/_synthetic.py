"""A synthetic job server for benchmarks: fixed job list, and a /ws that streams frames.

It runs in its own process (so its sending does not share the GIL with the client being
measured) and serves only 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import multiprocessing
import socket
import time
from collections.abc import Iterator
from typing import Any


def frame_text(seq: int, jobs: int) -> str:
    """A realistic ``job_status_change`` frame for job ``seq % jobs`` with growing counts."""
    payload = {
        "job_id": f"synthetic-{seq % jobs:06d}",
        "status": "running",
        "source_type": "github",
        "entity_type": "repos",
        "result_count": seq,
        "failed_count": 0,
        "total_urls": seq + 10,
        "completed_urls": seq,
        "pending_urls": 10,
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(),
    }
    return json.dumps({"type": "job_status_change", "payload": payload, "seq": seq})


def _serve(port: int, jobs: int, rate: float | None, frames: int, seconds: float) -> None:
    import asyncio

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    now = _dt.datetime.now(_dt.UTC)
    listing = {
        "jobs": [
            {
                "id": f"synthetic-{i:06d}",
                "name": f"synthetic {i}",
                "status": "running",
                "source_type": "github",
                "entity_type": "repos",
                "created_at": (now - _dt.timedelta(seconds=i)).isoformat(),
            }
            for i in range(jobs)
        ],
        "total_count": jobs,
        "limit": 0,
        "offset": 0,
    }
    body = json.dumps(listing).encode() + b"\n"
    stats = json.dumps({"total_jobs": jobs, "running_jobs": jobs}) + "\n"
    # Pre-encoded frames, so that a burst costs the server only its sends.
    burst = [frame_text(i, jobs) for i in range(1, frames + 1)] if rate is None else []

    async def list_jobs(request: Any) -> Response:
        return Response(body, media_type="application/json")

    async def job_stats(request: Any) -> Response:
        return Response(stats, media_type="application/json")

    async def ws(socket_: WebSocket) -> None:
        await socket_.accept()
        await asyncio.sleep(1.0)  # let the client's first list land
        if rate is None:
            for text in burst:
                await socket_.send_text(text)
        else:
            per_tick = max(1, int(rate) // 100)
            sent = 0
            start = time.monotonic()
            while time.monotonic() - start < seconds:
                for _ in range(per_tick):
                    sent += 1
                    await socket_.send_text(frame_text(sent, jobs))
                await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
        await asyncio.sleep(3600)

    app = Starlette(
        routes=[
            Route("/api/jobs", list_jobs),
            Route("/api/jobs/stats", job_stats),
            WebSocketRoute("/ws", ws),
        ]
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")


@contextlib.contextmanager
def synthetic_server(
    *, jobs: int, rate: float | None = None, frames: int = 0, seconds: float = 0.0
) -> Iterator[str]:
    """Run the synthetic server in another process; yield its base URL.

    With ``rate=None`` each WebSocket connection gets ``frames`` pre-encoded frames as fast as
    the server can send them; otherwise ``rate`` frames per second for ``seconds``.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(port, jobs, rate, frames, seconds), daemon=True
    )
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.join(5)
