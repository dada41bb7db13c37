"""JobQueueWidget: the live queue in JupyterLab / Notebook, fed by a coalescing flusher."""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anywidget
import pandas as pd
import traitlets as t

from ._events import JobCallback, on_status
from ._flusher import Flusher
from ._progress import wait_with_progress
from ._rows import connection_state, job_row, stats_state
from ._snapshot import Snapshot, snapshot_html
from ._waits import as_ids
from .client import ActionOutcome, QueueClient
from .errors import JobWidgetError
from .frame import FilterValue, jobs_to_dataframe, to_dataframe
from .protocol import STATUSES, TERMINAL, Job, JobStats
from .store import SORT_KEYS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .plot import PlotKind

__all__ = ["JobQueueWidget", "outcomes_frame"]

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
_SNAPSHOT_ROWS: Final = 10
_HTML: Final = "text/html"
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


def outcomes_frame(outcomes: Sequence[ActionOutcome]) -> pd.DataFrame:
    """Return bulk-action outcomes as a DataFrame: ``job_id``, ``ok``, ``detail``, ``new_job_id``.

    ``job_id``, ``detail`` and ``new_job_id`` are ``string`` (``new_job_id`` is NA unless a
    rerun made a copy); ``ok`` is ``bool``.
    """
    return pd.DataFrame(
        {
            "job_id": pd.array([o.job_id for o in outcomes], dtype="string"),
            "ok": pd.array([o.ok for o in outcomes], dtype=bool),
            "detail": pd.array([o.detail for o in outcomes], dtype="string"),
            "new_job_id": pd.array([o.new_job_id for o in outcomes], dtype="string"),
        }
    )


class _Ids(t.List):  # type: ignore[type-arg]
    """A list of job ids that also accepts one id or any iterable of ids (e.g. a Series)."""

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, Iterable) and not isinstance(value, list)):
            value = as_ids(value)
        return super().validate(obj, value)


def _sans_retry(connection: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in connection.items() if key != "retry_in"}


