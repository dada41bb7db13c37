"""pandas views of the mirror: one row per job with fixed dtypes, and a bounded frame history."""

from __future__ import annotations

import collections
import contextlib
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from operator import attrgetter, itemgetter
from typing import Any, Final, Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from .protocol import STATUSES, CrawlProgress, Job, JobDeleted, JobStatusChange, Progress

__all__ = [
    "HISTORY_COLUMNS",
    "JOB_COLUMNS",
    "STATUS_DTYPE",
    "History",
    "jobs_to_dataframe",
    "to_dataframe",
]

#: The ordered categorical of the five statuses, in lifecycle order (always all five categories).
STATUS_DTYPE: Final = pd.CategoricalDtype(list(STATUSES), ordered=True)

#: Column order of :meth:`History.to_dataframe`.
HISTORY_COLUMNS: Final[tuple[str, ...]] = (
    "received_at",
    "job_id",
    "type",
    "status",
    "old_status",
    "new_status",
    "changed",
    "result_count",
    "failed_count",
    "total_urls",
    "completed_urls",
    "pending_urls",
    "error",
    "duration",
    "latency",
)

_STRING: Final = pd.StringDtype()
_COUNT: Final = pd.Int64Dtype()
# Microseconds: the precision of the wire times, and a range (years 1-9999) that a sentinel
# date such as 9999-12-31 from a server cannot overflow (nanoseconds end in 2262).
_UTC_US: Final = pd.DatetimeTZDtype("us", "UTC")
_NAT: Final = np.iinfo(np.int64).min
_MAX_SECONDS: Final = 2.0**62 / 1e6
_NO_PROGRESS: Final = Progress()
_STATUS_CODE: Final[dict[str | None, int]] = {status: code for code, status in enumerate(STATUSES)}

FilterValue: TypeAlias = str | Iterable[str] | None
HistoryFrame: TypeAlias = JobStatusChange | CrawlProgress | JobDeleted

# ----------------------------------------------------------------------------- column helpers


def _strings(values: Sequence[str | None]) -> pd.api.extensions.ExtensionArray:
    """Return a ``string`` array (``pd.NA`` for ``None``), the same dtype on pandas 2 and 3."""
    return pd.array(values, dtype=_STRING)


def _counts(values: Sequence[int | None]) -> pd.api.extensions.ExtensionArray:
    """Return a nullable ``Int64`` array (``pd.NA`` for ``None``)."""
    return pd.array(values, dtype=_COUNT)


def _statuses(values: Sequence[str | None]) -> pd.Categorical:
    """Return the ordered status categorical; ``None`` or an unknown status becomes NaN."""
    codes = np.fromiter(
        map(_STATUS_CODE.get, values, itertools.repeat(-1)), dtype=np.int8, count=len(values)
    )
    return pd.Categorical.from_codes(codes, dtype=STATUS_DTYPE)


