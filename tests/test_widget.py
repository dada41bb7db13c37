"""JobQueueWidget without a kernel: traits, flush coalescing, commands via a recording comm."""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import comm
import pandas as pd
import pytest
import traitlets
from comm.base_comm import BaseComm

from jobwidget import widget as widget_module
from jobwidget.errors import JobWidgetError
from jobwidget.protocol import Job, JobStatusChange, Progress
from jobwidget.server import JobServer
from jobwidget.widget import JobQueueWidget

from .conftest import FAST
from .helpers import wait_until

# `make test` sets JOBWIDGET_REQUIRE_ALL: there a missing bundle fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not widget_module._ESM.is_file() and not os.environ.get("JOBWIDGET_REQUIRE_ALL"),
    reason="the JS bundle is not built (run `make js`)",
)

KERNEL_OWNED = ("jobs", "stats", "connection", "total", "sources", "entities", "truncated")
TWO_WAY = ("filters", "sort", "page", "page_size", "selected_ids")
ROW_KEYS = {
    "id",
    "name",
    "status",
    "source_type",
    "entity_type",
    "total_urls",
    "completed_urls",
    "failed_urls",
    "pending_urls",
    "percentage",
    "current_url",
    "result_count",
    "failed_count",
    "error",
    "created_at",
    "started_at",
    "completed_at",
    "duration",
}
SLOW = {"pages": 2000, "page_delay": 0.05}
QUICK = {"pages": 3, "page_delay": 0.01}


@dataclass
class Sent:
    """One message the widget sent to the front end."""

    at: float
    msg_type: str
    data: dict[str, Any]
    size: int
    thread: str


class RecordingComm(BaseComm):
    """A comm that records what it would publish (JSON-encoded size included)."""

    def __init__(self, **kwargs: Any) -> None:
        self.sent: list[Sent] = []
        self._sent_lock = threading.Lock()
        super().__init__(**kwargs)

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, **keys: Any
    ) -> None:
        size = len(json.dumps(data, separators=(",", ":")))
        item = Sent(time.monotonic(), msg_type, data or {}, size, threading.current_thread().name)
        with self._sent_lock:
            self.sent.append(item)

    def updates(self) -> list[Sent]:
        """The state updates sent so far."""
        with self._sent_lock:
            return [s for s in self.sent if s.data.get("method") == "update"]

    def results(self) -> list[dict[str, Any]]:
        """The custom ``result`` messages sent so far."""
        with self._sent_lock:
            return [
                s.data["content"]
                for s in self.sent
                if s.data.get("method") == "custom" and s.data["content"].get("kind") == "result"
            ]

    def from_view(self, data: dict[str, Any]) -> None:
        """Deliver a message as if the view sent it."""
        self.handle_msg({"content": {"data": data}, "buffers": []})


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> list[RecordingComm]:
    """Every comm created during the test, recording instead of publishing."""
    created: list[RecordingComm] = []

    def create(**kwargs: Any) -> RecordingComm:
        c = RecordingComm(**kwargs)
        created.append(c)
        return c

    monkeypatch.setattr(comm, "create_comm", create)
    return created


@pytest.fixture
def make_widget() -> Iterator[Callable[..., JobQueueWidget]]:
    """Build widgets with fast client timings; every one is closed at the end."""
    made: list[JobQueueWidget] = []

    def make(url: str, **options: Any) -> JobQueueWidget:
        w = JobQueueWidget(url, **{**FAST, **options})
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def _comm_of(w: JobQueueWidget) -> RecordingComm:
    assert isinstance(w.comm, RecordingComm)
    return w.comm


