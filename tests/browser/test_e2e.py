"""End to end in a real JupyterLab: run a notebook with a server and a widget, drive the view.

The tests share one JupyterLab, one page and one notebook run, and run in file order: each
one checks a step of the story the notebook tells (see ``widget_e2e.ipynb``).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import KERNEL_IDLE, Lab, notebook_page

XSS_NAME = "<img src=x onerror=alert(1)>"
LONG = 60_000  # ms


@pytest.fixture(scope="module")
def page(lab: Lab) -> Iterator[Page]:
    """The notebook open in headless Chromium, "Run All Cells" started, the widget shown."""
    with notebook_page(lab) as pg:
        yield pg


def _widget(page: Page) -> Locator:
    return page.locator(".jobwidget").first


def _row(page: Page, name: str) -> Locator:
    return _widget(page).locator("tr.jw-row").filter(has=page.locator(".jw-name", has_text=name))


def _count(page: Page, status: str) -> Locator:
    return _widget(page).locator(f'.jw-counter[data-status="{status}"] .jw-count')


def _prompt(page: Page, cell: int) -> Locator:
    return page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".jp-InputArea-prompt")


def _server_status(lab: Lab, job_id: str) -> str | None:
    response = httpx.get(f"{lab.job_server_url}/api/jobs/{job_id}", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    status: str = response.json()["status"]
    return status


def test_rows_and_counters(page: Page) -> None:
    widget = _widget(page)
    for name in ("batch 0", "batch 5", "flaky crawl"):
        expect(_row(page, name)).to_have_count(1, timeout=LONG)
    expect(_row(page, "flaky crawl").locator(".jw-status")).to_have_attribute(
        "data-status", "failed", timeout=LONG
    )
    expect(_count(page, "failed")).to_have_text("1", timeout=LONG)
    # The sleeper job of the next cell may already be there: 8 or 9 jobs.
    expect(_count(page, "total")).to_have_text(re.compile(r"^[89]$"), timeout=LONG)
    expect(widget.locator(".jw-conn")).to_have_attribute("data-state", "live")


def test_hostile_name_is_text(page: Page, lab: Lab) -> None:
    row = _row(page, XSS_NAME)
    expect(row).to_have_count(1)
    expect(row.locator(".jw-name")).to_have_text(XSS_NAME)
    assert _widget(page).locator("img").count() == 0
    assert lab.dialogs == []


def test_live_change_while_a_cell_sleeps(page: Page) -> None:
    sleeper = _row(page, "sleeper")
    expect(sleeper.locator(".jw-status")).to_have_attribute(
        "data-status", "completed", timeout=LONG
    )
    # The cell that created it sleeps 30 s; its job took ~2 s: the cell is still running.
    expect(_prompt(page, 2)).to_contain_text("*")


def test_outage_shows_reconnecting_then_live(page: Page) -> None:
    conn = _widget(page).locator(".jw-conn")
    expect(conn).not_to_have_attribute("data-state", "live", timeout=LONG)
    expect(conn).to_have_attribute("data-state", "live", timeout=LONG)
    expect(page.locator(".jp-OutputArea-output", has_text="ALL CELLS DONE")).to_be_visible(
        timeout=LONG
    )
    expect(_row(page, "Confluence docs").locator(".jw-status")).to_have_attribute(
        "data-status", "running", timeout=LONG
    )


def test_screenshots_light_and_dark(page: Page, tmp_path: Path) -> None:
    # `make screenshots` writes them to docs/ for the README; a plain test run keeps them out
    # of the work tree.
    shots = (
        Path(os.environ["JOBWIDGET_SCREENSHOTS"])
        if "JOBWIDGET_SCREENSHOTS" in os.environ
        else tmp_path
    )
    shots.mkdir(exist_ok=True)
    widget = _widget(page)
    page.add_style_tag(content=".Toastify { display: none !important; }")  # the news toast
    page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
    expect(_row(page, "GitHub issues").locator(".jw-status")).to_have_attribute(
        "data-status", "running", timeout=LONG
    )
    widget.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let progress bars move a little
    widget.screenshot(path=str(shots / "screenshot-light.png"))
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=LONG)
    page.wait_for_timeout(800)
    widget.screenshot(path=str(shots / "screenshot-dark.png"))
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true", timeout=LONG)
    assert (shots / "screenshot-dark.png").stat().st_size > 10_000


def test_applying_a_flush_is_fast_in_chromium(
    page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    # The view stamps how long patching the page took (data-render-ms) on every jobs change.
    widget = _widget(page)
    samples: list[float] = []
    last = None
    for _ in range(100):  # ~10 s of live progress from the two long jobs
        value = widget.get_attribute("data-render-ms")
        if value is not None and value != last:
            samples.append(float(value))
            last = value
        page.wait_for_timeout(100)
    assert len(samples) >= 5, samples  # flushes kept arriving
    samples.sort()
    with capsys.disabled():
        print(
            f"\n[browser] applying a flush: median {samples[len(samples) // 2]:.2f} ms, "
            f"max {samples[-1]:.2f} ms over {len(samples)} flushes (goal < 10 ms)"
        )


def test_cancel_a_running_job_from_its_button(page: Page, lab: Lab) -> None:
    row = _row(page, "Confluence docs")
    job_id = row.get_attribute("data-id")
    assert job_id
    row.locator('button[data-action="cancel"]').click()
    row.locator("button.jw-confirm-yes").click()
    expect(row.locator(".jw-status")).to_have_attribute("data-status", "cancelled", timeout=LONG)
    assert _server_status(lab, job_id) == "cancelled"


def test_filter_by_status(page: Page) -> None:
    widget = _widget(page)
    widget.locator('.jw-counter[data-status="completed"]').click()
    rows = widget.locator("tr.jw-row")
    expect(rows).to_have_count(8, timeout=LONG)  # 6 batch, the xss one, the sleeper
    statuses = widget.locator("tr.jw-row .jw-status")
    for i in range(statuses.count()):
        expect(statuses.nth(i)).to_have_attribute("data-status", "completed")
    expect(widget.locator(".jw-chip[data-field=status]")).to_contain_text("completed")


def test_shift_click_range_and_batch_delete(page: Page, lab: Lab) -> None:
    widget = _widget(page)
    rows = widget.locator("tr.jw-row")
    ids = [rows.nth(i).get_attribute("data-id") for i in range(4)]
    assert all(ids)
    rows.nth(0).locator("input.jw-select").click()
    rows.nth(3).locator("input.jw-select").click(modifiers=["Shift"])
    for i in range(4):
        expect(rows.nth(i).locator("input.jw-select")).to_be_checked()
    expect(rows.nth(4).locator("input.jw-select")).not_to_be_checked()
    batch = widget.locator(".jw-batch")
    expect(batch).to_contain_text("4")
    batch.locator('button[data-batch="delete"]').click()
    batch.locator("button.jw-confirm-yes").click()
    expect(rows).to_have_count(4, timeout=LONG)
    for job_id in ids:
        expect(widget.locator(f'tr.jw-row[data-id="{job_id}"]')).to_have_count(0)
        assert _server_status(lab, str(job_id)) is None
    expect(widget.locator(".jw-toast", has_text="4 deleted")).to_be_visible(timeout=LONG)
    expect(_count(page, "completed")).to_have_text("4", timeout=LONG)


PENDING = re.compile(r"\bjw-pending\b")  # the row's marker while its command awaits the kernel
# Records, from before a click, what the view showed of one row: whether it ever carried the
# pending marker, and the text of every toast. Mutation callbacks run right after the click's
# handler, before any answer from the kernel can arrive, so a pending state shown at once is seen.
WATCH_ROW = """(root, id) => {
  window.__jwSeen = { pending: false, toasts: [] };
  const record = () => {
    const tr = root.querySelector(`tr.jw-row[data-id="${id}"]`);
    if (tr?.classList.contains("jw-pending")) window.__jwSeen.pending = true;
    window.__jwSeen.toasts = [
      ...new Set([
        ...window.__jwSeen.toasts,
        ...[...root.querySelectorAll(".jw-toast-text")].map((t) => t.textContent),
      ]),
    ];
  };
  new MutationObserver(record).observe(root, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["class"],
  });
}"""
# Add a cell below the last one with the given source and run it, through JupyterLab's commands.
RUN_NEW_CELL = """async (source) => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  notebook.activeCellIndex = notebook.widgets.length - 1;
  await app.commands.execute("notebook:insert-cell-below");
  notebook.activeCell.model.sharedModel.setSource(source);
  void app.commands.execute("notebook:run-cell"); // settles only when the cell has run
  return notebook.widgets.length - 1;
}"""


def test_cancel_while_a_cell_is_busy_shows_pending_then_the_answer(
    page: Page, lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    widget = _widget(page)
    clear = widget.locator(".jw-clear-filters")
    if clear.is_visible():  # the status filter of the tests above
        clear.click()
    row = _row(page, "GitHub issues")
    status = row.locator(".jw-status")
    expect(status).to_have_attribute("data-status", "running", timeout=LONG)
    job_id = row.get_attribute("data-id")
    assert job_id
    page.wait_for_function(KERNEL_IDLE, timeout=LONG)

    # A cell that keeps the kernel busy until the test lets it go: no guessing how long.
    started, release = lab.root / "busy-cell-started", lab.root / "busy-cell-release"
    cell = page.evaluate(
        RUN_NEW_CELL,
        "import pathlib, time\n"
        f"pathlib.Path({str(started)!r}).touch()\n"
        "deadline = time.monotonic() + 240\n"
        f"while not pathlib.Path({str(release)!r}).exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)",
    )
    expect(_prompt(page, cell)).to_contain_text("*", timeout=LONG)
    deadline = time.monotonic() + LONG / 1000
    while not started.exists():
        assert time.monotonic() < deadline, "the busy cell never started"
        time.sleep(0.1)

    widget.evaluate(WATCH_ROW, job_id)
    row.locator('button[data-action="cancel"]').click()
    row.locator("button.jw-confirm-yes").click()
    # Pending at once, whatever the kernel does next.
    page.wait_for_function("() => window.__jwSeen.pending", timeout=10_000)

    # Give a kernel that takes comm messages during a busy cell (comms over subshells) the
    # chance to answer; one that queues them behind the cell answers only after it.
    with contextlib.suppress(AssertionError):
        expect(row).not_to_have_class(PENDING, timeout=5_000)
    server_then = _server_status(lab, job_id)
    pending_then = PENDING.search(row.get_attribute("class") or "") is not None
    answered_while_busy = server_then != "running" or not pending_then
    expect(_prompt(page, cell)).to_contain_text("*")  # the cell is still busy
    assert not release.exists()
    if not answered_while_busy:
        # Queued behind the cell: the row says so, and nothing has happened yet.
        expect(row).to_have_attribute("aria-busy", "true")
        expect(row.locator('button[data-action="cancel"]')).to_be_disabled()
        expect(status).to_have_attribute("data-status", "running")

    release.touch()
    expect(_prompt(page, cell)).to_have_text(re.compile(r"\[\d+\]"), timeout=LONG)
    # The answer, in the row, on the server and in a toast; the pending state is gone.
    expect(status).to_have_attribute("data-status", "cancelled", timeout=LONG)
    expect(row).not_to_have_class(PENDING, timeout=LONG)
    expect(row).not_to_have_attribute("aria-busy", "true")
    assert _server_status(lab, job_id) == "cancelled"
    page.wait_for_function("() => window.__jwSeen.toasts.includes('1 cancelled')", timeout=LONG)
    with capsys.disabled():
        when = "during the busy cell" if answered_while_busy else "only after the busy cell ended"
        print(f"\n[browser] a click during a busy cell: pending shown at once, answered {when}")
