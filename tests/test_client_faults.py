"""QueueClient under injected faults: killed servers, dropped sockets, refused /ws, bad answers."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from jobwidget.client import QueueClient
from jobwidget.connection import StatusEvent
from jobwidget.errors import JobWidgetError
from jobwidget.protocol import TERMINAL
from jobwidget.server import JobServer, run_in_thread
from jobwidget.server.jobqueue import ApiError

from .faults import FaultProxy, fault_proxy
from .helpers import server_jobs, wait_until

MakeClient = Callable[..., QueueClient]
QUICK = {"pages": 3, "page_delay": 0.05, "fail_rate": 0.0}


def create(srv: JobServer, name: str = "job", **config: float) -> str:
    return srv.create_job(name=name, job_type="crawl", config={**QUICK, **config})


def mirror_equals_server(client: QueueClient, url: str, token: str | None = None) -> bool:
    mirror = {job.id: job for job in client.jobs()}
    return mirror == server_jobs(url, token)


@pytest.fixture
def proxy(server: JobServer) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as p:
        yield p


def live(client: QueueClient) -> bool:
    return client.connection.state == "live"


def test_server_killed_and_restarted_on_the_same_port(
    server: JobServer, make_client: MakeClient
) -> None:
    client = make_client(server.url)
    wait_until(lambda: live(client), what="live")
    create(server, "before")
    server.stop()
    wait_until(lambda: client.connection.state in ("polling", "connecting"), what="outage seen")
    wait_until(lambda: client.connection.reconnect_attempts >= 2, what="retries")
    assert client.connection.last_error
    assert client.connection.next_retry_at is not None or client.connection.state == "connecting"
    relists = client.connection.relists
    server.start()
    created = create(server, "after restart")
    wait_until(lambda: live(client), what="live again")
    wait_until(lambda: client.connection.relists > relists, what="re-list on reconnect")
    assert client.connection.reconnect_attempts == 0
    client.wait_for(created, timeout=20)
    wait_until(lambda: mirror_equals_server(client, server.url), what="mirror == server")


def test_dropped_sockets_reconnect_and_relist(server: JobServer, make_client: MakeClient) -> None:
    client = make_client(server.url)
    wait_until(lambda: live(client))
    relists = client.connection.relists
    assert server.drop_connections() >= 1
    wait_until(lambda: client.connection.relists > relists and live(client), what="reconnect")
    job_id = create(server)
    client.wait_for(job_id, timeout=20)


def test_refused_websocket_falls_back_to_polling(
    server: JobServer, make_client: MakeClient
) -> None:
    server.pause_ws(True)
    client = make_client(server.url)
    wait_until(lambda: client.connection.state == "polling", what="polling")
    job_id = create(server, "seen by polling")
    wait_until(lambda: client.get(job_id) is not None, what="job via REST polling")
    assert client.connection.server_stats is not None
    server.pause_ws(False)
    wait_until(lambda: live(client), what="live again")
    polled = client.connection.relists
    time.sleep(1.0)  # polling stops once live: only the backup re-list (1 s here) may run
    assert client.connection.relists <= polled + 2


def test_rest_errors_and_html_keep_the_loop_going(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    proxy.refuse_ws = True
    proxy.rest_status = 500
    client = make_client(proxy.url)
    wait_until(lambda: "injected failure" in (client.connection.last_error or ""), what="500")
    proxy.rest_status = None
    proxy.rest_body = b"<html><body>502 Bad Gateway</body></html>"
    wait_until(lambda: "bad job list body" in (client.connection.last_error or ""), what="html")
    proxy.rest_body = None
    job_id = create(server, "after the errors")
    wait_until(lambda: client.get(job_id) is not None, what="recovered")
    assert client.connection.state == "polling"
    proxy.refuse_ws = False
    wait_until(lambda: live(client), what="live")


def test_slow_answers_time_out_and_recover(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    proxy.refuse_ws = True
    proxy.rest_delay = 3.0
    client = make_client(proxy.url, timeout=0.5)
    wait_until(lambda: "no answer in time" in (client.connection.last_error or ""), what="timeout")
    proxy.rest_delay = 0.0
    proxy.refuse_ws = False
    wait_until(lambda: live(client), what="live")
    assert client.wait_until_synced(10)


def test_garbage_frames_are_counted_and_skipped(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    client = make_client(proxy.url)
    wait_until(lambda: live(client) and proxy.connected == 1, what="live through the proxy")
    relists = client.connection.relists
    for garbage in ["not json", "{}", '{"type": "job_status_change", "payload": {"job_id": 5}}']:
        proxy.send(garbage)
    proxy.send(b"\x00\x01binary")
    proxy.send('{"type": "auth", "payload": {"cookies": "session=secret"}}')
    proxy.send('{"type": "brand_new_type", "payload": {}}')
    wait_until(lambda: client.connection.bad_frames == 4, what="4 bad frames")
    assert "secret" not in repr(client.connection)
    assert live(client)
    job_id = create(server, "after garbage")
    client.wait_for(job_id, timeout=20)
    assert client.connection.relists - relists <= 3  # garbage caused no reconnect storm


def test_oversized_frame_reconnects_and_relists(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    client = make_client(proxy.url, max_size=64 * 1024)
    wait_until(lambda: live(client) and proxy.connected == 1)
    handshakes = proxy.ws_handshakes
    proxy.send('{"type": "log", "payload": {"message": "' + "x" * 100_000 + '"}}')
    wait_until(lambda: proxy.ws_handshakes > handshakes and live(client), what="reconnect")
    assert "1009" in (client.connection.last_error or "") or client.connection.relists >= 2


def test_missing_or_wrong_token_is_fatal_without_retry_storm(make_client: MakeClient) -> None:
    with run_in_thread(port=0, token="s3cret") as srv:
        for token in (None, "wrong"):
            client = make_client(srv.url, token=token)
            wait_until(lambda c=client: c.connection.state == "error", what="auth error")
            assert "token is missing or wrong" in (client.connection.last_error or "")
            attempts = client.connection.reconnect_attempts
            time.sleep(0.6)
            assert client.connection.reconnect_attempts == attempts == 0
            with pytest.raises(Exception, match=r"stopped|not running"):
                client.wait_for("x", timeout=1)
        good = make_client(srv.url, token="s3cret")
        wait_until(lambda: live(good), what="live with the token")
        job_id = srv.create_job(name="auth ok", config=QUICK)
        good.wait_for(job_id, timeout=20)
        good.cancel_many([job_id])


def test_upstream_quirks_mode_mirror_is_true(
    quirks_server: JobServer, make_client: MakeClient
) -> None:
    srv = quirks_server
    client = make_client(srv.url)
    wait_until(lambda: live(client))
    ok = create(srv, "fine", pages=6)
    failed = create(srv, "doomed", pages=30, page_delay=0.05, job_fail_rate=1.0)
    client.wait_for([ok, failed], timeout=30)
    job = client.get(failed)
    assert job is not None
    assert job.status == "failed"
    assert job.error
    # the failed frame carries total_urls = 0; a zero never wipes what the mirror knew
    truth = server_jobs(srv.url)[failed]
    wait_until(lambda: mirror_equals_server(client, srv.url), what="mirror == server")
    assert client.get(failed) == truth
    # upstream refuses to cancel pending jobs with a 500; the outcome carries its text
    outcomes = client.cancel_many(["unknown-job"])
    assert not outcomes[0].ok
    assert outcomes[0].detail


@pytest.mark.slow
def test_chaos_then_quiet_mirror_equals_server(make_client: MakeClient) -> None:
    rng = random.Random(20261204)
    with (
        run_in_thread(port=0, workers=6, demo=3.0, stats_interval=0.5) as srv,
        fault_proxy(srv.url) as proxy,
    ):
        client = make_client(proxy.url)
        wait_until(lambda: live(client))
        terminal_seen: dict[str, str] = {}

        def remember(events: list[StatusEvent]) -> None:
            for event in events:
                if event.new in TERMINAL:
                    terminal_seen.setdefault(event.job_id, event.new)

        client.on_status(remember)

        def restart() -> None:
            srv.stop()
            time.sleep(rng.uniform(0.2, 2.0))
            srv.start()

        def flap(attr: str, value: object) -> Callable[[], None]:
            def fault() -> None:
                setattr(proxy, attr, value)
                time.sleep(rng.uniform(0.5, 2.0))
                setattr(proxy, attr, None if attr == "rest_status" else False)

            return fault

        faults: list[Callable[[], None]] = [
            restart,
            lambda: srv.drop_connections() and None,
            proxy.drop,
            flap("refuse_ws", True),
            flap("rest_status", 500),
            lambda: proxy.send("garbage {"),
        ]
        end = time.monotonic() + 60
        for _ in range(10):
            time.sleep(rng.uniform(1.0, 5.0))
            rng.choice(faults)()
        time.sleep(max(0.0, end - time.monotonic()))
        # Quiet: restart without demo load and let every job finish.
        srv.demo = None
        srv.stop()
        srv.start()  # the running jobs come back failed ("server restarted")
        for job in server_jobs(srv.url).values():
            if job.status == "pending":  # the backlog: cancel it rather than wait for it
                with contextlib.suppress(ApiError):  # it may have finished meanwhile
                    srv.cancel_job(job.id)
        wait_until(
            lambda: all(
                j.status not in ("pending", "running") for j in server_jobs(srv.url).values()
            ),
            timeout=120,
            what="server quiet",
        )
        truth = server_jobs(srv.url)  # quiet: this no longer changes
        wait_until(
            lambda: {job.id: job for job in client.jobs()} == truth,
            timeout=client.relist_interval + 1.0,  # one backup interval (and time to apply it)
            what="mirror == server within one backup interval",
        )
        assert live(client)
        # Every terminal status the mirror reported is the one the server ended with.
        for job_id, status in terminal_seen.items():
            if job_id in truth:
                assert truth[job_id].status == status, job_id
        assert len(terminal_seen) > 50  # the load really ran through the faults


def test_frames_during_a_slow_refresh_are_not_rolled_back(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    client = make_client(proxy.url, relist_interval=3600)  # no backup re-list to hide a loss
    wait_until(lambda: live(client) and proxy.connected == 1)
    job_id = create(server, "finishes during the refresh", pages=10, page_delay=0.1)
    wait_until(lambda: (j := client.get(job_id)) is not None and j.status == "running")
    proxy.rest_lag = 2.5  # the list is taken now (running) but arrives after the job ended
    client.refresh()
    proxy.rest_lag = 0.0
    assert server_jobs(server.url)[job_id].status == "completed"
    job = client.get(job_id)
    assert job is not None
    assert job.status == "completed"  # the frames seen during the list were replayed


def test_no_live_state_until_the_relist_succeeds(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    proxy.rest_status = 500
    client = make_client(proxy.url)
    wait_until(lambda: proxy.connected == 1, what="socket open")
    wait_until(lambda: "injected failure" in (client.connection.last_error or ""), what="500")
    assert client.connection.state == "connecting"
    assert not client.wait_until_synced(0.5)
    proxy.rest_status = None
    wait_until(lambda: live(client), what="live once the list worked")
    assert client.wait_until_synced(1)


def test_close_during_bulk_actions_raises_a_clear_error(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    client = make_client(proxy.url, action_concurrency=1)
    wait_until(lambda: live(client))
    ids = [create(server, f"c{i}", pages=500, page_delay=0.1) for i in range(4)]
    proxy.rest_lag = 1.0
    errors: list[BaseException] = []

    def cancel_all() -> None:
        try:
            client.cancel_many(ids)
        except BaseException as exc:
            errors.append(exc)

    requests = proxy.rest_requests
    worker = threading.Thread(target=cancel_all)
    worker.start()
    wait_until(lambda: proxy.rest_requests > requests, what="a cancel in flight")
    client.close()
    worker.join(10)
    assert len(errors) == 1
    assert isinstance(errors[0], JobWidgetError)
    assert "closed" in str(errors[0])
    proxy.rest_lag = 0.0
    for job_id in ids:
        with contextlib.suppress(ApiError):
            server.cancel_job(job_id)


def test_frames_of_a_job_being_fetched_are_not_lost(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    client = make_client(proxy.url, relist_interval=3600)  # no backup re-list to hide a loss
    wait_until(lambda: live(client) and proxy.connected == 1)
    proxy.rest_lag = 1.5  # the job's whole life passes while its fetch is on the way
    job_id = create(server, "short-lived")
    wait_until(lambda: server_jobs(server.url)[job_id].status == "completed")
    wait_until(lambda: client.get(job_id) is not None, what="the fetched job")
    proxy.rest_lag = 0.0
    job = client.get(job_id)
    assert job is not None
    assert job.status == "completed"  # the frames that came during the fetch were replayed


def test_a_job_that_does_not_decode_leaves_the_rest(
    server: JobServer, proxy: FaultProxy, make_client: MakeClient
) -> None:
    ids = [create(server, f"row {i}") for i in range(3)]
    wait_until(lambda: all(server_jobs(server.url)[i].status == "completed" for i in ids))

    def pause_one(path: str, body: bytes) -> bytes:
        if path != "/api/jobs":
            return body
        page = json.loads(body)
        for job in page["jobs"]:
            if job["id"] == ids[0]:
                job["status"] = "paused"  # a status from a newer server
        return json.dumps(page).encode()

    proxy.rewrite = pause_one
    client = make_client(proxy.url)
    assert client.wait_until_synced(10)
    assert {job.id for job in client.jobs()} == set(ids[1:])
    assert "1 job(s) of the list did not decode" in (client.connection.last_error or "")
    assert "paused" in (client.connection.last_error or "")
