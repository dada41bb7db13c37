"""The widget's blocking wait: the caller's thread sleeps on a Condition behind a progress bar."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any, Protocol

from .client import QueueClient, _timeout_message
from .protocol import TERMINAL, Job

__all__ = ["wait_with_progress"]

log = logging.getLogger(__name__)

# Re-check at least this often even without a wake-up (a missed one never hangs a wait).
_RECHECK: float = 1.0


class _Bar(Protocol):
    n: float

    def update(self, n: float = 1) -> object: ...

    def close(self) -> None: ...


def _make_bar(total: int, desc: str) -> _Bar | None:
    """A ``tqdm.auto`` bar (a widget in Jupyter, text elsewhere), or ``None`` without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        log.debug("jobwidget: tqdm is not installed; waiting without a progress bar")
        return None
    bar: _Bar = tqdm(total=total, desc=desc, unit="job", leave=True)
    return bar


def _done(client: QueueClient, ids: list[str], statuses: frozenset[str]) -> int:
    """How many of ``ids`` have one of ``statuses`` or are gone from the mirror."""
    with client.lock:
        jobs = [client.store.get(job_id) for job_id in ids]
    return sum(1 for job in jobs if job is None or job.status in statuses)


def wait_with_progress(
    client: QueueClient,
    ids: str | Iterable[Any],
    statuses: str | Iterable[str] = TERMINAL,
    timeout: float | None = None,
    *,
    progress: bool = True,
    desc: str = "jobs",
) -> dict[str, Job | None]:
    """Block until every job has one of ``statuses``, showing how many are done.

    Same contract as :meth:`QueueClient.wait_for` (ids, statuses, timeout, result, errors).
    Only the calling thread waits, on a Condition that the client's I/O thread notifies: the
    mirror keeps updating meanwhile, so the wait cannot deadlock. Called on the I/O thread
    itself (from a status callback) it raises ``RuntimeError`` at once.
    """
    id_list = [ids] if isinstance(ids, str) else list(dict.fromkeys(map(str, ids)))
    wanted = frozenset([statuses] if isinstance(statuses, str) else statuses)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        # Validates, fetches ids the mirror lacks, refuses the I/O thread; returns if all done.
        return client.wait_for(id_list, wanted, timeout=0)
    except TimeoutError:
        pass
    bar = _make_bar(len(id_list), desc) if progress else None
    if bar is None:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return client.wait_for(id_list, wanted, timeout=remaining)
    changed = threading.Condition()
    wakeups = 0

    def poke(_info: object) -> None:
        nonlocal wakeups
        with changed:
            wakeups += 1
            changed.notify_all()

    unsubscribe = [client.on_change(poke), client.on_connection(poke)]
    try:
        while True:
            # Never hold `changed` while calling the client: its I/O thread takes it in poke().
            with changed:
                seen = wakeups
            done = _done(client, id_list, wanted)
            bar.update(done - bar.n)
            if done == len(id_list) or client.connection.state in ("closed", "error"):
                try:  # builds the result, or raises the client's own error
                    return client.wait_for(id_list, wanted, timeout=0)
                except TimeoutError:
                    pass  # a job moved back (a REST list is the truth): keep waiting
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                pending = [
                    job_id
                    for job_id in id_list
                    if (job := client.get(job_id)) is not None and job.status not in wanted
                ]
                raise TimeoutError(_timeout_message(pending, id_list, wanted, timeout))
            with changed:
                if wakeups == seen:
                    changed.wait(_RECHECK if remaining is None else min(remaining, _RECHECK))
    finally:
        for undo in unsubscribe:
            undo()
        bar.close()
