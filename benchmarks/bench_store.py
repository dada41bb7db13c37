"""Benchmark: decode + JobStore.apply of job_status_change frames against bare json.loads.

Usage: ``python benchmarks/bench_store.py [FRAMES]`` (default 1 000 000 frames over FRAMES/10
jobs). Prints the rates of both, their ratio, the time of the widget's default view() and the
memory of a mirror of FRAMES/10 jobs.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import sys
import time
import timeit
import tracemalloc
import uuid
from collections.abc import Iterator

from jobwidget.protocol import decode_frame, decode_job_list
from jobwidget.store import JobStore

FRAMES_PER_JOB = 10
WAVE = 1_000  # jobs running side by side
CHUNK = 50_000  # frames generated and timed at a time
TZ = dt.timezone(dt.timedelta(hours=11))
T0 = dt.datetime(2025, 10, 29, 22, 13, 1, tzinfo=TZ)
SOURCES = (("jira", "issues"), ("confluence", "spaces"), ("github", "repos"))


def job_ids(n: int) -> list[str]:
    """Return ``n`` deterministic UUID strings."""
    return [str(uuid.UUID(int=i + 1)) for i in range(n)]


def rest_body(ids: list[str]) -> str:
    """Return a ``GET /api/jobs?limit=0`` body listing every job as pending, like upstream."""
    jobs = []
    for i, jid in enumerate(ids):
        source, entity = SOURCES[i % 3]
        created = (T0 + dt.timedelta(seconds=i)).isoformat()
        jobs.append(
            {
                "id": jid,
                "name": f"{source} crawl {i}",
                "description": "",
                "source_type": source,
                "entity_type": entity,
                "status": "pending",
                "config": {
                    "max_depth": 2,
                    "max_pages": 100,
                    "concurrency": 4,
                    "rate_limit": 1_000_000_000,
                    "retry_attempts": 3,
                    "retry_backoff": 2_000_000_000,
                    "follow_links": True,
                },
                "progress": {
                    "total_urls": 0,
                    "completed_urls": 0,
                    "failed_urls": 0,
                    "pending_urls": 0,
                    "current_url": "",
                    "percentage": 0,
                    "start_time": "0001-01-01T00:00:00Z",
                    "estimated_completion": "0001-01-01T00:00:00Z",
                },
                "created_at": created,
                "started_at": "0001-01-01T00:00:00Z",
                "completed_at": "0001-01-01T00:00:00Z",
                "last_heartbeat": created,
                "result_count": 0,
                "failed_count": 0,
                "documents_saved": 0,
                "seed_urls": [f"https://{source}.example.org/{i}"],
            }
        )
    return json.dumps({"jobs": jobs, "total_count": len(ids), "limit": 0, "offset": 0}) + "\n"


def lifecycle(i: int, step: int) -> dict[str, object]:
    """Return the payload fields of frame ``step`` of job ``i`` (without ids and time)."""
    total = 20 + i % 80
    if step == 0:
        return {"status": "pending"}
    if step == 1:
        return {"status": "running"}
    if step < FRAMES_PER_JOB - 1:  # coalesced progress of a running job
        done = total * (step - 1) // (FRAMES_PER_JOB - 2)
        return {
            "status": "running",
            "result_count": done,
            "failed_count": done // 10,
            "total_urls": total,
            "completed_urls": done,
            "pending_urls": total - done,
        }
    end = i % 20
    if end < 16:
        return {
            "status": "completed",
            "result_count": total,
            "failed_count": total // 10,
            "total_urls": total,
            "completed_urls": total,
            "duration": 12.5 + i % 7,
        }
    kind = "failed" if end < 19 else "cancelled"
    extra = {"error": "crawl failed: 503 Service Unavailable"} if kind == "failed" else {}
    return {"status": kind, "result_count": total // 2, "completed_urls": total // 2, **extra}


def frames(ids: list[str], count: int) -> Iterator[str]:
    """Yield ``count`` frame texts as the reference server sends them, waves of WAVE jobs."""
    counts = ("result_count", "failed_count", "total_urls", "completed_urls", "pending_urls")
    seq = 0
    for first in range(0, len(ids), WAVE):
        wave = range(first, min(first + WAVE, len(ids)))
        for step in range(FRAMES_PER_JOB):
            for i in wave:
                if seq == count:
                    return
                source, entity = SOURCES[i % 3]
                fields = lifecycle(i, step)
                stamp = T0 + dt.timedelta(seconds=seq / 1000)
                ts = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{seq % 1000:03d}+11:00"
                payload: dict[str, object] = {
                    "job_id": ids[i],
                    "status": fields.pop("status"),
                    "source_type": source,
                    "entity_type": entity,
                }
                for name in counts:
                    payload[name] = fields.pop(name, 0)
                payload.update(fields)
                payload["timestamp"] = ts
                seq += 1
                yield json.dumps(
                    {"type": "job_status_change", "payload": payload, "seq": seq},
                    separators=(",", ":"),
                )


def mirror_memory(n: int) -> tuple[float, JobStore]:
    """Return the traced MiB of a store of ``n`` decoded jobs, and the store."""
    body = rest_body(job_ids(n))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = JobStore(max_jobs=max(n, 1))
    store.replace(decode_job_list(body).jobs or [])
    del body
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / 2**20, store


def best_ms(fn: object, number: int) -> float:
    """Best per-call time of ``fn`` in milliseconds over five repeats."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e3  # type: ignore[arg-type]


