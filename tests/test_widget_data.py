"""The widget as data: DataFrames, history, selection, bulk results, callbacks, waits, charts."""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import matplotlib
import nbformat
import pandas as pd
import pytest
from matplotlib.axes import Axes
from nbconvert import HTMLExporter

from jobwidget import plot as plot_module
from jobwidget import widget as widget_module
from jobwidget.client import QueueClient
from jobwidget.connection import StatusEvent
from jobwidget.errors import JobWidgetError
from jobwidget.frame import HISTORY_COLUMNS, JOB_COLUMNS, jobs_to_dataframe, to_dataframe
from jobwidget.protocol import TERMINAL, Job
from jobwidget.server import JobServer
from jobwidget.widget import JobQueueWidget

from .conftest import FAST
from .helpers import wait_until

matplotlib.use("Agg")

pytestmark = pytest.mark.skipif(
    not widget_module._ESM.is_file(), reason="the JS bundle is not built (run `make js`)"
)

QUICK = {"pages": 3, "page_delay": 0.01, "fail_rate": 0.0}
SLOW = {"pages": 2000, "page_delay": 0.05}
FAILING = {"pages": 10, "page_delay": 0.05, "job_fail_rate": 1.0}
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def widgets() -> Iterator[list[JobQueueWidget]]:
    """Widgets a test made (append them); each is closed at the end."""
    made: list[JobQueueWidget] = []
    yield made
    for w in made:
        w.close()


def _live(made: list[JobQueueWidget], url: str, **options: Any) -> JobQueueWidget:
    """A widget on ``url`` with fast client timings, once its mirror is listed."""
    w = JobQueueWidget(url, **{**FAST, **options})
    made.append(w)
    assert w.client.wait_until_synced(30)
    return w


def _statuses(w: JobQueueWidget, ids: list[str]) -> list[str | None]:
    return [job.status if (job := w.client.get(i)) else None for i in ids]


def _all_terminal(w: JobQueueWidget, ids: list[str]) -> bool:
    return all(status in TERMINAL for status in _statuses(w, ids))


# ---------------------------------------------------------------------- DataFrames


