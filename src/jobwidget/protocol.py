"""Typed wire protocol of the job server: decoding and normalisation of REST bodies and frames.

Every decoder here takes the raw bytes (or text) received from the network and returns frozen
typed objects, or raises :class:`~jobwidget.errors.ProtocolError` and nothing else. The quirks of
the upstream server (``protocol.md``) are normalised on the way in:

- ``0001-01-01T00:00:00Z`` ("not set") becomes ``None``;
- every time becomes a timezone-aware UTC :class:`~datetime.datetime` (any offset, nanosecond
  fractions rounded to microseconds; a time without an offset is taken as UTC);
- a ``progress`` sent as a JSON string is decoded;
- nanosecond durations in ``config`` stay integers;
- unknown fields are ignored, missing optional ones take their defaults;
- ``auth`` frames are recognised and dropped without their payload ever being decoded or kept.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, Final, Literal, TypeAlias, TypeVar, Union

import msgspec

from .errors import ProtocolError

__all__ = [
    "ACTIVE",
    "STATUSES",
    "TERMINAL",
    "ActionResult",
    "CrawlProgress",
    "Frame",
    "IgnoredFrame",
    "Job",
    "JobConfig",
    "JobDeleted",
    "JobList",
    "JobLogs",
    "JobStats",
    "JobStatus",
    "JobStatusChange",
    "LogMessage",
    "Message",
    "Progress",
    "QueueStats",
    "RerunResult",
    "ServiceStatus",
    "decode_action",
    "decode_frame",
    "decode_job",
    "decode_job_list",
    "decode_job_list_rows",
    "decode_logs",
    "decode_rerun",
    "decode_stats",
    "error_text",
    "status_rank",
]

JobStatus: TypeAlias = Literal["pending", "running", "completed", "failed", "cancelled"]

#: The five statuses in lifecycle order.
STATUSES: Final[tuple[JobStatus, ...]] = ("pending", "running", "completed", "failed", "cancelled")
#: Statuses after which a job never changes again (except through a REST answer).
TERMINAL: Final[frozenset[str]] = frozenset({"completed", "failed", "cancelled"})
#: Statuses of jobs that may still change.
ACTIVE: Final[frozenset[str]] = frozenset({"pending", "running"})

_RANK: Final[dict[str, int]] = {
    "pending": 0,
    "running": 1,
    "completed": 2,
    "failed": 2,
    "cancelled": 2,
}

_UNSET_YEAR: Final = 1
_UTC: Final = _dt.UTC
_force_setattr: Final = msgspec.structs.force_setattr


def status_rank(status: str) -> int:
    """Return the lifecycle rank of ``status``: pending 0 < running 1 < terminal 2."""
    return _RANK[status]


# Fixed offset -> (a base time in that offset, the same instant in UTC): ``utc_base + (value -
# base)`` converts a time of that offset to UTC exactly, in two arithmetic operations (the
# subtraction of two times sharing one tzinfo object ignores offsets), about three times
# faster than ``astimezone``. Only `datetime.timezone` offsets (fixed, a few distinct ones in
# practice) are cached; any other tzinfo takes ``astimezone``.
_SHIFTS: Final[dict[_dt.tzinfo | None, tuple[_dt.datetime, _dt.datetime]]] = {}
_MAX_SHIFTS: Final = 64
_SHIFT_BASE: Final = _dt.datetime(2000, 1, 1)


def _utc(value: _dt.datetime | None) -> _dt.datetime | None:
    """Normalise a decoded time: year 1 means unset, naive means UTC, anything else -> UTC."""
    if value is None or value.year == _UNSET_YEAR:
        return None
    tz = value.tzinfo
    if tz is None:
        return value.replace(tzinfo=_UTC)
    if tz is _UTC:
        return value
    shift = _SHIFTS.get(tz)
    if shift is None:
        if type(tz) is not _dt.timezone or len(_SHIFTS) >= _MAX_SHIFTS:
            return value.astimezone(_UTC)
        base = _SHIFT_BASE.replace(tzinfo=tz)
        shift = _SHIFTS[tz] = (base, base.astimezone(_UTC))
    return shift[1] + (value - shift[0])


class Progress(msgspec.Struct, frozen=True, gc=False):
    """Progress of one job as the server reports it."""

    total_urls: int = 0
    completed_urls: int = 0
    failed_urls: int = 0
    pending_urls: int = 0
    current_url: str = ""
    percentage: float = 0.0
    start_time: _dt.datetime | None = None
    estimated_completion: _dt.datetime | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "start_time", _utc(self.start_time))
        msgspec.structs.force_setattr(self, "estimated_completion", _utc(self.estimated_completion))


_EMPTY_PROGRESS: Final = Progress()
_progress_decoder: Final = msgspec.json.Decoder(Progress)


class JobConfig(msgspec.Struct, frozen=True, gc=False):
    """Crawl settings of a job. ``rate_limit`` and ``retry_backoff`` are integer nanoseconds."""

    max_depth: int = 0
    max_pages: int = 0
    concurrency: int = 0
    rate_limit: int = 0
    retry_attempts: int = 0
    retry_backoff: int = 0
    follow_links: bool = False


class Job(msgspec.Struct, frozen=True, gc=False):
    """One job as listed by ``GET /api/jobs`` or ``GET /api/jobs/{id}``.

    Times are timezone-aware UTC or ``None`` when unset; ``error`` is ``None`` when empty.
    ``duration`` (seconds) is not sent by the upstream REST API: it is taken from a
    ``completed`` frame, or computed from ``started_at`` and ``completed_at``.
    """

    id: str
    status: JobStatus
    name: str = ""
    description: str = ""
    source_type: str = ""
    entity_type: str = ""
    config: JobConfig = JobConfig()
    progress: Progress | str | None = None
    created_at: _dt.datetime | None = None
    started_at: _dt.datetime | None = None
    completed_at: _dt.datetime | None = None
    last_heartbeat: _dt.datetime | None = None
    error: str | None = None
    result_count: int = 0
    failed_count: int = 0
    documents_saved: int = 0
    seed_urls: list[str] = []
    duration: float | None = None

    def __post_init__(self) -> None:
        progress = self.progress
        if progress is None or progress == "":
            progress = _EMPTY_PROGRESS
        elif isinstance(progress, str):
            try:
                progress = _progress_decoder.decode(progress)
            except msgspec.DecodeError as exc:
                raise ValueError(f"`progress` string is not a progress object: {exc}") from None
        setattr_ = msgspec.structs.force_setattr
        setattr_(self, "progress", progress)
        setattr_(self, "created_at", _utc(self.created_at))
        setattr_(self, "started_at", _utc(self.started_at))
        setattr_(self, "completed_at", _utc(self.completed_at))
        setattr_(self, "last_heartbeat", _utc(self.last_heartbeat))
        if self.error == "":
            setattr_(self, "error", None)
        if self.duration is None and self.started_at and self.completed_at:
            setattr_(self, "duration", (self.completed_at - self.started_at).total_seconds())

    @property
    def prog(self) -> Progress:
        """The decoded :class:`Progress` (never a string or ``None`` after decoding)."""
        progress = self.progress
        return progress if isinstance(progress, Progress) else _EMPTY_PROGRESS


class JobList(msgspec.Struct, frozen=True):
    """One page of ``GET /api/jobs``."""

    jobs: list[Job] | None = None
    total_count: int = 0
    limit: int = 0
    offset: int = 0

    def __post_init__(self) -> None:
        if self.jobs is None:
            msgspec.structs.force_setattr(self, "jobs", [])


class JobStats(msgspec.Struct, frozen=True):
    """Global counts of ``GET /api/jobs/stats``."""

    total_jobs: int = 0
    pending_jobs: int = 0
    running_jobs: int = 0
    completed_jobs: int = 0
    failed_jobs: int = 0
    cancelled_jobs: int = 0


class ActionResult(msgspec.Struct, frozen=True):
    """Answer of cancel and delete."""

    job_id: str = ""
    message: str = ""


class RerunResult(msgspec.Struct, frozen=True):
    """Answer of ``POST /api/jobs/{id}/rerun`` (201)."""

    new_job_id: str
    original_job_id: str = ""
    message: str = ""


class JobLogs(msgspec.Struct, frozen=True):
    """Answer of ``GET /api/jobs/{id}/logs``; ``logs`` entries are kept as the server sent them."""

    job_id: str = ""
    logs: list[Any] | None = None
    count: int = 0
    order: str = "asc"

    def __post_init__(self) -> None:
        if self.logs is None:
            msgspec.structs.force_setattr(self, "logs", [])


# --------------------------------------------------------------------------- frames


class JobStatusChange(msgspec.Struct, frozen=True, gc=False):
    """Payload of a ``job_status_change`` frame. Counts sent as 0 may mean "not known"."""

    job_id: str
    status: JobStatus
    source_type: str = ""
    entity_type: str = ""
    result_count: int = 0
    failed_count: int = 0
    total_urls: int = 0
    completed_urls: int = 0
    pending_urls: int = 0
    error: str | None = None
    duration: float | None = None
    timestamp: _dt.datetime | None = None

    def __post_init__(self) -> None:
        # The hot path of every frame: `_utc` inlined for a stamp with a known offset.
        ts = self.timestamp
        if ts is not None and (ts.tzinfo is not _UTC or ts.year == _UNSET_YEAR):
            shift = _SHIFTS.get(ts.tzinfo)
            if shift is not None and ts.year != _UNSET_YEAR:
                _force_setattr(self, "timestamp", shift[1] + (ts - shift[0]))
            else:
                _force_setattr(self, "timestamp", _utc(ts))
        if self.error == "":
            _force_setattr(self, "error", None)


class CrawlProgress(msgspec.Struct, frozen=True, rename="camel", gc=False):
    """Payload of a ``crawl_progress`` frame (camelCase on the wire)."""

    job_id: str
    status: JobStatus | None = None
    source_type: str = ""
    entity_type: str = ""
    total_urls: int = 0
    completed_urls: int = 0
    failed_urls: int = 0
    pending_urls: int = 0
    percentage: float = 0.0
    current_url: str = ""
    estimated_completion: _dt.datetime | None = None
    errors: list[Any] | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "estimated_completion", _utc(self.estimated_completion))


class JobDeleted(msgspec.Struct, frozen=True, gc=False):
    """Payload of a ``job_deleted`` frame (reference-server extension)."""

    job_id: str
    timestamp: _dt.datetime | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "timestamp", _utc(self.timestamp))


class QueueStats(msgspec.Struct, frozen=True, gc=False):
    """Payload of a ``queue_stats`` frame: the worker queue's own counters."""

    total_messages: int = 0
    pending_messages: int = 0
    in_flight_messages: int = 0
    concurrency: int = 0
    queue_name: str = ""
    timestamp: _dt.datetime | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "timestamp", _utc(self.timestamp))


