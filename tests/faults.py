"""A fault-injecting reverse proxy for tests: it sits between a client and the real server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class FaultProxy:
    """Forwards REST and ``/ws`` to ``upstream`` on 127.0.0.1, with faults switched on demand.

    Knobs (plain attributes, read on every request):
    ``rest_status`` answer every REST call with this status and a plain-text error;
    ``rest_body`` answer every REST call 200 with this body (e.g. an HTML error page);
    ``rest_delay`` sleep this long before handling REST calls;
    ``rest_lag`` sleep this long after the upstream answered (the answer ages on the way);
    ``refuse_ws`` deny ``/ws`` handshakes with HTTP 503 while REST keeps working;
    ``rewrite`` a function ``(path, body) -> body`` applied to upstream REST answers.
    Methods: :meth:`send` pushes a raw frame to every connected client, :meth:`drop` closes
    every client socket (code 1011) without a word to the upstream.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rest_status: int | None = None
        self.rest_body: bytes | None = None
        self.rest_delay = 0.0
        self.rest_lag = 0.0
        self.rest_requests = 0
        self.rewrite: Callable[[str, bytes], bytes] | None = None
        self.refuse_ws = False
        self.ws_handshakes = 0
        self._sockets: set[WebSocket] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def connected(self) -> int:
        return len(self._sockets)

    def _app(self, http: httpx.AsyncClient) -> Starlette:

        async def rest(request: Request) -> Response:
            self.rest_requests += 1
            if self.rest_delay:
                await asyncio.sleep(self.rest_delay)
            if self.rest_status is not None:
                return PlainTextResponse("injected failure\n", status_code=self.rest_status)
            if self.rest_body is not None:
                return Response(self.rest_body, status_code=200, media_type="text/html")
            headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
            try:
                body = await request.body()
            except ClientDisconnect:  # the client gave up (e.g. its timeout): nothing to answer
                return Response(status_code=499)
            try:
                upstream = await http.request(
                    request.method,
                    request.url.path,
                    params=request.query_params,
                    headers=headers,
                    content=body,
                )
            except httpx.HTTPError as exc:
                return PlainTextResponse(f"proxy: upstream unreachable: {exc}\n", 502)
            if self.rest_lag:
                await asyncio.sleep(self.rest_lag)
            content = upstream.content
            if self.rewrite is not None:
                content = self.rewrite(request.url.path, content)
            return Response(
                content,
                status_code=upstream.status_code,
                media_type=upstream.headers.get("content-type"),
            )

        async def relay(websocket: WebSocket) -> None:
            self.ws_handshakes += 1
            if self.refuse_ws:
                await websocket.send_denial_response(
                    PlainTextResponse("injected: WebSocket refused\n", status_code=503)
                )
                return
            auth = websocket.headers.get("authorization")
            target = "ws" + self.upstream.removeprefix("http") + "/ws"
            try:
                upstream = await websockets.connect(
                    target, additional_headers={"Authorization": auth} if auth else None
                )
            except websockets.InvalidStatus as exc:
                await websocket.send_denial_response(
                    PlainTextResponse("upstream refused\n", exc.response.status_code)
                )
                return
            except OSError:
                await websocket.send_denial_response(PlainTextResponse("no upstream\n", 502))
                return
            await websocket.accept()
            self._sockets.add(websocket)

            async def pump() -> None:
                async for message in upstream:
                    if isinstance(message, str):
                        await websocket.send_text(message)
                    else:
                        await websocket.send_bytes(message)

            pumping = asyncio.create_task(pump())
            try:
                while True:
                    receive = asyncio.create_task(websocket.receive())
                    done, _ = await asyncio.wait(
                        {receive, pumping}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if pumping in done:
                        receive.cancel()
                        await websocket.close(code=1011)
                        break
                    if receive.result()["type"] == "websocket.disconnect":
                        break
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                self._sockets.discard(websocket)
                pumping.cancel()
                await upstream.close()

        return Starlette(
            routes=[
                WebSocketRoute("/ws", relay),
                Route("/{path:path}", rest, methods=["GET", "POST", "DELETE", "PUT"]),
            ]
        )

    def _run_on_loop(self, coro: object) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    def send(self, data: str | bytes) -> None:
        """Send ``data`` as one frame (text or binary) to every connected client."""

        async def send_all() -> None:
            for ws in list(self._sockets):
                if isinstance(data, str):
                    await ws.send_text(data)
                else:
                    await ws.send_bytes(data)

        self._run_on_loop(send_all())

    def drop(self) -> None:
        """Close every client socket with code 1011, as a crashing server would."""

        async def close_all() -> None:
            for ws in list(self._sockets):
                with contextlib.suppress(RuntimeError):  # already closing
                    await ws.close(code=1011)

        self._run_on_loop(close_all())

    def start(self) -> FaultProxy:
        http = httpx.AsyncClient(base_url=self.upstream, timeout=30)
        config = uvicorn.Config(
            self._app(http), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        self._server = server = uvicorn.Server(config)

        async def serve() -> None:
            try:
                await server.serve()
            finally:
                await http.aclose()

        def run() -> None:
            self._loop = loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(serve())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(10)


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` in front of ``upstream`` for the ``with`` block."""
    proxy = FaultProxy(upstream).start()
    try:
        yield proxy
    finally:
        proxy.stop()
