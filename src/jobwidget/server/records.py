"""Job records of the reference server and their JSON form in the normal and upstream styles."""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from ..protocol import JobStatus

__all__ = ["UNSET_TIME", "JobRecord", "WireStyle", "frame_time"]

#: How the upstream server writes "not set".
UNSET_TIME: Final = "0001-01-01T00:00:00Z"
#: The fixed non-UTC offset the upstream-quirks mode uses for every time it sends.
QUIRKS_OFFSET: Final = _dt.timezone(_dt.timedelta(hours=11))

_encode: Final = msgspec.json.Encoder().encode


@dataclass(slots=True)
class JobRecord:
    """One job as the server keeps it: the row of the ``jobs`` table, progress flattened.

    Times are POSIX seconds (``None`` when unset). ``order`` breaks ties of ``created_at``.
    """

    id: str
    name: str
    job_type: str
    created_at: float
    order: int
    status: JobStatus = "pending"
    description: str = ""
    source_type: str = ""
    entity_type: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    seed_urls: list[str] = field(default_factory=list)
    started_at: float | None = None
    completed_at: float | None = None
    last_heartbeat: float | None = None
    error: str = ""
    result_count: int = 0
    failed_count: int = 0
    documents_saved: int = 0
    total_urls: int = 0
    completed_urls: int = 0
    failed_urls: int = 0
    current_url: str = ""
    estimated_completion: float | None = None
    cached_json: bytes | None = None

    @property
    def pending_urls(self) -> int:
        """URLs known but not yet visited."""
        return max(0, self.total_urls - self.completed_urls - self.failed_urls)

    @property
    def percentage(self) -> float:
        """Share of known URLs visited, 0-100."""
        if self.total_urls <= 0:
            return 0.0
        return round(100.0 * (self.completed_urls + self.failed_urls) / self.total_urls, 2)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, when both are known."""
        if self.started_at is None or self.completed_at is None:
            return None
        return max(0.0, self.completed_at - self.started_at)

    def touch(self) -> None:
        """Forget the cached JSON after a change."""
        self.cached_json = None


class WireStyle:
    """How times, jobs and counts look on the wire: ours (normal) or the upstream server's.

    Parameters
    ----------
    quirks : bool
        ``True`` for the upstream style: whole seconds with a ``+11:00`` offset and
        ``0001-01-01T00:00:00Z`` for unset times. ``False``: RFC 3339 UTC with microseconds,
        unset times omitted.
    """

    def __init__(self, *, quirks: bool) -> None:
        self.quirks = quirks

    def time(self, value: float | None) -> str | None:
        """Format a REST time, or return ``None`` (normal) / the unset marker (quirks)."""
        if value is None:
            return UNSET_TIME if self.quirks else None
        if self.quirks:
            return _dt.datetime.fromtimestamp(int(value), QUIRKS_OFFSET).isoformat()
        stamp = _dt.datetime.fromtimestamp(value, _dt.UTC).isoformat(timespec="microseconds")
        return stamp.replace("+00:00", "Z")

    def job_dict(self, rec: JobRecord) -> dict[str, Any]:
        """The Job object of protocol.md section 3 for ``rec``."""
        progress: dict[str, Any] = {
            "total_urls": rec.total_urls,
            "completed_urls": rec.completed_urls,
            "failed_urls": rec.failed_urls,
            "pending_urls": rec.pending_urls,
            "current_url": rec.current_url,
            "percentage": rec.percentage,
        }
        out: dict[str, Any] = {
            "id": rec.id,
            "name": rec.name,
            "description": rec.description,
            "job_type": rec.job_type,
            "source_type": rec.source_type,
            "entity_type": rec.entity_type,
            "status": rec.status,
            "config": rec.config,
            "progress": progress,
            "result_count": rec.result_count,
            "failed_count": rec.failed_count,
            "documents_saved": rec.documents_saved,
            "seed_urls": rec.seed_urls,
        }
        times = {
            "created_at": rec.created_at,
            "started_at": rec.started_at,
            "completed_at": rec.completed_at,
            "last_heartbeat": rec.last_heartbeat,
        }
        for key, value in times.items():
            text = self.time(value)
            if text is not None:
                out[key] = text
        for key, value in (
            ("start_time", rec.started_at),
            ("estimated_completion", rec.estimated_completion),
        ):
            text = self.time(value)
            if text is not None:
                progress[key] = text
        if rec.error:
            out["error"] = rec.error
        return out

    def job_json(self, rec: JobRecord) -> bytes:
        """The encoded Job object, cached on the record until it changes."""
        cached = rec.cached_json
        if cached is None:
            cached = rec.cached_json = _encode(self.job_dict(rec))
        return cached

    def status_payload(self, rec: JobRecord, *, progress: bool = False) -> dict[str, Any]:
        """Payload of a ``job_status_change`` frame for the current state of ``rec``.

        In the upstream style the counts are filled exactly as protocol.md section 4 says
        (zeros for created/started/failed/cancelled where upstream sends them); ``progress``
        marks a frame of a running job's progress (real counts, a reference-server extension).
        """
        status = rec.status
        payload: dict[str, Any] = {
            "job_id": rec.id,
            "status": status,
            "source_type": rec.source_type,
            "entity_type": rec.entity_type,
            "result_count": rec.result_count,
            "failed_count": rec.failed_count,
            "total_urls": rec.total_urls,
            "completed_urls": rec.completed_urls,
            "pending_urls": rec.pending_urls,
        }
        if status == "failed":
            payload["error"] = rec.error
        if status == "completed":
            payload["duration"] = rec.duration or 0.0
        if self.quirks and not progress:
            _zero_like_upstream(payload, status)
        payload["timestamp"] = frame_time(quirks=self.quirks)
        return payload

    def progress_payload(self, rec: JobRecord) -> dict[str, Any]:
        """Payload of an upstream-style camelCase ``crawl_progress`` frame."""
        return {
            "jobId": rec.id,
            "sourceType": rec.source_type,
            "entityType": rec.entity_type,
            "status": rec.status,
            "totalUrls": rec.total_urls,
            "completedUrls": rec.completed_urls,
            "failedUrls": rec.failed_urls,
            "pendingUrls": rec.pending_urls,
            "percentage": rec.percentage,
            "currentUrl": rec.current_url,
            "estimatedCompletion": self.time(rec.estimated_completion) or UNSET_TIME,
            "errors": [],
        }


def _zero_like_upstream(payload: dict[str, Any], status: str) -> None:
    """Blank the counts the upstream server sends as 0 for this lifecycle event."""
    if status in ("pending", "running"):
        zeroed: tuple[str, ...] = (
            "result_count",
            "failed_count",
            "total_urls",
            "completed_urls",
            "pending_urls",
        )
    elif status == "completed":
        payload["completed_urls"] = payload["total_urls"]
        zeroed = ("pending_urls",)
    else:
        zeroed = ("total_urls",)
    for key in zeroed:
        payload[key] = 0


def frame_time(*, quirks: bool) -> str:
    """The time of sending, RFC 3339 with nanoseconds: UTC, or ``+11:00`` in quirks mode."""
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    if quirks:
        base = _dt.datetime.fromtimestamp(secs, QUIRKS_OFFSET)
        return f"{base:%Y-%m-%dT%H:%M:%S}.{frac:09d}+11:00"
    base = _dt.datetime.fromtimestamp(secs, _dt.UTC)
    return f"{base:%Y-%m-%dT%H:%M:%S}.{frac:09d}Z"
