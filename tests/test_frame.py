"""Tests of jobwidget.frame: the job DataFrame schema, to_dataframe sources and filters, History."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobwidget.client import QueueClient
from jobwidget.frame import (
    HISTORY_COLUMNS,
    JOB_COLUMNS,
    STATUS_DTYPE,
    History,
    jobs_to_dataframe,
    to_dataframe,
)
from jobwidget.protocol import (
    STATUSES,
    CrawlProgress,
    Job,
    JobDeleted,
    JobStatusChange,
    Progress,
    decode_frame,
    decode_job,
)
from jobwidget.server import JobServer
from jobwidget.store import JobStore

from .helpers import server_jobs, wait_until

# Any pandas deprecation or warning raised while building frames is a bug (pandas-3 safety).
pytestmark = pytest.mark.filterwarnings("error")

UTC = dt.UTC
T0 = dt.datetime(2025, 10, 29, 11, 13, 1, tzinfo=UTC)

STRING = pd.StringDtype()
UTC_US = pd.DatetimeTZDtype("us", "UTC")
EXPECTED_DTYPES: dict[str, Any] = {
    "id": STRING,
    "name": STRING,
    "status": STATUS_DTYPE,
    "total_urls": pd.Int64Dtype(),
    "completed_urls": pd.Int64Dtype(),
    "failed_urls": pd.Int64Dtype(),
    "pending_urls": pd.Int64Dtype(),
    "percentage": "float64",
    "result_count": pd.Int64Dtype(),
    "failed_count": pd.Int64Dtype(),
    "documents_saved": pd.Int64Dtype(),
    "current_url": STRING,
    "error": STRING,
    "created_at": UTC_US,
    "started_at": UTC_US,
    "completed_at": UTC_US,
    "last_heartbeat": UTC_US,
    "duration": "timedelta64[us]",
    "description": STRING,
}


def sample_jobs() -> list[Job]:
    """Six jobs: every status but `cancelled`, three sources, four entities."""
    return [
        Job(
            id="j1",
            status="running",
            name="Confluence docs",
            source_type="confluence",
            entity_type="spaces",
            progress=Progress(
                total_urls=10,
                completed_urls=3,
                pending_urls=7,
                current_url="https://example.org/a",
                percentage=30.0,
            ),
            created_at=T0,
            started_at=T0 + dt.timedelta(seconds=5),
            last_heartbeat=T0 + dt.timedelta(seconds=60),
        ),
        Job(
            id="j2",
            status="failed",
            name="Jira issues",
            source_type="jira",
            entity_type="issues",
            error="rate limited",
            result_count=4,
            failed_count=2,
            created_at=T0 + dt.timedelta(seconds=1),
        ),
        Job(
            id="j3",
            status="completed",
            source_type="github",
            entity_type="repos",
            result_count=12,
            documents_saved=11,
            created_at=T0 + dt.timedelta(seconds=2),
            started_at=T0 + dt.timedelta(seconds=2),
            completed_at=T0 + dt.timedelta(seconds=92, microseconds=500_000),
        ),
        Job(id="j4", status="pending", source_type="jira", entity_type="projects"),
        Job(id="j5", status="failed", source_type="github", entity_type="issues", error="404"),
        Job(id="j6", status="completed", source_type="jira", entity_type="issues", duration=2.5),
    ]


def check_schema(df: pd.DataFrame) -> None:
    """Assert the fixed schema of jobs_to_dataframe, whatever the rows."""
    assert tuple(df.columns) == JOB_COLUMNS
    assert isinstance(df.index, pd.RangeIndex)
    assert df.index.start == 0
    for name, dtype in EXPECTED_DTYPES.items():
        assert df[name].dtype == dtype, name
    for name in ("source_type", "entity_type"):
        assert isinstance(df[name].dtype, pd.CategoricalDtype), name
    assert list(df.status.cat.categories) == list(STATUSES)
    assert df.status.cat.ordered


# ----------------------------------------------------------------------------- schema


def test_schema_and_values() -> None:
    df = jobs_to_dataframe(sample_jobs())
    check_schema(df)
    assert len(df) == 6
    assert df.id.tolist() == ["j1", "j2", "j3", "j4", "j5", "j6"]
    first = df.iloc[0]
    assert first["name"] == "Confluence docs"
    assert first["status"] == "running"
    assert first["source_type"] == "confluence"
    assert (first["total_urls"], first["completed_urls"], first["pending_urls"]) == (10, 3, 7)
    assert first["percentage"] == 30.0
    assert first["current_url"] == "https://example.org/a"
    assert first["created_at"] == pd.Timestamp("2025-10-29 11:13:01", tz="UTC")
    assert first["last_heartbeat"] - first["created_at"] == pd.Timedelta(seconds=60)
    assert df.loc[1, "error"] == "rate limited"
    assert df.loc[1, "result_count"] == 4
    assert df.loc[2, "documents_saved"] == 11
    assert df.loc[2, "duration"] == pd.Timedelta(seconds=90, milliseconds=500)
    assert df.loc[5, "duration"] == pd.Timedelta(seconds=2.5)


def test_missing_values_are_na() -> None:
    df = jobs_to_dataframe(sample_jobs())
    assert df.error.isna().tolist() == [True, False, True, True, False, True]
    # An empty current_url means "at no URL": NA, not "".
    assert df.current_url.isna().tolist() == [False, True, True, True, True, True]
    assert df.started_at.isna().tolist() == [False, True, False, True, True, True]
    assert df.completed_at.isna().sum() == 5
    assert df.duration.isna().tolist() == [True, True, False, True, True, False]
    assert df.loc[3, "completed_at"] is pd.NaT
    # Counts are nullable integers but never missing for jobs: the server always sends them.
    assert not df.total_urls.isna().any()


def test_empty_input_has_the_same_schema() -> None:
    empty = jobs_to_dataframe([])
    check_schema(empty)
    assert len(empty) == 0
    full = jobs_to_dataframe(sample_jobs())
    for name in JOB_COLUMNS:
        if name not in ("source_type", "entity_type"):
            assert empty[name].dtype == full[name].dtype, name


def test_all_none_times_give_nat_with_the_utc_dtype() -> None:
    df = jobs_to_dataframe([Job(id="a", status="pending"), Job(id="b", status="pending")])
    check_schema(df)
    for name in ("created_at", "started_at", "completed_at", "last_heartbeat", "duration"):
        assert df[name].isna().all(), name


def test_wire_quirks_arrive_normalised() -> None:
    """Local offsets become UTC, year 1 becomes NaT, a progress string is decoded."""
    body = (
        '{"id": "x", "status": "completed", "name": "n", "source_type": "jira",'
        ' "created_at": "2025-10-29T22:13:01+11:00", "started_at": "2025-10-29T22:13:05+11:00",'
        ' "completed_at": "2025-10-29T22:14:05+11:00", "last_heartbeat": "0001-01-01T00:00:00Z",'
        ' "progress": "{\\"total_urls\\": 9, \\"completed_urls\\": 9, \\"percentage\\": 100}",'
        ' "unknown_field": [1, 2]}'
    )
    df = jobs_to_dataframe([decode_job(body)])
    check_schema(df)
    row = df.iloc[0]
    assert row["created_at"] == pd.Timestamp("2025-10-29 11:13:01", tz="UTC")
    assert row["last_heartbeat"] is pd.NaT
    assert row["duration"] == pd.Timedelta(minutes=1)
    assert (row["total_urls"], row["completed_urls"], row["percentage"]) == (9, 9, 100.0)


def test_sub_second_times_and_durations_are_exact() -> None:
    started = T0 + dt.timedelta(microseconds=123_456)
    job = Job(id="a", status="completed", started_at=started, duration=0.000_001)
    row = jobs_to_dataframe([job]).iloc[0]
    assert row["started_at"] == pd.Timestamp(started)
    assert row["duration"] == pd.Timedelta(microseconds=1)


def test_extreme_times_and_durations_do_not_overflow() -> None:
    """A sentinel date like 9999-12-31 fits (microsecond unit); absurd durations become NaT."""
    far = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    jobs = [
        Job(id="a", status="completed", completed_at=far, duration=1e300),
        Job(id="b", status="completed", duration=float("inf")),
        Job(id="c", status="completed", duration=float("nan")),
        Job(id="d", status="completed", duration=-3.0),
    ]
    df = jobs_to_dataframe(jobs)
    check_schema(df)
    assert df.completed_at.iloc[0].year == 9999
    assert df.duration.isna().tolist() == [True, True, True, False]
    assert df.duration.iloc[3] == pd.Timedelta(seconds=-3)


jobs_strategy = st.lists(
    st.builds(
        Job,
        id=st.text(min_size=1, max_size=8),
        status=st.sampled_from(STATUSES),
        name=st.text(max_size=8),
        source_type=st.sampled_from(["jira", "github", ""]),
        entity_type=st.sampled_from(["issues", "repos"]),
        result_count=st.integers(0, 2**40),
        error=st.none() | st.text(min_size=1, max_size=5),
        created_at=st.none() | st.datetimes(timezones=st.just(UTC)),
        completed_at=st.none() | st.datetimes(timezones=st.just(UTC)),
        duration=st.none() | st.floats(0, 1e6),
        progress=st.builds(Progress, total_urls=st.integers(0, 10**6)),
    ),
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(jobs_strategy)
def test_every_row_matches_its_job(jobs: list[Job]) -> None:
    df = jobs_to_dataframe(jobs)
    check_schema(df)
    assert len(df) == len(jobs)
    row: Any  # a namedtuple of the row's scalars
    for row, job in zip(df.itertuples(index=False), jobs, strict=True):
        assert row.id == job.id
        assert row.name == job.name
        assert row.status == job.status
        assert row.source_type == job.source_type
        assert row.result_count == job.result_count
        assert row.total_urls == job.prog.total_urls
        assert (row.error if not pd.isna(row.error) else None) == job.error
        if job.created_at is None:
            assert row.created_at is pd.NaT
        else:
            assert row.created_at == pd.Timestamp(job.created_at)
        if job.duration is None:
            assert row.duration is pd.NaT
        else:
            assert abs(row.duration - pd.Timedelta(seconds=job.duration)) <= pd.Timedelta(1, "us")


# ----------------------------------------------------------------------------- pandas ops


def test_ordered_status_keeps_absent_categories_and_sorts_by_lifecycle() -> None:
    df = jobs_to_dataframe([j for j in sample_jobs() if j.status != "running"])
    assert "running" not in set(df.status)
    assert list(df.status.cat.categories) == list(STATUSES)
    counts = df.groupby("status", observed=False).size()
    assert counts.to_dict() == {
        "pending": 1,
        "running": 0,
        "completed": 2,
        "failed": 2,
        "cancelled": 0,
    }
    assert df.status.value_counts()["cancelled"] == 0
    ordered = df.sort_values(["status", "id"]).status.tolist()
    assert ordered == ["pending", "completed", "completed", "failed", "failed"]
    assert df[df.status > "running"].id.tolist() == ["j2", "j3", "j5", "j6"]


def test_query_groupby_and_time_arithmetic() -> None:
    df = jobs_to_dataframe(sample_jobs())
    assert df.query("status == 'failed'").id.tolist() == ["j2", "j5"]
    assert df.query("result_count > 5").id.tolist() == ["j3"]
    by_source = df.groupby("source_type", observed=True).result_count.sum()
    assert by_source.to_dict() == {"confluence": 0, "github": 12, "jira": 4}
    assert df.duration.sum() == pd.Timedelta(seconds=93)
    age = pd.Timestamp("2025-10-29 12:13:01", tz="UTC") - df.created_at
    assert age.iloc[0] == pd.Timedelta(hours=1)
    assert df.set_index("id").loc["j2", "error"] == "rate limited"


# ----------------------------------------------------------------------------- to_dataframe


class ListStore:
    """A store with the JobStore listing method (the real one is tested below when present)."""

    def __init__(self, jobs: list[Job], lock: threading.Lock | None = None) -> None:
        self._jobs = jobs
        self._lock = lock
        self.calls = 0

    def jobs(self) -> list[Job]:
        self.calls += 1
        if self._lock is not None:
            assert self._lock.locked(), "the client's lock must be held while listing"
        return list(self._jobs)


class Client:
    def __init__(self, store: Any, lock: threading.Lock | None = None) -> None:
        self.store = store
        if lock is not None:
            self.lock = lock


class Widget:
    def __init__(self, client: Client, filters: dict[str, list[str]]) -> None:
        self.client = client
        self.filters = filters


def ids(df: pd.DataFrame) -> list[str]:
    return list(df.id)


def test_to_dataframe_from_iterables_and_generators() -> None:
    jobs = sample_jobs()
    assert ids(to_dataframe(jobs)) == ["j1", "j2", "j3", "j4", "j5", "j6"]
    assert ids(to_dataframe(tuple(jobs))) == ids(to_dataframe(iter(jobs)))
    check_schema(to_dataframe(j for j in jobs if j.status == "cancelled"))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "failed"}, ["j2", "j5"]),
        ({"status": ["failed", "cancelled"]}, ["j2", "j5"]),
        ({"status": {"pending", "running"}}, ["j1", "j4"]),
        ({"status": []}, ["j1", "j2", "j3", "j4", "j5", "j6"]),
        ({"source": "jira"}, ["j2", "j4", "j6"]),
        ({"source": ("jira", "github")}, ["j2", "j3", "j4", "j5", "j6"]),
        ({"entity": "issues"}, ["j2", "j5", "j6"]),
        ({"source": "jira", "entity": "issues"}, ["j2", "j6"]),
        ({"status": "completed", "source": "jira", "entity": ["issues"]}, ["j6"]),
        ({"status": "running", "source": "github"}, []),
        ({"source": "nothing-like-it"}, []),
    ],
)
def test_filters(filters: dict[str, Any], expected: list[str]) -> None:
    df = to_dataframe(sample_jobs(), **filters)
    check_schema(df)
    assert ids(df) == expected


def test_to_dataframe_from_store_and_client_holds_the_lock() -> None:
    lock = threading.Lock()
    store = ListStore(sample_jobs(), lock)
    client = Client(store, lock)
    df = to_dataframe(client, status="failed")
    assert ids(df) == ["j2", "j5"]
    assert store.calls == 1
    assert not lock.locked(), "the lock is released once the snapshot is taken"
    assert len(to_dataframe(Client(ListStore(sample_jobs())))) == 6, "a client without a lock"
    assert ids(to_dataframe(ListStore(sample_jobs()), entity="repos")) == ["j3"]


def test_to_dataframe_from_widget_with_and_without_its_filters() -> None:
    lock = threading.Lock()
    widget = Widget(
        Client(ListStore(sample_jobs(), lock), lock),
        {"status": ["failed", "completed"], "source": ["jira"], "entity": []},
    )
    assert len(to_dataframe(widget)) == 6
    assert ids(to_dataframe(widget, filtered=True)) == ["j2", "j6"]
    # An explicit argument replaces the view's filter of that name; the others still apply.
    assert ids(to_dataframe(widget, filtered=True, status="pending")) == ["j4"]
    assert ids(to_dataframe(widget, source="github")) == ["j3", "j5"]
    assert not lock.locked()


@pytest.mark.parametrize("bad", [42, "j1", b"j1", {"id": "j1"}, None])
def test_to_dataframe_refuses_other_objects(bad: Any) -> None:
    with pytest.raises(TypeError, match="to_dataframe"):
        to_dataframe(bad)


def test_filtered_needs_a_widget() -> None:
    with pytest.raises(TypeError, match="filtered=True needs a widget"):
        to_dataframe(sample_jobs(), filtered=True)


# ----------------------------------------------------------------------------- History


class Applied(NamedTuple):
    old_status: str | None
    new_status: str | None
    changed: bool


RUNNING = Applied("pending", "running", True)
EPOCH_2025 = 1_750_000_000.0


def stamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


def test_history_columns_dtypes_and_values() -> None:
    history = History()
    done = decode_frame(
        '{"type": "job_status_change", "payload": {"job_id": "a", "status": "completed",'
        ' "source_type": "jira", "entity_type": "issues", "result_count": 7, "failed_count": 1,'
        ' "total_urls": 9, "completed_urls": 9, "pending_urls": 0, "duration": 12.5,'
        ' "timestamp": "2025-06-16T01:06:40.000000000+10:00"}}'
    ).payload
    assert isinstance(done, JobStatusChange)
    progress = decode_frame(
        '{"type": "crawl_progress", "payload": {"jobId": "b", "status": "running",'
        ' "totalUrls": 5, "completedUrls": 2, "pendingUrls": 3, "percentage": 40}}'
    ).payload
    assert isinstance(progress, CrawlProgress)
    failed = JobStatusChange(job_id="c", status="failed", error="boom", timestamp=stamp(EPOCH_2025))
    history.record(EPOCH_2025 + 0.25, done, Applied("running", "completed", True))
    history.record(EPOCH_2025 + 1, progress, RUNNING)
    history.record(EPOCH_2025 + 2, failed, Applied("completed", "completed", False))
    history.record(EPOCH_2025 + 3, JobDeleted("a", stamp(EPOCH_2025 + 4)), Applied("x", None, True))

    df = history.to_dataframe()
    assert tuple(df.columns) == HISTORY_COLUMNS
    assert isinstance(df.index, pd.RangeIndex)
    assert len(df) == len(history) == 4
    assert df.received_at.dtype == UTC_US
    assert df.received_at.iloc[0] == pd.Timestamp(EPOCH_2025 + 0.25, unit="s", tz="UTC")
    assert df.job_id.dtype == STRING
    assert df.error.dtype == STRING
    assert df.job_id.tolist() == ["a", "b", "c", "a"]
    assert df.type.tolist() == [
        "job_status_change",
        "crawl_progress",
        "job_status_change",
        "job_deleted",
    ]
    for name in ("status", "old_status", "new_status"):
        assert df[name].dtype == STATUS_DTYPE
    assert df.status.tolist()[:3] == ["completed", "running", "failed"]
    assert pd.isna(df.status.iloc[3])
    assert pd.isna(df.old_status.iloc[3]), "an unknown status is missing, not an error"
    assert pd.isna(df.new_status.iloc[3])
    assert df.changed.dtype == bool
    assert df.changed.tolist() == [True, True, False, True]
    assert df.result_count.dtype == pd.Int64Dtype()
    assert df.result_count.tolist()[:3] == [7, pd.NA, 0]
    assert df.total_urls.tolist()[:2] == [9, 5]
    assert df.pending_urls.isna().tolist() == [False, False, False, True]
    assert df.error.iloc[2] == "boom"
    assert df.duration.dtype == "timedelta64[us]"
    assert df.duration.iloc[0] == pd.Timedelta(seconds=12.5)
    assert df.latency.dtype == "timedelta64[us]"
    assert df.latency.iloc[0] == pd.Timedelta(milliseconds=250)
    assert df.latency.iloc[1] is pd.NaT, "crawl_progress frames carry no timestamp"
    assert df.latency.iloc[2] == pd.Timedelta(seconds=2)
    assert df.latency.iloc[3] == pd.Timedelta(seconds=-1), "clock skew shows, it is not hidden"


def test_history_empty_has_the_same_dtypes() -> None:
    history = History(maxlen=3)
    empty = history.to_dataframe()
    assert tuple(empty.columns) == HISTORY_COLUMNS
    assert len(empty) == 0
    history.record(EPOCH_2025, JobStatusChange(job_id="a", status="running"), RUNNING)
    assert empty.dtypes.equals(history.to_dataframe().dtypes)


def test_history_is_bounded_keeps_the_newest_and_clears() -> None:
    history = History(maxlen=5)
    assert history.maxlen == 5
    for i in range(12):
        history.record(EPOCH_2025 + i, JobStatusChange(job_id=f"j{i}", status="running"), RUNNING)
    assert len(history) == 5
    assert history.to_dataframe().job_id.tolist() == ["j7", "j8", "j9", "j10", "j11"]
    assert "5/5" in repr(history)
    history.clear()
    assert len(history) == 0
    assert len(history.to_dataframe()) == 0
    assert History().maxlen == 100_000


def test_history_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        History(maxlen=0)
    history = History()
    with pytest.raises(TypeError, match="job frames"):
        history.record(EPOCH_2025, Job(id="a", status="running"), RUNNING)  # type: ignore[arg-type]
    assert len(history) == 0


def test_history_records_from_two_threads_while_read() -> None:
    history = History(maxlen=100_000)
    per_thread = 20_000
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait(timeout=60)
            for i in range(per_thread):
                frame = JobStatusChange(job_id=name, status="running", result_count=i)
                history.record(EPOCH_2025 + i, frame, RUNNING)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    start.wait(timeout=60)
    sizes = []
    while any(t.is_alive() for t in threads):
        sizes.append(len(history.to_dataframe()))  # must never see a half-mutated ring
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sizes == sorted(sizes)
    df = history.to_dataframe()
    assert len(df) == 2 * per_thread
    for name in ("a", "b"):
        mine = df[df.job_id == name].result_count
        assert mine.tolist() == list(range(per_thread)), "each thread's records in its order"


def test_history_ring_drops_oldest_under_concurrent_writers() -> None:
    history = History(maxlen=1000)

    def writer() -> None:
        for i in range(5000):
            history.record(EPOCH_2025, JobStatusChange(job_id="x", status="running"), RUNNING)
            if i % 1000 == 0:
                history.to_dataframe()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(history) == 1000


# ----------------------------------------------------------------------------- real JobStore


def filled_store() -> JobStore:
    store = JobStore()
    store.replace(sample_jobs())
    return store


FILTER_CASES = [
    {},
    {"status": "failed"},
    {"status": ["completed", "pending"], "source": "jira"},
    {"source": ["github"], "entity": "issues"},
    {"status": [], "entity": ["issues", "repos"]},
    {"source": "nothing-like-it"},
]


@pytest.mark.parametrize("filters", FILTER_CASES)
def test_store_filters_match_store_view(filters: dict[str, Any]) -> None:
    store = filled_store()
    df = to_dataframe(store, **filters)
    check_schema(df)
    assert ids(df) == [job.id for job in store.view(**filters).jobs]
    assert len(df) == store.view(**filters).total


def test_client_with_real_store_and_rlock() -> None:
    client = Client(filled_store(), threading.RLock())  # type: ignore[arg-type]
    df = to_dataframe(client, status="completed")
    assert sorted(ids(df)) == ["j3", "j6"]
    assert len(to_dataframe(client)) == len(client.store)


def test_snapshot_under_the_lock_while_another_thread_replaces() -> None:
    """A reader never sees a half-replaced mirror when the writer holds the client's lock."""
    small = [Job(id=f"s{i}", status="running", created_at=T0) for i in range(50)]
    large = [
        Job(id=f"l{i}", status="failed", created_at=T0 + dt.timedelta(seconds=i))
        for i in range(500)
    ]
    client = Client(JobStore(), threading.RLock())  # type: ignore[arg-type]
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            for jobs in (small, large):
                with client.lock:
                    client.store.replace(jobs)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = set()
        for _ in range(200):
            df = to_dataframe(client)
            seen.add(len(df))
            assert len(df) in (0, 50, 500)
            assert df.status.nunique() <= 1, "never a mix of the two lists"
    finally:
        stop.set()
        thread.join(timeout=60)
    assert seen & {50, 500}


