"""Inline matplotlib charts of the queue: jobs by status over time, throughput, durations."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from .frame import to_dataframe
from .protocol import STATUSES, TERMINAL

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PLOT_KINDS",
    "STATUS_COLORS",
    "PlotKind",
    "finished_per_bin",
    "plot",
    "plot_durations",
    "plot_status",
    "plot_throughput",
    "status_over_time",
]

log = logging.getLogger(__name__)

PlotKind: TypeAlias = Literal["status", "throughput", "durations"]
#: The kinds :func:`plot` draws.
PLOT_KINDS: Final[tuple[str, ...]] = ("status", "throughput", "durations")

#: One colour per status, readable on light and dark backgrounds.
STATUS_COLORS: Final[dict[str, str]] = {
    "pending": "#9e9e9e",
    "running": "#1f77b4",
    "completed": "#2ca02c",
    "failed": "#d62728",
    "cancelled": "#ff7f0e",
}
_TERMINAL_ORDER: Final = tuple(status for status in STATUSES if status in TERMINAL)
# Bin widths tried by the throughput chart, in seconds: the first giving <= _MAX_BINS bins wins.
_BIN_SECONDS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
_MAX_BINS: Final = 60
_NEVER: Final = np.iinfo(np.int64).max


def _pyplot() -> Any:
    """Import ``matplotlib.pyplot`` lazily, explaining how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "jobwidget's charts need matplotlib: install it with `pip install 'jobwidget[plot]'`"
        ) from exc
    return plt


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    _fig, new_ax = _pyplot().subplots(figsize=(8, 3.5), layout="constrained")
    result: Axes = new_ax
    return result