class ServiceStatus(msgspec.Struct, frozen=True):
    """Payload of a ``status`` frame (service health); its fields are free-form."""

    details: dict[str, Any]


class LogMessage(msgspec.Struct, frozen=True, gc=False):
    """Payload of a ``log`` frame; ``timestamp`` is ``HH:MM:SS`` text upstream."""

    timestamp: str = ""
    level: str = ""
    message: str = ""


class IgnoredFrame(msgspec.Struct, frozen=True, gc=False):
    """A frame a client does not act on: ``auth`` (payload dropped unread), ``job_spawn``,
    ``app_status`` or a type this version does not know (``known`` is then ``False``)."""

    type: str
    known: bool


Message: TypeAlias = (
    JobStatusChange
    | CrawlProgress
    | JobDeleted
    | QueueStats
    | ServiceStatus
    | LogMessage
    | IgnoredFrame
)


class Frame(msgspec.Struct, frozen=True, gc=False):
    """One decoded WebSocket frame: its ``type``, optional ``seq`` and typed ``payload``."""

    type: str
    payload: Message
    seq: int | None = None


class _Envelope(msgspec.Struct, gc=False):
    type: str
    payload: msgspec.Raw = msgspec.Raw(b"null")
    seq: int | None = None


_PAYLOADS: Final[dict[str, type[Message]]] = {
    "job_status_change": JobStatusChange,
    "crawl_progress": CrawlProgress,
    "job_deleted": JobDeleted,
    "queue_stats": QueueStats,
    "log": LogMessage,
}
_envelope_decoder: Final = msgspec.json.Decoder(_Envelope)
_payload_decoders: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    kind: msgspec.json.Decoder(payload) for kind, payload in _PAYLOADS.items()
}
# The fast path: one pass over a frame of a known type, into an envelope tagged by `type`
# whose typed payload is decoded in the same pass. Anything else (other types, bad frames)
# fails here and takes the two-pass path, which also words the errors.
_tagged_decoder: Final[msgspec.json.Decoder[Any]] = msgspec.json.Decoder(
    Union[  # noqa: UP007  # a union built at run time
        tuple(
            msgspec.defstruct(
                f"_{kind}_envelope",
                [("payload", payload), ("seq", int | None, None)],
                tag_field="type",
                tag=kind,
                gc=False,
                namespace={"kind": kind},
            )
            for kind, payload in _PAYLOADS.items()
        )
    ]
)
_dict_decoder: Final = msgspec.json.Decoder(dict[str, Any])
_IGNORED_KNOWN: Final = frozenset({"auth", "job_spawn", "app_status"})


