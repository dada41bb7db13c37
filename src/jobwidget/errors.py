"""The one exception tree of jobwidget."""

from __future__ import annotations

__all__ = [
    "ActionError",
    "AuthError",
    "JobWidgetError",
    "ProtocolError",
    "ServerError",
]


class JobWidgetError(Exception):
    """Base class of every error jobwidget raises on purpose."""


class ProtocolError(JobWidgetError, ValueError):
    """Bytes from the network do not match the wire protocol.

    Raised by every decoder in :mod:`jobwidget.protocol` for input that is not JSON, is binary,
    has wrong types or misses required fields. The message says what was wrong and where.
    """


class ServerError(JobWidgetError):
    """The server answered a REST call with an error status or an unusable body.

    Attributes
    ----------
    status_code : int or None
        The HTTP status, or ``None`` when the request never got an answer (timeout, refused).
    text : str
        The server's own error text (plain text or the ``error`` field of a JSON body).
    """

    def __init__(self, message: str, *, status_code: int | None = None, text: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.text = text


class AuthError(ServerError):
    """The server refused the credentials (HTTP 401/403): the token is missing or wrong."""


class ActionError(ServerError):
    """A cancel, rerun or delete was refused by the server; ``text`` carries its reason."""
