"""REST calls of the job server over one httpx client, with errors mapped to jobwidget's tree."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from . import protocol
from .errors import ActionError, AuthError, ServerError

__all__ = ["RestApi", "auth_headers", "display_url", "ssl_context"]

T = TypeVar("T")


def display_url(url: str) -> str:
    """``url`` without user name and password, for reprs, logs and saved notebooks."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def auth_headers(token: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    """Merge user headers with an ``Authorization: Bearer`` header when a token is given."""
    merged = dict(headers or {})
    if token:
        merged["Authorization"] = f"Bearer {token}"
    return merged


def ssl_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    """Return an SSL context for ``verify`` (True, False, a CA bundle path or a context)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if verify is True:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=verify)
    except OSError as exc:  # the bare error names no file
        raise ValueError(f"cannot load the CA bundle {verify!r}: {exc}") from exc


def _job_path(job_id: str, suffix: str = "") -> str:
    """Path of one job's endpoint; the id is percent-encoded so it cannot change the route."""
    return f"/api/jobs/{quote(job_id, safe='')}{suffix}"


class RestApi:
    """The job server's REST endpoints (``protocol.md`` §2) as typed async calls.

    Every failure raises a :class:`~jobwidget.errors.ServerError` (no answer, or an error
    status, with the server's own text), an :class:`~jobwidget.errors.AuthError` for 401/403,
    an :class:`~jobwidget.errors.ActionError` when an action is refused, or a
    :class:`~jobwidget.errors.ProtocolError` when the body does not decode.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=dict(headers),
            verify=ssl_context(verify) if self.base_url.startswith("https") else True,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
        )

    async def aclose(self) -> None:
        """Close the underlying HTTP connections."""
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        decode: Callable[[bytes], T],
        *,
        params: Mapping[str, Any] | None = None,
        action: bool = False,
    ) -> T:
        what = f"{method} {path}"
        try:
            response = await self._http.request(method, path, params=params)
        except httpx.TimeoutException as exc:
            raise ServerError(f"{what}: no answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise ServerError(f"{what}: {type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:  # httpx refuses requests once the client is closed
            raise ServerError(f"{what}: {exc}") from exc
        code = response.status_code
        if code >= 400:
            text = protocol.error_text(response.content) or response.reason_phrase
            if code in (401, 403):
                raise AuthError(
                    f"{what} answered {code} ({text}): the token is missing or wrong",
                    status_code=code,
                    text=text,
                )
            error = ActionError if action else ServerError
            raise error(f"{what} answered {code}: {text}", status_code=code, text=text)
        return decode(response.content)

    async def list_all(self) -> tuple[list[protocol.Job], list[str]]:
        """Return every job with one ``GET /api/jobs?limit=0`` call, and the rows skipped.

        One call rather than pages: the server answers from one consistent snapshot, whereas
        offset pages over a list that changes between requests skip or repeat jobs. A job row
        that does not decode is skipped and described in the second list.
        """
        page, rejected = await self._call(
            "GET", "/api/jobs", protocol.decode_job_list_rows, params={"limit": 0}
        )
        return (page.jobs if page.jobs is not None else []), rejected

    async def get_job(self, job_id: str) -> protocol.Job:
        """``GET /api/jobs/{id}``."""
        return await self._call("GET", _job_path(job_id), protocol.decode_job)

    async def stats(self) -> protocol.JobStats:
        """``GET /api/jobs/stats``."""
        return await self._call("GET", "/api/jobs/stats", protocol.decode_stats)

    async def logs(self, job_id: str, order: str = "asc") -> protocol.JobLogs:
        """``GET /api/jobs/{id}/logs``."""
        return await self._call(
            "GET", _job_path(job_id, "/logs"), protocol.decode_logs, params={"order": order}
        )

    async def cancel(self, job_id: str) -> protocol.ActionResult:
        """``POST /api/jobs/{id}/cancel``."""
        return await self._call(
            "POST", _job_path(job_id, "/cancel"), protocol.decode_action, action=True
        )

    async def delete(self, job_id: str) -> protocol.ActionResult:
        """``DELETE /api/jobs/{id}``."""
        return await self._call("DELETE", _job_path(job_id), protocol.decode_action, action=True)

    async def rerun(self, job_id: str) -> protocol.RerunResult:
        """``POST /api/jobs/{id}/rerun``."""
        return await self._call(
            "POST", _job_path(job_id, "/rerun"), protocol.decode_rerun, action=True
        )
