"""Hypothesis properties of JobStore: order-free merging, relist equality, the size bound."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobwidget.protocol import (
    STATUSES,
    TERMINAL,
    CrawlProgress,
    Job,
    JobDeleted,
    JobStatusChange,
    Progress,
)
from jobwidget.store import JobStore

from .test_store import at, change, counts, make_job

COUNT = st.integers(0, 50)
TERMINALS = sorted(TERMINAL)


@st.composite
def lifecycles(draw: st.DrawFn) -> list[JobStatusChange]:
    """The frames of one job in sending order; the newest (strictly) is the terminal one."""
    n_progress = draw(st.integers(0, 6))
    times = sorted(draw(st.lists(st.integers(0, 20), min_size=n_progress + 2, max_size=8)))
    times = times[: n_progress + 2]
    frames = [change("a", "pending", times[0]), change("a", "running", times[1])]
    for ts in times[2:]:
        frames.append(
            change(
                "a",
                "running",
                ts,
                result_count=draw(COUNT),
                failed_count=draw(COUNT),
                total_urls=draw(COUNT),
                completed_urls=draw(COUNT),
                pending_urls=draw(COUNT),
            )
        )
    end = draw(st.sampled_from(TERMINALS))
    frames.append(
        change(
            "a",
            end,
            times[-1] + 1,
            result_count=draw(COUNT),
            failed_count=draw(COUNT),
            total_urls=draw(COUNT) if end == "completed" else 0,
            completed_urls=draw(COUNT),
            duration=2.0 if end == "completed" else None,
            error="boom" if end == "failed" else None,
        )
    )
    return frames


def merged(frames: list[JobStatusChange], start: Job) -> Job:
    store = JobStore()
    store.upsert(start)
    for frame in frames:
        applied = store.apply(frame)
        assert not applied.unknown
    job = store.get("a")
    assert job is not None
    return job


@settings(max_examples=300, deadline=None)
@given(frames=lifecycles(), data=st.data(), known=st.tuples(COUNT, COUNT))
def test_any_order_and_duplication_gives_the_in_order_result(
    frames: list[JobStatusChange], data: st.DataObject, known: tuple[int, int]
) -> None:
    start = make_job("a", result_count=known[0], progress=Progress(total_urls=known[1]))
    shuffled = data.draw(st.permutations(frames))
    extra = data.draw(st.lists(st.sampled_from(frames), max_size=6))
    mixed = data.draw(st.permutations(shuffled + extra))
    in_order = merged(frames, start)
    out_of_order = merged(mixed, start)
    assert in_order.status == out_of_order.status == frames[-1].status
    assert counts(out_of_order) == counts(in_order)
    assert out_of_order.prog.percentage == in_order.prog.percentage
    assert out_of_order.completed_at == in_order.completed_at


IDS = st.sampled_from(["a", "b", "c", "d", "e"])
STATUS = st.sampled_from(STATUSES)
TIME = st.none() | st.integers(0, 30)

updates = st.one_of(
    st.builds(
        lambda jid, status, ts, n: change(jid, status, ts, total_urls=n, result_count=n // 2),
        IDS,
        STATUS,
        TIME,
        COUNT,
    ),
    st.builds(
        lambda jid, status, n: CrawlProgress(job_id=jid, status=status, completed_urls=n),
        IDS,
        st.none() | STATUS,
        COUNT,
    ),
    st.builds(lambda jid: JobDeleted(job_id=jid), IDS),
)
rest_jobs = st.builds(
    lambda jid, status, created, source: make_job(jid, status, created=created, source=source),
    IDS,
    STATUS,
    st.none() | st.integers(0, 5),
    st.sampled_from(["jira", "github", ""]),
)


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(rest_jobs, max_size=5),
    frames=st.lists(updates, max_size=25),
    snapshot=st.lists(rest_jobs, max_size=5, unique_by=lambda j: j.id),
    as_of=st.none() | st.integers(0, 30),
)
def test_replace_after_any_frames_equals_the_snapshot(
    before: list[Job], frames: list[Any], snapshot: list[Job], as_of: int | None
) -> None:
    store = JobStore()
    store.replace(before)
    for frame in frames:
        store.apply(frame)
    store.replace(snapshot, as_of=None if as_of is None else at(as_of))
    assert len(store) == len(snapshot)
    for job in snapshot:
        assert store.get(job.id) == job
    everything = store.view()
    assert everything.total == len(snapshot)
    assert {j.id for j in everything.jobs} == {j.id for j in snapshot}
    by_key = sorted(
        snapshot,
        key=lambda j: (j.created_at.timestamp() if j.created_at else float("-inf"), j.id),
        reverse=True,
    )
    assert everything.jobs == by_key
    stats = store.stats()
    assert stats.total_jobs == len(snapshot)
    assert stats.running_jobs == sum(j.status == "running" for j in snapshot)
    assert store.sources() == sorted({j.source_type for j in snapshot} - {""})


operations = st.one_of(
    st.tuples(st.just("upsert"), rest_jobs),
    st.tuples(st.just("apply"), updates),
    st.tuples(st.just("replace"), st.lists(rest_jobs, max_size=8)),
    st.tuples(st.just("remove"), IDS),
)
MANY_IDS = st.text("abcdefghij", min_size=1, max_size=2)


@settings(max_examples=300, deadline=None)
@given(
    max_jobs=st.integers(1, 4),
    ops=st.lists(operations, max_size=30),
    extra=st.lists(st.tuples(MANY_IDS, STATUS, st.integers(0, 9)), max_size=12),
)
def test_bound_holds_and_never_evicts_an_active_job(
    max_jobs: int, ops: list[tuple[str, Any]], extra: list[tuple[str, str, int]]
) -> None:
    store = JobStore(max_jobs=max_jobs)
    ops = ops + [("upsert", make_job(jid, status, created=c)) for jid, status, c in extra]
    for kind, arg in ops:
        status_before: dict[str, str] = {j.id: j.status for j in store.jobs()}
        evicted_before = store.evicted
        store.drain_changes()
        explicit: set[str] = set()
        if kind == "upsert":
            store.upsert(arg)
            status_before[arg.id] = arg.status
        elif kind == "apply":
            applied = store.apply(arg)
            if isinstance(arg, JobDeleted):
                explicit.add(arg.job_id)
            elif applied.new_status in TERMINAL:
                status_before[arg.job_id] = applied.new_status
        elif kind == "replace":
            store.replace(arg)
            explicit |= status_before.keys() - {j.id for j in arg}
            status_before.update({j.id: j.status for j in arg})
        else:
            store.remove(arg)
            explicit.add(arg)
        evicted = status_before.keys() - {j.id for j in store.jobs()} - explicit
        assert store.evicted - evicted_before == len(evicted)
        assert all(status_before[jid] in TERMINAL for jid in evicted)
        if len(store) > max_jobs:
            assert all(j.status not in TERMINAL for j in store.jobs())
        assert store.stats().total_jobs == len(store) == store.view().total