def decode_frame(data: str | bytes | bytearray | memoryview) -> Frame:
    """Decode one WebSocket message into a :class:`Frame`.

    Parameters
    ----------
    data : str
        The text of the frame. Binary frames (``bytes``) are refused: the protocol only uses text.

    Raises
    ------
    ProtocolError
        For binary frames, text that is not JSON, a missing ``type``, or a payload that does
        not match its type (the message names the field).
    """
    if not isinstance(data, str):
        raise ProtocolError(f"binary frame of {len(data)} bytes; the protocol sends only text")
    try:
        tagged = _tagged_decoder.decode(data)
    except msgspec.DecodeError:
        return _decode_frame_slowly(data)
    return Frame(tagged.kind, tagged.payload, tagged.seq)


def _decode_frame_slowly(data: str) -> Frame:
    """Decode a frame in two passes (envelope, then payload); see :func:`decode_frame`."""
    try:
        env = _envelope_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"bad frame envelope: {exc}") from None
    kind = env.type
    decoder = _payload_decoders.get(kind)
    payload: Message
    if decoder is not None:
        try:
            payload = decoder.decode(env.payload)
        except msgspec.DecodeError as exc:
            raise ProtocolError(f"bad `{kind}` payload: {exc}") from None
    elif kind == "status":
        try:
            payload = ServiceStatus(_dict_decoder.decode(env.payload))
        except msgspec.DecodeError as exc:
            raise ProtocolError(f"bad `status` payload: {exc}") from None
    else:
        # `auth` carries the server's session cookies: its payload is never decoded or kept.
        payload = IgnoredFrame(kind, kind in _IGNORED_KNOWN)
    return Frame(kind, payload, env.seq)


