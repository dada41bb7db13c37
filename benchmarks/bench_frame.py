"""Benchmark of jobwidget.frame: to_dataframe against pandas.DataFrame(list_of_dicts), and History.

Run ``python benchmarks/bench_frame.py`` (1k, 10k, 100k jobs) or give smaller sizes, e.g.
``python benchmarks/bench_frame.py 1000 5000``. Goal: 100 000 jobs in < 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import msgspec
import pandas as pd

from jobwidget.frame import History, to_dataframe
from jobwidget.protocol import STATUSES, Job, JobStatusChange, decode_job_list

GOAL_N = 100_000
GOAL_MS = 300.0
SOURCES = ("jira", "confluence", "github")
ENTITIES = ("issues", "spaces", "repos", "projects")
T0 = dt.datetime(2025, 10, 29, 22, 13, 1, tzinfo=dt.timezone(dt.timedelta(hours=11)))
UNSET = "0001-01-01T00:00:00Z"


def make_jobs(n: int) -> list[Job]:
    """Decode ``n`` varied jobs from a JSON list body, as the client would receive them."""
    jobs = []
    for i in range(n):
        status = STATUSES[i % len(STATUSES)]
        created = T0 + dt.timedelta(seconds=i)
        started = created + dt.timedelta(seconds=3)
        ended = started + dt.timedelta(seconds=i % 600)
        jobs.append(
            {
                "id": f"{i:08x}-8a7d-4e0b-9c61-2f4f1d7a9b10",
                "name": f"job {i}",
                "description": "",
                "source_type": SOURCES[i % len(SOURCES)],
                "entity_type": ENTITIES[i % len(ENTITIES)],
                "status": status,
                "progress": {
                    "total_urls": i % 100,
                    "completed_urls": i % 50,
                    "pending_urls": i % 50,
                    "current_url": f"https://example.org/{i}" if status == "running" else "",
                    "percentage": (i % 100) * 1.0,
                    "start_time": UNSET,
                    "estimated_completion": UNSET,
                },
                "created_at": created.isoformat(),
                "started_at": started.isoformat() if status != "pending" else UNSET,
                "completed_at": ended.isoformat() if status in ("completed", "failed") else UNSET,
                "last_heartbeat": (created + dt.timedelta(seconds=30)).isoformat(),
                **({"error": "rate limited"} if status == "failed" else {}),
                "result_count": i % 17,
                "failed_count": i % 3,
                "documents_saved": i % 11,
                "seed_urls": ["https://example.org/"],
            }
        )
    return decode_job_list(msgspec.json.encode({"jobs": jobs, "total_count": n})).jobs or []


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Return the best and the median wall time of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def row(*cells: object) -> str:
    """Format one line of the table: right-aligned cells."""
    return " ".join(f"{cell:>10}" for cell in cells)


def bench_dataframe(sizes: list[int], repeat: int) -> None:
    """Print the to_dataframe table, and the verdict on the goal when ``GOAL_N`` is measured."""
    print(f"to_dataframe(jobs) vs pd.DataFrame(list_of_dicts); best / median of {repeat} (ms)")
    print(row("jobs", "ours best", "ours med", "dicts best", "dicts med", "ratio"))
    for n in sizes:
        jobs = make_jobs(n)
        dicts = [msgspec.structs.asdict(job) for job in jobs]
        ours_best, ours_med = timed(functools.partial(to_dataframe, jobs), repeat)
        base_best, base_med = timed(functools.partial(pd.DataFrame, dicts), repeat)
        ms = (f"{t:.1f}" for t in (ours_best, ours_med, base_best, base_med))
        print(row(n, *ms, f"{ours_best / base_best:.2f}"))
        if n == GOAL_N:
            verdict = "met" if ours_best < GOAL_MS else "MISSED"
            print(f"  goal: {GOAL_N} jobs in < {GOAL_MS:.0f} ms: {verdict} ({ours_best:.1f} ms)")


def bench_history(n: int, repeat: int) -> None:
    """Print the cost of History.record per frame and of History.to_dataframe for ``n``."""
    history = History(maxlen=n)
    applied = SimpleNamespace(old_status="pending", new_status="running", changed=True)
    stamp = dt.datetime.now(dt.UTC)
    frames = [
        JobStatusChange(job_id=f"job-{i}", status="running", total_urls=i, timestamp=stamp)
        for i in range(n)
    ]
    now = time.time()
    start = time.perf_counter()
    for frame in frames:
        history.record(now, frame, applied)
    per_frame_us = (time.perf_counter() - start) / n * 1e6
    best, median = timed(history.to_dataframe, repeat)
    print(f"History.record: {per_frame_us:.2f} us/frame")
    print(f"History.to_dataframe of {n} records: best {best:.1f} ms, median {median:.1f} ms")


def main() -> None:
    """Parse the sizes and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000, GOAL_N])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement")
    args = parser.parse_args()
    bench_dataframe(args.sizes, args.repeat)
    bench_history(max(args.sizes), args.repeat)


if __name__ == "__main__":
    main()