def test_df_and_the_filtered_frame_are_the_views_rows_on_every_page(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    sources = ["jira", "github", "jira", "confluence", "jira", "github", "jira"]
    ids = [
        server.create_job(name=f"j{i}", source_type=src, entity_type="issues", config=QUICK)
        for i, src in enumerate(sources)
    ]
    w = _live(widgets, server.url, page_size=2)
    wait_until(lambda: _all_terminal(w, ids), timeout=30, what="seven finished jobs")
    df = w.df
    assert list(df.columns) == list(JOB_COLUMNS)
    assert sorted(df.id) == sorted(ids)

    w.filters = {"source": ["jira", "github"]}
    wait_until(lambda: w.total == 6, what="the filter applied to the view")
    seen: list[str] = []
    for page in range(3):  # every page of the view, as the user would page through it
        w.page = page
        wait_until(
            lambda before=set(seen): len(w.jobs) == 2 and not {r["id"] for r in w.jobs} & before,
            what=f"the rows of page {page}",
        )
        seen += [row["id"] for row in w.jobs]
    filtered = to_dataframe(w, filtered=True)
    assert sorted(filtered.id) == sorted(seen)
    assert set(filtered.source_type) == {"jira", "github"}
    assert sorted(w.to_dataframe(filtered=True).id) == sorted(seen)
    assert sorted(w.to_dataframe(filtered=True, source="confluence").id) == [ids[3]]


def test_history_is_a_frame_of_applied_frames(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    w = _live(widgets, server.url)
    wait_until(lambda: w.connection["state"] == "live", what="a live connection")
    job_id = server.create_job(name="h", config={**QUICK, "pages": 10, "page_delay": 0.1})
    wait_until(lambda: _all_terminal(w, [job_id]), timeout=30, what="the job to finish")
    history = w.history
    assert list(history.columns) == list(HISTORY_COLUMNS)
    mine = history[history.job_id == job_id]
    assert "completed" in set(mine.new_status.dropna())
    changes = mine[mine.type == "job_status_change"]
    assert changes.latency.notna().all()
    assert history.received_at.is_monotonic_increasing


# ---------------------------------------------------------------------- selection and actions


def test_selection_round_trips_as_data(server: JobServer, widgets: list[JobQueueWidget]) -> None:
    ids = [server.create_job(name=f"s{i}", config=QUICK) for i in range(4)]
    w = _live(widgets, server.url)
    wait_until(lambda: _all_terminal(w, ids), timeout=30, what="four finished jobs")
    df = w.df
    w.selected_ids = df.id[df.name.isin(["s1", "s2"])]  # a Series, as from a query
    assert sorted(w.selected_ids) == sorted(ids[1:3])
    assert w.get_state("selected_ids")["selected_ids"] == w.selected_ids  # what the view gets
    w.set_state({"selected_ids": [ids[0], ids[3]]})  # as the view sends a click
    assert sorted(w.selected.id) == sorted([ids[0], ids[3]])
    assert list(w.selected.columns) == list(JOB_COLUMNS)
    w.selected_ids = ids[2]
    assert w.selected_ids == [ids[2]]


def test_bulk_actions_return_a_frame_of_results(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    running = server.create_job(name="run", config=SLOW)
    done = server.create_job(name="done", config=QUICK)
    failed = [server.create_job(name=f"f{i}", config=FAILING) for i in range(2)]
    w = _live(widgets, server.url)
    wait_until(
        lambda: (
            _statuses(w, [running, done, *failed]) == ["running", "completed", "failed", "failed"]
        ),
        timeout=30,
        what="one running, one completed and two failed jobs",
    )
    result = w.cancel([running, done])
    assert list(result.columns) == ["job_id", "ok", "detail", "new_job_id"]
    assert result.dtypes.astype(str).tolist() == ["string", "bool", "string", "string"]
    by_id = result.set_index("job_id")
    assert bool(by_id.loc[running, "ok"]) is True
    assert bool(by_id.loc[done, "ok"]) is False
    assert by_id.loc[done, "detail"]  # the server's reason
    assert result.new_job_id.isna().all()

    df = w.df
    reruns = w.rerun(df.query("status == 'failed'").id)
    assert sorted(reruns.job_id) == sorted(failed)
    assert reruns.ok.all()
    wait_until(
        lambda: all(w.client.get(new) is not None for new in reruns.new_job_id),
        what="the copies in the mirror",
    )
    assert w.delete([]).empty


# ---------------------------------------------------------------------- callbacks


def test_on_calls_back_for_matching_transitions(
    server: JobServer, widgets: list[JobQueueWidget], caplog: pytest.LogCaptureFixture
) -> None:
    w = _live(widgets, server.url)
    wait_until(lambda: w.connection["state"] == "live", what="a live connection")
    jobs: list[Job] = []
    pairs: list[tuple[Job, StatusEvent]] = []
    threads: set[str] = set()

    def explode(job: Job) -> None:
        raise RuntimeError(f"boom {job.id}")

    def record(job: Job, event: StatusEvent) -> None:
        threads.add(threading.current_thread().name)
        pairs.append((job, event))

    w.on("failed", explode)  # logged, never stops the others
    w.on("failed", jobs.append, source="jira")
    stop = w.on(["completed", "failed"], record, entity="repos")
    with caplog.at_level(logging.ERROR, logger="jobwidget._events"):
        jira = server.create_job(name="j", source_type="jira", entity_type="issues", config=FAILING)
        gh = server.create_job(name="g", source_type="github", entity_type="repos", config=FAILING)
        wait_until(lambda: _all_terminal(w, [jira, gh]), timeout=30, what="two failed jobs")
        wait_until(lambda: len(pairs) == 1 and len(jobs) == 1, what="the callbacks")
    assert [job.id for job in jobs] == [jira]
    assert jobs[0].status == "failed"
    job, event = pairs[0]
    assert (job.id, event.job_id, event.new) == (gh, gh, "failed")
    assert event.old in (None, "pending", "running")  # None: first seen already failed
    assert all(name.startswith("jobwidget-io") for name in threads)
    assert "boom" in caplog.text

    stop()
    later = server.create_job(name="later", entity_type="repos", config=QUICK)
    wait_until(lambda: _all_terminal(w, [later]), timeout=30, what="a later job")
    assert len(pairs) == 1
    with pytest.raises(ValueError, match="unknown statuses"):
        w.on("exploded", jobs.append)


def test_a_widget_on_a_shared_client_leaves_it_running(
    server: JobServer, make_client: Any, widgets: list[JobQueueWidget]
) -> None:
    client: QueueClient = make_client(server.url)
    assert client.wait_until_synced(30)
    everything = JobQueueWidget(client=client)
    failed_only = JobQueueWidget(client=client, filters={"status": ["failed"]})
    widgets += [everything, failed_only]
    seen: list[str] = []
    failed_only.on("failed", lambda job: seen.append(job.id))
    ok = server.create_job(name="ok", config=QUICK)
    bad = server.create_job(name="bad", config=FAILING)
    wait_until(lambda: everything.total == 2 and failed_only.total == 1, what="both views")
    assert [row["id"] for row in failed_only.jobs] == [bad]
    wait_until(lambda: seen == [bad], what="the failed callback")
    failed_only.close()
    assert client.connection.state != "closed"
    assert len(client._status_callbacks) == 0  # the closed widget's `on` is gone
    third = server.create_job(name="third", config=QUICK)
    wait_until(lambda: everything.total == 3, what="the other view still live")
    assert {ok, bad, third} == set(everything.df.id)
    with pytest.raises(TypeError, match="either"):
        JobQueueWidget(server.url, client=client)
    with pytest.raises(TypeError, match="need a url"):
        JobQueueWidget(client=client, max_jobs=10)


# ---------------------------------------------------------------------- waits


def test_wait_for_is_awaitable(server: JobServer, widgets: list[JobQueueWidget]) -> None:
    w = _live(widgets, server.url)
    ids = [server.create_job(name=f"a{i}", config=QUICK) for i in range(3)]

    async def main() -> dict[str, Job | None]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        try:
            return await w.wait_for(pd.Series(ids), timeout=60)
        finally:
            ticker.cancel()
            assert ticks > 1  # the caller's loop kept running while waiting

    result = asyncio.run(main())
    assert list(result) == ids
    assert all(job is not None and job.status == "completed" for job in result.values())


def test_wait_blocks_with_a_progress_bar(
    server: JobServer, widgets: list[JobQueueWidget], capsys: pytest.CaptureFixture[str]
) -> None:
    w = _live(widgets, server.url)
    ids = [server.create_job(name=f"b{i}", config={**QUICK, "page_delay": 0.2}) for i in range(3)]
    result = w.wait(ids, timeout=60)
    assert sorted(result) == sorted(ids)
    assert all(job is not None and job.status in TERMINAL for job in result.values())
    err = capsys.readouterr().err
    assert "jobs done" in err
    assert "3/3" in err
    # Already done: returns at once, with or without a bar.
    assert w.wait(ids[0], progress=False)[ids[0]] is not None


def test_wait_times_out_and_refuses_bad_ids(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    w = _live(widgets, server.url)
    slow = server.create_job(name="slow", config=SLOW)
    with pytest.raises(TimeoutError, match=r"1 of 1 jobs did not reach .* within 0.3 s: " + slow):
        w.wait([slow], timeout=0.3)
    with pytest.raises(KeyError, match="no-such-job"):
        w.wait(["no-such-job"], timeout=5)
    with pytest.raises(ValueError, match="unknown statuses"):
        w.wait([slow], statuses="exploded")
    w.cancel(slow)


def test_wait_ends_when_the_client_closes(server: JobServer, make_client: Any) -> None:
    client: QueueClient = make_client(server.url)
    w = JobQueueWidget(client=client)
    try:
        slow = server.create_job(name="slow", config=SLOW)
        wait_until(lambda: client.get(slow) is not None, what="the job in the mirror")
        threading.Timer(0.5, client.close).start()
        with pytest.raises(JobWidgetError):
            w.wait([slow], timeout=60)
    finally:
        w.close()


def test_wait_in_a_callback_raises_instead_of_deadlocking(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    w = _live(widgets, server.url)
    errors: list[BaseException] = []

    def wait_inside(job: Job) -> None:
        try:
            w.wait([job.id], timeout=5)
        except RuntimeError as exc:
            errors.append(exc)

    w.on("running", wait_inside)
    slow = server.create_job(name="slow", config=SLOW)
    wait_until(lambda: errors, timeout=30, what="the refused wait")
    assert "I/O thread" in str(errors[0])
    w.cancel(slow)


# ---------------------------------------------------------------------- charts


def _job(i: int, status: str, created: int, started: int | None, ended: int | None) -> Job:
    t0 = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC)

    def at(seconds: int | None) -> _dt.datetime | None:
        return None if seconds is None else t0 + _dt.timedelta(seconds=seconds)

    return Job(
        id=f"j{i}",
        status=status,  # type: ignore[arg-type]
        created_at=at(created),
        started_at=at(started),
        completed_at=at(ended),
    )


def test_status_over_time_counts_each_job_once() -> None:
    df = jobs_to_dataframe(
        [
            _job(0, "completed", 0, 10, 20),
            _job(1, "failed", 0, 5, 30),
            _job(2, "running", 10, 15, None),
            _job(3, "pending", 25, None, None),
            _job(4, "cancelled", 5, None, 12),  # cancelled while pending
        ]
    )
    now = pd.Timestamp("2025-01-01T00:00:40Z")
    counts = plot_module.status_over_time(df, points=41, now=now)
    assert len(counts) == 41
    assert (counts.sum(axis=1) == [(df.created_at <= t).sum() for t in counts.index]).all()
    row = counts.loc[pd.Timestamp("2025-01-01T00:00:16Z")]
    assert row.to_dict() == {
        "pending": 0,
        "running": 3,
        "completed": 0,
        "failed": 0,
        "cancelled": 1,
    }
    last = counts.iloc[-1].to_dict()
    assert last == {"pending": 1, "running": 1, "completed": 1, "failed": 1, "cancelled": 1}


def test_finished_per_bin_counts_each_finished_job_once() -> None:
    t0 = pd.Timestamp("2025-01-01T00:00:00Z")
    history = pd.DataFrame(
        {
            "received_at": [t0 + pd.Timedelta(seconds=s) for s in (0, 1, 3, 3, 4, 12, 12)],
            "job_id": ["a", "a", "b", "a", "c", "d", "e"],
            "type": ["job_status_change"] * 4 + ["crawl_progress"] + ["job_status_change"] * 2,
            "status": [
                "running",
                "completed",
                "failed",
                "completed",
                "completed",
                "completed",
                "cancelled",
            ],
        }
    )
    counts = plot_module.finished_per_bin(history, "5s")
    assert counts.attrs["bin_width"] == pd.Timedelta("5s")
    assert counts.to_dict("list") == {
        "completed": [1, 0, 1],
        "failed": [1, 0, 0],
        "cancelled": [0, 0, 1],
    }
    assert plot_module.finished_per_bin(history.iloc[:0]).empty


def test_plot_draws_every_kind(server: JobServer, widgets: list[JobQueueWidget]) -> None:
    w = _live(widgets, server.url)
    wait_until(lambda: w.connection["state"] == "live", what="a live connection")
    ids = [server.create_job(name=f"p{i}", config=QUICK) for i in range(3)]
    ids.append(server.create_job(name="bad", config=FAILING))
    wait_until(lambda: _all_terminal(w, ids), timeout=30, what="four finished jobs")
    import matplotlib.pyplot as plt

    try:
        status = w.plot()
        assert isinstance(status, Axes)
        assert status.collections  # the stacked areas
        assert [t.get_text() for t in status.get_legend().get_texts()][:2] == [
            "pending",
            "running",
        ]
        throughput = w.plot("throughput")
        heights = sum(p.get_height() for p in throughput.patches)
        assert heights == 4
        durations = w.plot("durations", bins=5)
        assert durations.patches
        _fig, ax = plt.subplots()
        assert w.plot("status", ax=ax) is ax
        with pytest.raises(ValueError, match="unknown chart kind"):
            w.plot("pie")  # type: ignore[arg-type]
        empty = plot_module.plot_durations(to_dataframe([]))
        assert empty.texts[0].get_text() == "no finished job"
    finally:
        plt.close("all")


def test_plot_without_matplotlib_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, widgets: list[JobQueueWidget]
) -> None:
    w = JobQueueWidget("http://127.0.0.1:9", start=False, **FAST)
    widgets.append(w)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'jobwidget\[plot\]'"):
        w.plot()


# ---------------------------------------------------------------------- static snapshot


def test_the_display_carries_an_escaped_html_snapshot(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    server.create_job(name=XSS, source_type="<b>src</b>", config=QUICK)
    server.create_job(name="plain", config=FAILING)
    w = _live(widgets, server.url)
    wait_until(lambda: w.client.stats().completed_jobs == 1, timeout=30, what="a finished job")
    data, _metadata = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"]
    snapshot = data["text/html"]
    assert XSS not in snapshot
    assert "<b>src" not in snapshot
    assert "&lt;img src=x onerror=alert(1)&gt;" in snapshot
    assert "&lt;b&gt;src&lt;/b&gt;" in snapshot
    assert "<b>2</b> total" in snapshot
    assert "captured at" in snapshot
    assert "<script" not in snapshot
    assert w.snapshot()._repr_html_().count("<tr>") == 3  # header + two jobs


def test_nbconvert_shows_the_snapshot_of_a_saved_notebook(
    server: JobServer, widgets: list[JobQueueWidget]
) -> None:
    server.create_job(name=XSS, config=QUICK)
    w = _live(widgets, server.url)
    data, metadata = w._repr_mimebundle_()
    cell = nbformat.v4.new_code_cell("w")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    nb = nbformat.v4.new_notebook(cells=[cell])  # saved without widget state, as Lab does
    body, _resources = HTMLExporter().from_notebook_node(nb)
    assert "jobwidget-snapshot" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert XSS not in body
    assert "Error displaying widget" not in body
