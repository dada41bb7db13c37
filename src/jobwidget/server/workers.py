"""Job functions: the context they get, the registry of job types and how one run ends."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import Executor
from typing import Any, Literal, Protocol, TypeAlias

from .records import JobRecord

__all__ = [
    "JobCancelled",
    "JobContext",
    "JobFunction",
    "JobTypes",
    "Outcome",
    "execute",
]

logger = logging.getLogger(__name__)

#: A job type: a sync or async callable taking the :class:`JobContext`.
JobFunction: TypeAlias = Callable[["JobContext"], Any]
#: How a run ended: final status and error text.
Outcome: TypeAlias = tuple[Literal["completed", "failed", "cancelled"], str]


class JobCancelled(Exception):
    """Raised inside a job function by :meth:`JobContext.check` once the job is cancelled."""


class _Sink(Protocol):
    """What a context reports to (the job queue, on its event loop)."""

    def report_progress(self, job_id: str, changes: dict[str, Any]) -> None: ...

    def write_log(self, job_id: str, level: str, message: str) -> None: ...


class _Ready:
    """An awaitable that is already done (so ``check()`` works with and without ``await``)."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # pragma: no cover


_READY = _Ready()


class JobContext:
    """What a job function gets: its job's settings, progress and log reporting, cancellation.

    Every method may be called from the event loop (async job functions) or from the worker
    thread (sync job functions).

    Attributes
    ----------
    job_id, name, job_type, source_type, entity_type : str
        The job's fields.
    config : dict
        The job's ``config`` (a copy).
    seed_urls : list of str
        The job's seed URLs (a copy).
    """

    def __init__(self, rec: JobRecord, sink: _Sink) -> None:
        self.job_id = rec.id
        self.name = rec.name
        self.job_type = rec.job_type
        self.source_type = rec.source_type
        self.entity_type = rec.entity_type
        self.config = dict(rec.config)
        self.seed_urls = list(rec.seed_urls)
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._cancelled = False
        self._cancel_event = asyncio.Event()
        self.done = asyncio.Event()

    @property
    def cancelled(self) -> bool:
        """``True`` once the job was cancelled (or the server is stopping)."""
        return self._cancelled

    def check(self) -> Awaitable[None]:
        """Raise :class:`JobCancelled` if the job was cancelled.

        Works as ``ctx.check()`` in sync functions and as ``await ctx.check()`` in async ones.
        """
        if self._cancelled:
            raise JobCancelled(self.job_id)
        return _READY

    async def sleep(self, seconds: float) -> None:
        """Sleep, waking early and raising :class:`JobCancelled` when the job is cancelled."""
        if seconds > 0 and not self._cancelled:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._cancel_event.wait()
        await self.check()

    def progress(
        self,
        *,
        completed: int | None = None,
        total: int | None = None,
        failed: int | None = None,
        results: int | None = None,
        current_url: str | None = None,
    ) -> None:
        """Report progress; only the given counts change.

        Parameters
        ----------
        completed, total, failed : int, optional
            URL (or work item) counts: done, known in all, failed.
        results : int, optional
            Documents produced so far (``result_count``).
        current_url : str, optional
            What the job is working on now.
        """
        changes: dict[str, Any] = {
            key: value
            for key, value in (
                ("completed_urls", completed),
                ("total_urls", total),
                ("failed_urls", failed),
                ("result_count", results),
                ("current_url", current_url),
            )
            if value is not None
        }
        self._call(self._sink.report_progress, self.job_id, changes)

    def log(self, message: str, level: str = "INFO") -> None:
        """Append a line to the job's log (``GET /api/jobs/{id}/logs``)."""
        self._call(self._sink.write_log, self.job_id, level.upper(), str(message))

    def cancel(self) -> None:
        """Ask the job to stop (the loop thread only); it stops at its next check."""
        self._cancelled = True
        self._cancel_event.set()

    def _call(self, func: Callable[..., None], *args: Any) -> None:
        if threading.get_ident() == self._thread:
            func(*args)
            return
        try:
            self._loop.call_soon_threadsafe(func, *args)
        except RuntimeError:  # the server stopped under a sync job: stop it too
            self._cancelled = True
            raise JobCancelled(self.job_id) from None


class JobTypes:
    """The registry of job types: name -> job function."""

    def __init__(self) -> None:
        self._functions: dict[str, JobFunction] = {}

    def register(self, name: str) -> Callable[[JobFunction], JobFunction]:
        """Decorator registering a job function under ``name`` (replacing any earlier one)."""
        if not name or not isinstance(name, str):
            raise ValueError("a job type needs a non-empty name")

        def decorate(func: JobFunction) -> JobFunction:
            self._functions[name] = func
            return func

        return decorate

    def get(self, name: str) -> JobFunction | None:
        """The function of ``name``, or ``None``."""
        return self._functions.get(name)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._functions)


async def execute(func: JobFunction, ctx: JobContext, executor: Executor) -> Outcome:
    """Run ``func(ctx)`` to its end and say how it ended.

    Async functions run on the loop, sync ones in ``executor``. :class:`JobCancelled` (or any
    error after a cancel request) ends as ``cancelled``; any other exception as ``failed`` with
    its text. Server shutdown (task cancellation) propagates.
    """
    loop = asyncio.get_running_loop()
    try:
        if inspect.iscoroutinefunction(func):
            await func(ctx)
        else:
            result = await loop.run_in_executor(executor, func, ctx)
            if inspect.isawaitable(result):
                await result
    except asyncio.CancelledError:
        ctx.cancel()
        raise
    except JobCancelled:
        return ("cancelled", "")
    except Exception as exc:
        if ctx.cancelled:
            return ("cancelled", "")
        logger.debug("job %s failed", ctx.job_id, exc_info=True)
        return ("failed", str(exc) or type(exc).__name__)
    return ("cancelled", "") if ctx.cancelled else ("completed", "")
