"""SQLite persistence of the reference server: the authoritative jobs and logs tables."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable
from typing import Any, Final

from .records import JobRecord

__all__ = ["JobDB", "LogRow"]

logger = logging.getLogger(__name__)

#: One log line: (job id, POSIX time, level, message).
LogRow = tuple[str, float, str, str]

_COLUMNS: Final = (
    "id",
    "name",
    "job_type",
    "created_at",
    "ord",
    "status",
    "description",
    "source_type",
    "entity_type",
    "config",
    "seed_urls",
    "started_at",
    "completed_at",
    "last_heartbeat",
    "error",
    "result_count",
    "failed_count",
    "documents_saved",
    "total_urls",
    "completed_urls",
    "failed_urls",
    "current_url",
    "estimated_completion",
)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, job_type TEXT NOT NULL,
    created_at REAL NOT NULL, ord INTEGER NOT NULL, status TEXT NOT NULL,
    description TEXT NOT NULL, source_type TEXT NOT NULL, entity_type TEXT NOT NULL,
    config TEXT NOT NULL, seed_urls TEXT NOT NULL,
    started_at REAL, completed_at REAL, last_heartbeat REAL, error TEXT NOT NULL,
    result_count INTEGER NOT NULL, failed_count INTEGER NOT NULL,
    documents_saved INTEGER NOT NULL, total_urls INTEGER NOT NULL,
    completed_urls INTEGER NOT NULL, failed_urls INTEGER NOT NULL,
    current_url TEXT NOT NULL, estimated_completion REAL
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at, ord);
CREATE TABLE IF NOT EXISTS logs (
    n INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,
    ts REAL NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_job ON logs (job_id, n);
"""

_UPSERT: Final = "INSERT OR REPLACE INTO jobs ({}) VALUES ({})".format(  # noqa: S608
    ", ".join(_COLUMNS), ", ".join("?" for _ in _COLUMNS)
)


def _row(rec: JobRecord) -> tuple[Any, ...]:
    return (
        rec.id,
        rec.name,
        rec.job_type,
        rec.created_at,
        rec.order,
        rec.status,
        rec.description,
        rec.source_type,
        rec.entity_type,
        json.dumps(rec.config),
        json.dumps(rec.seed_urls),
        rec.started_at,
        rec.completed_at,
        rec.last_heartbeat,
        rec.error,
        rec.result_count,
        rec.failed_count,
        rec.documents_saved,
        rec.total_urls,
        rec.completed_urls,
        rec.failed_urls,
        rec.current_url,
        rec.estimated_completion,
    )


def _record(row: tuple[Any, ...]) -> JobRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["order"] = values.pop("ord")
    values["config"] = json.loads(values["config"])
    values["seed_urls"] = json.loads(values["seed_urls"])
    return JobRecord(**values)


class JobDB:
    """The SQLite file (or in-memory database) holding every job and its log lines.

    Parameters
    ----------
    path : str
        A file path, or ``":memory:"``. The connection may be used from one thread at a time
        (the server's I/O thread); it survives a restart of that thread.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def load(self) -> list[JobRecord]:
        """Every job, oldest first."""
        cur = self._conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY created_at, ord"  # noqa: S608
        )
        return [_record(row) for row in cur]

    def save(self, records: Iterable[JobRecord], logs: Iterable[LogRow] = ()) -> None:
        """Write ``records`` (insert or replace) and append ``logs`` in one transaction."""
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(_UPSERT, (_row(rec) for rec in records))
            self._conn.executemany(
                "INSERT INTO logs (job_id, ts, level, message) VALUES (?, ?, ?, ?)", logs
            )

    def delete(self, job_id: str) -> None:
        """Remove a job and its log lines."""
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            self._conn.execute("DELETE FROM logs WHERE job_id = ?", (job_id,))

    def logs(self, job_id: str, *, newest_first: bool, limit: int) -> list[tuple[float, str, str]]:
        """Up to ``limit`` log lines of a job: (time, level, message), oldest or newest first."""
        direction = "DESC" if newest_first else "ASC"
        cur = self._conn.execute(
            f"SELECT ts, level, message FROM logs WHERE job_id = ? "  # noqa: S608
            f"ORDER BY n {direction} LIMIT ?",
            (job_id, limit),
        )
        return list(cur)

    def close(self) -> None:
        """Close the connection (an in-memory database is then gone)."""
        self._conn.close()
