"""The reference job server (``jobwidget serve``): the protocol over Starlette, SQLite, workers."""

from __future__ import annotations

from .crawl import CRAWL_DEFAULTS
from .runner import JobServer, run_in_thread
from .workers import JobCancelled, JobContext, JobFunction

__all__ = [
    "CRAWL_DEFAULTS",
    "JobCancelled",
    "JobContext",
    "JobFunction",
    "JobServer",
    "run_in_thread",
]
