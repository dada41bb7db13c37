"""Run the server on its own thread and event loop: start, stop, restart, fault injection."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from .app import LOOPBACK_NAMES, MAX_BODY, build_app
from .broadcast import Broadcaster
from .crawl import crawl
from .db import JobDB
from .demo import run_demo
from .jobqueue import JobQueue, JobSpec
from .workers import JobFunction, JobTypes

__all__ = ["JobServer", "run_in_thread"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_START_TIMEOUT: Final = 30.0
_CALL_TIMEOUT: Final = 30.0


class JobServer:
    """The reference job server, run on a background thread with its own event loop.

    Parameters
    ----------
    host : str
        Address to bind; loopback by default.
    port : int
        Port; 0 picks a free one (kept across :meth:`stop`/:meth:`start`).
    db : str
        SQLite file path, or ``":memory:"`` (kept across restarts of this object).
    token : str, optional
        Bearer token required on every REST call and the ``/ws`` handshake.
    workers : int
        Jobs running at once.
    demo : float, optional
        Create this many demo crawl jobs per second.
    quirks : {"upstream"}, optional
        Behave like the upstream Go server on the wire.
    stats_interval : float
        Seconds between ``queue_stats`` (and, in quirks mode, noise) frames.
    client_queue : int
        Frames a WebSocket client may have waiting before it is closed with 1013.
    progress_interval : float
        Minimum seconds between two progress frames of one job.
    max_body : int
        Largest accepted request body in bytes.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        token: str | None = None,
        workers: int = 4,
        demo: float | None = None,
        quirks: Literal["upstream"] | None = None,
        stats_interval: float = 5.0,
        client_queue: int = 10_000,
        progress_interval: float = 0.5,
        max_body: int = MAX_BODY,
    ) -> None:
        if quirks not in (None, "upstream"):
            raise ValueError(f"quirks must be None or 'upstream', not {quirks!r}")
        self.host = host
        self.port = port
        self.db_path = db
        self.token = token or None
        self.workers = workers
        self.demo = demo
        self.quirks = quirks
        self.stats_interval = stats_interval
        self.client_queue = client_queue
        self.progress_interval = progress_interval
        self.max_body = max_body
        self.job_types = JobTypes()
        self.job_types.register("crawl")(crawl)
        self._db: JobDB | None = None
        self._ws_paused = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._queue: JobQueue | None = None
        self._stopped: asyncio.Event | None = None

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket URL, e.g. ``ws://127.0.0.1:8765/ws``."""
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def running(self) -> bool:
        """``True`` while the server thread serves."""
        return self._thread is not None and self._thread.is_alive()

    def job_type(self, name: str) -> Callable[[JobFunction], JobFunction]:
        """Decorator registering a sync or async job function under ``name``.

        The function gets a :class:`~jobwidget.server.JobContext`; it reports with
        ``ctx.progress(...)`` and ``ctx.log(...)`` and should call ``ctx.check()`` (or
        ``await ctx.check()`` / ``await ctx.sleep(s)``) often so that cancel works.
        """
        return self.job_types.register(name)

    def start(self) -> None:
        """Start serving on a background thread; return once it accepts connections."""
        if self.running:
            raise RuntimeError("the server is already running")
        if self._db is None:
            self._db = JobDB(self.db_path)
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._thread_main, args=(sock, ready), name="jobwidget-server", daemon=True
        )
        self._thread.start()
        try:
            ready.result(_START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        logger.info("jobwidget server listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving (like a kill: running jobs are marked failed at the next start)."""
        thread, loop, stopped = self._thread, self._loop, self._stopped
        if thread is None:
            return
        if loop is not None and stopped is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopped.set)
        thread.join(_START_TIMEOUT)
        if thread.is_alive():
            logger.error("the server thread did not stop in %.0f s", _START_TIMEOUT)
        self._thread = self._loop = self._uvicorn = self._queue = self._stopped = None
        if self._db is not None and self.db_path != ":memory:":
            self._db.close()
            self._db = None

    def close(self) -> None:
        """Stop and release the database (an in-memory one is then gone)."""
        self.stop()
        if self._db is not None:
            self._db.close()
            self._db = None

    def create_job(
        self,
        name: str = "",
        job_type: str = "crawl",
        source_type: str = "",
        entity_type: str = "",
        config: dict[str, Any] | None = None,
        seed_urls: list[str] | None = None,
        description: str = "",
    ) -> str:
        """Create a job as ``POST /api/jobs`` does and return its id."""
        spec = JobSpec(
            name=name,
            job_type=job_type,
            source_type=source_type,
            entity_type=entity_type,
            config=dict(config or {}),
            seed_urls=list(seed_urls or []),
            description=description,
        )

        async def create() -> str:
            return self._live_queue().create(spec).id

        return self._call(create())

    def seed_jobs(
        self,
        count: int,
        status: Literal["completed", "failed", "cancelled"] = "completed",
        **fields: Any,
    ) -> list[str]:
        """Insert ``count`` finished jobs at once, without frames, and return their ids.

        For big-queue tests and benchmarks (e.g. 100 000 jobs in about a second); ``fields``
        are the keywords of :meth:`create_job` except ``job_type``.
        """
        spec = JobSpec(**fields)

        async def seed() -> list[str]:
            return self._live_queue().seed(count, status, spec)

        return self._call(seed())

    def cancel_job(self, job_id: str) -> str:
        """Cancel a job as ``POST /api/jobs/{id}/cancel`` does; return the message."""

        async def cancel() -> str:
            return await self._live_queue().cancel(job_id)

        return self._call(cancel())

    def drop_connections(self) -> int:
        """Cut every open ``/ws`` connection abruptly (no close frame); return how many."""

        async def drop() -> int:
            server = self._uvicorn
            if server is None:
                return 0
            cut = 0
            for conn in list(server.server_state.connections):
                if isinstance(conn, WebSocketsSansIOProtocol) and conn.transport is not None:
                    conn.transport.abort()
                    cut += 1
            return cut

        return self._call(drop())

    def send_frame(self, kind: str, payload: dict[str, Any]) -> None:
        """Broadcast one frame ``{"type": kind, "payload": payload}`` to every client.

        For tests: inject noise, unknown types or odd payloads; it takes a ``seq`` like any
        other frame (and is shuffled in quirks mode).
        """
        self.send_frames(kind, [payload])

    def send_frames(self, kind: str, payloads: Iterable[dict[str, Any]]) -> None:
        """Broadcast one frame per payload, in one burst on the server's loop."""
        batch = list(payloads)

        async def publish() -> None:
            broadcaster = self._live_queue().broadcaster
            for i, payload in enumerate(batch):
                broadcaster.publish(kind, payload)
                if i % 500 == 499:
                    await asyncio.sleep(0)

        self._call(publish())

    @property
    def ws_clients(self) -> int:
        """Number of WebSocket clients currently connected."""
        queue = self._queue
        return queue.broadcaster.client_count if queue is not None else 0

    def pause_ws(self, paused: bool = True) -> None:
        """Refuse (``True``) or accept again (``False``) new ``/ws`` handshakes; REST stays up."""
        self._ws_paused = bool(paused)

    def stats(self) -> dict[str, int]:
        """Counts of ``GET /api/jobs/stats``, read in-process."""

        async def read() -> dict[str, int]:
            return self._live_queue().stats()

        return self._call(read())

    def __enter__(self) -> JobServer:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _live_queue(self) -> JobQueue:
        if self._queue is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._queue

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        loop = self._loop
        if loop is None or not self.running:
            coro.close()
            raise RuntimeError("the server is not running; call start() first")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(_CALL_TIMEOUT)

    def _abort(self, addr: tuple[str, int] | None) -> bool:
        server = self._uvicorn
        if server is None or addr is None:
            return False
        for conn in list(server.server_state.connections):
            if isinstance(conn, WebSocketsSansIOProtocol) and tuple(conn.client or ()) == addr:
                conn.transport.abort()
                return True
        return False

    def _thread_main(self, sock: socket.socket, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock, ready))
        except BaseException as exc:
            logger.exception("the server thread failed")
            if not ready.done():
                ready.set_exception(exc)
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            sock.close()

    async def _serve(self, sock: socket.socket, ready: concurrent.futures.Future[None]) -> None:
        assert self._db is not None
        self._stopped = asyncio.Event()
        broadcaster = Broadcaster(
            quirks=self.quirks == "upstream", max_queue=self.client_queue, aborter=self._abort
        )
        queue = JobQueue(
            self._db,
            broadcaster,
            self.job_types,
            concurrency=self.workers,
            quirks=self.quirks == "upstream",
            stats_interval=self.stats_interval,
            progress_interval=self.progress_interval,
        )
        await queue.start()
        self._queue = queue
        app = build_app(
            self._live_queue,
            token=self.token,
            ws_paused=lambda: self._ws_paused,
            max_body=self.max_body,
            cors=self.quirks == "upstream",
            loopback_only=self.host in LOOPBACK_NAMES,
        )
        config = uvicorn.Config(
            app,
            lifespan="off",
            access_log=False,
            log_config=None,
            ws="websockets-sansio",
            ws_max_size=1 << 20,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._uvicorn = server
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        demo = asyncio.create_task(run_demo(queue, self.demo)) if self.demo else None
        try:
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
            ready.set_result(None)
            await self._stopped.wait()
        finally:
            if demo is not None:
                demo.cancel()
            await queue.stop()
            for conn in list(server.server_state.connections):
                if isinstance(conn, WebSocketsSansIOProtocol):
                    conn.transport.abort()
            server.should_exit = True
            server.force_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def run_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    db: str = ":memory:",
    token: str | None = None,
    workers: int = 4,
    demo: float | None = None,
    quirks: Literal["upstream"] | None = None,
    **options: Any,
) -> JobServer:
    """Start a :class:`JobServer` on a background thread and return it (a context manager).

    It never touches the caller's event loop (safe in a Jupyter kernel).

    Examples
    --------
    >>> with run_in_thread(port=0) as srv:  # doctest: +SKIP
    ...     job_id = srv.create_job(name="docs", config={"pages": 5, "page_delay": 0.01})
    """
    server = JobServer(
        host=host,
        port=port,
        db=db,
        token=token,
        workers=workers,
        demo=demo,
        quirks=quirks,
        **options,
    )
    server.start()
    return server
