"""Unit tests of jobwidget.store.JobStore: merge rules, REST replace, views, changes, bound."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jobwidget.protocol import (
    CrawlProgress,
    Job,
    JobDeleted,
    JobStats,
    JobStatusChange,
    Progress,
    QueueStats,
)
from jobwidget.store import SORT_KEYS, Applied, Changes, JobStore, View

T0 = dt.datetime(2025, 10, 29, 11, 13, 1, tzinfo=dt.UTC)
BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_store.py"


def at(seconds: float) -> dt.datetime:
    """Return the time ``seconds`` after T0."""
    return T0 + dt.timedelta(seconds=seconds)


def make_job(
    jid: str = "a",
    status: Any = "pending",
    *,
    created: float | None = 0.0,
    source: str = "jira",
    entity: str = "issues",
    progress: Progress | None = None,
    **fields: Any,
) -> Job:
    """Return a Job as a REST answer would give it."""
    return Job(
        id=jid,
        status=status,
        name=fields.pop("name", f"job {jid}"),
        source_type=source,
        entity_type=entity,
        created_at=None if created is None else at(created),
        progress=progress,
        **fields,
    )


def change(jid: str, status: Any, ts: float | None = None, **fields: Any) -> JobStatusChange:
    """Return a job_status_change payload stamped ``ts`` seconds after T0 (None: unstamped)."""
    return JobStatusChange(
        job_id=jid,
        status=status,
        source_type="jira",
        entity_type="issues",
        timestamp=None if ts is None else at(ts),
        **fields,
    )


def counts(job: Job | None) -> tuple[int, int, int, int, int]:
    """(result_count, failed_count, total_urls, completed_urls, pending_urls) of ``job``."""
    assert job is not None
    p = job.prog
    return (job.result_count, job.failed_count, p.total_urls, p.completed_urls, p.pending_urls)


@pytest.fixture
def store() -> JobStore:
    """A store holding one pending job ``a``."""
    s = JobStore()
    s.upsert(make_job("a"))
    s.drain_changes()
    return s


# ---------------------------------------------------------------- basics


def test_basic_access_and_snapshot() -> None:
    s = JobStore(max_jobs=10)
    assert (len(s), s.max_jobs, s.evicted, s.version) == (0, 10, 0, 0)
    job = make_job("a")
    s.upsert(job)
    assert len(s) == 1
    assert "a" in s
    assert "b" not in s
    assert s.get("a") is job
    assert s.get("b") is None
    snapshot = s.jobs()
    s.upsert(make_job("b", created=5))
    assert [j.id for j in snapshot] == ["a"]
    assert [j.id for j in s.jobs()] == ["b", "a"]
    assert "2 jobs" in repr(s)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_jobs"):
        JobStore(max_jobs=0)
    s = JobStore()
    with pytest.raises(TypeError, match="QueueStats"):
        s.apply(QueueStats())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        s.upsert(make_job(), as_of=dt.datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="cannot sort by 'nope'"):
        s.view(sort="nope")
    with pytest.raises(ValueError, match="negative"):
        s.view(offset=-1)
    with pytest.raises(ValueError, match="negative"):
        s.view(limit=-1)


def test_unknown_job_is_reported_not_invented(store: JobStore) -> None:
    version = store.version
    applied = store.apply(change("zzz", "running", 1, total_urls=5))
    assert applied == Applied("zzz", False, True, None, None)
    assert store.apply(CrawlProgress(job_id="zzz", total_urls=3)).unknown
    assert "zzz" not in store
    assert store.version == version
    assert store.drain_changes() == Changes(frozenset(), frozenset(), frozenset())


# ---------------------------------------------------------------- merge rules


def test_status_moves_forward_only(store: JobStore) -> None:
    assert store.apply(change("a", "running", 1)) == Applied("a", True, False, "pending", "running")
    assert store.apply(change("a", "pending", 2)) == Applied(
        "a", False, False, "running", "running"
    )
    applied = store.apply(change("a", "completed", 3, duration=2.5))
    assert applied.new_status == "completed"
    # a late running frame and a second terminal status never move a terminal job
    assert not store.apply(change("a", "running", 4)).changed
    assert store.apply(change("a", "failed", 5, error="late")).new_status == "completed"
    job = store.get("a")
    assert job is not None
    assert job.status == "completed"


def test_terminal_status_never_changes_to_another_terminal(store: JobStore) -> None:
    store.apply(change("a", "cancelled", 3))
    applied = store.apply(change("a", "completed", 4))
    assert applied.old_status == applied.new_status == "cancelled"
    job = store.get("a")
    assert job is not None
    assert job.status == "cancelled"
    assert store.stats().cancelled_jobs == 1


def test_zero_is_not_news(store: JobStore) -> None:
    store.apply(
        change(
            "a",
            "running",
            1,
            result_count=4,
            failed_count=1,
            total_urls=10,
            completed_urls=4,
            pending_urls=6,
        )
    )
    # a failed frame sends total_urls = 0: the known total stays; it fills pending_urls
    # (protocol.md §4), so its pending_urls of 0 is news
    store.apply(change("a", "failed", 2, result_count=5, completed_urls=5, error="boom"))
    job = store.get("a")
    assert job is not None
    assert counts(job) == (5, 1, 10, 5, 0)
    assert job.error == "boom"
    assert job.prog.percentage == 50.0
    assert job.status == "failed"


def test_newest_value_wins_whatever_the_order(store: JobStore) -> None:
    store.apply(change("a", "running", 3, total_urls=30, completed_urls=3))
    store.apply(change("a", "running", 2, total_urls=20, completed_urls=2))
    assert counts(store.get("a")) == (0, 0, 30, 3, 0)
    store.apply(change("a", "running", 1, total_urls=10, pending_urls=9))
    # pending_urls was unknown: the only value seen is taken, even from an old frame
    assert counts(store.get("a")) == (0, 0, 30, 3, 9)
    # an even older pending_urls loses against the one already there
    store.apply(change("a", "running", 0.5, pending_urls=99))
    assert counts(store.get("a"))[4] == 9


def test_equal_times_larger_value_wins(store: JobStore) -> None:
    store.apply(change("a", "running", 1, total_urls=10))
    store.apply(change("a", "running", 1, total_urls=7))
    assert counts(store.get("a"))[2] == 10
    store.apply(change("a", "running", 1, total_urls=12))
    assert counts(store.get("a"))[2] == 12


def test_unstamped_frame_counts_as_newest(store: JobStore) -> None:
    store.apply(change("a", "running", 5, total_urls=10))
    store.apply(change("a", "running", None, total_urls=11))
    assert counts(store.get("a"))[2] == 11
    # and takes the newest time seen: an older stamped frame does not override it
    store.apply(change("a", "running", 4, total_urls=12))
    assert counts(store.get("a"))[2] == 11


def test_lifecycle_times_error_duration(store: JobStore) -> None:
    store.apply(change("a", "running", 10))
    store.apply(change("a", "running", 5))  # an earlier running frame arriving late
    job = store.get("a")
    assert job is not None
    assert job.started_at == at(5)
    store.apply(change("a", "completed", 20, duration=14.5, total_urls=3, completed_urls=3))
    job = store.get("a")
    assert job is not None
    assert (job.completed_at, job.duration, job.prog.percentage) == (at(20), 14.5, 100.0)
    # a duplicate terminal frame changes nothing
    assert not store.apply(change("a", "completed", 20, duration=14.5)).changed


def test_duration_computed_without_one_in_the_frame() -> None:
    s = JobStore()
    s.upsert(make_job("a", "running", started_at=at(1)))
    s.apply(change("a", "cancelled", 4))
    job = s.get("a")
    assert job is not None
    assert (job.status, job.completed_at, job.duration) == ("cancelled", at(4), 3.0)


def test_crawl_progress_frames(store: JobStore) -> None:
    applied = store.apply(
        CrawlProgress(
            job_id="a",
            status="running",
            total_urls=8,
            completed_urls=2,
            failed_urls=1,
            pending_urls=5,
            percentage=25.0,
            current_url="https://example.org/x",
        )
    )
    assert applied == Applied("a", True, False, "pending", "running")
    job = store.get("a")
    assert job is not None
    p = job.prog
    assert (p.total_urls, p.completed_urls, p.failed_urls, p.pending_urls) == (8, 2, 1, 5)
    assert (p.percentage, p.current_url) == (25.0, "https://example.org/x")
    # zeros and an empty url keep what is known; without a percentage it is recomputed
    store.apply(CrawlProgress(job_id="a", completed_urls=4))
    job = store.get("a")
    assert job is not None
    assert (job.prog.completed_urls, job.prog.failed_urls, job.prog.percentage) == (4, 1, 50.0)
    assert job.prog.current_url == "https://example.org/x"
    assert not store.apply(CrawlProgress(job_id="a", status="pending")).changed


def test_job_deleted_frame(store: JobStore) -> None:
    assert store.apply(JobDeleted(job_id="a")) == Applied("a", True, False, "pending", None)
    assert "a" not in store
    assert store.apply(JobDeleted(job_id="a")) == Applied("a", False, False, None, None)
    assert store.drain_changes().removed == {"a"}


# ---------------------------------------------------------------- REST


def test_replace_rest_wins_and_drops_absent() -> None:
    s = JobStore()
    s.replace([make_job("a"), make_job("b", created=1), make_job("c", created=2)])
    s.apply(change("a", "completed", 5, total_urls=9))
    s.drain_changes()
    rest_a = make_job("a", "running")  # REST may move a job back
    s.replace([rest_a, make_job("b", created=1), make_job("d", created=3)])
    assert s.get("a") is rest_a
    assert [j.id for j in s.jobs()] == ["d", "b", "a"]
    assert s.drain_changes() == Changes(frozenset({"a"}), frozenset({"d"}), frozenset({"c"}))
    assert s.stats() == JobStats(3, 2, 1, 0, 0, 0)


def test_replace_with_same_jobs_is_not_a_change() -> None:
    s = JobStore()
    jobs = [make_job(str(i), created=i) for i in range(40)]
    s.replace(jobs)
    version = s.version
    s.drain_changes()
    s.replace([make_job(str(i), created=i) for i in range(40)])
    assert s.version == version
    assert s.drain_changes() == Changes(frozenset(), frozenset(), frozenset())
    s.replace([])  # many removals at once
    assert len(s) == 0
    assert s.view() == View([], 0)


def test_frames_older_than_as_of_are_ignored() -> None:
    s = JobStore()
    s.replace([make_job("a", "running", progress=Progress(total_urls=10))], as_of=at(100))
    stale = s.apply(change("a", "completed", 99, total_urls=50))
    assert stale == Applied("a", False, False, "running", "running")
    assert counts(s.get("a"))[2] == 10
    fresh = s.apply(change("a", "completed", 101, total_urls=50))
    assert fresh.changed
    assert counts(s.get("a"))[2] == 50


def test_upsert_without_as_of_forgets_clocks() -> None:
    s = JobStore()
    s.upsert(make_job("a", "running"), as_of=at(100))
    s.upsert(make_job("a", "running"))
    assert s.apply(change("a", "running", 50, total_urls=5)).changed


def test_upsert_moves_index_when_created_at_changes() -> None:
    s = JobStore()
    s.replace([make_job("a", created=0), make_job("b", created=1)])
    s.upsert(make_job("a", created=2))
    assert [j.id for j in s.jobs()] == ["a", "b"]
    assert s.remove("a")
    assert not s.remove("a")
    assert [j.id for j in s.view().jobs] == ["b"]


# ---------------------------------------------------------------- views and stats


def filled() -> JobStore:
    s = JobStore()
    s.replace(
        [
            make_job("j1", "pending", created=1, source="jira", entity="issues"),
            make_job("j2", "running", created=2, source="confluence", entity="spaces"),
            make_job("j3", "completed", created=3, source="github", entity="repos", duration=5.0),
            make_job("j4", "failed", created=3, source="jira", entity="projects", duration=1.0),
            make_job("j5", "cancelled", created=None, source="", entity=""),
        ]
    )
    return s


def test_view_default_order_and_paging() -> None:
    s = filled()
    v = s.view()
    # created_at DESC, ties by id (descending too), missing created_at last
    assert [j.id for j in v.jobs] == ["j4", "j3", "j2", "j1", "j5"]
    assert v.total == 5
    assert [j.id for j in s.view(descending=False).jobs] == ["j5", "j1", "j2", "j3", "j4"]
    assert s.view(offset=1, limit=2) == View([s.get("j3"), s.get("j2")], 5)  # type: ignore[list-item]
    assert s.view(offset=10, limit=2) == View([], 5)


def test_view_filters() -> None:
    s = filled()

    def ids(**kw: Any) -> tuple[list[str], int]:
        v = s.view(**kw)
        return [j.id for j in v.jobs], v.total

    assert ids(status="running") == (["j2"], 1)
    assert ids(status=["completed", "failed"]) == (["j4", "j3"], 2)
    assert ids(source="jira") == (["j4", "j1"], 2)
    assert ids(source="jira", status={"failed", "running"}) == (["j4"], 1)
    assert ids(source=("jira", "github"), entity="repos") == (["j3"], 1)
    assert ids(status=[]) == (["j4", "j3", "j2", "j1", "j5"], 5)  # empty = no filter
    assert ids(status="nope") == ([], 0)
    assert ids(source="jira", limit=1) == (["j4"], 2)
    assert ids(source="jira", sort="name", limit=1) == (["j4"], 2)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["j5", "j4", "j3", "j2", "j1"]),
        ("status", ["j5", "j4", "j3", "j2", "j1"]),
        ("duration", ["j3", "j4", "j5", "j2", "j1"]),
        ("source_type", ["j4", "j1", "j3", "j2", "j5"]),
        ("entity_type", ["j2", "j3", "j4", "j1", "j5"]),
        ("id", ["j5", "j4", "j3", "j2", "j1"]),
        ("percentage", ["j5", "j4", "j3", "j2", "j1"]),
    ],
)
def test_view_sorts(sort: str, expected: list[str]) -> None:
    s = filled()
    assert sort in SORT_KEYS
    assert [j.id for j in s.view(sort=sort).jobs] == expected
    assert [j.id for j in s.view(sort=sort, descending=False).jobs] == expected[::-1]


def test_stats_sources_entities_follow_changes() -> None:
    s = filled()
    assert s.stats() == JobStats(5, 1, 1, 1, 1, 1)
    assert s.sources() == ["confluence", "github", "jira"]
    assert s.entities() == ["issues", "projects", "repos", "spaces"]
    s.apply(change("j1", "running", 1))
    s.apply(change("j2", "completed", 1))
    assert s.stats() == JobStats(5, 0, 1, 2, 1, 1)
    s.remove("j2")
    assert s.sources() == ["github", "jira"]
    assert s.view(status="running").total == 1


# ---------------------------------------------------------------- changes


def test_drain_changes_semantics(store: JobStore) -> None:
    v0 = store.version
    store.upsert(make_job("b"))
    store.apply(change("b", "running", 1))  # added then changed: only added
    store.apply(change("a", "running", 1))
    store.upsert(make_job("c"))
    store.remove("c")  # added then removed: neither
    assert store.drain_changes() == Changes(frozenset({"a"}), frozenset({"b"}), frozenset())
    assert store.version == v0 + 5
    store.remove("a")
    store.upsert(make_job("a"))  # removed then added again: changed
    store.apply(change("b", "completed", 2))
    store.remove("b")  # changed then removed: removed
    assert store.drain_changes() == Changes(frozenset({"a"}), frozenset(), frozenset({"b"}))
    assert store.drain_changes() == Changes(frozenset(), frozenset(), frozenset())


def test_unchanged_apply_does_not_bump_version(store: JobStore) -> None:
    store.apply(change("a", "running", 1, total_urls=3))
    version = store.version
    assert not store.apply(change("a", "running", 1, total_urls=3)).changed
    assert store.version == version


# ---------------------------------------------------------------- size bound


def test_bound_evicts_oldest_terminal_first() -> None:
    s = JobStore(max_jobs=3)
    s.replace(
        [
            make_job("old-running", "running", created=0),
            make_job("old-done", "completed", created=1),
            make_job("new-done", "failed", created=2),
        ]
    )
    s.drain_changes()
    s.upsert(make_job("new", created=3))
    assert sorted(j.id for j in s.jobs()) == ["new", "new-done", "old-running"]
    assert s.evicted == 1
    assert s.drain_changes() == Changes(frozenset(), frozenset({"new"}), frozenset({"old-done"}))


def test_bound_never_evicts_active_jobs() -> None:
    s = JobStore(max_jobs=2)
    s.replace([make_job(str(i), "running", created=i) for i in range(4)])
    assert len(s) == 4  # over the bound: every job is active
    assert s.evicted == 0
    s.apply(change("1", "completed", 9))  # one becomes terminal: evicted at once
    assert "1" not in s
    assert (len(s), s.evicted) == (3, 1)
    s.replace([make_job(str(i), "completed", created=i) for i in range(50)])
    assert len(s) == 2
    assert [j.id for j in s.jobs()] == ["49", "48"]
    assert s.evicted == 49


# ---------------------------------------------------------------- benchmark smoke run


def test_bench_store_smoke_run() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "2000"],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    ).stdout
    assert "frames: 2,000 over 200 jobs" in out
    assert "ratio (decode+apply rate / json.loads rate)" in out
    assert "memory of a 200-job mirror" in out