_T = TypeVar("_T")


def _rest_decoder(kind: type[_T], what: str, endpoint: str) -> Callable[[bytes | str], _T]:
    decoder = msgspec.json.Decoder(kind)

    def decode(body: bytes | str) -> _T:
        try:
            return decoder.decode(body)
        except msgspec.DecodeError as exc:
            preview = bytes(body[:80]) if isinstance(body, bytes | bytearray) else body[:80]
            raise ProtocolError(f"bad {what} body: {exc} (body starts {preview!r})") from None

    decode.__name__ = decode.__qualname__ = f"decode_{what.replace(' ', '_')}"
    decode.__doc__ = f"Decode the body of {endpoint}. Raises :class:`ProtocolError`."
    return decode


decode_job = _rest_decoder(Job, "job", "``GET /api/jobs/{id}``")
decode_job_list = _rest_decoder(JobList, "job list", "``GET /api/jobs``")


class _RawJobList(msgspec.Struct):
    jobs: list[msgspec.Raw] | None = None
    total_count: int = 0
    limit: int = 0
    offset: int = 0


_raw_job_list_decoder: Final = msgspec.json.Decoder(_RawJobList)
_job_decoder: Final = msgspec.json.Decoder(Job)


def decode_job_list_rows(body: bytes | str) -> tuple[JobList, list[str]]:
    """Decode ``GET /api/jobs`` as :func:`decode_job_list`, but row by row when needed.

    A job that does not decode (say, a status this version does not know) is left out and
    described in the returned list of errors, instead of failing the whole list. Raises
    :class:`ProtocolError` only when the body itself is not a job list.
    """
    try:
        return decode_job_list(body), []
    except ProtocolError as whole:
        try:
            raw = _raw_job_list_decoder.decode(body)
        except msgspec.DecodeError:
            raise whole from None
    jobs: list[Job] = []
    errors: list[str] = []
    for index, row in enumerate(raw.jobs or ()):
        try:
            jobs.append(_job_decoder.decode(row))
        except msgspec.DecodeError as exc:
            errors.append(f"job #{index} of the list: {exc}")
    return JobList(jobs, raw.total_count, raw.limit, raw.offset), errors


decode_stats = _rest_decoder(JobStats, "stats", "``GET /api/jobs/stats``")
decode_action = _rest_decoder(ActionResult, "action", "cancel and delete")
decode_rerun = _rest_decoder(RerunResult, "rerun", "``POST /api/jobs/{id}/rerun``")
decode_logs = _rest_decoder(JobLogs, "logs", "``GET /api/jobs/{id}/logs``")


class _ErrorBody(msgspec.Struct):
    error: str | None = None
    message: str | None = None


_error_decoder: Final = msgspec.json.Decoder(_ErrorBody)


def error_text(body: bytes | str, *, limit: int = 500) -> str:
    """Return the human text of an error answer: plain text, or a JSON ``{"error": ...}``.

    HTML and other markup is returned as text, shortened to ``limit`` characters; it is never
    meant to be rendered.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            parsed = _error_decoder.decode(stripped)
        except msgspec.DecodeError:
            pass
        else:
            found = parsed.error or parsed.message
            if found:
                stripped = found.strip()
    if len(stripped) > limit:
        stripped = stripped[: limit - 1] + "…"
    return stripped
