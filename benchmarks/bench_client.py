"""Benchmark of QueueClient: ingest rate, re-list time and memory of a 100 000-job mirror.

(a) frames/s from a local server into the store, next to a bare ``websockets`` receive loop
    over the same frames in the same run (goal: ratio >= 0.8);
(b) time to re-list 100 000 jobs from the reference server (goal: < 3 s);
(c) resident memory of a 100 000-job mirror (goal: < 150 MB).

Servers run in other processes on 127.0.0.1. Run: ``.venv/bin/python benchmarks/bench_client.py
[FRAMES] [JOBS]`` (defaults 200 000 frames, 100 000 jobs).
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import socket
import sys
import time

import psutil
from websockets.asyncio.client import connect

from _synthetic import synthetic_server
from jobwidget.client import QueueClient

INGEST_JOBS = 10_000


async def bare_receive(url: str, frames: int) -> float:
    """Frames/s of a bare websockets loop that only counts the frames."""
    async with connect(url.replace("http", "ws", 1) + "/ws", max_size=None) as ws:
        first = last = 0.0
        for i in range(frames):
            await ws.recv()
            last = time.perf_counter()
            if i == 0:
                first = last
    return (frames - 1) / (last - first)


def client_ingest(url: str, frames: int) -> float:
    """Frames/s decoded and applied into a QueueClient's store (from its own receive times)."""
    with QueueClient(url, history_size=frames, relist_interval=3600) as client:
        client.wait_until_synced(60)
        deadline = time.monotonic() + 300
        while len(client.history) < frames and time.monotonic() < deadline:
            time.sleep(0.2)
        received = client.history.to_dataframe()["received_at"]
        span = (received.max() - received.min()).total_seconds()
        return (len(received) - 1) / span


def _reference_server(port: int, jobs: int) -> None:
    from jobwidget.server import run_in_thread

    with run_in_thread(port=port, workers=1) as srv:
        srv.seed_jobs(jobs, "completed", name="bench", source_type="jira", entity_type="issues")
        print("READY", flush=True)
        time.sleep(3600)


def relist_and_memory(jobs: int) -> dict[str, float]:
    """Time to the first full list and a warm re-list; RSS growth of the mirror."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_reference_server, args=(port, jobs), daemon=True)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/api/jobs/stats").json()["total_jobs"] >= jobs:
                    break
            except (httpx.HTTPError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the reference server did not seed its jobs")
            time.sleep(0.2)
        gc.collect()
        rss_before = psutil.Process().memory_info().rss
        started = time.perf_counter()
        client = QueueClient(url, relist_interval=3600)
        client.wait_until_synced(120)
        first_list = time.perf_counter() - started
        assert len(client.store) == jobs, len(client.store)
        started = time.perf_counter()
        client.refresh()
        relist = time.perf_counter() - started
        gc.collect()
        rss_mirror = psutil.Process().memory_info().rss - rss_before
        client.close()
        return {"first_list_s": first_list, "relist_s": relist, "rss_mb": rss_mirror / 2**20}
    finally:
        proc.kill()
        proc.join(5)


def main() -> int:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    with synthetic_server(jobs=INGEST_JOBS, frames=frames) as url:
        bare = asyncio.run(bare_receive(url, frames))
        ours = client_ingest(url, frames)
    ratio = ours / bare
    print(f"(a) ingest of {frames} frames over {INGEST_JOBS} jobs, same server, same run")
    print(f"    {'bare websockets recv loop':<34}{bare:>12,.0f} frames/s")
    print(f"    {'QueueClient decode+apply+history':<34}{ours:>12,.0f} frames/s")
    print(f"    {'ratio (goal >= 0.8)':<34}{ratio:>12.2f}")
    result = relist_and_memory(jobs)
    print(f"(b) {jobs} jobs from the reference server")
    print(f"    {'first list to synced mirror':<34}{result['first_list_s']:>12.2f} s")
    print(f"    {'warm re-list (goal < 3 s)':<34}{result['relist_s']:>12.2f} s")
    print(f"(c) {'RSS growth of the mirror':<34}{result['rss_mb']:>12.1f} MB (goal < 150)")
    goals = ratio >= 0.8 and result["relist_s"] < 3 and result["rss_mb"] < 150
    print("goals met" if goals else "goals NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
