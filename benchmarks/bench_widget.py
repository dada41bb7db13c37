"""Benchmark of JobQueueWidget's coalesced sync against naive full-list assignment.

1. Cost of one job update with 1k / 10k / 100k jobs mirrored: kernel time (apply the frame,
   compute the page, serialise the message) and bytes on the wire, for the widget's flush and
   for assigning the whole mirror to a synced list trait (the naive way).
2. A storm of job_status_change frames (20 000 frames/s asked) from a local WebSocket server in
   another process into a real QueueClient: comm messages per second the widget sends.

Run: ``.venv/bin/python benchmarks/bench_widget.py`` (about a minute). Loopback only.
"""

from __future__ import annotations

import datetime as _dt
import json
import statistics
import sys
import time
from typing import Any

import anywidget
import comm
import traitlets as t
from comm.base_comm import BaseComm

from _synthetic import synthetic_server
from jobwidget._rows import job_row
from jobwidget.protocol import Job, JobStatusChange, Progress
from jobwidget.widget import JobQueueWidget

SIZES = (1_000, 10_000, 100_000)
STORM_RATE = 20_000  # frames per second asked of the storm server
STORM_SECONDS = 5.0
STORM_JOBS = 2_000


class MeasuringComm(BaseComm):
    """A comm that JSON-encodes what it publishes (as a kernel would) and keeps the sizes."""

    def __init__(self, **kwargs: Any) -> None:
        self.sizes: list[tuple[float, int]] = []
        super().__init__(**kwargs)

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, **keys: Any
    ) -> None:
        if msg_type == "comm_msg":
            self.sizes.append((time.monotonic(), len(json.dumps(data, separators=(",", ":")))))


comm.create_comm = MeasuringComm  # type: ignore[assignment]


class NaiveWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """The naive design: the whole mirror as one synced list."""

    _esm = "export default { render() {} };"
    jobs = t.List(t.Dict()).tag(sync=True)


def make_job(i: int, status: str = "completed") -> Job:
    created = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(seconds=i)
    return Job(
        id=f"{i:08d}-8a7d-4e0b-9c61-2f4f1d7a9b10",
        status=status,  # type: ignore[arg-type]
        name=f"Confluence space crawl {i}",
        source_type="confluence",
        entity_type="spaces",
        progress=Progress(
            total_urls=120, completed_urls=i % 120, current_url=f"https://wiki.example.org/p/{i}"
        ),
        created_at=created,
        started_at=created,
        result_count=i % 97,
    )


def one_update(n: int, rounds: int = 30) -> dict[str, float]:
    """Median kernel ms and bytes of one update, for the widget and for naive assignment."""
    w = JobQueueWidget("http://127.0.0.1:9", start=False)
    w._flusher.stop()  # flushes are driven (and timed) here, on this thread
    client = w.client
    with client.lock:
        client.store.replace(
            [make_job(i, "running" if i >= n - 10 else "completed") for i in range(n)]
        )
    w._flush(True)
    wire: MeasuringComm = w.comm
    times, sizes = [], []
    for r in range(rounds):
        job_id = make_job(n - 1 - r % 10).id
        frame = JobStatusChange(
            job_id=job_id, status="running", completed_urls=r + 1, total_urls=200
        )
        before = len(wire.sizes)
        start = time.perf_counter()
        with client.lock:
            client.store.apply(frame)
        w._flush(True)
        times.append(time.perf_counter() - start)
        sizes.append(sum(size for _, size in wire.sizes[before:]))
    naive = NaiveWidget()
    naive_wire: MeasuringComm = naive.comm
    naive_times, naive_sizes = [], []
    for r in range(3):
        before = len(naive_wire.sizes)
        start = time.perf_counter()
        with client.lock:
            jobs = client.store.jobs()
        naive.jobs = [job_row(job) for job in jobs] + ([{"round": r}])
        naive_times.append(time.perf_counter() - start)
        naive_sizes.append(sum(size for _, size in naive_wire.sizes[before:]))
    w.close()
    naive.close()
    return {
        "ms": statistics.median(times) * 1e3,
        "bytes": statistics.median(sizes),
        "naive_ms": statistics.median(naive_times) * 1e3,
        "naive_bytes": statistics.median(naive_sizes),
    }


def storm() -> dict[str, float]:
    """Frames/s received and comm messages/s sent by a widget under a frame storm."""
    with synthetic_server(jobs=STORM_JOBS, rate=STORM_RATE, seconds=STORM_SECONDS) as url:
        w = JobQueueWidget(url, relist_interval=3600)
        changes = 0

        def count(ids: frozenset[str]) -> None:
            nonlocal changes
            changes += len(ids)

        w.client.on_change(count)
        w.client.wait_until_synced(30)
        wire: MeasuringComm = w.comm
        first = None
        while first is None:  # wait for the first frame of the storm
            first = w.client.connection.last_message_at
            time.sleep(0.01)
        start_frames = len(w.client.history)
        start = time.monotonic()
        start_msgs = len(wire.sizes)
        time.sleep(STORM_SECONDS)
        elapsed = time.monotonic() - start
        frames = len(w.client.history) - start_frames
        msgs = wire.sizes[start_msgs:]
        per_second: dict[int, int] = {}
        for at, _ in msgs:
            per_second[int(at - start)] = per_second.get(int(at - start), 0) + 1
        w.close()
        return {
            "frames_per_s": frames / elapsed,
            "msgs_per_s": len(msgs) / elapsed,
            "max_msgs_in_a_second": max(per_second.values(), default=0),
            "kb_per_msg": statistics.mean(size for _, size in msgs) / 1024 if msgs else 0.0,
        }


def main() -> int:
    print("One job update (median), widget flush vs naive full-list assignment")
    heads = ("widget ms", "widget KB", "naive ms", "naive KB")
    print(f"{'jobs':>8} " + " ".join(f"{h:>10}" for h in heads) + f" {'x faster':>9}")
    ok = True
    for n in SIZES:
        r = one_update(n)
        print(
            f"{n:>8} {r['ms']:>10.3f} {r['bytes'] / 1024:>10.1f} {r['naive_ms']:>10.1f}"
            f" {r['naive_bytes'] / 1024:>10.0f} {r['naive_ms'] / r['ms']:>9.0f}"
        )
        if n == 100_000:
            ok = ok and r["ms"] < 2.0 and r["bytes"] < 32 * 1024
    s = storm()
    print(f"\nStorm: {STORM_RATE} frames/s asked for {STORM_SECONDS:.0f} s into {STORM_JOBS} jobs")
    print(f"  frames applied/s     {s['frames_per_s']:>10.0f}")
    print(f"  comm messages/s      {s['msgs_per_s']:>10.1f}  (goal <= 10)")
    print(f"  max in one second    {s['max_msgs_in_a_second']:>10}")
    print(f"  KB per message       {s['kb_per_msg']:>10.1f}")
    ok = ok and s["max_msgs_in_a_second"] <= 11
    print("\ngoals met" if ok else "\nGOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
