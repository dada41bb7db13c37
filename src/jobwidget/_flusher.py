"""The widget's flusher: a daemon thread that coalesces wake-ups into rate-limited flushes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Flusher"]

log = logging.getLogger(__name__)


class Flusher:
    """Call ``flush(full)`` on a daemon thread, at most once per ``interval`` seconds.

    :meth:`wake` asks for a full flush; any number of wake-ups within one interval become one
    call. Without wake-ups the thread still calls ``flush(False)`` every ``tick`` seconds, so
    that slow-moving state (connection, queue counters) is refreshed.

    Parameters
    ----------
    flush : callable
        ``flush(full)``: ``full`` is true when :meth:`wake` was called since the last call.
        Exceptions are logged and never stop the thread.
    interval : float
        Least time between the starts of two calls, in seconds.
    tick : float
        Longest time between two calls, in seconds.
    name : str
        Name of the thread.
    """

    def __init__(
        self,
        flush: Callable[[bool], None],
        *,
        interval: float = 0.1,
        tick: float = 1.0,
        name: str = "jobwidget-flusher",
    ) -> None:
        self._flush = flush
        self.interval = interval
        self.tick = tick
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._dirty = False
        self.flushes = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def wake(self) -> None:
        """Ask for a full flush within ``interval`` seconds (cheap; safe from any thread)."""
        self._dirty = True
        self._wakeup.set()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and wait at most ``timeout`` seconds for it (idempotent)."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread.is_alive()

    def _run(self) -> None:
        last = float("-inf")
        while not self._stopping.is_set():
            self._wakeup.wait(self.tick)
            delay = last + self.interval - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                break
            if self._stopping.is_set():
                break
            self._wakeup.clear()
            full, self._dirty = self._dirty, False
            last = time.monotonic()
            try:
                self._flush(full)
            except Exception:
                log.exception("jobwidget: a widget flush failed")
            self.flushes += 1
