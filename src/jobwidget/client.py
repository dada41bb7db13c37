"""QueueClient: the live mirror of a job server, kept true on its own I/O thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as _dt
import logging
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from . import protocol
from ._version import __version__
from ._waits import Waiter, timeout_message, wait_args
from .backoff import Backoff
from .connection import ConnectionInfo, ConnectionState, StatusEvent, utc_time
from .errors import AuthError, JobWidgetError, ProtocolError, ServerError
from .frame import History
from .rest import RestApi, auth_headers, display_url, ssl_context
from .store import Applied, JobStore, View

__all__ = ["ActionOutcome", "QueueClient"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_Update = protocol.JobStatusChange | protocol.CrawlProgress | protocol.JobDeleted
_UPDATES = (protocol.JobStatusChange, protocol.CrawlProgress, protocol.JobDeleted)


class ActionOutcome(NamedTuple):
    """The result of one job's action in a bulk call.

    ``detail`` is the server's message when ``ok``, else the error text; ``new_job_id`` is set
    for a successful rerun.
    """

    job_id: str
    ok: bool
    detail: str
    new_job_id: str | None = None


def _ws_url(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url.removeprefix("https://") + "/ws"
    if base_url.startswith("http://"):
        return "ws://" + base_url.removeprefix("http://") + "/ws"
    raise ValueError(f"the server URL must start with http:// or https://, got {base_url!r}")


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ServerError) and exc.text:
        return exc.text
    return str(exc) or type(exc).__name__


class QueueClient:
    """A live, thread-safe mirror of a job server's queue.

    The client runs a daemon thread with its own asyncio loop: it keeps a WebSocket to ``/ws``,
    re-lists every job over REST on each (re)connect and every ``relist_interval`` seconds,
    reconnects with exponential backoff, and polls REST while the socket is down. The mirror
    (``client.store``) therefore keeps updating while a notebook kernel is idle or busy.

    Parameters
    ----------
    url : str
        Base URL of the server, e.g. ``"http://127.0.0.1:8765"``.
    token : str, optional
        Bearer token sent on every REST call and on the WebSocket handshake.
    headers : mapping, optional
        Extra HTTP headers for both.
    verify : bool, str or ssl.SSLContext
        TLS verification for ``https``: ``True``, ``False``, a CA bundle path or a context.
    max_jobs : int
        Size bound of the mirror (oldest terminal jobs are evicted first).
    max_size : int
        Largest WebSocket frame accepted, in bytes; a larger one closes the socket, which then
        reconnects and re-lists.
    backoff : Backoff
        Reconnect delay policy (1 s doubling to 30 s, jittered).
    poll_interval : float
        Seconds between REST polls while the socket is down.
    relist_interval : float
        Seconds between backup re-lists while the socket is up.
    ping_interval : float
        WebSocket keepalive ping interval (a missing pong within the same time closes it).
    timeout : float
        Connect/response timeout of REST calls and of the WebSocket handshake.
    history_size : int
        How many applied frames :attr:`history` keeps.
    action_concurrency : int
        Requests in flight at once for bulk actions.
    start : bool
        Start the I/O thread at once (default). Otherwise call :meth:`start`.

    Notes
    -----
    **Threads.** The mirror is written only on the client's I/O thread. Read it through the
    locked helpers (:meth:`jobs`, :meth:`get`, :meth:`view`, :meth:`stats`) or hold
    :attr:`lock` while using :attr:`store` directly. Callbacks registered with
    :meth:`on_change`, :meth:`on_status` and :meth:`on_connection` run on the I/O thread; an
    exception in one is logged and never stops the client. Do not block in them, and do not call
    the blocking action methods from them (use the ``_async`` forms).

    Examples
    --------
    >>> with QueueClient("http://127.0.0.1:8765") as client:  # doctest: +SKIP
    ...     client.wait_until_synced()
    ...     failed = client.view(status="failed").jobs
    ...     client.rerun_many(job.id for job in failed)
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | ssl.SSLContext = True,
        max_jobs: int = 100_000,
        max_size: int = 4 * 1024 * 1024,
        backoff: Backoff | None = None,
        poll_interval: float = 5.0,
        relist_interval: float = 30.0,
        ping_interval: float = 20.0,
        timeout: float = 10.0,
        history_size: int = 100_000,
        action_concurrency: int = 8,
        start: bool = True,
    ) -> None:
        self.url = url.rstrip("/")
        #: The URL without credentials: what reprs, logs and snapshots show.
        self.display_url = display_url(self.url)
        self._ws_url = _ws_url(self.url)
        self._headers = auth_headers(token, headers)
        self._headers.setdefault("User-Agent", f"jobwidget/{__version__}")
        # Built here, on the caller's thread, so that a bad CA path fails the constructor.
        self._ssl = ssl_context(verify) if self.url.startswith("https://") else None
        self.max_size = max_size
        self.backoff = backoff or Backoff()
        self.poll_interval = poll_interval
        self.relist_interval = relist_interval
        self.ping_interval = ping_interval
        self.timeout = timeout
        self.action_concurrency = action_concurrency

        #: Hold this lock while reading :attr:`store` directly from another thread.
        self.lock = threading.RLock()
        #: The mirror. Written only by the I/O thread; see the class notes on reading it.
        self.store = JobStore(max_jobs=max_jobs)
        self._history = History(maxlen=history_size)
        self._waiter = Waiter(self.lock)

        # Connection facts, written on the I/O thread, composed into ConnectionInfo on read.
        self._state: ConnectionState = "connecting"
        self._last_message: float | None = None
        self._last_relist: float | None = None
        self._last_error: str | None = None
        self._attempts = 0
        self._next_retry: float | None = None
        self._relists = 0
        self._bad_frames = 0
        self._queue_stats: protocol.QueueStats | None = None
        self._server_stats: protocol.JobStats | None = None

        self._change_callbacks: list[Callable[[frozenset[str]], object]] = []
        self._status_callbacks: list[Callable[[list[StatusEvent]], object]] = []
        self._connection_callbacks: list[Callable[[ConnectionInfo], object]] = []
        self._pending_ids: set[str] = set()
        self._pending_events: list[StatusEvent] = []
        self._dispatch_scheduled = False

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._synced = threading.Event()
        self._closed = False
        # Created on the I/O loop:
        self._stop: asyncio.Event
        self._relist_now: asyncio.Event
        self._poll_wakeup: asyncio.Event
        self._rest: RestApi
        self._relist_lock: asyncio.Lock
        self._ws_open = False  # a socket is open: polling stands down
        self._live = False  # ... and the mirror was re-listed on it
        self._seq: int | None = None
        # Frames seen while a re-list is under way, one buffer per re-list in flight.
        self._buffers: list[list[_Update]] = []
        # Newest frame time seen, on the server's clock: the floor of the next re-list.
        self._frame_clock: _dt.datetime | None = None
        self._fetching: set[str] = set()
        self._early_frames: dict[str, list[_Update]] = {}
        self._fetch_slots: asyncio.Semaphore
        self._background: set[asyncio.Task[Any]] = set()
        if start:
            self.start()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> QueueClient:
        """Start the I/O thread (idempotent). Returns the client."""
        if self._closed:
            raise JobWidgetError("this QueueClient was closed; create a new one")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"jobwidget-io {self.display_url}", daemon=True
            )
            self._thread.start()
            self._ready.wait()
            if self._startup_error is not None:
                self._closed = True
                raise JobWidgetError(
                    f"the QueueClient could not start: {self._startup_error}"
                ) from self._startup_error
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Stop the I/O thread: cancel its tasks, close the socket (code 1000) and HTTP client.

        Idempotent. Waits at most ``timeout`` seconds for the thread to end. The
        ``on_connection`` callbacks hear of the ``closed`` state on the calling thread.
        """
        if self._closed:
            return
        self._closed = True
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile (fatal error)
                loop.call_soon_threadsafe(self._stop.set)
            if threading.current_thread() is not thread:
                thread.join(timeout)
        self._set_state("closed")
        self._waiter.wake()

    def __enter__(self) -> QueueClient:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<QueueClient {self.display_url} {self._state} jobs={len(self.store)}>"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # never leave start() waiting
            self._startup_error = exc
            log.exception("jobwidget %s: the I/O thread failed", self.display_url)
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._relist_now = asyncio.Event()
        self._poll_wakeup = asyncio.Event()
        self._relist_lock = asyncio.Lock()
        self._fetch_slots = asyncio.Semaphore(16)
        self._rest = RestApi(
            self.url,
            headers=self._headers,
            verify=self._ssl or True,
            timeout=self.timeout,
        )
        self._ready.set()
        for task in (
            asyncio.create_task(self._watch_loop(), name="jobwidget-watch"),
            asyncio.create_task(self._poll_loop(), name="jobwidget-poll"),
        ):
            self._background.add(task)  # a strong reference: the loop keeps only weak ones
        try:
            await self._stop.wait()
        finally:
            # Every task: the loops, fetches and actions submitted from other threads (their
            # callers then hear that the client closed), before the HTTP client goes.
            current = asyncio.current_task()
            others = [task for task in asyncio.all_tasks() if task is not current]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            await self._rest.aclose()

    # ------------------------------------------------------------------ state

    @property
    def connection(self) -> ConnectionInfo:
        """An immutable snapshot of the connection state (see :class:`ConnectionInfo`)."""
        return ConnectionInfo(
            state=self._state,
            url=self.display_url,
            last_message_at=utc_time(self._last_message),
            last_relist_at=utc_time(self._last_relist),
            last_error=self._last_error,
            reconnect_attempts=self._attempts,
            next_retry_at=utc_time(self._next_retry),
            relists=self._relists,
            bad_frames=self._bad_frames,
            queue_stats=self._queue_stats,
            server_stats=self._server_stats,
        )

    def _set_state(self, state: ConnectionState, error: str | None = None) -> None:
        changed = state != self._state or (error is not None and error != self._last_error)
        self._state = state
        if error is not None:
            self._last_error = error
        if changed:
            self._emit_connection()

    def _note_error(self, message: str) -> None:
        log.info("jobwidget %s: %s", self.display_url, message)
        self._last_error = message
        self._emit_connection()

    def _emit_connection(self) -> None:
        if not self._connection_callbacks:
            return
        info = self.connection
        for callback in list(self._connection_callbacks):
            try:
                callback(info)
            except Exception:
                log.exception("jobwidget: on_connection callback %r failed", callback)

    def _fatal(self, exc: AuthError | Exception) -> None:
        log.warning("jobwidget %s: stopped: %s", self.display_url, exc)
        self._next_retry = None
        self._set_state("error", str(exc))
        self._synced.set()
        self._stop.set()
        self._waiter.wake()

    # ------------------------------------------------------------------ watch

    def _ws_connect(self) -> Any:
        return connect(
            self._ws_url,
            additional_headers=self._headers,
            user_agent_header=None,
            max_size=self.max_size,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            open_timeout=self.timeout,
            close_timeout=1.0,
            ssl=self._ssl,
        )

    async def _watch_loop(self) -> None:
        attempt = 0
        while True:
            self._next_retry = None
            self._set_state("connecting")
            try:
                async with self._ws_connect() as ws:
                    attempt = 0
                    self._attempts = 0
                    self._ws_open = True
                    await self._session(ws)
                self._note_error("the server closed the WebSocket")
            except InvalidStatus as exc:
                code = exc.response.status_code
                if code in (401, 403):
                    self._fatal(
                        AuthError(
                            f"WebSocket handshake answered {code}: the token is missing or wrong",
                            status_code=code,
                        )
                    )
                    return
                self._note_error(f"WebSocket handshake answered HTTP {code}")
            except AuthError as exc:
                self._fatal(exc)
                return
            except ConnectionClosed as exc:
                self._note_error(f"WebSocket closed: {exc}")
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                self._note_error(f"cannot open the WebSocket: {type(exc).__name__}: {exc}")
            except Exception as exc:  # a bug must not end the watch: log it and back off
                log.exception("jobwidget %s: unexpected error in the watch loop", self.display_url)
                self._note_error(f"unexpected error: {type(exc).__name__}: {exc}")
            finally:
                self._ws_open = self._live = False
            delay = self.backoff.delay(attempt)
            attempt += 1
            self._attempts = attempt
            self._next_retry = time.time() + delay
            self._set_state("polling")
            self._poll_wakeup.set()
            await asyncio.sleep(delay)

    async def _session(self, ws: ClientConnection) -> None:
        self._seq = None
        reader = asyncio.create_task(self._read(ws), name="jobwidget-read")
        trigger: asyncio.Task[bool] | None = None
        try:
            while True:
                ok = await self._relist()
                if ok and not self._live:  # live = socket open and mirror re-listed on it
                    self._live = True
                    self._set_state("live")
                self._relist_now.clear()
                trigger = asyncio.create_task(self._relist_now.wait())
                interval = self.relist_interval if ok else self.poll_interval
                await asyncio.wait(
                    {reader, trigger}, timeout=interval, return_when=asyncio.FIRST_COMPLETED
                )
                trigger.cancel()
                if reader.done():
                    reader.result()  # raises ConnectionClosed for an abnormal close
                    return
        finally:
            pending = [task for task in (reader, trigger) if task is not None]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _read(self, ws: ClientConnection) -> None:
        async for message in ws:
            self._on_message(message)

    def _on_message(self, message: str | bytes) -> None:
        now = time.time()
        self._last_message = now
        try:
            frame = protocol.decode_frame(message)
        except ProtocolError as exc:
            self._bad_frames += 1
            self._note_error(f"bad frame skipped: {exc}")
            return
        seq = frame.seq
        if seq is not None:
            if self._seq is not None and seq != self._seq + 1:
                log.info("jobwidget: frame seq jumped %s -> %s; re-listing", self._seq, seq)
                self._relist_now.set()
            self._seq = seq
        payload = frame.payload
        if isinstance(payload, _UPDATES):
            stamp = getattr(payload, "timestamp", None)  # crawl_progress has none
            if stamp is not None and (self._frame_clock is None or stamp > self._frame_clock):
                self._frame_clock = stamp
            for buffer in self._buffers:
                buffer.append(payload)
            self._apply(payload, now)
        elif isinstance(payload, protocol.QueueStats):
            self._queue_stats = payload

    def _apply(self, update: _Update, received_at: float) -> None:
        with self.lock:
            applied = self.store.apply(update)
        self._history.record(received_at, update, applied)
        if applied.unknown:
            self._fetch_unknown(applied.job_id, update)
        elif applied.changed:
            self._queue_change(applied)

    # ------------------------------------------------------------------ REST sync

    async def _relist(self) -> bool:
        """Re-list as :meth:`_relist_once`; False (with ``last_error``) when it failed.

        An :class:`AuthError` is raised: a refused token is fatal, never retried.
        """
        try:
            await self._relist_once()
        except AuthError:
            raise
        except JobWidgetError as exc:
            self._note_error(f"re-list failed: {exc}")
            return False
        return True

    async def _relist_once(self) -> None:
        """Replace the mirror with a full REST list, then replay the frames seen meanwhile.

        One re-list at a time (the session's, the poll loop's and :meth:`refresh` may meet).
        Frames stamped, on the server's clock, before the newest frame seen when the request
        was sent are already in the list: the store ignores them afterwards.
        """
        async with self._relist_lock:
            floor = self._frame_clock
            buffer: list[_Update] = []
            self._buffers.append(buffer)
            try:
                jobs, rejected = await self._rest.list_all()
                stats = await self._rest.stats()
            finally:
                self._buffers.remove(buffer)
            if rejected:
                self._note_error(
                    f"{len(rejected)} job(s) of the list did not decode and are left out: "
                    f"{rejected[0]}"
                )
            self._server_stats = stats
            self._apply_snapshot(jobs, floor, buffer)

    def _apply_snapshot(
        self, jobs: list[protocol.Job], floor: _dt.datetime | None, replay: list[_Update]
    ) -> None:
        # The first list reports what already was, not transitions: no status events for it.
        first = self._relists == 0
        with self.lock:
            before = {job.id: job for job in self.store.jobs()}
            self.store.replace(jobs, as_of=floor)
            for update in replay:
                self.store.apply(update)
            changed: set[str] = set()
            events: list[StatusEvent] = []
            for job in self.store.jobs():
                old = before.pop(job.id, None)
                if old is None or old != job:
                    changed.add(job.id)
                    if not first and (old is None or old.status != job.status):
                        events.append(StatusEvent(job.id, old.status if old else None, job.status))
            for job_id, old in before.items():
                changed.add(job_id)
                events.append(StatusEvent(job_id, old.status, None))
        self._relists += 1
        self._last_relist = time.time()
        self._synced.set()
        if changed:
            self._pending_ids |= changed
            self._pending_events.extend(events)
            self._schedule_dispatch()
        self._emit_connection()

    def _fetch_unknown(self, job_id: str, update: _Update) -> None:
        # Frames of a job being fetched wait for it, then are replayed on the fetched job.
        self._early_frames.setdefault(job_id, []).append(update)
        if job_id in self._fetching:
            return
        self._fetching.add(job_id)
        task = asyncio.get_running_loop().create_task(self._fetch(job_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fetch(self, job_id: str) -> None:
        try:
            async with self._fetch_slots:
                await self._refresh_job(job_id)
        except JobWidgetError as exc:
            if not (isinstance(exc, ServerError) and exc.status_code == 404):
                self._note_error(f"fetching job {job_id} failed: {exc}")
        finally:
            self._fetching.discard(job_id)
            self._early_frames.pop(job_id, None)

    async def _refresh_job(self, job_id: str) -> protocol.Job:
        floor = self._frame_clock
        job = await self._rest.get_job(job_id)
        with self.lock:
            old = self.store.get(job_id)
            self.store.upsert(job, as_of=floor)
            for update in self._early_frames.pop(job_id, ()):
                self.store.apply(update)
            new = self.store.get(job_id)
        if new is not None and new != old:
            self._pending_ids.add(job_id)
            if old is None or old.status != new.status:
                self._pending_events.append(
                    StatusEvent(job_id, old.status if old else None, new.status)
                )
            self._schedule_dispatch()
        return job

    async def _poll_loop(self) -> None:
        last_poll = float("-inf")
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_wakeup.wait(), timeout=self.poll_interval)
            self._poll_wakeup.clear()
            if self._ws_open or self._state == "error":
                continue
            wait = last_poll + self.poll_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                if self._ws_open:
                    continue
            last_poll = time.monotonic()
            try:
                await self._relist()
            except AuthError as exc:
                self._fatal(exc)
                return
            except Exception as exc:  # a bug must not end polling: log it and go on
                log.exception("jobwidget %s: unexpected error while polling", self.display_url)
                self._note_error(f"unexpected error: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ change dispatch

    def _queue_change(self, applied: Applied) -> None:
        self._pending_ids.add(applied.job_id)
        if applied.old_status != applied.new_status:
            self._pending_events.append(
                StatusEvent(applied.job_id, applied.old_status, applied.new_status)
            )
        self._schedule_dispatch()

    def _schedule_dispatch(self) -> None:
        if not self._dispatch_scheduled:
            self._dispatch_scheduled = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._dispatch_scheduled = False
        ids = frozenset(self._pending_ids)
        events = self._pending_events
        self._pending_ids = set()
        self._pending_events = []
        self._waiter.wake()
        for callback in list(self._change_callbacks):
            try:
                callback(ids)
            except Exception:
                log.exception("jobwidget: on_change callback %r failed", callback)
        if events:
            for status_callback in list(self._status_callbacks):
                try:
                    status_callback(events)
                except Exception:
                    log.exception("jobwidget: on_status callback %r failed", status_callback)

    @staticmethod
    def _subscribe(callbacks: list[Any], callback: Any) -> Callable[[], None]:
        callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in callbacks:
                callbacks.remove(callback)

        return unsubscribe

    def on_change(self, callback: Callable[[frozenset[str]], object]) -> Callable[[], None]:
        """Call ``callback(ids)`` with the ids of jobs changed, added or removed.

        Changes are coalesced: one call per burst of frames. Runs on the I/O thread. Returns a
        function that unsubscribes.
        """
        return self._subscribe(self._change_callbacks, callback)

    def on_status(self, callback: Callable[[list[StatusEvent]], object]) -> Callable[[], None]:
        """Call ``callback(events)`` with the :class:`StatusEvent` of every status transition.

        Covers transitions seen through frames, re-lists and fetches; runs on the I/O thread.
        Returns a function that unsubscribes.
        """
        return self._subscribe(self._status_callbacks, callback)

    def on_connection(self, callback: Callable[[ConnectionInfo], object]) -> Callable[[], None]:
        """Call ``callback(info)`` when the connection state or last error changes.

        Runs on the I/O thread. Returns a function that unsubscribes.
        """
        return self._subscribe(self._connection_callbacks, callback)

    # ------------------------------------------------------------------ locked reads

    def jobs(self) -> list[protocol.Job]:
        """A snapshot list of every mirrored job."""
        with self.lock:
            return self.store.jobs()

    def get(self, job_id: str) -> protocol.Job | None:
        """The mirrored job ``job_id``, or ``None``."""
        with self.lock:
            return self.store.get(job_id)

    def view(self, **query: Any) -> View:
        """A filtered, sorted page of the mirror; arguments as :meth:`JobStore.view`."""
        with self.lock:
            return self.store.view(**query)

    def stats(self) -> protocol.JobStats:
        """The six status counts of the mirror."""
        with self.lock:
            return self.store.stats()

    @property
    def history(self) -> History:
        """The bounded log of applied frames (``client.history.to_dataframe()``)."""
        return self._history

    def wait_until_synced(self, timeout: float | None = 30.0) -> bool:
        """Block until the first full list has been applied (or a fatal error); True if so."""
        return self._synced.wait(timeout)

    # ------------------------------------------------------------------ running on the I/O loop

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        loop = self._loop
        if self._closed or loop is None or not loop.is_running():
            coro.close()
            raise JobWidgetError("the QueueClient is not running (closed or not started)")
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "a blocking QueueClient method was called on the client's own I/O thread "
                "(from a callback?); use the matching *_async method instead"
            )
        future = self._submit(coro)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise JobWidgetError("the QueueClient was closed before the call finished") from None

    async def _call_async(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._loop:
            return await coro
        future = self._submit(coro)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # our caller was cancelled
            raise JobWidgetError("the QueueClient was closed before the call finished") from None

    # ------------------------------------------------------------------ actions

    async def _cancel(self, job_id: str) -> ActionOutcome:
        result = await self._rest.cancel(job_id)
        await self._refresh_after_action(job_id)
        return ActionOutcome(job_id, True, result.message)

    async def _delete(self, job_id: str) -> ActionOutcome:
        result = await self._rest.delete(job_id)
        with self.lock:
            old = self.store.get(job_id)
            removed = self.store.remove(job_id)
        if removed:
            self._pending_ids.add(job_id)
            self._pending_events.append(StatusEvent(job_id, old.status if old else None, None))
            self._schedule_dispatch()
        return ActionOutcome(job_id, True, result.message)

    async def _rerun(self, job_id: str) -> ActionOutcome:
        result = await self._rest.rerun(job_id)
        await self._refresh_after_action(result.new_job_id)
        return ActionOutcome(job_id, True, result.message, result.new_job_id)

    async def _refresh_after_action(self, job_id: str) -> None:
        # The action succeeded; showing its effect at once is a nicety, so a failing fetch
        # only leaves it to the next frame or re-list.
        try:
            await self._refresh_job(job_id)
        except JobWidgetError as exc:
            self._note_error(f"fetching job {job_id} after an action failed: {exc}")

    async def _bulk(
        self, action: Callable[[str], Awaitable[ActionOutcome]], ids: Iterable[str]
    ) -> list[ActionOutcome]:
        slots = asyncio.Semaphore(self.action_concurrency)

        async def one(job_id: str) -> ActionOutcome:
            async with slots:
                try:
                    return await action(job_id)
                except JobWidgetError as exc:
                    return ActionOutcome(job_id, False, _error_text(exc))

        unique = list(dict.fromkeys(str(job_id) for job_id in ids))
        return list(await asyncio.gather(*(one(job_id) for job_id in unique)))

    def cancel(self, job_id: str) -> str:
        """Cancel a job; return the server's message. Raises ActionError with its text."""
        return self._call(self._cancel(job_id)).detail

    def delete(self, job_id: str) -> str:
        """Delete a job (it must not be running); return the server's message."""
        return self._call(self._delete(job_id)).detail

    def rerun(self, job_id: str) -> str:
        """Copy a finished job as a new pending job; return the new job's id."""
        outcome = self._call(self._rerun(job_id))
        assert outcome.new_job_id is not None
        return outcome.new_job_id

    def cancel_many(self, ids: Iterable[str]) -> list[ActionOutcome]:
        """Cancel many jobs concurrently; one :class:`ActionOutcome` per distinct id."""
        return self._call(self._bulk(self._cancel, ids))

    def delete_many(self, ids: Iterable[str]) -> list[ActionOutcome]:
        """Delete many jobs concurrently; one :class:`ActionOutcome` per distinct id."""
        return self._call(self._bulk(self._delete, ids))

    def rerun_many(self, ids: Iterable[str]) -> list[ActionOutcome]:
        """Rerun many jobs concurrently; ``new_job_id`` of each outcome names the copy."""
        return self._call(self._bulk(self._rerun, ids))

    async def cancel_async(self, job_id: str) -> str:
        """Async form of :meth:`cancel`, usable from any event loop."""
        return (await self._call_async(self._cancel(job_id))).detail

    async def delete_async(self, job_id: str) -> str:
        """Async form of :meth:`delete`, usable from any event loop."""
        return (await self._call_async(self._delete(job_id))).detail

    async def rerun_async(self, job_id: str) -> str:
        """Async form of :meth:`rerun`, usable from any event loop."""
        outcome = await self._call_async(self._rerun(job_id))
        assert outcome.new_job_id is not None
        return outcome.new_job_id

    async def cancel_many_async(self, ids: Iterable[str]) -> list[ActionOutcome]:
        """Async form of :meth:`cancel_many`."""
        return await self._call_async(self._bulk(self._cancel, list(ids)))

    async def delete_many_async(self, ids: Iterable[str]) -> list[ActionOutcome]:
        """Async form of :meth:`delete_many`."""
        return await self._call_async(self._bulk(self._delete, list(ids)))

    async def rerun_many_async(self, ids: Iterable[str]) -> list[ActionOutcome]:
        """Async form of :meth:`rerun_many`."""
        return await self._call_async(self._bulk(self._rerun, list(ids)))

    def logs(self, job_id: str, order: str = "asc") -> protocol.JobLogs:
        """Fetch a job's log lines (at most 1000) from the server."""
        return self._call(self._rest.logs(job_id, order))

    def refresh(self) -> None:
        """Re-list every job over REST now and replace the mirror; raises on failure."""
        self._call(self._relist_once())

    async def refresh_async(self) -> None:
        """Async form of :meth:`refresh`."""
        await self._call_async(self._relist_once())

    # ------------------------------------------------------------------ waits

    async def _ensure_known(self, ids: list[str]) -> None:
        with self.lock:
            missing = [job_id for job_id in ids if job_id not in self.store]
        unknown: list[str] = []
        for job_id in missing:
            try:
                await self._refresh_job(job_id)
            except ServerError as exc:
                if exc.status_code != 404:
                    raise
                unknown.append(job_id)
        if unknown:
            raise KeyError(f"the server does not know these job ids: {', '.join(unknown)}")

    def _wait_state(
        self, ids: list[str], statuses: frozenset[str]
    ) -> tuple[dict[str, protocol.Job | None], list[str]]:
        done: dict[str, protocol.Job | None] = {}
        pending: list[str] = []
        with self.lock:
            for job_id in ids:
                job = self.store.get(job_id)
                if job is None or job.status in statuses:
                    done[job_id] = job
                else:
                    pending.append(job_id)
        return done, pending

    def _wait_step(
        self,
        ids: list[str],
        statuses: frozenset[str],
        remaining: float | None,
        timeout: float | None,
    ) -> tuple[dict[str, protocol.Job | None] | None, int]:
        """One check of a wait: (the result when done or ``None``, how many are done); raises
        when the client stopped or the time is up."""
        done, pending = self._wait_state(ids, statuses)
        if not pending:
            return {job_id: done[job_id] for job_id in ids}, len(ids)
        error = self._wait_error()
        if error:
            raise error
        if remaining is not None and remaining <= 0:
            raise TimeoutError(timeout_message(pending, ids, statuses, timeout))
        return None, len(done)

    def _wait_error(self) -> JobWidgetError | None:
        if self._closed:
            return JobWidgetError("the QueueClient was closed while waiting")
        if self._state == "error":
            return JobWidgetError(f"the QueueClient stopped: {self._last_error}")
        return None

    def wait_for(
        self,
        ids: str | Iterable[str],
        statuses: Iterable[str] | str = protocol.TERMINAL,
        timeout: float | None = None,
        on_progress: Callable[[int, int], object] | None = None,
    ) -> dict[str, protocol.Job | None]:
        """Block until every job in ``ids`` has one of ``statuses`` (terminal by default).

        A job deleted meanwhile counts as done (``None`` in the result). Ids the mirror does
        not hold yet are fetched first; ids the server does not know raise ``KeyError``.
        ``on_progress(done, total)`` is called on the waiting thread, without the client's
        lock, whenever the count may have moved (e.g. to draw a progress bar).

        Raises
        ------
        TimeoutError
            When ``timeout`` seconds pass first; the message names the jobs still waiting.
        """
        id_list, wanted = wait_args(ids, statuses)
        self._call(self._ensure_known(id_list))
        progress = None
        if on_progress is not None:

            def progress(done: int) -> object:
                return on_progress(done, len(id_list))

        return self._waiter.wait(
            lambda remaining: self._wait_step(id_list, wanted, remaining, timeout),
            timeout,
            progress,
        )

    async def wait_for_async(
        self,
        ids: str | Iterable[str],
        statuses: Iterable[str] | str = protocol.TERMINAL,
        timeout: float | None = None,  # noqa: ASYNC109 - the same signature as wait_for
    ) -> dict[str, protocol.Job | None]:
        """Async form of :meth:`wait_for`: awaits on the caller's loop, never blocks it."""
        id_list, wanted = wait_args(ids, statuses)
        await self._call_async(self._ensure_known(id_list))
        return await self._waiter.wait_async(
            lambda remaining: self._wait_step(id_list, wanted, remaining, timeout), timeout
        )
