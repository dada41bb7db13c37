"""The Starlette app: REST routes of protocol.md section 2, ``POST /api/jobs`` and ``/ws``."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qs

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from .jobqueue import ORDER_FIELDS, ApiError, JobQueue, JobSpec, ListQuery

__all__ = ["LOOPBACK_NAMES", "MAX_BODY", "build_app"]

logger = logging.getLogger(__name__)

#: Largest request body accepted (bytes); more answers 413.
MAX_BODY: Final = 1 << 20
_encode: Final = msgspec.json.Encoder().encode
_spec_decoder: Final = msgspec.json.Decoder(JobSpec)
#: Host names of the loopback interface: the only ones a loopback-bound server answers to.
LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_CORS: Final = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-headers", b"authorization, content-type"),
    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
]


def _json(data: Any, status: int = 200) -> Response:
    return Response(_encode(data) + b"\n", status, media_type="application/json")


def _text(text: str, status: int) -> Response:
    return Response(text + "\n", status, media_type="text/plain; charset=utf-8")


def _hostname(value: str) -> str:
    """The host name of a ``Host`` header or the origin of an ``Origin`` header."""
    value = value.split("://", 1)[-1].split("/", 1)[0]
    if value.startswith("["):  # [::1]:8765
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _Guard:
    """ASGI middleware: Host and Origin checks, CORS, bearer token and the ``/ws`` pause switch.

    A loopback-bound server answers only requests addressed to a loopback name (no DNS
    rebinding), and refuses requests that a web page of another origin makes through the
    user's browser (their ``Origin`` header), so a website cannot drive the local queue. In
    upstream-quirks mode it sends ``Access-Control-Allow-Origin: *`` as the upstream does and
    lets every origin in.
    """

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        ws_paused: Callable[[], bool],
        *,
        cors: bool,
        loopback_only: bool,
    ) -> None:
        self.app = app
        self.token = token
        self.ws_paused = ws_paused
        self.cors = cors
        self.loopback_only = loopback_only

    def _refusal(self, scope: Scope) -> str | None:
        """Why a request must be refused for where it comes from or is addressed to, if so."""
        headers = dict(scope.get("headers", ()))
        host = _hostname(headers.get(b"host", b"").decode("latin-1"))
        if self.loopback_only and host not in LOOPBACK_NAMES:
            return f"forbidden Host {host!r}: this server answers only on loopback"
        origin = headers.get(b"origin")
        if origin is not None and not self.cors:
            name = _hostname(origin.decode("latin-1"))
            if name not in LOOPBACK_NAMES:
                return f"forbidden: requests from web pages of other origins ({name!r})"
        return None

    def _authorized(self, scope: Scope) -> bool:
        if not self.token:
            return True
        expected = f"Bearer {self.token}".encode()
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and hmac.compare_digest(value, expected):
                return True
        if scope["type"] == "websocket":  # browsers cannot set headers on a WebSocket
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = query.get("token", [""])[0].encode()
            return hmac.compare_digest(given, self.token.encode())
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        refusal = self._refusal(scope) if kind in ("http", "websocket") else None
        if refusal and kind == "http":
            await _text(refusal, 403)(scope, receive, send)
        elif refusal:
            await self._deny(scope, receive, send, 403, refusal)
        elif kind == "http":
            if scope["method"] == "OPTIONS":
                await Response(status_code=204, headers={"access-control-max-age": "600"})(
                    scope, receive, self._with_cors(send)
                )
                return
            if not self._authorized(scope):
                reply = _text("unauthorized: send the header Authorization: Bearer <token>", 401)
                reply.headers["www-authenticate"] = "Bearer"
                await reply(scope, receive, self._with_cors(send))
                return
            await self.app(scope, receive, self._with_cors(send))
        elif kind == "websocket":
            if not self._authorized(scope):
                await self._deny(scope, receive, send, 401, "unauthorized: bearer token required")
            elif self.ws_paused():
                await self._deny(scope, receive, send, 503, "WebSocket temporarily unavailable")
            else:
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _with_cors(self, send: Send) -> Send:
        if not self.cors:
            return send

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _CORS
            await send(message)

        return wrapped

    @staticmethod
    async def _deny(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            body = (text + "\n").encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            await send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})


def _csv(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _int(params: Any, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"invalid {name} {raw!r}: must be an integer") from None


def parse_list_query(params: Any, *, quirks: bool) -> ListQuery:
    """Check the query of ``GET /api/jobs`` (400 for bad numbers or ordering)."""
    limit = _int(params, "limit", 50)
    offset = _int(params, "offset", 0)
    if offset < 0:
        raise ApiError(400, f"invalid offset {offset}: must be >= 0")
    order_by = params.get("order_by") or "created_at"
    if order_by not in ORDER_FIELDS:
        allowed = ", ".join(sorted(ORDER_FIELDS))
        raise ApiError(400, f"invalid order_by {order_by!r} (allowed: {allowed})")
    order_dir = (params.get("order_dir") or "DESC").upper()
    if order_dir not in ("ASC", "DESC"):
        raise ApiError(400, f"invalid order_dir {params.get('order_dir')!r} (allowed: ASC, DESC)")

    def values(name: str) -> frozenset[str]:
        raw = params.get(name)
        if quirks:  # upstream: exact match on one value; a comma list matches nothing
            return frozenset({raw}) if raw else frozenset()
        return _csv(raw)

    return ListQuery(
        limit=limit,
        offset=offset,
        statuses=_csv(params.get("status")),
        sources=values("source"),
        entities=values("entity"),
        order_by=order_by,
        descending=order_dir == "DESC",
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body too large (limit {limit} bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body too large (limit {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(
    get_queue: Callable[[], JobQueue],
    *,
    token: str | None = None,
    ws_paused: Callable[[], bool] = lambda: False,
    max_body: int = MAX_BODY,
    cors: bool = False,
    loopback_only: bool = True,
) -> ASGIApp:
    """Build the ASGI app serving the queue returned by ``get_queue`` (it changes on restart).

    Parameters
    ----------
    get_queue : callable
        Returns the live :class:`JobQueue`.
    token : str, optional
        Bearer token required on every REST call and the ``/ws`` handshake.
    ws_paused : callable
        While it returns ``True``, new ``/ws`` handshakes get 503.
    max_body : int
        Largest request body, in bytes (413 above).
    cors : bool
        Send ``Access-Control-Allow-Origin: *`` and accept every ``Origin``, as the upstream
        server does (upstream-quirks mode).
    loopback_only : bool
        Answer only requests whose ``Host`` is a loopback name (the server binds loopback).
    """

    async def list_jobs(request: Request) -> Response:
        queue = get_queue()
        query = parse_list_query(request.query_params, quirks=queue.quirks)
        return Response(queue.list_json(query), media_type="application/json")

    async def create_job(request: Request) -> Response:
        body = await _read_body(request, max_body)
        try:
            spec = _spec_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise ApiError(400, f"invalid JSON body: {exc}") from None
        queue = get_queue()
        rec = queue.create(spec)
        return Response(queue.style.job_json(rec) + b"\n", 201, media_type="application/json")

    async def stats(request: Request) -> Response:
        return _json(get_queue().stats())

    async def get_job(request: Request) -> Response:
        body = get_queue().job_json(request.path_params["job_id"])
        return Response(body + b"\n", media_type="application/json")

    async def delete_job(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        get_queue().delete(job_id)
        return _json({"job_id": job_id, "message": "Job deleted successfully"})

    async def cancel_job(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        message = await get_queue().cancel(job_id)
        return _json({"job_id": job_id, "message": message})

    async def rerun_job(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        new = get_queue().rerun(job_id)
        answer = {"original_job_id": job_id, "new_job_id": new.id, "message": "Job rerun created"}
        return _json(answer, 201)

    async def job_logs(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        order = (request.query_params.get("order") or "asc").lower()
        if order not in ("asc", "desc"):
            raise ApiError(400, f"invalid order {order!r} (allowed: asc, desc)")
        lines = get_queue().logs(job_id, newest_first=order == "desc")
        return _json({"job_id": job_id, "logs": lines, "count": len(lines), "order": order})

    async def websocket(ws: WebSocket) -> None:
        await get_queue().broadcaster.serve(ws)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _text(exc.text, exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _text(exc.detail, exc.status_code)

    routes = [
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs", create_job, methods=["POST"]),
        Route("/api/jobs/stats", stats, methods=["GET"]),
        Route("/api/jobs/{job_id}", get_job, methods=["GET"]),
        Route("/api/jobs/{job_id}", delete_job, methods=["DELETE"]),
        Route("/api/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
        Route("/api/jobs/{job_id}/rerun", rerun_job, methods=["POST"]),
        Route("/api/jobs/{job_id}/logs", job_logs, methods=["GET"]),
        WebSocketRoute("/ws", websocket),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: api_error, HTTPException: http_error},
    )
    return _Guard(app, token, ws_paused, cors=cors, loopback_only=loopback_only)
