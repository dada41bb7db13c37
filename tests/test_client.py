"""QueueClient against the real reference server: sync, live frames, actions, waits, lifecycle."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable

import psutil
import pytest

from jobwidget.client import QueueClient
from jobwidget.connection import StatusEvent
from jobwidget.errors import ActionError, JobWidgetError
from jobwidget.server import JobServer

from .helpers import server_jobs, wait_until

QUICK = {"pages": 3, "page_delay": 0.05, "fail_rate": 0.0}
SLOW = {"pages": 200, "page_delay": 0.2, "fail_rate": 0.0}

MakeClient = Callable[..., QueueClient]


def create(srv: JobServer, name: str, config: dict[str, float], **kw: str) -> str:
    return srv.create_job(
        name=name,
        job_type="crawl",
        source_type=kw.get("source", "jira"),
        entity_type=kw.get("entity", "issues"),
        config=dict(config),
    )


def test_initial_list_mirrors_every_job(server: JobServer, make_client: MakeClient) -> None:
    ids = {create(server, f"job {i}", QUICK) for i in range(12)}
    client = make_client(server.url)
    assert client.wait_until_synced(10)
    assert ids <= {job.id for job in client.jobs()}
    assert client.connection.relists >= 1
    wait_until(lambda: client.connection.state == "live", what="live state")


def test_live_frames_bring_new_jobs_and_their_end(
    server: JobServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    wait_until(lambda: client.connection.state == "live")
    job_id = create(server, "late", QUICK, source="github", entity="repos")
    done = client.wait_for(job_id, timeout=20)
    job = done[job_id]
    assert job is not None
    assert job.status == "completed"
    assert job.source_type == "github"
    assert job.prog.total_urls == job.prog.completed_urls > 0
    assert job.duration is not None
    assert job.completed_at is not None
    # Frames, not only REST, carried it: the history recorded them.
    frames = client.history.to_dataframe()
    assert set(frames[frames.job_id == job_id].status) >= {"running", "completed"}


def test_mirror_updates_while_the_caller_thread_sleeps(
    server: JobServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    seen: list[frozenset[str]] = []
    client.on_change(seen.append)
    job_id = create(server, "busy cell", QUICK)
    time.sleep(3)  # the "busy cell": the I/O thread must keep applying frames meanwhile
    assert any(job_id in ids for ids in seen)  # callbacks ran while this thread slept
    wait_until(lambda: (j := client.get(job_id)) is not None and j.status == "completed")


def test_actions_reflect_at_once(server: JobServer, make_client: MakeClient) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    running = create(server, "long", SLOW)
    wait_until(lambda: (j := client.get(running)) is not None and j.status == "running")
    message = client.cancel(running)
    assert message
    job = client.get(running)
    assert job is not None
    assert job.status == "cancelled"
    assert server_jobs(server.url)[running].status == "cancelled"

    new_id = client.rerun(running)
    assert new_id != running
    assert client.get(new_id) is not None

    client.cancel(new_id)
    wait_until(lambda: (j := client.get(new_id)) is not None and j.status == "cancelled")
    client.delete(running)
    assert client.get(running) is None
    assert running not in server_jobs(server.url)


def test_action_errors_carry_the_server_text(server: JobServer, make_client: MakeClient) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    running = create(server, "long", SLOW)
    wait_until(lambda: (j := client.get(running)) is not None and j.status == "running")
    with pytest.raises(ActionError) as caught:
        client.delete(running)
    assert caught.value.status_code == 400
    assert "cancel" in caught.value.text.lower()
    with pytest.raises(ActionError) as unknown:
        client.cancel("no-such-job")
    assert unknown.value.text
    client.cancel(running)


def test_bulk_actions_report_per_id(server: JobServer, make_client: MakeClient) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    ids = [create(server, f"b{i}", QUICK) for i in range(5)]
    client.wait_for(ids, timeout=30)
    outcomes = client.rerun_many([*ids, ids[0], "missing-id"])
    assert [o.job_id for o in outcomes] == [*ids, "missing-id"]
    assert all(o.ok and o.new_job_id for o in outcomes[:5])
    assert not outcomes[5].ok
    assert outcomes[5].detail
    new_ids = [o.new_job_id for o in outcomes[:5] if o.new_job_id]
    client.wait_for(new_ids, timeout=30)
    deleted = client.delete_many(ids)
    assert all(o.ok for o in deleted)
    assert not set(ids) & {job.id for job in client.jobs()}


def test_async_forms_work_from_another_loop(server: JobServer, make_client: MakeClient) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    job_id = create(server, "async", QUICK)

    async def scenario() -> str | None:
        done = await client.wait_for_async([job_id], timeout=20)
        new_id = await client.rerun_async(job_id)
        await client.wait_for_async(new_id, timeout=20)
        outcomes = await client.delete_many_async([job_id, new_id])
        assert all(o.ok for o in outcomes)
        job = done[job_id]
        return job.status if job else None

    assert asyncio.run(scenario()) == "completed"


def test_wait_for_times_out_with_names(server: JobServer, make_client: MakeClient) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    job_id = create(server, "long", SLOW)
    with pytest.raises(TimeoutError, match=job_id[:8]):
        client.wait_for(job_id, timeout=0.5)
    with pytest.raises(KeyError, match="does-not-exist"):
        client.wait_for(["does-not-exist"], timeout=1)
    with pytest.raises(ValueError, match="unknown statuses"):
        client.wait_for(job_id, statuses=["finished"])
    client.cancel(job_id)


def test_callback_errors_never_stop_the_client(
    server: JobServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)

    def broken(ids: frozenset[str]) -> None:
        raise RuntimeError("callback bug")

    events: list[tuple[str, str | None, str | None]] = []
    client.on_change(broken)
    unsubscribe = client.on_status(lambda evs: events.extend((e.job_id, e.old, e.new) for e in evs))
    job_id = create(server, "cb", QUICK)
    client.wait_for(job_id, timeout=20)
    wait_until(lambda: (job_id, "running", "completed") in events, what="status events")
    assert "callback bug" in caplog.text
    unsubscribe()
    count = len(events)
    client.wait_for(create(server, "after", QUICK), timeout=20)
    assert len(events) == count
    assert client.connection.state == "live"


def test_blocking_call_from_the_io_thread_is_refused(
    server: JobServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    client.wait_until_synced(10)
    errors: list[BaseException] = []

    def call_back(ids: frozenset[str]) -> None:
        try:
            client.refresh()
        except RuntimeError as exc:
            errors.append(exc)

    client.on_change(call_back)
    create(server, "x", QUICK)
    wait_until(lambda: errors, what="the refusal")
    assert "_async" in str(errors[0])


def test_close_is_quick_and_clean(server: JobServer) -> None:
    client = QueueClient(server.url)
    client.wait_until_synced(10)
    wait_until(lambda: client.connection.state == "live")
    client.close()  # joins the thread for at most 2 s: it must have ended by then
    assert client.connection.state == "closed"
    assert not any(t.name.startswith("jobwidget-io") for t in threading.enumerate())
    with pytest.raises(JobWidgetError, match="not running"):
        client.cancel("x")
    with pytest.raises(JobWidgetError, match="closed"):
        client.start()


@pytest.mark.slow
def test_no_thread_or_descriptor_leak_after_200_cycles(server: JobServer) -> None:
    process = psutil.Process(os.getpid())

    def cycle() -> None:
        client = QueueClient(server.url, timeout=5)
        client.wait_until_synced(10)
        client.close()

    for _ in range(5):  # warm up lazily created pools and caches
        cycle()
    fds, threads = process.num_fds(), threading.active_count()
    for _ in range(200):
        cycle()
    assert threading.active_count() <= threads
    assert process.num_fds() <= fds + 5


def test_status_events_skip_the_first_list(server: JobServer, make_client: MakeClient) -> None:
    doomed = [
        create(server, f"failed before {i}", {**QUICK, "job_fail_rate": 1.0}) for i in range(3)
    ]
    wait_until(lambda: all(server_jobs(server.url)[i].status == "failed" for i in doomed))
    client = make_client(server.url, start=False)
    events: list[StatusEvent] = []
    client.on_status(events.extend)
    client.start()
    client.wait_until_synced(10)
    later = create(server, "after the start", QUICK)
    client.wait_for(later, timeout=20)
    wait_until(lambda: any(e.job_id == later and e.new == "completed" for e in events))
    assert not {e.job_id for e in events} & set(doomed)


def test_bad_ca_path_fails_the_constructor() -> None:
    with pytest.raises(ValueError, match=r"CA bundle .*missing\.pem"):
        QueueClient("https://127.0.0.1:9/", verify="/nonexistent/missing.pem")


def test_credentials_in_the_url_are_never_shown(server: JobServer, make_client: MakeClient) -> None:
    url = server.url.replace("http://", "http://alice:hunter2@")
    client = make_client(url)
    client.wait_until_synced(10)
    shown = [repr(client), repr(client.connection), client.display_url]
    shown += [t.name for t in threading.enumerate() if t.name.startswith("jobwidget-io")]
    assert all("hunter2" not in text for text in shown)
    assert client.connection.url == server.url