def _utc_times(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    """Return ``datetime64[us, UTC]`` from aware datetimes, with NaT for ``None``."""
    try:
        index = pd.DatetimeIndex(values)  # inference: twice as fast as an explicit dtype
    except pd.errors.OutOfBoundsDatetime:  # pandas 2 infers ns, which ends in 2262
        return pd.array(values, dtype=_UTC_US)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return index.as_unit("us").array


def _timedeltas(seconds: Sequence[float | None]) -> pd.api.extensions.ExtensionArray:
    """Return ``timedelta64[us]`` from float seconds; NaT for ``None``, NaN or out of range."""
    secs = np.array(seconds, dtype=np.float64)
    missing = ~(np.abs(secs) < _MAX_SECONDS)  # also true for NaN and inf
    micros = np.rint(np.where(missing, 0.0, secs) * 1e6).astype(np.int64)
    micros[missing] = _NAT
    deltas: pd.api.extensions.ExtensionArray = pd.array(micros.view("m8[us]"))
    return deltas


# ----------------------------------------------------------------------------- jobs


def _floats(values: Sequence[float]) -> npt.NDArray[np.float64]:
    """Return a ``float64`` array."""
    return np.array(values, dtype=np.float64)


def _urls(values: Sequence[str]) -> pd.api.extensions.ExtensionArray:
    """Return a ``string`` array in which an empty URL ("at no URL") is NA."""
    return _strings([url or None for url in values])


# Column name -> (is it a field of `job.progress` rather than of the job, converter).
_JOB_SCHEMA: Final[dict[str, tuple[bool, Callable[[list[Any]], Any]]]] = {
    "id": (False, _strings),
    "name": (False, _strings),
    "status": (False, _statuses),
    "source_type": (False, pd.Categorical),
    "entity_type": (False, pd.Categorical),
    "total_urls": (True, _counts),
    "completed_urls": (True, _counts),
    "failed_urls": (True, _counts),
    "pending_urls": (True, _counts),
    "percentage": (True, _floats),
    "result_count": (False, _counts),
    "failed_count": (False, _counts),
    "documents_saved": (False, _counts),
    "current_url": (True, _urls),
    "error": (False, _strings),
    "created_at": (False, _utc_times),
    "started_at": (False, _utc_times),
    "completed_at": (False, _utc_times),
    "last_heartbeat": (False, _utc_times),
    "duration": (False, _timedeltas),
    "description": (False, _strings),
}

#: Column order of :func:`jobs_to_dataframe`.
JOB_COLUMNS: Final[tuple[str, ...]] = tuple(_JOB_SCHEMA)


def _transpose(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Turn rows (tuples of ``width`` values) into columns."""
    return [list(map(itemgetter(i), rows)) for i in range(width)]


def jobs_to_dataframe(jobs: Sequence[Job]) -> pd.DataFrame:
    """Build a DataFrame with one row per job and a fixed schema, column by column.

    Parameters
    ----------
    jobs : sequence of Job
        The jobs, in the order the rows should have.

    Returns
    -------
    pandas.DataFrame
        A :class:`~pandas.RangeIndex` and the columns of :data:`JOB_COLUMNS`, with the same
        dtypes whatever the input (also when it is empty):

        - ``id``, ``name``, ``description``: ``string``;
        - ``status``: ordered categorical of the five statuses in lifecycle order
          (:data:`STATUS_DTYPE`), all five categories even when some are absent;
        - ``source_type``, ``entity_type``: ``category``;
        - ``total_urls``, ``completed_urls``, ``failed_urls``, ``pending_urls``,
          ``result_count``, ``failed_count``, ``documents_saved``: nullable ``Int64``;
        - ``percentage``: ``float64``;
        - ``current_url``: ``string``, NA when the job is at no URL;
        - ``error``: ``string``, NA when the job has no error;
        - ``created_at``, ``started_at``, ``completed_at``, ``last_heartbeat``:
          ``datetime64[us, UTC]``, NaT when unset;
        - ``duration``: ``timedelta64[us]``, NaT when unknown.

    Examples
    --------
    >>> from jobwidget.protocol import Job
    >>> df = jobs_to_dataframe([Job(id="a", status="running"), Job(id="b", status="failed")])
    >>> df[["id", "status"]]
      id   status
    0  a  running
    1  b   failed
    >>> df.status.cat.categories.tolist()
    ['pending', 'running', 'completed', 'failed', 'cancelled']
    >>> df.sort_values("status", ascending=False).id.tolist()
    ['b', 'a']
    """
    progress = [
        p if isinstance(p, Progress) else _NO_PROGRESS for p in map(attrgetter("progress"), jobs)
    ]
    # One pass per column over the objects: much faster than rows of tuples transposed.
    columns = {
        name: convert(list(map(attrgetter(name), progress if of_progress else jobs)))
        for name, (of_progress, convert) in _JOB_SCHEMA.items()
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(len(progress)), copy=False)


# ----------------------------------------------------------------------------- sources


@runtime_checkable
class StoreLike(Protocol):
    """Anything that can list its jobs, such as :class:`jobwidget.store.JobStore`."""

    def jobs(self) -> list[Job]:
        """Return a snapshot list of every job."""


@runtime_checkable
class ClientLike(Protocol):
    """A client: it has a ``store`` (and may have a ``lock`` guarding it)."""

    @property
    def store(self) -> StoreLike:
        """The mirror of the queue."""


@runtime_checkable
class WidgetLike(Protocol):
    """A widget: it has a ``client`` and the ``filters`` the user picked in the view."""

    @property
    def client(self) -> ClientLike:
        """The client that feeds the widget."""

    @property
    def filters(self) -> Mapping[str, Any]:
        """``{"status": [...], "source": [...], "entity": [...]}``; empty means no filter."""


def _wanted(value: FilterValue) -> frozenset[str] | None:
    """Normalise one filter: ``None`` or empty means "any", a str one value, else a set."""
    if value is None:
        return None
    wanted = frozenset((value,)) if isinstance(value, str) else frozenset(value)
    return wanted or None


def _filter(
    jobs: list[Job], status: FilterValue, source: FilterValue, entity: FilterValue
) -> list[Job]:
    """Keep the jobs that match every given filter (an OR within one filter)."""
    checks: list[Callable[[Job], bool]] = []
    if (statuses := _wanted(status)) is not None:
        checks.append(lambda job: job.status in statuses)
    if (sources := _wanted(source)) is not None:
        checks.append(lambda job: job.source_type in sources)
    if (entities := _wanted(entity)) is not None:
        checks.append(lambda job: job.entity_type in entities)
    if not checks:
        return jobs
    return [job for job in jobs if all(check(job) for check in checks)]


def _snapshot(client: ClientLike) -> list[Job]:
    """Take the client's jobs, holding its ``lock`` (if any) only while listing."""
    lock: AbstractContextManager[Any] | None = getattr(client, "lock", None)
    with lock if lock is not None else contextlib.nullcontext():
        return list(client.store.jobs())


def to_dataframe(
    obj: WidgetLike | ClientLike | StoreLike | Iterable[Job],
    *,
    status: FilterValue = None,
    source: FilterValue = None,
    entity: FilterValue = None,
    filtered: bool = False,
) -> pd.DataFrame:
    """Return the jobs of a widget, client, store or iterable as a DataFrame.

    The snapshot is taken at once (under the client's ``lock`` when it has one); the
    DataFrame is built afterwards and never changes: call again for fresh data. The schema
    is the one of :func:`jobs_to_dataframe`.

    Parameters
    ----------
    obj : widget, client, store or iterable of Job
        Where the jobs come from: an object with a ``client`` (a widget), an object with a
        ``store`` and optional ``lock`` (a client), an object with ``jobs()`` (a store), or
        the jobs themselves.
    status, source, entity : str or iterable of str, optional
        Keep only jobs whose ``status`` / ``source_type`` / ``entity_type`` is one of these.
        ``None`` or an empty iterable means no filter; filters combine with AND.
    filtered : bool, default False
        With a widget, apply the filters picked in the view (``widget.filters``); an explicit
        ``status``, ``source`` or ``entity`` argument replaces the view's filter of that name.

    Returns
    -------
    pandas.DataFrame
        One row per job, in the order the source lists them.

    Raises
    ------
    TypeError
        When ``obj`` is none of the above, or ``filtered=True`` is used without a widget.

    Examples
    --------
    >>> from jobwidget.protocol import Job
    >>> jobs = [Job(id="a", status="running", source_type="jira"),
    ...         Job(id="b", status="failed", source_type="github")]
    >>> to_dataframe(jobs, status=["failed", "cancelled"]).id.tolist()
    ['b']
    >>> to_dataframe(jobs, source="jira").id.tolist()
    ['a']
    """
    if isinstance(obj, WidgetLike):
        if filtered:
            view = obj.filters
            status = view.get("status") if status is None else status
            source = view.get("source") if source is None else source
            entity = view.get("entity") if entity is None else entity
        jobs = _snapshot(obj.client)
    elif filtered:
        raise TypeError(f"filtered=True needs a widget (with .filters), not {type(obj).__name__}")
    elif isinstance(obj, ClientLike):
        jobs = _snapshot(obj)
    elif isinstance(obj, StoreLike):
        jobs = list(obj.jobs())
    elif isinstance(obj, Iterable) and not isinstance(obj, str | bytes | Mapping):
        jobs = list(obj)
    else:
        raise TypeError(
            f"to_dataframe() takes a widget, client, store or iterable of Job, "
            f"not {type(obj).__name__}"
        )
    return jobs_to_dataframe(_filter(jobs, status, source, entity))


# ----------------------------------------------------------------------------- history


class AppliedLike(Protocol):
    """What applying one frame to the mirror did (as :class:`jobwidget.store.Applied`)."""

    @property
    def old_status(self) -> str | None:
        """The job's status before the frame (``None``: the job was unknown)."""

    @property
    def new_status(self) -> str | None:
        """The job's status after the frame (``None``: the job is not in the mirror)."""

    @property
    def changed(self) -> bool:
        """Whether the frame changed the mirror."""


_Record: TypeAlias = tuple[float, HistoryFrame, "str | None", "str | None", bool]
_Row: TypeAlias = tuple[Any, ...]

_FRAME_TYPES: Final = pd.CategoricalDtype(["job_status_change", "crawl_progress", "job_deleted"])


def _change_row(f: JobStatusChange) -> _Row:
    return (
        f.job_id,
        "job_status_change",
        f.status,
        f.result_count,
        f.failed_count,
        f.total_urls,
        f.completed_urls,
        f.pending_urls,
        f.error,
        f.duration,
        f.timestamp,
    )


def _progress_row(f: CrawlProgress) -> _Row:
    return (
        f.job_id,
        "crawl_progress",
        f.status,
        None,
        None,
        f.total_urls,
        f.completed_urls,
        f.pending_urls,
        None,
        None,
        None,
    )


def _deleted_row(f: JobDeleted) -> _Row:
    return (f.job_id, "job_deleted", None, None, None, None, None, None, None, None, f.timestamp)


_FRAME_ROWS: Final[dict[type, Callable[[Any], _Row]]] = {
    JobStatusChange: _change_row,
    CrawlProgress: _progress_row,
    JobDeleted: _deleted_row,
}


class History:
    """A thread-safe bounded log of the frames applied to the mirror.

    :meth:`record` is called on the client's I/O thread for every applied frame and only
    appends a tuple; the columns are built by :meth:`to_dataframe`. When full, the oldest
    records are dropped.

    Parameters
    ----------
    maxlen : int, default 100_000
        How many records to keep (the newest ones).

    Examples
    --------
    >>> import time
    >>> from jobwidget.protocol import JobStatusChange
    >>> from types import SimpleNamespace
    >>> history = History(maxlen=1000)
    >>> frame = JobStatusChange(job_id="a", status="running")
    >>> history.record(time.time(), frame,
    ...                SimpleNamespace(old_status="pending", new_status="running", changed=True))
    >>> df = history.to_dataframe()
    >>> df[["job_id", "type", "old_status", "new_status", "changed"]]
      job_id               type old_status new_status  changed
    0      a  job_status_change    pending    running     True
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        if maxlen < 1:
            raise ValueError(f"History maxlen must be at least 1, not {maxlen}")
        self._lock = threading.Lock()
        self._records: collections.deque[_Record] = collections.deque(maxlen=maxlen)

    @property
    def maxlen(self) -> int:
        """How many records are kept at most."""
        return self._records.maxlen or 0

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"<History {len(self)}/{self.maxlen} frames>"

    def record(self, received_at: float, frame: HistoryFrame, applied: AppliedLike) -> None:
        """Log one applied frame.

        Parameters
        ----------
        received_at : float
            When the frame arrived, as :func:`time.time` seconds.
        frame : JobStatusChange, CrawlProgress or JobDeleted
            The decoded payload (kept as is: payloads are immutable).
        applied : AppliedLike
            What applying it did: ``old_status``, ``new_status`` and ``changed``.

        Raises
        ------
        TypeError
            For a payload of another type.
        """
        if type(frame) not in _FRAME_ROWS:
            raise TypeError(f"History records job frames, not {type(frame).__name__}")
        entry = (received_at, frame, applied.old_status, applied.new_status, applied.changed)
        with self._lock:
            self._records.append(entry)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def to_dataframe(self) -> pd.DataFrame:
        """Return the records, oldest first, as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            A :class:`~pandas.RangeIndex` and the columns of :data:`HISTORY_COLUMNS`:

            - ``received_at``: ``datetime64[us, UTC]``, when the frame arrived;
            - ``job_id``: ``string``; ``type``: categorical of the three frame types;
            - ``status`` (what the frame said), ``old_status``, ``new_status`` (the job's
              status in the mirror before and after): :data:`STATUS_DTYPE`, NaN when none;
            - ``changed``: ``bool``, whether the frame changed the mirror;
            - ``result_count``, ``failed_count``, ``total_urls``, ``completed_urls``,
              ``pending_urls``: ``Int64``, NA when the frame type does not carry the field;
            - ``error``: ``string``; ``duration``: ``timedelta64[us]``;
            - ``latency``: ``timedelta64[us]``, ``received_at`` minus the frame's own
              timestamp, NaT when the frame has none (``crawl_progress``). It includes any
              clock difference between server and client.

        Examples
        --------
        Frames per second and the share that changed nothing::

            df = widget.history
            df.set_index("received_at").resample("1s").size()
            1 - df.changed.mean()
        """
        with self._lock:
            records = list(self._records)
        received, frames, olds, news, changed = _transpose(records, 5)
        rows = [_FRAME_ROWS[type(frame)](frame) for frame in frames]
        (
            job_ids,
            types,
            statuses,
            results,
            faileds,
            total,
            done,
            pending,
            errors,
            durations,
            stamps,
        ) = _transpose(rows, 11)
        # time.time() is good to about a microsecond: round there, not to float noise below.
        received_us = np.rint(np.array(received, dtype=np.float64) * 1e6).astype(np.int64)
        received_at = pd.array(received_us.view("M8[us]")).tz_localize("UTC")
        columns: dict[str, Any] = {
            "received_at": received_at,
            "job_id": _strings(job_ids),
            "type": pd.Categorical(types, dtype=_FRAME_TYPES),
            "status": _statuses(statuses),
            "old_status": _statuses(olds),
            "new_status": _statuses(news),
            "changed": np.array(changed, dtype=np.bool_),
            "result_count": _counts(results),
            "failed_count": _counts(faileds),
            "total_urls": _counts(total),
            "completed_urls": _counts(done),
            "pending_urls": _counts(pending),
            "error": _strings(errors),
            "duration": _timedeltas(durations),
            "latency": received_at - _utc_times(stamps),
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(len(records)), copy=False)