def test_history_of_real_store_applies() -> None:
    store = filled_store()
    history = History()
    frames: list[JobStatusChange | CrawlProgress | JobDeleted] = [
        JobStatusChange(job_id="j4", status="running", timestamp=stamp(EPOCH_2025)),
        JobStatusChange(
            job_id="j4",
            status="completed",
            total_urls=3,
            completed_urls=3,
            result_count=2,
            duration=4.0,
            timestamp=stamp(EPOCH_2025 + 4),
        ),
        JobStatusChange(job_id="j4", status="running", timestamp=stamp(EPOCH_2025 + 1)),
        CrawlProgress(job_id="j1", total_urls=20, completed_urls=4),
        JobStatusChange(job_id="nope", status="running", timestamp=stamp(EPOCH_2025)),
        JobDeleted(job_id="j5", timestamp=stamp(EPOCH_2025 + 5)),
    ]
    for offset, frame in enumerate(frames):
        history.record(EPOCH_2025 + 10 + offset, frame, store.apply(frame))
    df = history.to_dataframe()
    assert df.old_status.tolist()[:4] == ["pending", "running", "completed", "running"]
    assert df.new_status.tolist()[:4] == ["running", "completed", "completed", "running"]
    assert df.changed.tolist() == [True, True, False, True, False, True]
    assert df.status.tolist()[2] == "running", "what the late frame said"
    assert df.old_status.isna().tolist()[4:] == [True, False]
    assert df.new_status.isna().tolist()[4:] == [True, True]
    assert df.latency.tolist()[:3] == [pd.Timedelta(seconds=s) for s in (10, 7, 11)]
    # The failure analysis the history is for: how many frames changed nothing, per type.
    no_ops = df[~df.changed].groupby("type", observed=False).size().to_dict()
    assert no_ops == {"job_status_change": 2, "crawl_progress": 0, "job_deleted": 0}
    mirror = to_dataframe(store).set_index("id")
    assert mirror.loc["j4", "status"] == "completed"
    assert mirror.loc["j4", "duration"] == pd.Timedelta(seconds=4)
    assert mirror.loc["j1", "total_urls"] == 20
    assert "j5" not in mirror.index