def _shutdown(
    flusher: Flusher, client: QueueClient | None, unsubscribe: list[Callable[[], None]]
) -> None:
    """Stop everything a widget started; runs on close, on garbage collection or at exit.

    ``client`` is ``None`` when the widget shares a client it does not own.
    """
    for undo in unsubscribe:
        undo()
    unsubscribe.clear()
    flusher.stop()
    if client is not None:
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
    url : str, optional
        Base URL of the job server, e.g. ``"http://127.0.0.1:8765"``.
    client : QueueClient, optional
        Instead of ``url``: share this running client (and its mirror) with other widgets, e.g.
        a second view filtered differently. The widget never closes a client it was given.
    page_size : int
        Rows per page (the view offers 10, 25, 50, 100 and 250).
    filters : dict, optional
        Initial ``{"status": [...], "source": [...], "entity": [...]}``.
    sort : dict, optional
        Initial ``{"by": "created_at", "descending": True}``.
    **client_options
        Passed to :class:`~jobwidget.client.QueueClient` (``token``, ``headers``, ``verify``,
        ``max_jobs``, ``backoff``, ``poll_interval``, ...); only with ``url``.

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
        Set by the view and by code alike. ``selected_ids`` also takes one id or any
        iterable of ids (``w.selected_ids = df.id``).
    df, history, selected : pandas.DataFrame
        The jobs, the frame history and the selected jobs, fresh on every access.

    Notes
    -----
    **Threads.** Kernel-owned traits are written only by the flusher thread, never by the
    kernel's shell thread, so updates reach the browser while a cell is busy (sending a comm
    message from another thread is safe on ipykernel 6.29 and 7). Commands from the view run
    their HTTP calls on a short-lived worker thread and answer when done, so a click never
    blocks the kernel. Callbacks registered with :meth:`on` run on the client's I/O thread.

    **Saved notebooks.** Besides the widget view, the widget's display carries a static
    ``text/html`` snapshot (counts, the first rows, when it was captured). Where the live view
    cannot render (nbconvert, a notebook viewer) that snapshot is shown instead.

    Examples
    --------
    >>> w = JobQueueWidget("http://127.0.0.1:8765")  # doctest: +SKIP
    >>> w.filters = {"status": ["failed"], "source": [], "entity": []}  # doctest: +SKIP
    >>> df = w.df  # doctest: +SKIP
    >>> w.rerun(df.query("status == 'failed'").id)  # doctest: +SKIP
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
    selected_ids = _Ids(t.Unicode(), help="Ids of the selected jobs.").tag(sync=True)

    #: Seconds a display waits for the first full list, so that its snapshot is not empty.
    snapshot_wait: float = 2.0

    def __init__(
        self,
        url: str | None = None,
        *,
        client: QueueClient | None = None,
        page_size: int = 50,
        filters: dict[str, Any] | None = None,
        sort: dict[str, Any] | None = None,
        **client_options: Any,
    ) -> None:
        if (url is None) == (client is None):
            raise TypeError("JobQueueWidget takes either a server url or a client=, not both")
        if client is not None and client_options:
            raise TypeError(
                f"client options {sorted(client_options)} need a url; "
                "the given client was configured when it was made"
            )
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
        owned = client is None
        if client is None:
            assert url is not None
            client = QueueClient(url, **client_options)
        self._client = client
        self._flusher = Flusher(self._flush, name=f"jobwidget-flusher {self._client.url}")
        wake = self._flusher.wake
        # Everything to undo on close; `on()` adds its subscriptions here too.
        self._unsubscribe = [
            self._client.on_change(lambda _ids: wake()),
            self._client.on_connection(lambda _info: wake()),
        ]
        self._finalizer = weakref.finalize(
            self, _shutdown, self._flusher, client if owned else None, self._unsubscribe
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

    @property
    def df(self) -> pd.DataFrame:
        """Every job of the mirror as a DataFrame (see :func:`jobwidget.frame.to_dataframe`)."""
        return to_dataframe(self)

    @property
    def history(self) -> pd.DataFrame:
        """The client's bounded log of applied frames as a DataFrame.

        One row per frame (default: the last 100 000): ``received_at``, ``job_id``, the
        statuses before and after, counts and ``latency``; see
        :meth:`jobwidget.frame.History.to_dataframe`.
        """
        return self._client.history.to_dataframe()

    @property
    def selected(self) -> pd.DataFrame:
        """The selected jobs (:attr:`selected_ids` still in the mirror) as a DataFrame."""
        with self._client.lock:
            store = self._client.store
            jobs = [job for job_id in self.selected_ids if (job := store.get(job_id)) is not None]
        return jobs_to_dataframe(jobs)

    def to_dataframe(
        self,
        *,
        filtered: bool = False,
        status: FilterValue = None,
        source: FilterValue = None,
        entity: FilterValue = None,
    ) -> pd.DataFrame:
        """The jobs as a DataFrame; ``filtered=True``: exactly those the view's filters match.

        Same as ``jobwidget.frame.to_dataframe(widget, ...)``: every page, not only the
        visible one; explicit ``status``/``source``/``entity`` replace the view's filter.
        """
        return to_dataframe(self, filtered=filtered, status=status, source=source, entity=entity)

    def cancel(self, ids: str | Iterable[Any]) -> pd.DataFrame:
        """Cancel one job or many (any iterable of ids, e.g. a pandas Series).

        Returns
        -------
        pandas.DataFrame
            One row per distinct id: ``job_id``, ``ok``, ``detail`` (the server's message or
            error text) and ``new_job_id`` (NA); see :func:`outcomes_frame`.
        """
        return outcomes_frame(self._run_action("cancel", as_ids(ids)))

    def delete(self, ids: str | Iterable[Any]) -> pd.DataFrame:
        """Delete one job or many (they must not be running); one result row per id."""
        return outcomes_frame(self._run_action("delete", as_ids(ids)))

    def rerun(self, ids: str | Iterable[Any]) -> pd.DataFrame:
        """Rerun one finished job or many; each result row's ``new_job_id`` names the copy."""
        return outcomes_frame(self._run_action("rerun", as_ids(ids)))

    def on(
        self,
        statuses: str | Iterable[str],
        fn: JobCallback,
        *,
        source: str | Iterable[str] | None = None,
        entity: str | Iterable[str] | None = None,
    ) -> Callable[[], None]:
        """Call ``fn(job)`` whenever a job enters one of ``statuses``.

        Parameters
        ----------
        statuses : str or iterable of str
            E.g. ``"failed"`` or ``["completed", "failed"]``.
        fn : callable
            ``fn(job)``, or ``fn(job, event)`` to also get the
            :class:`~jobwidget.connection.StatusEvent` with the old status. It runs on the
            client's I/O thread: keep it short and do not block or call the blocking actions
            (``widget.rerun`` ...) in it; an exception it raises is logged.
        source, entity : str or iterable of str, optional
            Only jobs of these source / entity types.

        Returns
        -------
        callable
            Call it to unsubscribe (closing the widget unsubscribes too).

        Examples
        --------
        >>> failures = []  # doctest: +SKIP
        >>> stop = w.on("failed", failures.append, source="jira")  # doctest: +SKIP
        """
        if self._closed:
            raise JobWidgetError("this widget is closed; create a new one to watch the queue")
        undo = on_status(self._client, statuses, fn, source=source, entity=entity)
        self._unsubscribe.append(undo)
        return undo

    async def wait_for(
        self,
        ids: str | Iterable[Any],
        statuses: str | Iterable[str] = TERMINAL,
        timeout: float | None = None,  # noqa: ASYNC109 - the same signature as wait()
    ) -> dict[str, Job | None]:
        """Wait until every job in ``ids`` has one of ``statuses``, without blocking the kernel.

        ``await widget.wait_for(ids)`` in a cell keeps the kernel (and every widget) responsive.
        Returns ``{id: job}`` (``None`` for a job deleted meanwhile); raises ``TimeoutError``
        after ``timeout`` seconds and ``KeyError`` for ids the server does not know.
        """
        return await self._client.wait_for_async(as_ids(ids), statuses, timeout)

    def wait(
        self,
        ids: str | Iterable[Any],
        statuses: str | Iterable[str] = TERMINAL,
        timeout: float | None = None,
        progress: bool = True,
    ) -> dict[str, Job | None]:
        """Block until every job in ``ids`` has one of ``statuses``, with a progress bar.

        The bar is ``tqdm.auto`` (a widget in Jupyter) when tqdm is installed. Only the calling
        thread waits; the client's I/O thread keeps the mirror and every view live, so this
        cannot deadlock. It must not be called from an :meth:`on` callback (``RuntimeError``).

        Returns
        -------
        dict
            ``{id: job}``; ``None`` for a job deleted meanwhile.

        Raises
        ------
        TimeoutError
            After ``timeout`` seconds; the message names the jobs still waiting.
        KeyError
            For ids the server does not know.
        """
        return wait_with_progress(
            self._client, ids, statuses, timeout, progress=progress, desc="jobs done"
        )

    def plot(self, kind: PlotKind = "status", *, ax: Axes | None = None, **options: Any) -> Axes:
        """Draw a chart of the queue with matplotlib (``pip install 'jobwidget[plot]'``).

        Parameters
        ----------
        kind : {"status", "throughput", "durations"}
            Jobs by status over time, jobs finished per time bin (from :attr:`history`), or a
            histogram of durations; see :func:`jobwidget.plot.plot`.
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when omitted.
        **options
            ``freq`` for ``"throughput"``, ``bins`` for ``"durations"``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plot import plot

        return plot(self, kind, ax=ax, **options)

    def snapshot(self, rows: int = _SNAPSHOT_ROWS) -> Snapshot:
        """A static HTML snapshot of the view now: counts, the first ``rows`` rows, the time.

        Display it (e.g. as a notebook's last cell) to keep the queue's state in the saved
        notebook.
        """
        return Snapshot(self._snapshot_html(rows))

    def refresh(self) -> None:
        """Re-list every job from the server now (raises when the server cannot be reached)."""
        self._client.refresh()

    def close(self) -> None:
        """Stop the client and the flusher and close the widget's comm (idempotent)."""
        if not getattr(self, "_closed", True):
            self._closed = True
            self._finalizer()
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The widget view plus a ``text/html`` snapshot for front ends that cannot render it."""
        snapshot: dict[str, str] = {}
        if not self._closed:
            try:  # first: it waits briefly for the first list, which the text repr then shows
                snapshot[_HTML] = self._snapshot_html(_SNAPSHOT_ROWS)
            except Exception:  # a display must never fail for the sake of its fallback
                log.exception("jobwidget: could not build the widget's HTML snapshot")
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        return {**data, **snapshot}, metadata

    def _snapshot_html(self, rows: int) -> str:
        client = self._client
        if client.connection.state != "closed":
            client.wait_until_synced(self.snapshot_wait)
        filters, sort = self.filters, self.sort
        view = client.view(
            status=filters["status"],
            source=filters["source"],
            entity=filters["entity"],
            sort=sort["by"],
            descending=sort["descending"],
            limit=rows,
        )
        info = client.connection
        return snapshot_html(
            url=client.url,
            state=info.state,
            counts=stats_state(client.stats(), None),
            rows=[job_row(job) for job in view.jobs],
            matching=view.total,
            filters=filters,
            captured_at=_dt.datetime.now(_dt.UTC),
            last_error=info.last_error,
        )

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
        ids = as_ids(raw_ids)
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
