"""jobwidget: a live job-queue widget for Jupyter, backed by a mirror that is also a DataFrame."""

from __future__ import annotations

from ._version import __version__
from .backoff import Backoff
from .client import ActionOutcome, QueueClient
from .connection import ConnectionInfo, StatusEvent
from .errors import ActionError, AuthError, JobWidgetError, ProtocolError, ServerError
from .frame import History, to_dataframe
from .protocol import STATUSES, TERMINAL, Job, JobStats
from .store import JobStore
from .widget import JobQueueWidget

__all__ = [
    "STATUSES",
    "TERMINAL",
    "ActionError",
    "ActionOutcome",
    "AuthError",
    "Backoff",
    "ConnectionInfo",
    "History",
    "Job",
    "JobQueueWidget",
    "JobStats",
    "JobStore",
    "JobWidgetError",
    "ProtocolError",
    "QueueClient",
    "ServerError",
    "StatusEvent",
    "__version__",
    "to_dataframe",
]