# ----------------------------------------------------------------------------- real server


def test_live_client_dataframe_and_history(
    server: JobServer, make_client: Callable[..., QueueClient]
) -> None:
    """A real client fed by the reference server: the DataFrame equals the server's list."""
    quick = {"pages": 3, "page_delay": 0.05, "fail_rate": 0.0}
    client = make_client(server.url)
    assert client.wait_until_synced(20)
    wait_until(lambda: client.connection.state == "live", what="live state")
    made = [
        server.create_job(name=f"job {i}", source_type=src, entity_type="issues", config=quick)
        for i, src in enumerate(["jira", "github", "jira"])
    ]
    client.wait_for(made, timeout=60)
    truth = server_jobs(server.url)
    wait_until(lambda: len(client.jobs()) == len(truth), what="mirror as long as the list")

    df = to_dataframe(client)
    check_schema(df)
    assert set(df.id) == set(truth)
    rows = df.set_index("id")
    for job_id in made:
        assert rows.loc[job_id, "status"] == "completed"
        assert rows.loc[job_id, "total_urls"] == truth[job_id].prog.total_urls
        # Times are the mirror's (a frame's time may differ from the server's record by µs).
        mirrored = client.get(job_id)
        assert mirrored is not None
        assert mirrored.completed_at is not None
        assert rows.loc[job_id, "completed_at"] == pd.Timestamp(mirrored.completed_at)
    assert sorted(to_dataframe(client, source="jira").id) == sorted([made[0], made[2]])

    frames = client.history.to_dataframe()
    assert tuple(frames.columns) == HISTORY_COLUMNS
    mine = frames[frames.job_id.isin(made)]
    assert set(mine.status.dropna()) >= {"running", "completed"}
    stamped = mine[mine.type == "job_status_change"]
    assert stamped.latency.notna().all(), "the reference server stamps every status frame"
    # Same machine, same clock: a frame cannot arrive a minute before it was sent or after.
    assert (stamped.latency.abs() < pd.Timedelta(minutes=1)).all()