def _time_axis(ax: Axes) -> None:
    """Concise date labels on the x axis, and the legend beside the plot."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("time (UTC)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)


def _no_data(ax: Axes, what: str) -> Axes:
    ax.text(0.5, 0.5, what, transform=ax.transAxes, ha="center", va="center", alpha=0.6)
    return ax


def _micros(times: pd.Series) -> npt.NDArray[np.int64]:
    """UTC datetimes as int64 microseconds since the epoch; NaT becomes ``_NEVER``."""
    values = times.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    micros: npt.NDArray[np.int64] = values.to_numpy().view(np.int64).copy()
    micros[values.isna().to_numpy()] = _NEVER
    return micros


def _active(
    grid: npt.NDArray[np.int64], enter: npt.NDArray[np.int64], leave: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """How many intervals ``[enter, leave)`` contain each time of ``grid`` (never entered: none)."""
    real = enter != _NEVER
    enter, leave = enter[real], leave[real]
    entered = np.searchsorted(np.sort(enter), grid, side="right")
    left = np.searchsorted(np.sort(leave), grid, side="right")
    counts: npt.NDArray[np.int64] = (entered - left).astype(np.int64)
    return counts


def status_over_time(
    df: pd.DataFrame, *, points: int = 200, now: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Count the jobs of ``df`` in each status at ``points`` times from the first job to now.

    Each job is ``pending`` from ``created_at`` until it starts (or ends), ``running`` from
    ``started_at`` until ``completed_at``, and in its final status from ``completed_at`` on.
    Rows without any of these times are left out.

    Parameters
    ----------
    df : pandas.DataFrame
        Jobs as :func:`jobwidget.frame.to_dataframe` returns them.
    points : int
        Number of sample times.
    now : pandas.Timestamp, optional
        The last sample time (default: the current time).

    Returns
    -------
    pandas.DataFrame
        A UTC :class:`~pandas.DatetimeIndex` and one ``int64`` column per status.
    """
    created, started, ended = (_micros(df[c]) for c in ("created_at", "started_at", "completed_at"))
    created = np.minimum(created, np.minimum(started, ended))  # a missing created_at
    known = created != _NEVER
    if not known.any():
        return pd.DataFrame(columns=list(STATUSES), dtype=np.int64)
    end = pd.Timestamp.now("UTC") if now is None else now
    last = max(int(end.value // 1000), int(np.where(ended == _NEVER, 0, ended).max()))
    grid = np.linspace(int(created[known].min()), last, points).astype(np.int64)
    status = df["status"].astype(object).to_numpy()
    counts = {
        "pending": _active(grid, created[known], np.minimum(started, ended)[known]),
        "running": _active(grid, started[known], ended[known]),
    }
    for final in _TERMINAL_ORDER:
        mask = known & (status == final)
        counts[final] = _active(grid, ended[mask], np.full(int(mask.sum()), _NEVER))
    index = pd.DatetimeIndex(grid.view("M8[us]")).tz_localize("UTC")
    return pd.DataFrame({s: counts[s] for s in STATUSES}, index=index)


def _naive_utc(index: pd.DatetimeIndex) -> npt.NDArray[np.datetime64]:
    """Times as naive UTC ``datetime64`` (what matplotlib's date axis takes)."""
    values: npt.NDArray[np.datetime64] = index.tz_convert("UTC").tz_localize(None).to_numpy()
    return values


def plot_status(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Draw the number of jobs in each status over time as stacked areas.

    Parameters
    ----------
    df : pandas.DataFrame
        Jobs as :func:`jobwidget.frame.to_dataframe` returns them (e.g. ``widget.df``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    counts = status_over_time(df)
    ax.set_title("Jobs by status")
    if counts.empty:
        return _no_data(ax, "no jobs")
    x = _naive_utc(pd.DatetimeIndex(counts.index))
    ax.stackplot(
        x,
        *(counts[s].to_numpy() for s in STATUSES),
        labels=list(STATUSES),
        colors=[STATUS_COLORS[s] for s in STATUSES],
        alpha=0.85,
    )
    ax.set_ylabel("jobs")
    ax.margins(x=0)
    _time_axis(ax)
    return ax


def _auto_freq(span: pd.Timedelta) -> pd.Timedelta:
    seconds = span.total_seconds()
    for width in _BIN_SECONDS:
        if seconds / width <= _MAX_BINS:
            return pd.Timedelta(seconds=width)
    return pd.Timedelta(seconds=_BIN_SECONDS[-1])


def finished_per_bin(history: pd.DataFrame, freq: str | pd.Timedelta | None = None) -> pd.DataFrame:
    """Count the jobs seen finishing, per time bin and final status.

    A job counts once, at the first ``job_status_change`` frame that announced its final
    status (whether the job was already in the mirror or not); later duplicates are ignored.

    Parameters
    ----------
    history : pandas.DataFrame
        Applied frames as :meth:`jobwidget.frame.History.to_dataframe` returns them.
    freq : str or pandas.Timedelta, optional
        Bin width (e.g. ``"10s"``); chosen for at most 60 bins when omitted.

    Returns
    -------
    pandas.DataFrame
        A UTC :class:`~pandas.DatetimeIndex` of bin starts (every bin, also empty ones) and one
        column per terminal status; ``attrs["bin_width"]`` is the bin width.
    """
    final = history[
        (history["type"] == "job_status_change") & history["status"].isin(list(TERMINAL))
    ]
    done = final.drop_duplicates("job_id")
    if done.empty:
        empty = pd.DataFrame(columns=list(_TERMINAL_ORDER), dtype=np.int64)
        empty.attrs["bin_width"] = pd.Timedelta(freq or "1s")
        return empty
    times = done["received_at"]
    width = _auto_freq(times.max() - times.min()) if freq is None else pd.Timedelta(freq)
    bins = times.dt.floor(width)
    counts = pd.crosstab(bins, done["status"].astype(object))
    full = pd.date_range(bins.min(), bins.max(), freq=width)
    counts = counts.reindex(index=full, columns=list(_TERMINAL_ORDER), fill_value=0)
    counts.attrs["bin_width"] = width
    return counts


def plot_throughput(
    history: pd.DataFrame, ax: Axes | None = None, *, freq: str | pd.Timedelta | None = None
) -> Axes:
    """Draw how many jobs finished per time bin (stacked by final status) while watching.

    Built from the frame history, so it covers what the mirror saw arrive, not jobs that
    finished before the client started.

    Parameters
    ----------
    history : pandas.DataFrame
        Applied frames (e.g. ``widget.history``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    freq : str or pandas.Timedelta, optional
        Bin width; chosen for at most 60 bins when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    counts = finished_per_bin(history, freq)
    ax.set_title("Throughput")
    if counts.empty:
        return _no_data(ax, "no job finished while watching")
    index = pd.DatetimeIndex(counts.index)
    width: pd.Timedelta = counts.attrs["bin_width"]
    x = _naive_utc(index)
    bottom = np.zeros(len(counts))
    for status in _TERMINAL_ORDER:
        heights = counts[status].to_numpy(dtype=np.float64)
        ax.bar(
            x,
            heights,
            width=width / pd.Timedelta(days=1) * 0.9,
            bottom=bottom,
            align="edge",
            color=STATUS_COLORS[status],
            label=status,
        )
        bottom += heights
    ax.set_ylabel(f"jobs finished per {_label(width)}")
    _time_axis(ax)
    return ax


def _label(width: pd.Timedelta) -> str:
    seconds = int(width.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def plot_durations(df: pd.DataFrame, ax: Axes | None = None, *, bins: int = 30) -> Axes:
    """Draw a histogram of job durations in seconds, stacked by final status.

    Parameters
    ----------
    df : pandas.DataFrame
        Jobs as :func:`jobwidget.frame.to_dataframe` returns them (e.g. ``widget.df``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    bins : int
        Number of bins.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    ax.set_title("Job durations")
    known = df[df["duration"].notna()]
    groups = [
        (status, known.loc[known["status"] == status, "duration"].dt.total_seconds().to_numpy())
        for status in STATUSES
    ]
    groups = [(status, secs) for status, secs in groups if len(secs)]
    if not groups:
        return _no_data(ax, "no finished job")
    ax.hist(
        [secs for _, secs in groups],
        bins=bins,
        stacked=True,
        label=[status for status, _ in groups],
        color=[STATUS_COLORS[status] for status, _ in groups],
    )
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("jobs")
    ax.legend(fontsize="small")
    return ax


def plot(obj: Any, kind: PlotKind = "status", *, ax: Axes | None = None, **options: Any) -> Axes:
    """Draw one chart of a widget's or client's queue.

    Parameters
    ----------
    obj : JobQueueWidget or QueueClient
        Where the data comes from: its jobs (``to_dataframe(obj)``) and, for
        ``"throughput"``, its client's frame history.
    kind : {"status", "throughput", "durations"}
        ``"status"``: jobs in each status over time (:func:`plot_status`); ``"throughput"``:
        jobs finished per time bin (:func:`plot_throughput`, option ``freq``);
        ``"durations"``: histogram of durations (:func:`plot_durations`, option ``bins``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    **options
        Passed to the chart's function.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        When matplotlib is not installed (``pip install 'jobwidget[plot]'``).
    ValueError
        For an unknown ``kind``.
    """
    if kind not in PLOT_KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; use one of {', '.join(PLOT_KINDS)}")
    _pyplot()  # fail early and clearly without matplotlib
    if kind == "throughput":
        client = getattr(obj, "client", obj)
        return plot_throughput(client.history.to_dataframe(), ax, **options)
    df = to_dataframe(obj)
    if kind == "status":
        return plot_status(df, ax, **options)
    return plot_durations(df, ax, **options)
