"""The widget's blocking wait: :meth:`QueueClient.wait_for` behind a progress bar."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from ._waits import as_ids
from .client import QueueClient
from .protocol import TERMINAL, Job

__all__ = ["wait_with_progress"]

log = logging.getLogger(__name__)


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
    Only the calling thread waits, on the client's Condition that its I/O thread notifies: the
    mirror keeps updating meanwhile, so the wait cannot deadlock. Called on the I/O thread
    itself (from a status callback) it raises ``RuntimeError`` at once.
    """
    id_list = as_ids(ids)
    bar = _make_bar(len(id_list), desc) if progress else None
    if bar is None:
        return client.wait_for(id_list, statuses, timeout=timeout)

    def show(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        return client.wait_for(id_list, statuses, timeout=timeout, on_progress=show)
    finally:
        bar.close()
