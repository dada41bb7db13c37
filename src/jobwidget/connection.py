"""The observable connection state of a QueueClient, as one immutable snapshot."""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .protocol import JobStats, QueueStats

__all__ = ["ConnectionInfo", "ConnectionState", "StatusEvent", "utc_time"]

ConnectionState: TypeAlias = Literal["connecting", "live", "polling", "error", "closed"]


def utc_time(ts: float | None) -> _dt.datetime | None:
    """A ``time.time()`` value as an aware UTC datetime (``None`` stays ``None``)."""
    return None if ts is None else _dt.datetime.fromtimestamp(ts, _dt.UTC)


@dataclass(frozen=True)
class ConnectionInfo:
    """How the client's mirror is kept true right now; safe to keep and read from any thread.

    Attributes
    ----------
    state : {"connecting", "live", "polling", "error", "closed"}
        ``live``: the WebSocket is open and the mirror was re-listed on it; ``connecting``: a
        handshake is under way; ``polling``: the socket is down, the job list is polled over REST
        until the next attempt at ``next_retry_at``; ``error``: a fatal error (wrong or missing
        token) stopped the client, see ``last_error``; ``closed``: :meth:`QueueClient.close` ran.
    url : str
        The server's base URL.
    last_message_at : datetime or None
        When the last WebSocket frame arrived (UTC).
    last_relist_at : datetime or None
        When the mirror was last replaced by a full REST list (UTC).
    last_error : str or None
        The latest problem seen (a failed call, a bad frame, a dropped socket), kept after
        recovery so that nothing goes unnoticed.
    reconnect_attempts : int
        Consecutive failed connection attempts (0 while live).
    next_retry_at : datetime or None
        When the next WebSocket attempt is due, while backing off.
    relists : int
        Full REST lists applied so far.
    bad_frames : int
        Frames skipped because they did not decode.
    queue_stats : QueueStats or None
        The latest ``queue_stats`` frame.
    server_stats : JobStats or None
        The latest ``/api/jobs/stats`` answer (global counts, also of jobs evicted locally).
    """

    state: ConnectionState
    url: str
    last_message_at: _dt.datetime | None = None
    last_relist_at: _dt.datetime | None = None
    last_error: str | None = None
    reconnect_attempts: int = 0
    next_retry_at: _dt.datetime | None = None
    relists: int = 0
    bad_frames: int = 0
    queue_stats: QueueStats | None = None
    server_stats: JobStats | None = None

    @property
    def retry_in(self) -> float | None:
        """Seconds until the next reconnect attempt, or ``None`` when none is scheduled."""
        if self.next_retry_at is None:
            return None
        return max(0.0, self.next_retry_at.timestamp() - time.time())


@dataclass(frozen=True)
class StatusEvent:
    """A job's status moved (through a frame, a REST list or a fetch).

    ``old`` is ``None`` for a job new to the mirror; ``new`` is ``None`` for a removed job.
    """

    job_id: str
    old: str | None
    new: str | None
