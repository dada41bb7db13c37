"""The job mirror: merge rules for frames, relist replace, views, stats, change tracking, bound."""

from __future__ import annotations

import bisect
import datetime as _dt
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, NamedTuple, TypeAlias

import msgspec

from .protocol import (
    STATUSES,
    TERMINAL,
    CrawlProgress,
    Job,
    JobDeleted,
    JobStats,
    JobStatusChange,
    Progress,
    status_rank,
)

__all__ = ["SORT_KEYS", "Applied", "Changes", "JobStore", "View"]

logger = logging.getLogger(__name__)

#: The columns :meth:`JobStore.view` can sort by.
SORT_KEYS: Final[tuple[str, ...]] = (
    "created_at",
    "name",
    "status",
    "percentage",
    "duration",
    "source_type",
    "entity_type",
    "id",
)

_RANK: Final[dict[str, int]] = {s: status_rank(s) for s in STATUSES}
_ORDER: Final[dict[str, int]] = {s: i for i, s in enumerate(STATUSES)}
_NO_TIME: Final = float("-inf")

_Time: TypeAlias = _dt.datetime | None
# Per-job merge clock: (floor, newest, result_count, failed_count, total_urls, completed_urls,
# pending_urls). `floor` is the `as_of` of the last REST answer (older frames are ignored),
# `newest` the newest time seen for the job, the rest the time of each count's current value.
_Clock: TypeAlias = tuple[_Time, _Time, _Time, _Time, _Time, _Time, _Time]
_NO_CLOCK: Final[_Clock] = (None, None, None, None, None, None, None)
_Combo: TypeAlias = tuple[str, str, str]
_IndexKey: TypeAlias = tuple[float, str]
_Filter: TypeAlias = str | Iterable[str] | None

_copy_job: Final[Callable[[Job], Job]] = Job.__copy__  # type: ignore[attr-defined]
_copy_progress: Final[Callable[[Progress], Progress]] = Progress.__copy__  # type: ignore[attr-defined]
_set: Final = msgspec.structs.force_setattr
_new_tuple: Final = tuple.__new__


class Applied(NamedTuple):
    """What :meth:`JobStore.apply` did with one update.

    Attributes
    ----------
    job_id : str
        The job the update was about.
    changed : bool
        Whether the mirrored job changed (or, for a deletion, was removed).
    unknown : bool
        The job is not in the mirror; nothing was invented from the partial frame. The caller
        should fetch it over REST (``GET /api/jobs/{id}``) and :meth:`JobStore.upsert` it.
    old_status, new_status : str or None
        The status before and after (equal when it did not move; ``None`` when absent).
    """

    job_id: str
    changed: bool
    unknown: bool
    old_status: str | None
    new_status: str | None


class Changes(NamedTuple):
    """Ids touched since the previous :meth:`JobStore.drain_changes`; the three sets are disjoint.

    A job added and then changed is only in ``added``; a job added and then removed is in none;
    a job removed and then added again is in ``changed``.
    """

    changed: frozenset[str]
    added: frozenset[str]
    removed: frozenset[str]


class View(NamedTuple):
    """One page of the mirror: the ``jobs`` on the page and the ``total`` matching count."""

    jobs: list[Job]
    total: int


def _index_key(job: Job) -> _IndexKey:
    created = job.created_at
    return (created.timestamp() if created is not None else _NO_TIME, job.id)


def _combo(job: Job) -> _Combo:
    return (job.status, job.source_type, job.entity_type)


def _as_filter(value: _Filter) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    values = frozenset(value)
    return values or None


def _pick(value: int, current: int, ts: _dt.datetime, clock: _Time) -> tuple[int, _Time]:
    """Merge one count of a frame stamped ``ts``: zero is not news, the newest value wins."""
    if value and (clock is None or ts > clock or (ts == clock and value > current)):
        return value, ts
    return current, clock


