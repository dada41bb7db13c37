"""jobwidget: a live job-queue widget for Jupyter, backed by a mirror that is also a DataFrame."""

from __future__ import annotations

from ._version import __version__
from .errors import ActionError, AuthError, JobWidgetError, ProtocolError, ServerError
from .protocol import STATUSES, TERMINAL, Job, JobStats

__all__ = [
    "STATUSES",
    "TERMINAL",
    "ActionError",
    "AuthError",
    "Job",
    "JobStats",
    "JobWidgetError",
    "ProtocolError",
    "ServerError",
    "__version__",
]
