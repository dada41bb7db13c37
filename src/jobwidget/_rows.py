"""Plain, JSON-ready dicts of jobs, counts and connection state for the widget's traits."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .connection import ConnectionInfo
from .protocol import Job, JobStats, QueueStats

__all__ = ["connection_state", "iso", "job_row", "stats_state"]


def iso(value: _dt.datetime | None) -> str | None:
    """Return ``value`` as an ISO 8601 UTC string with milliseconds (``...Z``), or ``None``."""
    if value is None:
        return None
    utc = value.astimezone(_dt.UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_row(job: Job) -> dict[str, Any]:
    """Return the view's row of ``job``: only the fields the table shows, all JSON-ready."""
    prog = job.prog
    return {
        "id": job.id,
        "name": job.name,
        "status": job.status,
        "source_type": job.source_type,
        "entity_type": job.entity_type,
        "total_urls": prog.total_urls,
        "completed_urls": prog.completed_urls,
        "failed_urls": prog.failed_urls,
        "pending_urls": prog.pending_urls,
        "percentage": round(float(prog.percentage), 2),
        "current_url": prog.current_url,
        "result_count": job.result_count,
        "failed_count": job.failed_count,
        "error": job.error,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at),
        "duration": None if job.duration is None else round(job.duration, 3),
    }


def stats_state(stats: JobStats, queue: QueueStats | None) -> dict[str, Any]:
    """Return the ``stats`` trait: the six counts and the latest ``queue_stats`` (or ``None``)."""
    return {
        "total": stats.total_jobs,
        "pending": stats.pending_jobs,
        "running": stats.running_jobs,
        "completed": stats.completed_jobs,
        "failed": stats.failed_jobs,
        "cancelled": stats.cancelled_jobs,
        "queue": None
        if queue is None
        else {
            "total_messages": queue.total_messages,
            "pending_messages": queue.pending_messages,
            "in_flight_messages": queue.in_flight_messages,
            "concurrency": queue.concurrency,
            "queue_name": queue.queue_name,
        },
    }


def connection_state(info: ConnectionInfo) -> dict[str, Any]:
    """Return the ``connection`` trait of ``info``.

    ``last_message_at`` is cut to whole seconds so that a busy socket does not make this trait
    change on every flush; ``retry_in`` is the delay left at the time of the call (the view
    counts down from it).
    """
    last = info.last_message_at
    retry_in = info.retry_in
    return {
        "state": info.state,
        "last_message_at": iso(None if last is None else last.replace(microsecond=0)),
        "last_error": info.last_error,
        "retry_in": None if retry_in is None else round(retry_in, 1),
        "reconnect_attempts": info.reconnect_attempts,
    }
