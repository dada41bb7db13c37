"""JobQueueWidget: the live queue in JupyterLab / Notebook, fed by a coalescing flusher."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import anywidget
import traitlets as t

from ._flusher import Flusher
from ._rows import connection_state, job_row, stats_state
from .client import ActionOutcome, QueueClient
from .errors import JobWidgetError
from .protocol import STATUSES, Job, JobStats
from .store import SORT_KEYS

__all__ = ["JobQueueWidget"]

log = logging.getLogger(__name__)

_STATIC: Final = Path(__file__).parent / "static"
_ESM: Final = _STATIC / "widget.js"
_CSS: Final = _STATIC / "widget.css"

_FILTER_FIELDS: Final = ("status", "source", "entity")
_JOB_ACTIONS: Final = ("cancel", "delete", "rerun")
_COMMANDS: Final = (*_JOB_ACTIONS, "refresh", "select_matching")
_MAX_PAGE_SIZE: Final = 1000
_CONNECTING: Final[dict[str, Any]] = {
    "state": "connecting",
    "last_message_at": None,
    "last_error": None,
    "retry_in": None,
    "reconnect_attempts": 0,
}
_ActionFn = Callable[[QueueClient, list[str]], list[ActionOutcome]]
_ACTION_FNS: Final[dict[str, _ActionFn]] = {
    "cancel": QueueClient.cancel_many,
    "delete": QueueClient.delete_many,
    "rerun": QueueClient.rerun_many,
}


def _bundle() -> tuple[str, str]:
    """Return the view's JavaScript and CSS, or explain how to build them."""
    missing = [path.name for path in (_ESM, _CSS) if not path.is_file()]
    if missing:
        raise JobWidgetError(
            f"the widget's front-end bundle is missing ({', '.join(missing)} in {_STATIC}). "
            "Build it with `make js` (or `cd js && npm ci && npm run build`) in a source "
            "checkout, or install a jobwidget wheel, which ships it."
        )
    return _ESM.read_text(encoding="utf-8"), _CSS.read_text(encoding="utf-8")


def _as_ids(ids: str | Iterable[Any]) -> list[str]:
    """One id, or any iterable of ids (a list, a set, a pandas Series), as distinct strings."""
    if isinstance(ids, str):
        return [ids]
    return list(dict.fromkeys(str(job_id) for job_id in ids))


def _sans_retry(connection: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in connection.items() if key != "retry_in"}


def _shutdown(flusher: Flusher, client: QueueClient, unsubscribe: list[Callable[[], None]]) -> None:
    """Stop everything a widget started; runs on close, on garbage collection or at exit."""
    for undo in unsubscribe:
        undo()
    flusher.stop()
    client.close()


