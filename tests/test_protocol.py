"""Tests of jobwidget.protocol: every REST body and frame, the normalisations, bad input."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobwidget import protocol
from jobwidget.errors import JobWidgetError, ProtocolError
from jobwidget.protocol import (
    ACTIVE,
    STATUSES,
    TERMINAL,
    CrawlProgress,
    IgnoredFrame,
    Job,
    JobDeleted,
    JobStatusChange,
    LogMessage,
    Progress,
    QueueStats,
    ServiceStatus,
    decode_action,
    decode_frame,
    decode_job,
    decode_job_list,
    decode_job_list_rows,
    decode_logs,
    decode_rerun,
    decode_stats,
    error_text,
    status_rank,
)

UTC = dt.UTC
UNSET = "0001-01-01T00:00:00Z"
JOB: dict[str, Any] = {
    "id": "3f2b9c1e-8a7d-4e0b-9c61-2f4f1d7a9b10",
    "name": "Confluence docs",
    "description": "",
    "source_type": "confluence",
    "entity_type": "spaces",
    "status": "running",
    "config": {
        "max_depth": 2,
        "max_pages": 100,
        "concurrency": 4,
        "rate_limit": 1000000000,
        "retry_attempts": 3,
        "retry_backoff": 2000000000,
        "follow_links": True,
    },
    "progress": {
        "total_urls": 10,
        "completed_urls": 3,
        "failed_urls": 0,
        "pending_urls": 7,
        "current_url": "https://example.org/a",
        "percentage": 30,
        "start_time": "2025-10-29T22:13:01+11:00",
        "estimated_completion": UNSET,
    },
    "created_at": "2025-10-29T22:13:01+11:00",
    "started_at": UNSET,
    "completed_at": UNSET,
    "last_heartbeat": "2025-10-29T22:14:10+11:00",
    "result_count": 0,
    "failed_count": 0,
    "documents_saved": 0,
    "seed_urls": ["https://example.org/"],
}


def frame(kind: str, payload: Any, **envelope: Any) -> str:
    return json.dumps({"type": kind, "payload": payload, **envelope})


# ---------------------------------------------------------------- REST bodies


def test_job_of_the_protocol_document() -> None:
    job = decode_job(json.dumps(JOB) + "\n")
    assert (job.id, job.status, job.source_type, job.entity_type) == (
        JOB["id"],
        "running",
        "confluence",
        "spaces",
    )
    assert job.created_at == dt.datetime(2025, 10, 29, 11, 13, 1, tzinfo=UTC)
    assert job.created_at.tzinfo is UTC
    assert job.last_heartbeat == dt.datetime(2025, 10, 29, 11, 14, 10, tzinfo=UTC)
    assert job.started_at is None  # "0001-01-01T00:00:00Z" means not set
    assert job.completed_at is None
    assert job.error is None
    assert job.duration is None
    assert job.config.rate_limit == 1_000_000_000  # nanoseconds stay integers
    assert job.config.retry_backoff == 2_000_000_000
    assert job.config.follow_links is True
    p = job.prog
    assert isinstance(job.progress, Progress)
    assert (p.total_urls, p.completed_urls, p.pending_urls, p.percentage) == (10, 3, 7, 30.0)
    assert p.start_time == dt.datetime(2025, 10, 29, 11, 13, 1, tzinfo=UTC)
    assert p.estimated_completion is None
    assert job.seed_urls == ["https://example.org/"]


def test_job_progress_sent_as_a_string() -> None:
    body = dict(JOB, progress=json.dumps(JOB["progress"]))
    assert decode_job(json.dumps(body)).prog == decode_job(json.dumps(JOB)).prog
    for empty in ("", None):
        assert decode_job(json.dumps(dict(JOB, progress=empty))).prog == Progress()
    with pytest.raises(ProtocolError, match="progress"):
        decode_job(json.dumps(dict(JOB, progress="{not json")))


def test_job_minimal_extra_fields_and_error() -> None:
    job = decode_job(
        b'{"id": "x", "status": "failed", "error": "boom", "unknown_field": [1, {"a": 2}]}'
    )
    assert (job.id, job.status, job.error, job.name, job.seed_urls) == (
        "x",
        "failed",
        "boom",
        "",
        [],
    )
    assert job.prog == Progress()
    assert decode_job(b'{"id": "x", "status": "failed", "error": ""}').error is None


def test_job_time_normalisation() -> None:
    body = dict(
        JOB,
        created_at="2025-10-29T22:13:01.123456789+11:00",
        started_at="2025-10-29T10:00:00",  # no offset: taken as UTC
        completed_at="2025-10-29T10:00:30.5-02:00",
    )
    job = decode_job(json.dumps(body))
    assert job.created_at == dt.datetime(2025, 10, 29, 11, 13, 1, 123457, tzinfo=UTC)
    assert job.started_at == dt.datetime(2025, 10, 29, 10, 0, 0, tzinfo=UTC)
    assert job.completed_at == dt.datetime(2025, 10, 29, 12, 0, 30, 500000, tzinfo=UTC)
    assert job.duration == 2 * 3600 + 30.5  # computed from the two times


def test_job_list_stats_action_rerun_logs() -> None:
    page = decode_job_list(json.dumps({"jobs": [JOB], "total_count": 7, "limit": 50}) + "\n")
    assert (len(page.jobs or []), page.total_count, page.limit, page.offset) == (1, 7, 50, 0)
    assert decode_job_list(b'{"jobs": null, "total_count": 0}').jobs == []
    stats = decode_stats(
        b'{"total_jobs": 6, "pending_jobs": 1, "running_jobs": 2, "completed_jobs": 1,'
        b' "failed_jobs": 1, "cancelled_jobs": 1}\n'
    )
    assert tuple(msgspec.structs.astuple(stats)) == (6, 1, 2, 1, 1, 1)
    action = decode_action(b'{"job_id": "x", "message": "Job cancelled"}')
    assert (action.job_id, action.message) == ("x", "Job cancelled")
    rerun = decode_rerun(b'{"original_job_id": "x", "new_job_id": "y", "message": "ok"}')
    assert (rerun.original_job_id, rerun.new_job_id) == ("x", "y")
    logs = decode_logs(b'{"job_id": "x", "logs": ["a", {"b": 1}], "count": 2, "order": "desc"}')
    assert (logs.logs, logs.count, logs.order) == (["a", {"b": 1}], 2, "desc")
    assert decode_logs(b'{"job_id": "x", "logs": null}').logs == []


@pytest.mark.parametrize(
    ("decoder", "body", "field"),
    [
        (decode_job, b'{"id": "x", "status": "sleeping"}', "status"),
        (decode_job, b'{"id": "x"}', "status"),
        (decode_job, b'{"id": "x", "status": "pending", "result_count": "3"}', "result_count"),
        (decode_job, b'{"id": "x", "status": "pending", "created_at": "yesterday"}', "created_at"),
        (decode_job_list, b'{"jobs": [{"id": 3, "status": "pending"}]}', "id"),
        (decode_stats, b'{"total_jobs": 1.5}', "total_jobs"),
        (decode_rerun, b'{"original_job_id": "x"}', "new_job_id"),
        (decode_logs, b'{"count": "many"}', "count"),
        (decode_action, b'{"job_id": 1}', "job_id"),
    ],
)
def test_bad_rest_bodies_name_the_field(decoder: Any, body: bytes, field: str) -> None:
    with pytest.raises(ProtocolError, match=field) as info:
        decoder(body)
    assert isinstance(info.value, JobWidgetError)
    assert isinstance(info.value, ValueError)


def test_bad_rest_body_shows_its_start() -> None:
    with pytest.raises(ProtocolError, match="body starts b'<html>"):
        decode_job(b"<html>502 Bad Gateway</html>")
    with pytest.raises(ProtocolError, match="body starts 'Job not found"):
        decode_job("Job not found\n")


def test_error_text() -> None:
    assert error_text(b"Job not found\n") == "Job not found"
    assert error_text('{"error": "cancel it first"}\n') == "cancel it first"
    assert error_text(b'{"message": "nope"}') == "nope"
    assert error_text(b'{"error": ""}') == '{"error": ""}'
    assert error_text(b"{broken json") == "{broken json"
    assert error_text("<b>x</b>") == "<b>x</b>"
    long = error_text("x" * 1000, limit=10)
    assert (len(long), long[-1]) == (10, "…")
    assert error_text(b"\xff bad utf8") == "\ufffd bad utf8"


def test_statuses() -> None:
    assert STATUSES == ("pending", "running", "completed", "failed", "cancelled")
    assert set(STATUSES) == TERMINAL | ACTIVE
    assert [status_rank(s) for s in STATUSES] == [0, 1, 2, 2, 2]


# ---------------------------------------------------------------- frames


def test_job_status_change_frame() -> None:
    payload = {
        "job_id": "x",
        "status": "completed",
        "source_type": "jira",
        "entity_type": "issues",
        "result_count": 5,
        "failed_count": 1,
        "total_urls": 6,
        "completed_urls": 6,
        "pending_urls": 0,
        "duration": 12.75,
        "timestamp": "2025-10-29T22:13:01.123456789+11:00",
    }
    f = decode_frame(frame("job_status_change", payload, seq=42))
    assert (f.type, f.seq) == ("job_status_change", 42)
    u = f.payload
    assert isinstance(u, JobStatusChange)
    assert (u.job_id, u.status, u.result_count, u.total_urls, u.duration) == (
        "x",
        "completed",
        5,
        6,
        12.75,
    )
    assert u.timestamp == dt.datetime(2025, 10, 29, 11, 13, 1, 123457, tzinfo=UTC)
    assert u.timestamp.tzinfo is UTC
    assert u.error is None
    failed = decode_frame(frame("job_status_change", dict(payload, status="failed", error="boom")))
    assert isinstance(failed.payload, JobStatusChange)
    assert (failed.payload.error, failed.seq) == ("boom", None)
    empty = decode_frame(frame("job_status_change", {"job_id": "x", "status": "running"}))
    assert isinstance(empty.payload, JobStatusChange)
    assert empty.payload.timestamp is None
    unset = decode_frame(frame("job_status_change", dict(payload, timestamp=UNSET, error="")))
    assert isinstance(unset.payload, JobStatusChange)
    assert (unset.payload.timestamp, unset.payload.error) == (None, None)


def test_crawl_progress_frame_is_camel_case() -> None:
    payload = {
        "jobId": "x",
        "sourceType": "github",
        "entityType": "repos",
        "status": "running",
        "totalUrls": 10,
        "completedUrls": 4,
        "failedUrls": 1,
        "pendingUrls": 5,
        "percentage": 40.0,
        "currentUrl": "https://example.org/4",
        "estimatedCompletion": "2025-10-29T22:20:00+11:00",
        "errors": ["timeout"],
    }
    u = decode_frame(frame("crawl_progress", payload)).payload
    assert isinstance(u, CrawlProgress)
    assert (u.job_id, u.source_type, u.total_urls, u.failed_urls, u.current_url) == (
        "x",
        "github",
        10,
        1,
        "https://example.org/4",
    )
    assert u.estimated_completion == dt.datetime(2025, 10, 29, 11, 20, tzinfo=UTC)
    assert u.errors == ["timeout"]


def test_other_frames() -> None:
    queue = decode_frame(
        frame(
            "queue_stats",
            {
                "total_messages": 9,
                "pending_messages": 3,
                "in_flight_messages": 2,
                "concurrency": 4,
                "queue_name": "jobs",
                "timestamp": "2025-10-29T22:13:01+11:00",
            },
        )
    ).payload
    assert queue == QueueStats(9, 3, 2, 4, "jobs", dt.datetime(2025, 10, 29, 11, 13, 1, tzinfo=UTC))
    status = decode_frame(frame("status", {"service": "crawler", "state": "ok"})).payload
    assert status == ServiceStatus({"service": "crawler", "state": "ok"})
    log = decode_frame(frame("log", {"timestamp": "22:13:01", "level": "info", "message": "hi"}))
    assert log.payload == LogMessage("22:13:01", "info", "hi")
    deleted = decode_frame(frame("job_deleted", {"job_id": "x", "timestamp": UNSET}, seq=3))
    assert (deleted.payload, deleted.seq) == (JobDeleted("x", None), 3)
    for kind in ("job_spawn", "app_status"):
        f = decode_frame(frame(kind, {"parent_job_id": "x", "state": "y"}))
        assert f.payload == IgnoredFrame(kind, True)
    unknown = decode_frame(frame("brand_new", {"anything": [1, 2]}))
    assert unknown.payload == IgnoredFrame("brand_new", False)
    no_payload = decode_frame('{"type": "app_status"}')
    assert no_payload.payload == IgnoredFrame("app_status", True)


@pytest.mark.parametrize(
    "payload",
    [
        {"cookies": [{"name": "session", "value": "SECRET-COOKIE-VALUE"}]},
        "SECRET-COOKIE-VALUE",
        ["SECRET-COOKIE-VALUE", {"deep": "SECRET-COOKIE-VALUE"}],
    ],
)
def test_auth_frame_payload_is_never_kept(payload: Any) -> None:
    f = decode_frame(frame("auth", payload, seq=5))
    assert f.payload == IgnoredFrame("auth", True)
    assert f.seq == 5
    assert "SECRET" not in repr(f)
    assert b"SECRET" not in msgspec.json.encode(f)
    assert not any("SECRET" in repr(v) for v in msgspec.structs.astuple(f))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("not json", "envelope"),
        ("[1, 2]", "envelope"),
        ('{"payload": {}}', "type"),
        ('{"type": 5}', "type"),
        ('{"type": "x", "seq": "one"}', "seq"),
        ('{"type": "job_status_change", "payload": {"job_id": "x"}}', "status"),
        (
            '{"type": "job_status_change", "payload": {"job_id": "x", "status": "running",'
            ' "total_urls": "ten"}}',
            "total_urls",
        ),
        ('{"type": "crawl_progress", "payload": {"jobId": "x", "totalUrls": []}}', "totalUrls"),
        ('{"type": "job_deleted", "payload": {}}', "job_id"),
        ('{"type": "status", "payload": [1]}', "status"),
        ('{"type": "queue_stats", "payload": {"concurrency": "x"}}', "concurrency"),
        ('{"type": "log", "payload": null}', "log"),
    ],
)
def test_bad_frames_raise_protocol_error_naming_the_field(text: str, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decode_frame(text)


def test_binary_frames_are_refused() -> None:
    with pytest.raises(ProtocolError, match="binary frame of 2 bytes"):
        decode_frame(b"{}")
    with pytest.raises(ProtocolError, match="binary"):
        decode_frame(memoryview(b"{}"))


# ---------------------------------------------------------------- property (c)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["running", UNSET, "2025-10-29T22:13:01+11:00", "x"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["job_id", "jobId", "status", "timestamp", "total_urls", "progress"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)
KINDS = st.sampled_from(
    [
        "job_status_change",
        "crawl_progress",
        "job_deleted",
        "queue_stats",
        "status",
        "log",
        "auth",
        "job_spawn",
        "other",
    ]
)
REST = [decode_job, decode_job_list, decode_stats, decode_action, decode_rerun, decode_logs]


def only_protocol_errors(call: Any, data: Any) -> None:
    """Decode ``data``: success or ProtocolError pass, any other exception fails the test."""
    with contextlib.suppress(ProtocolError):
        call(data)


@settings(max_examples=400, deadline=None)
@given(raw=st.binary(max_size=200), text=st.text(max_size=200))
def test_random_bytes_and_text_raise_only_protocol_error(raw: bytes, text: str) -> None:
    only_protocol_errors(decode_frame, raw)
    only_protocol_errors(decode_frame, text)
    for decode in REST:
        only_protocol_errors(decode, raw)
        only_protocol_errors(decode, text)


@settings(max_examples=400, deadline=None)
@given(kind=KINDS, payload=JSON, seq=JSON, anything=JSON)
def test_random_json_raises_only_protocol_error(
    kind: str, payload: Any, seq: Any, anything: Any
) -> None:
    only_protocol_errors(decode_frame, json.dumps({"type": kind, "payload": payload, "seq": seq}))
    only_protocol_errors(decode_frame, json.dumps(anything))
    job_like = dict(JOB, **payload) if isinstance(payload, dict) else payload
    for decode in REST:
        only_protocol_errors(decode, json.dumps(anything))
        only_protocol_errors(decode, json.dumps(job_like))
        if isinstance(payload, dict):
            only_protocol_errors(decode, json.dumps({"jobs": [job_like]}))
    if isinstance(payload, dict):
        only_protocol_errors(decode_job, json.dumps(dict(JOB, progress=json.dumps(payload))))


def test_decoded_job_round_trips_through_the_store_types() -> None:
    job = decode_job(json.dumps(JOB))
    assert isinstance(job, Job)
    assert msgspec.json.decode(msgspec.json.encode(job), type=Job) == job


class _Fixed(dt.tzinfo):
    """A fixed-offset tzinfo that is not a ``datetime.timezone`` (takes the general path)."""

    def __init__(self, minutes: int) -> None:
        self._offset = dt.timedelta(minutes=minutes)

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return self._offset

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)


def assert_utc(value: dt.datetime | None, expected: dt.datetime) -> None:
    """``value`` is ``expected`` with the UTC tzinfo object itself."""
    assert value == expected
    assert value is not None
    assert value.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31)),
    minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
def test_any_offset_becomes_the_same_instant_in_utc(when: dt.datetime, minutes: int) -> None:
    offset = dt.timedelta(minutes=minutes)
    expected = when.replace(tzinfo=dt.timezone(offset)).astimezone(UTC)
    text = when.replace(tzinfo=dt.timezone(offset)).isoformat()
    payload = {"job_id": "x", "status": "running", "timestamp": text}
    u = decode_frame(frame("job_status_change", payload)).payload
    assert isinstance(u, JobStatusChange)
    assert_utc(u.timestamp, expected)
    # Built directly: a named timezone equal to a cached one, and a tzinfo of another class.
    for tz in (dt.timezone(offset, "named"), _Fixed(minutes)):
        aware = when.replace(tzinfo=tz)
        assert_utc(
            JobStatusChange(job_id="x", status="running", timestamp=aware).timestamp, expected
        )
        assert_utc(Progress(start_time=aware).start_time, expected)
    naive = JobStatusChange(job_id="x", status="running", timestamp=when)
    assert_utc(naive.timestamp, when.replace(tzinfo=UTC))
    year_one = dt.datetime(1, 1, 1, 12, tzinfo=dt.timezone(offset))
    assert JobStatusChange(job_id="x", status="running", timestamp=year_one).timestamp is None


VALID_PAYLOADS = st.sampled_from(
    [
        {"job_id": "x", "status": "running", "timestamp": "2025-10-29T22:13:01.5+11:00"},
        {"job_id": "x", "status": "failed", "error": "", "timestamp": UNSET, "total_urls": 3},
        {"jobId": "x", "status": "running", "totalUrls": 4, "estimatedCompletion": UNSET},
        {"job_id": "x", "timestamp": "2025-10-29T22:13:01Z"},
        {"queue_name": "q", "pending_messages": 2, "timestamp": "2025-10-29T22:13:01-05:00"},
        {"timestamp": "22:13:01", "level": "info", "message": "hi"},
        {"cookie": "secret"},
        {},
    ]
)


def outcome(decode: Any, text: str) -> Any:
    """The frame ``decode`` returns for ``text`` (with its payload's class), or its error text."""
    try:
        decoded = decode(text)
    except ProtocolError as exc:
        return str(exc)
    return decoded, type(decoded.payload)


@settings(max_examples=300, deadline=None)
@given(
    kind=KINDS,
    payload=VALID_PAYLOADS | JSON,
    seq=st.none() | st.integers(0, 10) | JSON,
    type_last=st.booleans(),
)
def test_one_pass_and_two_pass_frame_decoding_agree(
    kind: str, payload: Any, seq: Any, type_last: bool
) -> None:
    envelope = {"payload": payload, "seq": seq}
    envelope = {**envelope, "type": kind} if type_last else {"type": kind, **envelope}
    text = json.dumps(envelope)
    assert outcome(decode_frame, text) == outcome(protocol._decode_frame_slowly, text)


def test_a_bad_row_leaves_the_rest_of_the_list() -> None:
    good = {**JOB, "id": "good"}
    bad = {**JOB, "id": "bad", "status": "paused"}  # a status this version does not know
    body = json.dumps({"jobs": [good, bad], "total_count": 2, "limit": 0, "offset": 0})
    with pytest.raises(ProtocolError, match="status"):
        decode_job_list(body)
    page, errors = decode_job_list_rows(body)
    assert [job.id for job in page.jobs or []] == ["good"]
    assert page.total_count == 2
    assert len(errors) == 1
    assert "job #1" in errors[0]
    assert "paused" in errors[0]
    whole, none = decode_job_list_rows(json.dumps({"jobs": [good], "total_count": 1}))
    assert none == []
    assert whole == decode_job_list(json.dumps({"jobs": [good], "total_count": 1}))
    with pytest.raises(ProtocolError, match="job list"):
        decode_job_list_rows("<html>502</html>")