def _job(i: int, status: str = "completed", **fields: Any) -> Job:
    created = _dt.datetime(2025, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(seconds=i)
    return Job(
        id=f"job-{i:06d}",
        status=status,  # type: ignore[arg-type]
        name=f"crawl {i}",
        source_type=("jira", "confluence", "github")[i % 3],
        entity_type=("issues", "spaces", "repos")[i % 3],
        progress=Progress(total_urls=20, completed_urls=i % 20, current_url=f"https://x.org/{i}"),
        created_at=created,
        **fields,
    )


def _offline_widget(make_widget: Callable[..., JobQueueWidget], n: int) -> JobQueueWidget:
    """A widget whose client never connects; its mirror is filled with ``n`` jobs directly."""
    w = make_widget("http://127.0.0.1:9", start=False)
    with w.client.lock:
        w.client.store.replace([_job(i) for i in range(n)])
    w._flusher.wake()
    wait_until(lambda: w.total == n, what=f"{n} jobs on the widget")
    return w


# ---------------------------------------------------------------------- traits


def test_trait_metadata() -> None:
    traits = JobQueueWidget.class_traits()
    for name in (*KERNEL_OWNED, *TWO_WAY):
        assert traits[name].metadata.get("sync") is True, name
    for name in KERNEL_OWNED:
        assert traits[name].read_only, name
    for name in TWO_WAY:
        assert not traits[name].read_only, name


def test_kernel_owned_traits_refuse_assignment(
    comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = make_widget("http://127.0.0.1:9", start=False)
    with pytest.raises(traitlets.TraitError):
        w.jobs = []
    with pytest.raises(traitlets.TraitError):
        w.total = 3


def test_filters_and_sort_are_validated(make_widget: Callable[..., JobQueueWidget]) -> None:
    w = make_widget("http://127.0.0.1:9", start=False)
    w.filters = {"status": ["failed"]}
    assert w.filters == {"status": ["failed"], "source": [], "entity": []}
    with pytest.raises(traitlets.TraitError, match="unknown statuses"):
        w.filters = {"status": ["exploded"]}
    with pytest.raises(traitlets.TraitError, match="unknown filter fields"):
        w.filters = {"colour": ["red"]}
    w.sort = {"by": "name"}
    assert w.sort == {"by": "name", "descending": True}
    with pytest.raises(traitlets.TraitError, match="cannot sort"):
        w.sort = {"by": "1; DROP TABLE jobs"}
    with pytest.raises(traitlets.TraitError):
        w.page_size = 0


def test_missing_bundle_says_how_to_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(widget_module, "_ESM", tmp_path / "widget.js")
    with pytest.raises(JobWidgetError, match="make js"):
        JobQueueWidget("http://127.0.0.1:9", start=False)


# ---------------------------------------------------------------------- live data


def test_rows_counts_and_choices_follow_the_server(
    server: JobServer, comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    ids = [
        server.create_job(name=f"q{i}", source_type=src, entity_type="issues", config=QUICK)
        for i, src in enumerate(["jira", "github", "jira"])
    ]
    w = make_widget(server.url)
    wait_until(lambda: w.stats.get("completed") == 3, what="three completed jobs")
    wait_until(lambda: w.connection["state"] == "live", what="a live connection")
    assert w.total == 3
    assert {row["id"] for row in w.jobs} == set(ids)
    assert all(set(row) == ROW_KEYS for row in w.jobs)
    assert w.sources == ["github", "jira"]
    assert w.entities == ["issues"]
    assert w.stats["total"] == 3
    assert w.truncated == 0
    json.dumps(w.jobs)  # plain JSON, nothing else
    row = w.jobs[0]
    assert row["created_at"].endswith("Z")
    assert row["completed_at"] is not None
    assert row["duration"] is not None


def test_live_update_while_the_caller_is_busy(
    server: JobServer, comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = make_widget(server.url)
    wait_until(lambda: w.connection["state"] == "live", what="a live connection")
    job_id = server.create_job(name="slow", config=SLOW)
    # This thread only sleeps; the flusher thread alone must bring the row to `running`.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        r["id"] == job_id and r["status"] == "running" for r in w.jobs
    ):
        time.sleep(0.05)
    assert any(r["id"] == job_id and r["status"] == "running" for r in w.jobs)
    updates = _comm_of(w).updates()
    assert updates
    assert all(u.thread.startswith("jobwidget-flusher") for u in updates)


def test_filters_sort_and_page_from_the_view(
    comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = _offline_widget(make_widget, 120)
    c = _comm_of(w)
    assert len(w.jobs) == 50
    assert w.jobs[0]["id"] == "job-000119"  # newest first
    c.from_view({"method": "update", "state": {"filters": {"source": ["jira"]}}})
    wait_until(lambda: w.total == 40, what="the jira filter")
    assert {r["source_type"] for r in w.jobs} == {"jira"}
    c.from_view({"method": "update", "state": {"sort": {"by": "name", "descending": False}}})
    wait_until(lambda: w.jobs[0]["name"] == "crawl 0", what="sorting by name")
    c.from_view({"method": "update", "state": {"page": 7}})
    wait_until(lambda: w.page == 0, what="the page clamped to the last one")  # 40 rows: 1 page
    c.from_view({"method": "update", "state": {"filters": {}, "page_size": 25, "page": 4}})
    wait_until(lambda: w.total == 120 and w.page == 4, what="page 4 of 25 rows")
    wait_until(lambda: len(w.jobs) == 20, what="the last page")
    assert w.jobs[-1]["name"] == "crawl 99"  # sort by name, ascending (text order)


def test_page_shrinks_with_total(make_widget: Callable[..., JobQueueWidget]) -> None:
    w = _offline_widget(make_widget, 30)
    w.page_size = 10
    w.page = 2
    wait_until(lambda: len(w.jobs) == 10 and w.jobs[0]["id"] == "job-000009", what="page 2")
    with w.client.lock:
        w.client.store.replace([_job(i) for i in range(12)])
    w._flusher.wake()
    wait_until(lambda: w.page == 1 and w.total == 12, what="the page clamped to 1")
    assert [r["id"] for r in w.jobs] == ["job-000001", "job-000000"]


def test_selected_ids_are_pruned_of_gone_jobs(make_widget: Callable[..., JobQueueWidget]) -> None:
    w = _offline_widget(make_widget, 10)
    w.selected_ids = ["job-000001", "job-000002", "job-000003"]
    with w.client.lock:
        w.client.store.remove("job-000002")
    w._flusher.wake()
    wait_until(lambda: w.selected_ids == ["job-000001", "job-000003"], what="pruned selection")


# ---------------------------------------------------------------------- flushing


def test_one_update_sends_one_small_message(
    comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = _offline_widget(make_widget, 10_000)
    c = _comm_of(w)
    time.sleep(0.3)  # let any trailing flush land
    before = len(c.updates())
    running = _job(20_000, status="running")
    with w.client.lock:
        w.client.store.upsert(running)
    w._flusher.wake()
    wait_until(lambda: any(r["id"] == running.id for r in w.jobs), what="the new job's row")
    with w.client.lock:
        change = JobStatusChange(
            job_id=running.id, status="completed", total_urls=20, completed_urls=20
        )
        w.client.store.apply(change)
    w._flusher.wake()
    wait_until(lambda: w.jobs[0]["status"] == "completed", what="the status change")
    time.sleep(0.3)
    new = c.updates()[before:]
    assert len(new) == 2  # one message per flush, one flush per change
    last = new[-1].data["state"]
    assert set(last) <= {"jobs", "stats"}
    assert len(last["jobs"]) == 50  # the page, never the mirror
    assert all(u.size < 32 * 1024 for u in new)


def test_a_storm_of_changes_is_coalesced(
    comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = _offline_widget(make_widget, 1000)
    c = _comm_of(w)
    stop = threading.Event()
    applied = 0

    def storm() -> None:
        nonlocal applied
        pct = 0
        while not stop.is_set():
            pct = pct % 19 + 1
            with w.client.lock:
                for i in range(990, 1000):
                    w.client.store.upsert(_job(i, result_count=pct))
            w._flusher.wake()
            applied += 10

    thread = threading.Thread(target=storm)
    start = time.monotonic()
    before = len(c.updates())
    thread.start()
    time.sleep(2.0)
    stop.set()
    thread.join()
    elapsed = time.monotonic() - start
    sent = c.updates()[before:]
    assert applied > 100
    # At most one flush per 100 ms (plus the one running when the storm started).
    assert len(sent) <= elapsed * 10 + 2
    # Flushes start >= 100 ms apart; a message leaves when its flush ends, so count them per
    # second rather than checking single gaps.
    times = [s.at for s in sent]
    assert all(sum(1 for u in times if t0 <= u < t0 + 1.0) <= 11 for t0 in times)


def test_idle_widget_sends_nothing(
    comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = _offline_widget(make_widget, 100)
    c = _comm_of(w)
    time.sleep(0.3)
    before = len(c.updates())
    flushes = w._flusher.flushes
    wait_until(lambda: w._flusher.flushes >= flushes + 2, what="two periodic ticks")
    assert len(c.updates()) == before


# ---------------------------------------------------------------------- commands


def _command(c: RecordingComm, request_id: str, action: str, ids: list[str]) -> None:
    content = {"kind": "command", "request_id": request_id, "action": action, "ids": ids}
    c.from_view({"method": "custom", "content": content})


def _result(c: RecordingComm, request_id: str) -> dict[str, Any]:
    wait_until(
        lambda: any(r["request_id"] == request_id for r in c.results()),
        timeout=30,
        what=f"the result of {request_id}",
    )
    return next(r for r in c.results() if r["request_id"] == request_id)


def test_commands_from_the_view(
    server: JobServer, comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    slow = server.create_job(name="slow", config=SLOW)
    done = server.create_job(name="done", config=QUICK)
    w = make_widget(server.url)
    c = _comm_of(w)
    wait_until(
        lambda: {r["id"]: r["status"] for r in w.jobs} == {slow: "running", done: "completed"},
        timeout=30,
        what="one running and one completed job",
    )
    _command(c, "r1", "cancel", [slow, done])
    result = _result(c, "r1")
    assert result["ok"] is False
    assert result["error"] is None
    assert result["results"][slow] is None
    assert result["results"][done]  # the server's reason: not running
    wait_until(lambda: w.stats["cancelled"] == 1, what="the cancelled job")
    assert server.stats()["cancelled_jobs"] == 1
    sent = next(s for s in c.sent if s.data.get("content", {}).get("request_id") == "r1")
    assert sent.thread.startswith("jobwidget-command")  # never the caller's thread

    _command(c, "r2", "rerun", [done])
    assert _result(c, "r2") == {"kind": "result", "request_id": "r2", "ok": True, "error": None,
                                "results": {done: None}}  # fmt: skip
    wait_until(lambda: w.total == 3, what="the rerun copy")

    _command(c, "r3", "delete", [slow])
    assert _result(c, "r3")["ok"] is True
    wait_until(lambda: slow not in {r["id"] for r in w.jobs}, what="the deleted row gone")

    _command(c, "r4", "refresh", [])
    assert _result(c, "r4")["ok"] is True

    _command(c, "r5", "select_matching", [])
    assert _result(c, "r5")["ok"] is True
    assert sorted(w.selected_ids) == sorted(r["id"] for r in w.jobs)

    _command(c, "r6", "explode", [done])
    bad = _result(c, "r6")
    assert bad["ok"] is False
    assert "unknown command" in bad["error"]


def test_methods_take_one_id_or_many(
    server: JobServer, comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    ids = [server.create_job(name=f"s{i}", config=SLOW) for i in range(3)]
    w = make_widget(server.url)
    wait_until(lambda: w.stats.get("total") == 3, what="three jobs")
    one = w.cancel(ids[0])
    assert list(zip(one.job_id, one.ok, strict=True)) == [(ids[0], True)]
    many = w.cancel(pd.Series(ids[1:]))
    assert sorted(zip(many.job_id, many.ok, strict=True)) == sorted((i, True) for i in ids[1:])
    wait_until(lambda: w.stats["cancelled"] == 3, what="three cancelled jobs")
    reruns = w.rerun(ids)
    assert reruns.ok.all()
    assert reruns.new_job_id.notna().all()
    gone = w.delete(iter(ids))
    assert gone.ok.all()
    wait_until(lambda: w.total == 3, what="only the reruns left")


# ---------------------------------------------------------------------- connection, lifecycle


def test_connection_state_follows_the_server(
    server: JobServer, comms: list[RecordingComm], make_widget: Callable[..., JobQueueWidget]
) -> None:
    w = make_widget(server.url)
    wait_until(lambda: w.connection["state"] == "live", what="live")
    server.stop()
    wait_until(lambda: w.connection["state"] in ("polling", "connecting"), what="reconnecting")
    wait_until(lambda: w.connection["last_error"], what="an error shown")
    wait_until(
        lambda: w.connection["state"] == "polling" and w.connection["retry_in"] is not None,
        what="a retry countdown",
    )
    server.start()
    wait_until(lambda: w.connection["state"] == "live", timeout=30, what="live again")


def test_close_stops_threads_and_the_client(server: JobServer, comms: list[RecordingComm]) -> None:
    w = JobQueueWidget(server.url, **FAST)
    c = _comm_of(w)
    wait_until(lambda: w.connection["state"] == "live", what="live")
    w.close()
    w.close()  # idempotent
    assert not w._flusher.alive
    assert w.client.connection.state == "closed"
    assert [s.msg_type for s in c.sent].count("comm_close") == 1
    names = {th.name for th in threading.enumerate()}
    assert not any(n.startswith(("jobwidget-flusher", "jobwidget-io")) for n in names)


def test_headless_without_a_front_end(
    server: JobServer, make_widget: Callable[..., JobQueueWidget]
) -> None:
    job_id = server.create_job(name="headless", config=QUICK)
    w = make_widget(server.url)  # the default comm: no kernel, nothing rendered
    wait_until(lambda: [r["status"] for r in w.jobs] == ["completed"], what="the job's row")
    assert w.jobs[0]["id"] == job_id
    assert w.client.wait_for(job_id, timeout=10)[job_id] is not None