class JobQueueWidget(anywidget.AnyWidget):
    """A live view of a job queue for JupyterLab 4 and Notebook 7, backed by a QueueClient.

    Constructing the widget starts a :class:`~jobwidget.client.QueueClient` (its I/O thread
    keeps the mirror true while the kernel is idle or busy) and a flusher thread that writes
    the synced traits. Only the visible page, the counts and the connection state are synced,
    at most 10 times a second and only when something changed, in one message per flush.
    Without a front end (a script, papermill) everything but the rendering works the same.

    Parameters
    ----------
    url : str
        Base URL of the job server, e.g. ``"http://127.0.0.1:8765"``.
    page_size : int
        Rows per page (the view offers 10, 25, 50, 100 and 250).
    filters : dict, optional
        Initial ``{"status": [...], "source": [...], "entity": [...]}``.
    sort : dict, optional
        Initial ``{"by": "created_at", "descending": True}``.
    **client_options
        Passed to :class:`~jobwidget.client.QueueClient` (``token``, ``headers``, ``verify``,
        ``max_jobs``, ``backoff``, ``poll_interval``, ...).

    Attributes
    ----------
    jobs : list of dict
        The visible page's rows (read-only).
    stats : dict
        ``total`` and the five status counts of the mirror, ``queue``: the latest
        ``queue_stats`` frame or ``None`` (read-only).
    connection : dict
        ``state``, ``last_message_at``, ``last_error``, ``retry_in`` (seconds until the next
        reconnect attempt) and ``reconnect_attempts`` (read-only).
    total : int
        Jobs matching :attr:`filters` over all pages (read-only).
    sources, entities : list of str
        Choices for the filter menus (read-only).
    truncated : int
        Jobs evicted by the mirror's ``max_jobs`` bound (read-only).
    filters, sort, page, page_size, selected_ids
        Set by the view and by code alike.

    Notes
    -----
    **Threads.** Kernel-owned traits are written only by the flusher thread, never by the
    kernel's shell thread, so updates reach the browser while a cell is busy (sending a comm
    message from another thread is safe on ipykernel 6.29 and 7). Commands from the view run
    their HTTP calls on a short-lived worker thread and answer when done, so a click never
    blocks the kernel.

    Examples
    --------
    >>> w = JobQueueWidget("http://127.0.0.1:8765")  # doctest: +SKIP
    >>> w.filters = {"status": ["failed"], "source": [], "entity": []}  # doctest: +SKIP
    >>> w.rerun(job["id"] for job in w.jobs)  # doctest: +SKIP
    """

    jobs = t.List(t.Dict(), read_only=True, help="The visible page's rows.").tag(sync=True)
    stats = t.Dict(
        stats_state(JobStats(), None), read_only=True, help="Status counts and queue stats."
    ).tag(sync=True)
    connection = t.Dict(_CONNECTING, read_only=True, help="Connection state of the mirror.").tag(
        sync=True
    )
    total = t.Int(0, read_only=True, help="Jobs matching the filters.").tag(sync=True)
    sources = t.List(t.Unicode(), read_only=True, help="Known source types.").tag(sync=True)
    entities = t.List(t.Unicode(), read_only=True, help="Known entity types.").tag(sync=True)
    truncated = t.Int(0, read_only=True, help="Jobs evicted by max_jobs.").tag(sync=True)
    filters = t.Dict(help="status / source / entity lists; empty lists match all.").tag(sync=True)
    sort = t.Dict(help='{"by": column, "descending": bool}.').tag(sync=True)
    page = t.Int(0, min=0, help="0-based page number.").tag(sync=True)
    page_size = t.Int(50, min=1, max=_MAX_PAGE_SIZE, help="Rows per page.").tag(sync=True)
    selected_ids = t.List(t.Unicode(), help="Ids of the selected jobs.").tag(sync=True)

    def __init__(
        self,
        url: str,
        *,
        page_size: int = 50,
        filters: dict[str, Any] | None = None,
        sort: dict[str, Any] | None = None,
        **client_options: Any,
    ) -> None:
        self._esm, self._css = _bundle()
        # The flusher writes traits while the shell thread may apply the view's changes:
        # this lock serialises every trait notification and each whole flush.
        self._sync_lock = threading.RLock()
        self._closed = True  # until the client and the flusher exist
        self._seen: tuple[Any, ...] | None = None
        self._row_cache: dict[str, tuple[Job, dict[str, Any]]] = {}
        super().__init__(
            page_size=page_size,
            filters=filters or {},
            sort=sort or {},
        )
        self._client = QueueClient(url, **client_options)
        self._flusher = Flusher(self._flush, name=f"jobwidget-flusher {self._client.url}")
        wake = self._flusher.wake
        unsubscribe = [
            self._client.on_change(lambda _ids: wake()),
            self._client.on_connection(lambda _info: wake()),
        ]
        self._finalizer = weakref.finalize(
            self, _shutdown, self._flusher, self._client, unsubscribe
        )
        self._closed = False
        self.on_msg(self._on_command)
        self.observe(lambda _change: wake(), names=["filters", "sort", "page", "page_size"])
        self._flusher.start()
        self._flusher.wake()

    # ------------------------------------------------------------------ public API

    @property
    def client(self) -> QueueClient:
        """The :class:`~jobwidget.client.QueueClient` that keeps this widget's mirror."""
        return self._client

    def cancel(self, ids: str | Iterable[Any]) -> list[ActionOutcome]:
        """Cancel one job or many (any iterable of ids, e.g. a pandas Series).

        Returns
        -------
        list of ActionOutcome
            One per distinct id: ``ok`` and the server's message or error text.
        """
        return self._run_action("cancel", _as_ids(ids))

    def delete(self, ids: str | Iterable[Any]) -> list[ActionOutcome]:
        """Delete one job or many (they must not be running); one ActionOutcome per id."""
        return self._run_action("delete", _as_ids(ids))

    def rerun(self, ids: str | Iterable[Any]) -> list[ActionOutcome]:
        """Rerun one finished job or many; each outcome's ``new_job_id`` names the copy."""
        return self._run_action("rerun", _as_ids(ids))

    def refresh(self) -> None:
        """Re-list every job from the server now (raises when the server cannot be reached)."""
        self._client.refresh()

    def close(self) -> None:
        """Stop the client and the flusher and close the widget's comm (idempotent)."""
        if not getattr(self, "_closed", True):
            self._closed = True
            self._finalizer()
        super().close()

    def __repr__(self) -> str:
        client = getattr(self, "_client", None)
        if client is None:
            return f"<{type(self).__name__} (not started)>"
        return f"<{type(self).__name__} {client.url} {client.connection.state} total={self.total}>"

    # ------------------------------------------------------------------ traits

    @t.validate("filters")
    def _valid_filters(self, proposal: t.Bunch) -> dict[str, list[str]]:
        value = proposal["value"]
        unknown = set(value) - set(_FILTER_FIELDS)
        if unknown:
            raise t.TraitError(f"unknown filter fields {sorted(unknown)}; use {_FILTER_FIELDS}")
        filters: dict[str, list[str]] = {}
        for field in _FILTER_FIELDS:
            raw = value.get(field) or []
            values = [raw] if isinstance(raw, str) else [str(v) for v in raw]
            filters[field] = list(dict.fromkeys(values))
        bad = set(filters["status"]) - set(STATUSES)
        if bad:
            raise t.TraitError(f"unknown statuses {sorted(bad)}; use {list(STATUSES)}")
        return filters

    @t.validate("sort")
    def _valid_sort(self, proposal: t.Bunch) -> dict[str, Any]:
        value = proposal["value"]
        by = value.get("by", "created_at")
        if by not in SORT_KEYS:
            raise t.TraitError(f"cannot sort by {by!r}; use one of {', '.join(SORT_KEYS)}")
        return {"by": by, "descending": bool(value.get("descending", True))}

    def notify_change(self, change: t.Bunch) -> None:
        """Send a trait change to the front end; serialised with the flusher's writes."""
        with self._sync_lock:
            super().notify_change(change)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply trait values sent by the view; serialised with the flusher's writes."""
        with self._sync_lock:
            super().set_state(sync_data)

    # ------------------------------------------------------------------ flushing

    def _page_rows(self, jobs: list[Job]) -> list[dict[str, Any]]:
        """Rows of the page's jobs, reusing the row of every job object seen last time."""
        cache = self._row_cache
        fresh: dict[str, tuple[Job, dict[str, Any]]] = {}
        rows = []
        for job in jobs:
            hit = cache.get(job.id)
            row = hit[1] if hit is not None and hit[0] is job else job_row(job)
            fresh[job.id] = (job, row)
            rows.append(row)
        self._row_cache = fresh
        return rows

    def _flush(self, full: bool) -> None:
        """Compute the synced state and write the traits that changed, in one message.

        Runs on the flusher thread. ``full`` is false for a periodic tick: then the page is
        only recomputed when the mirror's version or the query moved.
        """
        client = self._client
        with self._sync_lock:
            filters, sort = self.filters, self.sort
            page, size = self.page, self.page_size
            state: dict[str, Any] = {}
            with client.lock:
                store = client.store
                seen = (store.version, filters, sort, page, size)
                if full or seen != self._seen:
                    query = {
                        "status": filters["status"],
                        "source": filters["source"],
                        "entity": filters["entity"],
                        "sort": sort["by"],
                        "descending": sort["descending"],
                    }
                    view = store.view(**query, offset=page * size, limit=size)
                    if not view.jobs and page > 0:
                        page = max(0, (view.total - 1) // size)
                        view = store.view(**query, offset=page * size, limit=size)
                        state["page"] = page
                    state["total"] = view.total
                    state["sources"] = store.sources()
                    state["entities"] = store.entities()
                    state["truncated"] = store.evicted
                    selected = self.selected_ids
                    kept = [job_id for job_id in selected if job_id in store]
                    if len(kept) != len(selected):
                        state["selected_ids"] = kept
                    self._seen = (store.version, filters, sort, page, size)
                    page_jobs: list[Job] | None = view.jobs
                else:
                    page_jobs = None
                counts = store.stats()
            info = client.connection
            if page_jobs is not None:
                state["jobs"] = self._page_rows(page_jobs)
            state["stats"] = stats_state(counts, info.queue_stats)
            connection = connection_state(info)
            if _sans_retry(connection) != _sans_retry(self.connection):
                state["connection"] = connection
            changed = {name: value for name, value in state.items() if getattr(self, name) != value}
            if changed:
                with self.hold_sync():
                    for name, value in changed.items():
                        self.set_trait(name, value)

    # ------------------------------------------------------------------ commands

    def _run_action(self, action: str, ids: list[str]) -> list[ActionOutcome]:
        """Run a job action on ``ids`` through the client; the one place actions happen."""
        return _ACTION_FNS[action](self._client, ids)

    def _on_command(self, _widget: object, content: Any, _buffers: object) -> None:
        """Handle a custom message of the view (on the kernel's shell thread)."""
        if not isinstance(content, dict) or content.get("kind") != "command":
            log.debug("jobwidget: ignored a custom message of the view: %r", content)
            return
        request_id = str(content.get("request_id", ""))
        action = content.get("action")
        raw_ids = content.get("ids") or []
        if action not in _COMMANDS or not isinstance(raw_ids, list):
            self._reply(request_id, error=f"unknown command {action!r}; use one of {_COMMANDS}")
            return
        ids = _as_ids(raw_ids)
        if action == "select_matching":
            self._select_matching()
            self._reply(request_id)
            return
        threading.Thread(
            target=self._run_command,
            args=(request_id, action, ids),
            name=f"jobwidget-command {action}",
            daemon=True,
        ).start()

    def _select_matching(self) -> None:
        filters = self.filters
        matching = self._client.view(
            status=filters["status"], source=filters["source"], entity=filters["entity"]
        )
        self.selected_ids = [job.id for job in matching.jobs]

    def _run_command(self, request_id: str, action: str, ids: list[str]) -> None:
        """Run one command of the view on a worker thread and send its result."""
        try:
            if action == "refresh":
                self._client.refresh()
                self._reply(request_id)
                return
            outcomes = self._run_action(action, ids)
        except JobWidgetError as exc:
            self._reply(request_id, error=str(exc) or type(exc).__name__)
            return
        except Exception as exc:  # the view must get an answer whatever happened
            log.exception("jobwidget: command %s failed", action)
            self._reply(request_id, error=f"{type(exc).__name__}: {exc}")
            return
        results = {o.job_id: None if o.ok else o.detail for o in outcomes}
        failed = sum(1 for o in outcomes if not o.ok)
        self._reply(request_id, results=results, failed=failed > 0)

    def _reply(
        self,
        request_id: str,
        *,
        error: str | None = None,
        results: dict[str, str | None] | None = None,
        failed: bool = False,
    ) -> None:
        """Send the view the answer to one command."""
        if self._closed:
            return
        self.send(
            {
                "kind": "result",
                "request_id": request_id,
                "ok": error is None and not failed,
                "error": error,
                "results": results or {},
            }
        )
