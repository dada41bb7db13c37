"""A static text/html snapshot of the widget, shown where the live view cannot render."""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .protocol import STATUSES

__all__ = ["Snapshot", "snapshot_html"]

#: (header, row key) of the snapshot's table; ``progress`` is composed from the URL counts.
_COLUMNS: Final = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("source", "source_type"),
    ("entity", "entity_type"),
    ("progress", "progress"),
    ("created (UTC)", "created_at"),
    ("error", "error"),
)
_STYLE: Final = (
    "<style>.jobwidget-snapshot{font-family:sans-serif;font-size:13px}"
    ".jobwidget-snapshot table{border-collapse:collapse;margin:4px 0}"
    ".jobwidget-snapshot th,.jobwidget-snapshot td"
    "{padding:2px 8px;text-align:left;border-bottom:1px solid #8884}</style>"
)
_MAX_TEXT: Final = 80


def _text(value: Any) -> str:
    """One escaped cell: ``None`` is empty, long text is cut."""
    if value is None:
        return ""
    text = str(value)
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 1] + "…"
    return html.escape(text)


def _cell(row: Mapping[str, Any], key: str) -> str:
    if key == "progress":
        total = row.get("total_urls") or 0
        if not total:
            return ""
        return _text(f"{row.get('completed_urls', 0)}/{total} ({row.get('percentage', 0):.0f}%)")
    if key == "created_at":
        created = row.get(key)
        return _text(created[:19].replace("T", " ") if isinstance(created, str) else created)
    return _text(row.get(key))


def snapshot_html(
    *,
    url: str,
    state: str,
    counts: Mapping[str, int],
    rows: Sequence[Mapping[str, Any]],
    matching: int,
    filters: Mapping[str, Sequence[str]],
    captured_at: _dt.datetime,
    last_error: str | None = None,
) -> str:
    """Return a self-contained HTML snapshot of the queue (no script, every value escaped).

    Parameters
    ----------
    url : str
        The server's URL.
    state : str
        The connection state.
    counts : mapping
        ``total`` and one count per status.
    rows : sequence of mapping
        The first rows, as :func:`jobwidget._rows.job_row` builds them.
    matching : int
        Jobs matching ``filters`` over all pages.
    filters : mapping
        The view's filters (``status``/``source``/``entity`` lists).
    captured_at : datetime
        When the snapshot was taken.
    last_error : str, optional
        The connection's last error.

    Returns
    -------
    str
        A ``<div>`` with the counts, the filters, the rows and the capture time.
    """
    stamp = captured_at.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    summary = " · ".join(
        f"<b>{_text(counts.get(status, 0))}</b> {status}" for status in ("total", *STATUSES)
    )
    shown = {field: list(values) for field, values in filters.items() if values}
    where = (
        "; ".join(f"{_text(field)} = {_text(', '.join(values))}" for field, values in shown.items())
        or "none"
    )
    head = "".join(f"<th>{_text(title)}</th>" for title, _ in _COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row, key)}</td>" for _, key in _COLUMNS) + "</tr>"
        for row in rows
    )
    more = matching - len(rows)
    parts = [
        f'<div class="jobwidget-snapshot">{_STYLE}',
        f"<div><b>jobwidget</b> — {_text(url)} — connection: {_text(state)}</div>",
        f"<div>{summary}</div>",
        f"<div>filters: {where}; {_text(matching)} matching</div>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
    ]
    if more > 0:
        parts.append(f"<div>… and {_text(more)} more</div>")
    if last_error:
        parts.append(f"<div>last error: {_text(last_error)}</div>")
    parts.append(
        f'<div style="opacity:0.7"><i>static snapshot captured at {_text(stamp)}; '
        "run the notebook to see the live widget</i></div></div>"
    )
    return "".join(parts)


class Snapshot:
    """An HTML snapshot that notebooks display as is (``_repr_html_``) and keep when saved.

    Parameters
    ----------
    html : str
        The snapshot, as :func:`snapshot_html` builds it.
    """

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<Snapshot {len(self.html)} characters of HTML>"
