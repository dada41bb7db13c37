"""Lifecycle and progress frames of jobs, with progress coalesced per job."""

from __future__ import annotations

import asyncio
import logging

from .broadcast import Broadcaster
from .records import JobRecord, WireStyle, frame_time

__all__ = ["Events"]

logger = logging.getLogger(__name__)


class Events:
    """Turn job changes into frames: status changes at once, progress at most every ``interval``.

    Progress is never dropped: the latest counts of a running job are always sent, at the latest
    ``interval`` seconds after they changed. A status change (start, end) goes out at once.
    """

    def __init__(self, broadcaster: Broadcaster, style: WireStyle, interval: float = 0.5) -> None:
        self._out = broadcaster
        self._style = style
        self._interval = interval
        self._last: dict[str, float] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def status(self, rec: JobRecord) -> None:
        """A job was created or changed status: send its frame now."""
        self._forget_timer(rec.id)
        self._out.publish("job_status_change", self._style.status_payload(rec))
        if rec.status == "running":
            self._last[rec.id] = asyncio.get_running_loop().time()
        else:
            self._last.pop(rec.id, None)

    def rerun(self, rec: JobRecord) -> None:
        """A rerun made ``rec``: a ``pending`` frame (none in the upstream style)."""
        if not self._style.quirks:
            self.status(rec)

    def progress(self, rec: JobRecord) -> None:
        """The counts of a running job changed: send now or schedule one coalesced frame."""
        if rec.id in self._timers:
            return
        loop = asyncio.get_running_loop()
        wait = self._last.get(rec.id, -self._interval) + self._interval - loop.time()
        if wait <= 0:
            self._send_progress(rec)
        else:
            self._timers[rec.id] = loop.call_later(wait, self._send_progress, rec)

    def deleted(self, job_id: str) -> None:
        """A job was deleted: a ``job_deleted`` frame (none in the upstream style)."""
        self._forget_timer(job_id)
        self._last.pop(job_id, None)
        if not self._style.quirks:
            payload = {"job_id": job_id, "timestamp": frame_time(quirks=False)}
            self._out.publish("job_deleted", payload)

    def close(self) -> None:
        """Cancel every scheduled progress frame."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._last.clear()

    def _send_progress(self, rec: JobRecord) -> None:
        self._timers.pop(rec.id, None)
        if rec.status != "running":
            return  # its final frame already carried the counts
        self._last[rec.id] = asyncio.get_running_loop().time()
        if self._style.quirks:
            self._out.publish("crawl_progress", self._style.progress_payload(rec))
        else:
            self._out.publish("job_status_change", self._style.status_payload(rec, progress=True))

    def _forget_timer(self, job_id: str) -> None:
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
