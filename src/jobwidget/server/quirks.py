"""Noise frames of the upstream server (``status``, ``log``, ``auth``) for the quirks mode."""

from __future__ import annotations

import datetime as _dt
import random
from typing import Any

from .records import QUIRKS_OFFSET, frame_time

__all__ = ["noise_frames"]

_LOG_LINES = (
    "crawler heartbeat ok",
    "queue poll finished",
    "refreshed source credentials",
    "storage compaction skipped",
)


def noise_frames() -> list[tuple[str, dict[str, Any]]]:
    """One round of the frames upstream sends besides job events (every 5 s there).

    The ``auth`` frame carries fake session cookies, as upstream leaks its real ones: a correct
    client drops it unread.
    """
    stamp = frame_time(quirks=True)
    clock = _dt.datetime.now(QUIRKS_OFFSET).strftime("%H:%M:%S")
    return [
        (
            "status",
            {
                "service": "crawler",
                "status": "healthy",
                "database": "connected",
                "queue": "running",
                "timestamp": stamp,
            },
        ),
        ("log", {"timestamp": clock, "level": "info", "message": random.choice(_LOG_LINES)}),
        (
            "auth",
            {
                "base_url": "https://example.atlassian.net",
                "cookies": [
                    {"name": "cloud.session.token", "value": "FAKE-SESSION-COOKIE-DO-NOT-KEEP"},
                    {"name": "atlassian.xsrf.token", "value": "FAKE-XSRF"},
                ],
                "timestamp": stamp,
            },
        ),
    ]