_SORTS: Final[dict[str, Callable[[Job], Any]]] = {
    "name": lambda j: (j.name, j.id),
    "status": lambda j: (_ORDER[j.status], j.id),
    "percentage": lambda j: (j.prog.percentage, j.id),
    "duration": lambda j: (j.duration is not None, j.duration or 0.0, j.id),
    "source_type": lambda j: (j.source_type, j.id),
    "entity_type": lambda j: (j.entity_type, j.id),
    "id": lambda j: j.id,
}


class JobStore:
    """The kernel-side mirror of the job queue: pure data, no I/O, no threads.

    Frames are merged by the rules of ``protocol.md`` section 5: a zero count never wipes a
    known value, and among non-zero values the newest (by frame ``timestamp``) wins whatever the
    arrival order (on equal times the larger value); an unstamped frame counts as newer than
    anything seen. A status moves only forward (pending < running < terminal) and a terminal
    status never changes through a frame. REST answers (:meth:`replace`, :meth:`upsert`) win
    over everything; frames stamped before their ``as_of`` are ignored afterwards.

    The store is **not thread-safe**: the owner must serialise every call (the client holds a
    lock). Stored :class:`~jobwidget.protocol.Job` objects are never mutated; a change replaces
    the object, so references handed out stay valid snapshots.

    Parameters
    ----------
    max_jobs : int
        Size bound. When an insert makes the mirror larger, the oldest (by ``created_at``)
        terminal jobs are evicted first. Pending and running jobs are never evicted, so the
        bound is exceeded while there are more than ``max_jobs`` of them.
    """

    def __init__(self, max_jobs: int = 100_000) -> None:
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, not {max_jobs}")
        self._max_jobs = max_jobs
        self._evicted = 0
        self._version = 0
        self._jobs: dict[str, Job] = {}
        self._clocks: dict[str, _Clock] = {}
        self._index: list[_IndexKey] = []  # (created_at, id) ascending
        self._combos: dict[_Combo, int] = {}
        self._changed: set[str] = set()
        self._added: set[str] = set()
        self._removed: set[str] = set()

    # ------------------------------------------------------------------ reading

    @property
    def max_jobs(self) -> int:
        """The size bound given at construction."""
        return self._max_jobs

    @property
    def evicted(self) -> int:
        """Total number of jobs evicted by the size bound so far."""
        return self._evicted

    @property
    def version(self) -> int:
        """A counter that grows by one with every call that changed the mirror."""
        return self._version

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    def __repr__(self) -> str:
        return f"<JobStore {len(self._jobs)} jobs, version {self._version}>"

    def get(self, job_id: str) -> Job | None:
        """Return the mirrored job ``job_id``, or ``None``."""
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Return a snapshot list of every mirrored job, newest ``created_at`` first."""
        jobs = self._jobs
        return [jobs[key[1]] for key in reversed(self._index)]

    def stats(self) -> JobStats:
        """Return the six counts of ``GET /api/jobs/stats`` for the mirror (O(distinct values))."""
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for (status, _, _), n in self._combos.items():
            counts[status] += n
        return JobStats(
            total_jobs=len(self._jobs),
            pending_jobs=counts["pending"],
            running_jobs=counts["running"],
            completed_jobs=counts["completed"],
            failed_jobs=counts["failed"],
            cancelled_jobs=counts["cancelled"],
        )

    def sources(self) -> list[str]:
        """Return the sorted distinct non-empty ``source_type`` values of the mirrored jobs."""
        return sorted({combo[1] for combo in self._combos} - {""})

    def entities(self) -> list[str]:
        """Return the sorted distinct non-empty ``entity_type`` values of the mirrored jobs."""
        return sorted({combo[2] for combo in self._combos} - {""})

    def view(
        self,
        status: _Filter = None,
        source: _Filter = None,
        entity: _Filter = None,
        sort: str = "created_at",
        descending: bool = True,
        offset: int = 0,
        limit: int | None = None,
    ) -> View:
        """Return one filtered, sorted page of the mirror and the matching count.

        Parameters
        ----------
        status, source, entity : str or iterable of str or None
            Filters on ``status``, ``source_type`` and ``entity_type``. Several values of one
            field match any of them; fields combine with AND. ``None`` or an empty iterable
            means no filter on that field.
        sort : str
            One of :data:`SORT_KEYS`. Rows are ordered by ``(sort value, id)``; ``descending``
            reverses that whole order. A missing ``duration`` sorts below every value.
        descending : bool
            Largest first (the default: newest ``created_at`` first).
        offset, limit : int
            The page: skip ``offset`` matching rows, return at most ``limit`` (``None``: all).

        Returns
        -------
        View
            ``jobs`` on the page and ``total``, the number of matching jobs over all pages.

        Raises
        ------
        ValueError
            For an unknown ``sort`` or a negative ``offset``/``limit``.
        """
        if sort not in SORT_KEYS:
            raise ValueError(f"cannot sort by {sort!r}; use one of {', '.join(SORT_KEYS)}")
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must not be negative (got {offset}, {limit})")
        statuses, sources, entities = _as_filter(status), _as_filter(source), _as_filter(entity)
        filtered = statuses is not None or sources is not None or entities is not None
        total = len(self._jobs)
        if filtered:
            total = sum(
                n
                for (st, src, ent), n in self._combos.items()
                if (statuses is None or st in statuses)
                and (sources is None or src in sources)
                and (entities is None or ent in entities)
            )
        stop = None if limit is None else offset + limit
        rows: Iterator[Job]
        if sort == "created_at":
            jobs = self._jobs
            keys = reversed(self._index) if descending else iter(self._index)
            rows = (jobs[key[1]] for key in keys)
            if filtered:
                rows = (
                    job
                    for job in rows
                    if (statuses is None or job.status in statuses)
                    and (sources is None or job.source_type in sources)
                    and (entities is None or job.entity_type in entities)
                )
            page = list(itertools.islice(rows, offset, stop))
        else:
            candidates = [
                job
                for job in self._jobs.values()
                if (statuses is None or job.status in statuses)
                and (sources is None or job.source_type in sources)
                and (entities is None or job.entity_type in entities)
            ]
            candidates.sort(key=_SORTS[sort], reverse=descending)
            page = candidates[offset:stop]
        return View(page, total)

    def drain_changes(self) -> Changes:
        """Return the ids changed, added and removed since the last drain, and forget them."""
        changes = Changes(
            frozenset(self._changed), frozenset(self._added), frozenset(self._removed)
        )
        self._changed.clear()
        self._added.clear()
        self._removed.clear()
        return changes

    # ------------------------------------------------------------------ REST (the truth)

    def upsert(self, job: Job, *, as_of: _dt.datetime | None = None) -> None:
        """Insert or replace one job from a REST answer (``GET /api/jobs/{id}``); REST wins.

        Parameters
        ----------
        job : Job
            The job as the server returned it; stored as is.
        as_of : datetime or None
            When the request was sent (aware). Frames stamped earlier are ignored for this
            job afterwards; ``None`` forgets the job's merge clock instead.
        """
        clock = None if as_of is None else _rest_clock(as_of)
        if self._put(job, clock, None):
            self._version += 1
        self._evict()

    def replace(self, jobs: Iterable[Job], *, as_of: _dt.datetime | None = None) -> None:
        """Replace the whole mirror with a full relist (``GET /api/jobs?limit=0``); REST wins.

        Jobs absent from ``jobs`` are removed; the others are stored as given. ``as_of`` is
        as for :meth:`upsert`. Afterwards the mirror equals the list (up to the size bound).
        """
        clock = None if as_of is None else _rest_clock(as_of)
        fresh: list[_IndexKey] = []
        latest = {job.id: job for job in jobs}  # a repeated id: the last one wins
        changed = False
        for job in latest.values():
            changed = self._put(job, clock, fresh) or changed
        if fresh:
            self._index.extend(fresh)
            self._index.sort()
        gone = self._jobs.keys() - latest.keys()
        if gone:
            self._drop_many(gone)
            changed = True
        if changed:
            self._version += 1
        self._evict()

    def remove(self, job_id: str) -> bool:
        """Remove ``job_id`` from the mirror; return whether it was there."""
        job = self._jobs.get(job_id)
        if job is None:
            return False
        self._drop_many((job_id,))
        self._version += 1
        return True

    # ------------------------------------------------------------------ frames

    def apply(self, update: JobStatusChange | CrawlProgress | JobDeleted) -> Applied:
        """Merge one decoded frame payload into the mirror.

        Parameters
        ----------
        update : JobStatusChange or CrawlProgress or JobDeleted
            The payload of a ``job_status_change``, ``crawl_progress`` or ``job_deleted`` frame.

        Returns
        -------
        Applied
            What happened. For an id not in the mirror nothing is created and ``unknown`` is
            true (except for a deletion, which needs no fetch).
        """
        if not isinstance(update, JobStatusChange):
            return self._apply_other(update)
        u = update
        jid = u.job_id
        job = self._jobs.get(jid)
        if job is None:
            return _new_tuple(Applied, (jid, False, True, None, None))
        # From here on the stored id: the key object of every table (an identity hit, not a
        # string compare), and the frame's own string is not kept alive.
        jid = job.id
        old_status = job.status
        ts = u.timestamp
        floor, newest, c_res, c_fail, c_tot, c_done, c_pend = self._clocks.get(jid, _NO_CLOCK)
        if ts is not None and floor is not None and ts < floor:
            return _new_tuple(Applied, (jid, False, False, old_status, old_status))
        prog: Progress = job.progress  # type: ignore[assignment]  # always decoded (hot path)
        old_res, old_fail = job.result_count, job.failed_count
        old_tot, old_done, old_pend = prog.total_urls, prog.completed_urls, prog.pending_urls
        res, fail, tot, done, pend = (
            u.result_count,
            u.failed_count,
            u.total_urls,
            u.completed_urls,
            u.pending_urls,
        )
        u_status = u.status
        if ts is None or newest is None or ts > newest:
            # The newest frame so far: every non-zero value is news, stamped with its time.
            if ts is not None:
                newest = ts
            if res:
                c_res = newest
            else:
                res = old_res
            if fail:
                c_fail = newest
            else:
                fail = old_fail
            if tot:
                c_tot = newest
            else:
                tot = old_tot
            if done:
                c_done = newest
            else:
                done = old_done
            # A terminal frame fills pending_urls (protocol.md §4): its 0 is news, not a gap.
            if pend or (u_status in TERMINAL and old_status not in TERMINAL):
                c_pend = newest
            else:
                pend = old_pend
        else:
            res, c_res = _pick(res, old_res, ts, c_res)
            fail, c_fail = _pick(fail, old_fail, ts, c_fail)
            tot, c_tot = _pick(tot, old_tot, ts, c_tot)
            done, c_done = _pick(done, old_done, ts, c_done)
            pend, c_pend = _pick(pend, old_pend, ts, c_pend)
        clock = (floor, newest, c_res, c_fail, c_tot, c_done, c_pend)
        status = old_status
        if u_status != old_status and _RANK[u_status] > _RANK[old_status]:
            status = u_status
        # Lifecycle times: a `running` frame sets started_at, the terminal frame that set the
        # status sets completed_at (each to the earliest frame time seen); error and duration
        # are set when given, else the duration is computed from the two times.
        started = old_started = job.started_at
        completed = old_completed = job.completed_at
        if ts is not None:
            if u_status == "running":
                if started is None or ts < started:
                    started = ts
            elif (
                u_status == status and status in TERMINAL and (completed is None or ts < completed)
            ):
                completed = ts
        error = u.error
        duration = u.duration
        old_duration = job.duration
        if (
            duration is None
            and old_duration is None
            and started is not None
            and completed is not None
        ):
            duration = (completed - started).total_seconds()
        times_moved = (
            started is not old_started
            or completed is not old_completed
            or (error is not None and error != job.error)
            or (duration is not None and duration != old_duration)
        )
        prog_moved = tot != old_tot or done != old_done or pend != old_pend
        if not (
            prog_moved or times_moved or status != old_status or res != old_res or fail != old_fail
        ):
            self._clocks[jid] = clock
            return _new_tuple(Applied, (jid, False, False, old_status, old_status))
        new_job = _copy_job(job)
        if prog_moved:
            new_prog = _copy_progress(prog)
            _set(new_prog, "total_urls", tot)
            _set(new_prog, "completed_urls", done)
            _set(new_prog, "pending_urls", pend)
            if tot:
                _set(new_prog, "percentage", done * 100 / tot)
            _set(new_job, "progress", new_prog)
        if res != old_res:
            _set(new_job, "result_count", res)
        if fail != old_fail:
            _set(new_job, "failed_count", fail)
        if status != old_status:
            _set(new_job, "status", status)
        if times_moved:
            if started is not old_started:
                _set(new_job, "started_at", started)
            if completed is not old_completed:
                _set(new_job, "completed_at", completed)
            if error is not None:
                _set(new_job, "error", error)
            if duration is not None:
                _set(new_job, "duration", duration)
        # what _commit does, inline on the hot path
        self._jobs[jid] = new_job
        self._clocks[jid] = clock
        if jid not in self._added:
            self._changed.add(jid)
        self._version += 1
        if status != old_status:
            self._moved(job, new_job)
        return _new_tuple(Applied, (jid, True, False, old_status, status))

    def _apply_other(self, update: CrawlProgress | JobDeleted) -> Applied:
        if type(update) is CrawlProgress:
            return self._apply_progress(update)
        if type(update) is JobDeleted:
            job = self._jobs.get(update.job_id)
            if job is None:
                return _new_tuple(Applied, (update.job_id, False, False, None, None))
            self.remove(update.job_id)
            return _new_tuple(Applied, (update.job_id, True, False, job.status, None))
        raise TypeError(f"JobStore.apply takes job frames, not {type(update).__name__}")

    def _apply_progress(self, u: CrawlProgress) -> Applied:
        jid = u.job_id
        job = self._jobs.get(jid)
        if job is None:
            return _new_tuple(Applied, (jid, False, True, None, None))
        old_status = job.status
        clock = self._clocks.get(jid, _NO_CLOCK)
        floor, newest, c_res, c_fail, c_tot, c_done, c_pend = clock
        prog = job.prog
        # crawl_progress frames carry no time: they count as newer than anything seen.
        tot = u.total_urls or prog.total_urls
        done = u.completed_urls or prog.completed_urls
        pend = u.pending_urls or prog.pending_urls
        pct = u.percentage or (done * 100 / tot if tot else prog.percentage)
        new_prog = msgspec.structs.replace(
            prog,
            total_urls=tot,
            completed_urls=done,
            failed_urls=u.failed_urls or prog.failed_urls,
            pending_urls=pend,
            percentage=pct,
            current_url=u.current_url or prog.current_url,
        )
        clock = (
            floor,
            newest,
            c_res,
            c_fail,
            newest if u.total_urls else c_tot,
            newest if u.completed_urls else c_done,
            newest if u.pending_urls else c_pend,
        )
        status = old_status
        if u.status is not None and _RANK[u.status] > _RANK[old_status]:
            status = u.status
        if new_prog == prog and status == old_status:
            self._clocks[jid] = clock
            return _new_tuple(Applied, (jid, False, False, old_status, old_status))
        new_job = _copy_job(job)
        _set(new_job, "progress", new_prog)
        _set(new_job, "status", status)
        self._commit(job, new_job, clock)
        return _new_tuple(Applied, (jid, True, False, old_status, status))

    # ------------------------------------------------------------------ bookkeeping

    def _commit(self, old: Job, new: Job, clock: _Clock) -> None:
        """Store ``new`` in place of ``old`` after a frame (same id and created_at)."""
        jid = new.id
        self._jobs[jid] = new
        self._clocks[jid] = clock
        if jid not in self._added:
            self._changed.add(jid)
        self._version += 1
        if new.status != old.status:
            self._moved(old, new)

    def _moved(self, old: Job, new: Job) -> None:
        """Account for a status move of one job by a frame."""
        source, entity = new.source_type, new.entity_type
        self._recount((old.status, source, entity), (new.status, source, entity))
        if new.status in TERMINAL and len(self._jobs) > self._max_jobs:
            self._evict()

    def _recount(self, old: _Combo | None, new: _Combo | None) -> None:
        combos = self._combos
        if old is not None:
            left = combos[old] - 1
            if left:
                combos[old] = left
            else:
                del combos[old]
        if new is not None:
            combos[new] = combos.get(new, 0) + 1

    def _put(self, job: Job, clock: _Clock | None, fresh: list[_IndexKey] | None) -> bool:
        """Store a REST ``job``; new index keys go to ``fresh`` (the caller sorts them in).

        Returns whether the mirror changed.
        """
        jid = job.id
        if clock is None:
            self._clocks.pop(jid, None)
        else:
            self._clocks[jid] = clock
        old = self._jobs.get(jid)
        if old is not None and (old is job or old == job):
            return False
        self._jobs[jid] = job
        key = _index_key(job)
        if old is None:
            self._recount(None, _combo(job))
            if jid in self._removed:
                self._removed.discard(jid)
                self._changed.add(jid)
            else:
                self._added.add(jid)
        else:
            self._recount(_combo(old), _combo(job))
            if jid not in self._added:
                self._changed.add(jid)
            old_key = _index_key(old)
            if old_key == key:
                return True
            self._unindex((old_key,))
        if fresh is None:
            bisect.insort(self._index, key)
        else:
            fresh.append(key)
        return True

    def _unindex(self, keys: Iterable[_IndexKey]) -> None:
        index = self._index
        for key in keys:
            at = bisect.bisect_left(index, key)
            if at < len(index) and index[at] == key:
                del index[at]

    def _drop_many(self, job_ids: Iterable[str]) -> None:
        """Remove jobs by id (each must be present) and record them as removed."""
        keys: list[_IndexKey] = []
        for jid in job_ids:
            job = self._jobs.pop(jid)
            self._clocks.pop(jid, None)
            self._recount(_combo(job), None)
            keys.append(_index_key(job))
            self._changed.discard(jid)
            if jid in self._added:
                self._added.discard(jid)
            else:
                self._removed.add(jid)
        if len(keys) <= 16:
            self._unindex(keys)
        else:
            jobs = self._jobs
            self._index = [key for key in self._index if key[1] in jobs]

    def _evict(self) -> None:
        """Evict the oldest terminal jobs while the mirror is larger than ``max_jobs``."""
        excess = len(self._jobs) - self._max_jobs
        if excess <= 0:
            return
        terminal = sum(n for combo, n in self._combos.items() if combo[0] in TERMINAL)
        excess = min(excess, terminal)
        if not excess:
            return
        jobs = self._jobs
        victims = list(
            itertools.islice((k[1] for k in self._index if jobs[k[1]].status in TERMINAL), excess)
        )
        self._drop_many(victims)
        self._evicted += len(victims)
        self._version += 1
        logger.debug("evicted %d terminal jobs (max_jobs=%d)", len(victims), self._max_jobs)


def _rest_clock(as_of: _dt.datetime) -> _Clock:
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    return (as_of, as_of, as_of, as_of, as_of, as_of, as_of)
