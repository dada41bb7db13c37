"""The job queue: in-memory table over SQLite, actions, listing, workers and periodic frames."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import msgspec

from ..protocol import STATUSES, TERMINAL, JobStatus
from .broadcast import Broadcaster
from .db import JobDB, LogRow
from .events import Events
from .quirks import noise_frames
from .records import JobRecord, WireStyle, frame_time
from .workers import JobContext, JobTypes, execute

__all__ = ["ORDER_FIELDS", "ApiError", "JobQueue", "JobSpec", "ListQuery"]

logger = logging.getLogger(__name__)

#: Error text of jobs that were running when the server died.
RESTART_ERROR: Final = "server restarted"
#: At most this many log lines per answer (as upstream).
MAX_LOG_LINES: Final = 1000
#: Columns ``order_by`` accepts.
ORDER_FIELDS: Final = frozenset(
    {
        "created_at",
        "started_at",
        "completed_at",
        "last_heartbeat",
        "name",
        "status",
        "source_type",
        "entity_type",
        "result_count",
        "failed_count",
        "id",
    }
)
_CANCEL_WAIT: Final = 2.0
_FLUSH_DELAY: Final = 0.2


class ApiError(Exception):
    """A refused request: HTTP ``status`` and the one-line plain-text ``text``."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class JobSpec(msgspec.Struct, forbid_unknown_fields=False):
    """Body of ``POST /api/jobs``."""

    name: str = ""
    job_type: str = "crawl"
    source_type: str = ""
    entity_type: str = ""
    config: dict[str, Any] = {}
    seed_urls: list[str] = []
    description: str = ""


class ListQuery(msgspec.Struct, frozen=True):
    """The checked query of ``GET /api/jobs``; empty filter sets mean "no filter"."""

    limit: int = 50
    offset: int = 0
    statuses: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    order_by: str = "created_at"
    descending: bool = True


def _sort_key(field: str) -> Callable[[JobRecord], Any]:
    def key(rec: JobRecord) -> Any:
        value = getattr(rec, field)
        return (value is not None, value if value is not None else 0)

    return key


