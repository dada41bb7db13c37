"""Status callbacks for the widget: call a function when a job enters one of some statuses."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from typing import TypeAlias

from .client import QueueClient
from .connection import StatusEvent
from .protocol import STATUSES, Job

__all__ = ["JobCallback", "on_status"]

log = logging.getLogger(__name__)

#: ``fn(job)`` or ``fn(job, event)``.
JobCallback: TypeAlias = Callable[[Job], object] | Callable[[Job, StatusEvent], object]


def _one_or_many(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """``None`` or empty: no filter; a str: one value; else a set of values."""
    if value is None:
        return None
    values = frozenset((value,)) if isinstance(value, str) else frozenset(map(str, value))
    return values or None


def _takes_event(fn: Callable[..., object]) -> bool:
    """Whether ``fn`` accepts a second positional argument (the StatusEvent)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: call with the job only
        return False
    positional = 0
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            return True
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


def on_status(
    client: QueueClient,
    statuses: str | Iterable[str],
    fn: JobCallback,
    *,
    source: str | Iterable[str] | None = None,
    entity: str | Iterable[str] | None = None,
) -> Callable[[], None]:
    """Call ``fn`` for every job of ``client`` that enters one of ``statuses``.

    Parameters
    ----------
    client : QueueClient
        The client whose mirror is watched.
    statuses : str or iterable of str
        One status or several (of :data:`jobwidget.STATUSES`).
    fn : callable
        ``fn(job)``, or ``fn(job, event)`` when it takes two positional arguments; ``event``
        is the :class:`~jobwidget.connection.StatusEvent` (``old`` status included). Runs on the
        client's I/O thread: keep it short, never block in it, and use the ``*_async`` client
        methods for actions. An exception it raises is logged and never stops the client.
    source, entity : str or iterable of str, optional
        Only jobs of these source / entity types.

    Returns
    -------
    callable
        Call it to unsubscribe.

    Raises
    ------
    ValueError
        For an unknown status, or no status at all.
    """
    wanted = _one_or_many(statuses)
    if wanted is None:
        raise ValueError(f"name at least one status of {list(STATUSES)}")
    bad = wanted - set(STATUSES)
    if bad:
        raise ValueError(f"unknown statuses {sorted(bad)}; use {list(STATUSES)}")
    sources, entities = _one_or_many(source), _one_or_many(entity)
    with_event = _takes_event(fn)

    def dispatch(events: list[StatusEvent]) -> None:
        for event in events:
            if event.new not in wanted:
                continue
            job = client.get(event.job_id)
            if job is None or job.status not in wanted:  # gone or moved on since
                continue
            if sources is not None and job.source_type not in sources:
                continue
            if entities is not None and job.entity_type not in entities:
                continue
            try:
                if with_event:
                    fn(job, event)  # type: ignore[call-arg]
                else:
                    fn(job)  # type: ignore[call-arg]
            except Exception:
                log.exception("jobwidget: status callback %r failed for job %s", fn, job.id)

    return client.on_status(dispatch)
