"""End to end in a real Jupyter Notebook 7: the widget renders there and follows the queue live.

The tests share one ``jupyter notebook`` server, one page and one run of ``widget_nb7.ipynb``
(a job server, three quick crawl jobs, the widget) and run in file order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Lab, jupyter_server, notebook_page

NB7_NOTEBOOK = Path(__file__).with_name("widget_nb7.ipynb")
LONG = 60_000  # ms


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Jupyter Notebook 7 on loopback, no token, with ``widget_nb7.ipynb`` in a fresh root."""
    with jupyter_server("notebook", NB7_NOTEBOOK, tmp_path_factory.mktemp("nb7")) as server:
        yield server


@pytest.fixture(scope="module")
def page(notebook7: Lab) -> Iterator[Page]:
    """The notebook open in Notebook 7 in headless Chromium, all cells run, the widget shown."""
    with notebook_page(notebook7) as pg:
        yield pg


def _widget(page: Page) -> Locator:
    return page.locator(".jobwidget").first


def test_notebook7_renders_the_rows(page: Page, notebook7: Lab) -> None:
    # The page is Notebook 7's single-document notebook view, not JupyterLab's.
    assert "/notebooks/" in page.url
    assert page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"
    expect(page.locator("body")).to_have_attribute("data-notebook", "notebooks")
    widget = _widget(page)
    rows = widget.locator("tr.jw-row")
    expect(rows).to_have_count(3, timeout=LONG)
    for i in range(3):
        row = rows.filter(has=page.locator(".jw-name", has_text=f"nb7 crawl {i}"))
        expect(row).to_have_count(1)
        expect(row.locator(".jw-status")).to_have_attribute(
            "data-status", "completed", timeout=LONG
        )
    expect(widget.locator(".jw-conn")).to_have_attribute("data-state", "live", timeout=LONG)
    expect(page.locator(".jp-OutputArea-output", has_text="NB7 CELLS DONE")).to_be_visible(
        timeout=LONG
    )
    assert notebook7.dialogs == []


def test_notebook7_follows_a_job_live(page: Page, notebook7: Lab) -> None:
    # A job created behind the widget's back (REST, no cell runs) must appear and complete.
    response = httpx.post(
        f"{notebook7.job_server_url}/api/jobs",
        json={
            "name": "nb7 live job",
            "source_type": "jira",
            "entity_type": "issues",
            "config": {"pages": 60, "page_delay": 0.1},
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    widget = _widget(page)
    status = widget.locator(f'tr.jw-row[data-id="{job_id}"] .jw-status')
    # ~6 s of work: the view shows it unfinished first, then finished, with no cell running.
    expect(status).to_have_attribute(
        "data-status", re.compile(r"^(pending|running)$"), timeout=LONG
    )
    expect(status).to_have_attribute("data-status", "completed", timeout=LONG)
    expect(widget.locator("tr.jw-row")).to_have_count(4)
    expect(widget.locator(".jw-conn")).to_have_attribute("data-state", "live")
