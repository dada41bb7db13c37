"""Waiting on the mirror: blocking and async waits that the client's I/O thread wakes."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .protocol import STATUSES

__all__ = ["Check", "Waiter", "as_ids", "timeout_message", "wait_args"]

R = TypeVar("R")
#: One look at the awaited condition, given the seconds left (``None``: no limit): the result
#: when it holds (else ``None``) and how many of the awaited items are done. It raises to end
#: the wait (time up, client stopped).
Check = Callable[[float | None], tuple[R | None, int]]


def as_ids(ids: str | Iterable[Any]) -> list[str]:
    """One id, or any iterable of ids (a list, a set, a pandas Series), as distinct strings."""
    if isinstance(ids, str):
        return [ids]
    return list(dict.fromkeys(str(job_id) for job_id in ids))


def wait_args(
    ids: str | Iterable[Any], statuses: Iterable[str] | str
) -> tuple[list[str], frozenset[str]]:
    """Normalise a wait's arguments: distinct ids in order, and a checked set of statuses."""
    id_list = as_ids(ids)
    wanted = frozenset([statuses] if isinstance(statuses, str) else statuses)
    bad = wanted - set(STATUSES)
    if bad:
        raise ValueError(f"unknown statuses {sorted(bad)}; use {list(STATUSES)}")
    return id_list, wanted


def timeout_message(
    pending: list[str], ids: list[str], statuses: frozenset[str], timeout: float | None
) -> str:
    """The text of a wait's ``TimeoutError``: how many jobs, and the first few ids."""
    shown = ", ".join(pending[:5]) + (" …" if len(pending) > 5 else "")
    return (
        f"{len(pending)} of {len(ids)} jobs did not reach {sorted(statuses)} "
        f"within {timeout} s: {shown}"
    )


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Waiter:
    """Blocks threads, or suspends coroutines on any event loop, until :meth:`wake`.

    Each wake-up re-runs the waiter's :data:`Check`; the condition shares the mirror's lock, so
    a check sees the mirror as the I/O thread left it.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._changed = threading.Condition(lock)
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def wake(self) -> None:
        """Wake every waiter (from any thread) to look again."""
        with self._changed:
            self._changed.notify_all()
            futures, self._futures = self._futures, []
        for loop, future in futures:
            with contextlib.suppress(RuntimeError):  # that waiter's loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, future)

    def wait(
        self,
        check: Check[R],
        timeout: float | None,
        on_progress: Callable[[int], object] | None = None,
    ) -> R:
        """Block the calling thread until ``check`` gives a result (or raises).

        ``on_progress(done)`` runs on this thread, without the lock, after every look.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                result, done = check(remaining)
                if on_progress is not None:
                    self._changed.release()  # never call out holding the mirror's lock
                    try:
                        on_progress(done)
                    finally:
                        self._changed.acquire()
                if result is not None:
                    return result
                self._changed.wait(remaining)

    async def wait_async(
        self,
        check: Check[R],
        timeout: float | None,  # noqa: ASYNC109 - the check raises, naming the jobs
    ) -> R:
        """Await, on the caller's loop, until ``check`` gives a result (or raises)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            with self._changed:
                self._futures.append((loop, future))
            remaining = None if deadline is None else deadline - loop.time()
            result, _ = check(remaining)
            if result is not None:
                return result
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, remaining)