def main(total: int) -> None:
    """Run the benchmark over ``total`` frames and print the table."""
    n_jobs = max(total // FRAMES_PER_JOB, 1)
    ids = job_ids(n_jobs)
    store = JobStore(max_jobs=n_jobs)
    store.replace(decode_job_list(rest_body(ids)).jobs or [])
    t_json = t_store = 0.0
    done = unknown = 0
    loads = json.loads
    decode = decode_frame
    apply = store.apply
    gen = frames(ids, total)
    while True:
        chunk = [text for _, text in zip(range(CHUNK), gen, strict=False)]
        if not chunk:
            break
        start = time.perf_counter()
        for text in chunk:
            loads(text)
        t_json += time.perf_counter() - start
        start = time.perf_counter()
        for text in chunk:
            unknown += apply(decode(text).payload).unknown  # type: ignore[arg-type]
        t_store += time.perf_counter() - start
        done += len(chunk)
    stats = store.stats()
    assert unknown == 0, unknown
    if done == n_jobs * FRAMES_PER_JOB:
        assert stats.pending_jobs + stats.running_jobs == 0, stats

    print(f"frames: {done:,} over {n_jobs:,} jobs; mirror after: {stats}")
    print(f"{'step':<34}{'seconds':>10}{'frames/s':>14}")
    print(f"{'json.loads (bare)':<34}{t_json:>10.3f}{done / t_json:>14,.0f}")
    print(f"{'decode_frame + JobStore.apply':<34}{t_store:>10.3f}{done / t_store:>14,.0f}")
    ratio = t_json / t_store
    verdict = "goal met" if ratio >= 1 else "goal NOT met"
    print(f"ratio (decode+apply rate / json.loads rate): {ratio:.2f}  ({verdict}: >= 1.00)")

    mib, big = mirror_memory(n_jobs)
    print(f"\nmemory of a {len(big):,}-job mirror (tracemalloc): {mib:.1f} MiB")
    print(f"{'view() at ' + format(len(big), ',') + ' jobs':<46}{'ms/call':>10}")
    cases = {
        "default first page (created_at DESC, 50)": lambda: big.view(limit=50),
        "page 100 of 50 (offset 5000)": lambda: big.view(offset=5_000, limit=50),
        "filter status=pending,source=jira, 50": lambda: big.view(
            status=("pending",), source="jira", limit=50
        ),
        "sort by name, 50": lambda: big.view(sort="name", limit=50),
        "stats()": big.stats,
    }
    for label, fn in cases.items():
        print(f"{label:<46}{best_ms(fn, 20):>10.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