class JobQueue:
    """Every job of one server: authoritative rows in SQLite, a cache in memory, the workers.

    All methods run on the server's event loop thread.

    Parameters
    ----------
    db : JobDB
        Where jobs and logs live.
    broadcaster : Broadcaster
        Where frames go.
    job_types : JobTypes
        The registry the workers run jobs from.
    concurrency : int
        Jobs running at once.
    quirks : bool
        Upstream style on the wire and upstream answers to actions.
    stats_interval : float
        Seconds between ``queue_stats`` frames (and noise frames in quirks mode).
    progress_interval : float
        Minimum seconds between two progress frames of one job.
    """

    def __init__(
        self,
        db: JobDB,
        broadcaster: Broadcaster,
        job_types: JobTypes,
        *,
        concurrency: int = 4,
        quirks: bool = False,
        stats_interval: float = 5.0,
        progress_interval: float = 0.5,
    ) -> None:
        self.db = db
        self.style = WireStyle(quirks=quirks)
        self.quirks = quirks
        self.broadcaster = broadcaster
        self.events = Events(broadcaster, self.style, progress_interval)
        self.job_types = job_types
        self.concurrency = max(1, concurrency)
        self.stats_interval = stats_interval
        self.completed_runs = 0
        self._jobs: dict[str, JobRecord] = {}
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._running: dict[str, JobContext] = {}
        self._dirty: set[str] = set()
        self._log_buffer: list[LogRow] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="jobwidget-job")
        self._next_order = 0
        self._last_created = 0.0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load every job, apply the restart rule, start workers and periodic frames."""
        now = time.time()
        restarted: list[JobRecord] = []
        for rec in self.db.load():
            self._jobs[rec.id] = rec
            self._next_order = max(self._next_order, rec.order + 1)
            self._last_created = max(self._last_created, rec.created_at)
            if rec.status == "running":
                rec.status = "failed"
                rec.error = RESTART_ERROR
                rec.completed_at = now
                restarted.append(rec)
            elif rec.status == "pending":
                self._ready.put_nowait(rec.id)
        if restarted:
            logger.info("%d jobs were running when the server stopped: failed", len(restarted))
            self.db.save(restarted)
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        self._tasks.append(asyncio.create_task(self._ticker()))
        self._tasks.append(asyncio.create_task(self._warm_cache()))

    async def stop(self) -> None:
        """Stop workers (running jobs stay ``running`` in the database) and flush."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.events.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.flush()

    # ------------------------------------------------------------------ reading

    def get(self, job_id: str) -> JobRecord:
        """The job ``job_id``; 404 when unknown."""
        rec = self._jobs.get(job_id)
        if rec is None:
            raise ApiError(404, "Job not found")
        return rec

    def job_json(self, job_id: str) -> bytes:
        """The Job object of ``job_id`` as JSON."""
        return self.style.job_json(self.get(job_id))

    def list_json(self, query: ListQuery) -> bytes:
        """The body of ``GET /api/jobs`` for ``query``."""
        if query.order_by == "created_at":
            rows: Iterable[JobRecord] = self._jobs.values()
            if query.descending:
                rows = reversed(self._jobs.values())
        else:
            rows = sorted(
                self._jobs.values(), key=_sort_key(query.order_by), reverse=query.descending
            )
        filtered = bool(query.statuses or query.sources or query.entities)
        if filtered:
            rows = [
                rec
                for rec in rows
                if (not query.statuses or rec.status in query.statuses)
                and (not query.sources or rec.source_type in query.sources)
                and (not query.entities or rec.entity_type in query.entities)
            ]
        else:
            rows = list(rows)
        total = len(rows)
        if query.limit > 0:
            rows = rows[query.offset : query.offset + query.limit]
        encode = self.style.job_json
        body = b",".join([encode(rec) for rec in rows])
        tail = f'],"total_count":{total},"limit":{query.limit},"offset":{query.offset}}}\n'
        return b'{"jobs":[' + body + tail.encode()

    def stats(self) -> dict[str, int]:
        """Global counts of ``GET /api/jobs/stats``."""
        counts = dict.fromkeys(STATUSES, 0)
        for rec in self._jobs.values():
            counts[rec.status] += 1
        out = {"total_jobs": len(self._jobs)}
        out.update({f"{status}_jobs": n for status, n in counts.items()})
        return out

    def logs(self, job_id: str, *, newest_first: bool) -> list[dict[str, Any]]:
        """Up to 1000 log lines of a job as ``{timestamp, level, message}`` objects."""
        self.get(job_id)
        self.flush()
        rows = self.db.logs(job_id, newest_first=newest_first, limit=MAX_LOG_LINES)
        fmt = self.style.time
        return [{"timestamp": fmt(ts), "level": level, "message": msg} for ts, level, msg in rows]

    # ------------------------------------------------------------------ actions

    def create(self, spec: JobSpec) -> JobRecord:
        """Add a ``pending`` job, persist it at once, announce it and queue it."""
        if self.job_types.get(spec.job_type) is None:
            known = ", ".join(self.job_types.names())
            raise ApiError(400, f"unknown job_type {spec.job_type!r} (known: {known})")
        rec = self._new_record(spec)
        self.events.status(rec)
        return rec

    def seed(self, count: int, status: JobStatus, spec: JobSpec) -> list[str]:
        """Insert ``count`` finished jobs at once, without frames (like an existing database)."""
        if status not in TERMINAL:
            raise ValueError(f"seeded jobs must be finished, not {status!r}")
        now = max(time.time(), self._last_created)
        records = []
        for i in range(count):
            rec = self._new_record(spec, queued=False, save=False)
            rec.status = status
            rec.started_at = rec.created_at = now + i * 1e-6
            rec.completed_at = rec.last_heartbeat = rec.started_at
            rec.total_urls = rec.completed_urls = rec.result_count = rec.documents_saved = 10
            if status == "failed":
                rec.error = "seeded failure"
            records.append(rec)
        self._last_created = now + count * 1e-6
        self.db.save(records)
        self._tasks.append(asyncio.create_task(self._warm_cache()))
        return [rec.id for rec in records]

    def _new_record(self, spec: JobSpec, *, queued: bool = True, save: bool = True) -> JobRecord:
        now = max(time.time(), self._last_created)
        self._last_created = now
        rec = JobRecord(
            id=str(uuid.uuid4()),
            name=spec.name or f"{spec.job_type} job",
            job_type=spec.job_type,
            created_at=now,
            order=self._next_order,
            description=spec.description,
            source_type=spec.source_type,
            entity_type=spec.entity_type,
            config=dict(spec.config),
            seed_urls=list(spec.seed_urls),
            total_urls=len(spec.seed_urls),
        )
        self._next_order += 1
        self._jobs[rec.id] = rec
        if save:
            self.db.save([rec])
        if queued:
            self._ready.put_nowait(rec.id)
        return rec

    async def cancel(self, job_id: str) -> str:
        """Cancel a job; return the answer's message. Upstream: only running jobs (else 500)."""
        rec = self._jobs.get(job_id)
        if rec is None:
            raise ApiError(500, f"failed to cancel job: job not found: {job_id}")
        ctx = self._running.get(job_id)
        if ctx is not None:
            ctx.cancel()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CANCEL_WAIT):
                    await ctx.done.wait()
            return "Job cancellation requested"
        if rec.status == "pending" and not self.quirks:
            self._finish(rec, "cancelled", "")
            return "Job cancelled"
        raise ApiError(500, f"failed to cancel job: job is not running (status: {rec.status})")

    def delete(self, job_id: str) -> None:
        """Delete a job that is not running, with its logs."""
        rec = self._jobs.get(job_id)
        if rec is None:
            raise ApiError(500, f"failed to delete job: job not found: {job_id}")
        if rec.status == "running":
            raise ApiError(400, "Cannot delete a running job, cancel it first")
        del self._jobs[job_id]
        self._dirty.discard(job_id)
        self._log_buffer = [row for row in self._log_buffer if row[0] != job_id]
        self.db.delete(job_id)
        self.events.deleted(job_id)

    def rerun(self, job_id: str) -> JobRecord:
        """Copy a job that is not running as a new ``pending`` job."""
        rec = self.get(job_id)
        if rec.status == "running":
            raise ApiError(400, "Cannot rerun a running job, cancel it first")
        spec = JobSpec(**{name: getattr(rec, name) for name in JobSpec.__struct_fields__})
        new = self._new_record(spec)
        self.events.rerun(new)
        return new

    def queue_stats(self) -> dict[str, Any]:
        """Payload of a ``queue_stats`` frame."""
        pending = sum(1 for rec in self._jobs.values() if rec.status == "pending")
        running = len(self._running)
        return {
            "total_messages": pending + running,
            "pending_messages": pending,
            "in_flight_messages": running,
            "concurrency": self.concurrency,
            "queue_name": "jobs",
            "timestamp": frame_time(quirks=self.quirks),
        }

    # ------------------------------------------------------------------ reports of jobs

    def report_progress(self, job_id: str, changes: dict[str, Any]) -> None:
        """Apply progress from a job function (the context's sink)."""
        rec = self._jobs.get(job_id)
        if rec is None or rec.status != "running":
            return
        for key, value in changes.items():
            setattr(rec, key, value)
        rec.total_urls = max(rec.total_urls, rec.completed_urls + rec.failed_urls)
        rec.failed_count = rec.failed_urls
        rec.documents_saved = rec.result_count
        now = time.time()
        rec.last_heartbeat = now
        done = rec.completed_urls + rec.failed_urls
        if done and rec.started_at is not None:
            rec.estimated_completion = now + (now - rec.started_at) / done * rec.pending_urls
        self._mark(rec)
        self.events.progress(rec)

    def write_log(self, job_id: str, level: str, message: str) -> None:
        """Append a log line from a job function (the context's sink)."""
        if job_id in self._jobs:
            self._log_buffer.append((job_id, time.time(), level, message))
            self._schedule_flush()

    # ------------------------------------------------------------------ internals

    def _mark(self, rec: JobRecord) -> None:
        rec.touch()
        self._dirty.add(rec.id)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(_FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write every changed job and buffered log line to SQLite now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._dirty and not self._log_buffer:
            return
        records = [self._jobs[job_id] for job_id in self._dirty if job_id in self._jobs]
        logs, self._log_buffer = self._log_buffer, []
        self._dirty.clear()
        self.db.save(records, logs)

    def _finish(self, rec: JobRecord, status: JobStatus, error: str) -> None:
        rec.status = status
        rec.error = error
        rec.completed_at = rec.last_heartbeat = time.time()
        rec.current_url = ""
        rec.estimated_completion = None
        if status == "completed":
            rec.completed_urls = max(rec.completed_urls, rec.total_urls - rec.failed_urls)
        self._mark(rec)
        self.events.status(rec)

    async def _worker(self) -> None:
        while True:
            job_id = await self._ready.get()
            rec = self._jobs.get(job_id)
            if rec is not None and rec.status == "pending":
                await self._run(rec)

    async def _run(self, rec: JobRecord) -> None:
        rec.status = "running"
        rec.started_at = rec.last_heartbeat = time.time()
        self._mark(rec)
        self.events.status(rec)
        func = self.job_types.get(rec.job_type)
        if func is None:
            self._finish(rec, "failed", f"unknown job type {rec.job_type!r}")
            return
        ctx = JobContext(rec, self)
        self._running[rec.id] = ctx
        try:
            status, error = await execute(func, ctx, self._executor)
        finally:
            del self._running[rec.id]
            ctx.done.set()
        self.completed_runs += 1
        if rec.id in self._jobs:
            self._finish(rec, status, error)

    async def _warm_cache(self) -> None:
        """Encode every job's JSON ahead of the first full listing, a slice at a time."""
        encode = self.style.job_json
        for i, rec in enumerate(list(self._jobs.values())):
            encode(rec)
            if i % 1000 == 999:
                await asyncio.sleep(0)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.stats_interval)
            self.broadcaster.publish("queue_stats", self.queue_stats())
            if self.quirks:
                for kind, payload in noise_frames():
                    self.broadcaster.publish(kind, payload)
