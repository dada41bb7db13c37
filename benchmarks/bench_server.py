"""Benchmark of the reference server: broadcast frames/s to 1 and 20 clients, jobs/s, 100k list."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from multiprocessing.connection import Connection

import httpx
import websockets

from jobwidget.server import JobContext, JobServer, run_in_thread

FRAMES = 20_000
JOBS = 2_000
BIG_LIST = 100_000


def _clients(url: str, count: int, frames: int, pipe: Connection) -> None:
    """Child process: ``count`` clients that each read ``frames`` frames, then report."""

    async def main() -> float:
        conns = [await websockets.connect(url, max_queue=None) for _ in range(count)]
        pipe.send("ready")

        async def read(conn: websockets.ClientConnection) -> None:
            for _ in range(frames):
                await conn.recv()

        await asyncio.gather(*(read(c) for c in conns))
        done = time.perf_counter()
        for conn in conns:
            await conn.close()
        return done

    pipe.send(asyncio.run(main()))


def bench_broadcast(srv: JobServer, clients: int) -> float:
    """Frames per second delivered to each of ``clients`` clients (clients in another process)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_clients, args=(srv.ws_url, clients, FRAMES, child))
    proc.start()
    assert parent.recv() == "ready"
    while srv.ws_clients < clients:
        time.sleep(0.01)
    payload = {"job_id": "x", "status": "running", "total_urls": 10, "completed_urls": 3}
    start = time.perf_counter()
    srv.send_frames("job_status_change", (payload for _ in range(FRAMES)))
    end = parent.recv()
    proc.join()
    # perf_counter is system-wide on Linux (CLOCK_MONOTONIC), so the child's stamp is comparable
    return FRAMES / (end - start)


def bench_jobs(workers: int) -> float:
    """Jobs completed per second by ``workers`` workers (tiny async jobs created in-process)."""
    with run_in_thread(workers=workers) as srv:

        @srv.job_type("tiny")
        async def tiny(ctx: JobContext) -> None:
            ctx.progress(completed=1, total=1, results=1)
            ctx.log("done")

        start = time.perf_counter()
        for _ in range(JOBS):
            srv.create_job(job_type="tiny")
        while srv.stats()["completed_jobs"] < JOBS:
            time.sleep(0.01)
        return JOBS / (time.perf_counter() - start)


def bench_big_list() -> tuple[float, float]:
    """Seconds to seed 100 000 jobs, and to fetch them all with ``limit=0``."""
    with run_in_thread() as srv:
        start = time.perf_counter()
        srv.seed_jobs(BIG_LIST, source_type="jira", entity_type="issues", seed_urls=["https://x/"])
        seeded = time.perf_counter() - start
        time.sleep(2)  # let the JSON cache warm up, as it does after a (re)start
        start = time.perf_counter()
        body = httpx.get(f"{srv.url}/api/jobs", params={"limit": 0}, timeout=120).content
        listed = time.perf_counter() - start
        assert body.count(b'"id"') == BIG_LIST
        return seeded, listed


def main() -> None:
    rows: list[tuple[str, str]] = []
    with run_in_thread(workers=1) as srv:
        for clients in (1, 20):
            rate = bench_broadcast(srv, clients)
            rows.append((f"broadcast, {clients} client(s)", f"{rate:,.0f} frames/s per client"))
    rows.append(("jobs completed, 8 workers", f"{bench_jobs(8):,.0f} jobs/s"))
    seeded, listed = bench_big_list()
    rows.append((f"seed {BIG_LIST:,} jobs", f"{seeded:.2f} s"))
    rows.append((f"GET /api/jobs?limit=0 ({BIG_LIST:,} jobs)", f"{listed:.2f} s"))
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
