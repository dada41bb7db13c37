"""Fixtures of the browser tests: real JupyterLab or Notebook 7 on 127.0.0.1, headless Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect, sync_playwright

from jobwidget import widget as widget_module

from ..helpers import free_port

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = Path(__file__).with_name("widget_e2e.ipynb")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
FIRST_LOAD = 60_000  # ms: a first JupyterLab load took ~6 s here; be generous
# True once the notebook's kernel is idle; works in JupyterLab and Notebook 7 alike (both run
# with ``expose_app_in_browser``), where only Lab has a status bar that says so.
KERNEL_IDLE = """() => {
  const panel = window.jupyterapp?.shell?.currentWidget;
  return panel?.sessionContext?.session?.kernel?.status === "idle";
}"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` and skip them when a prerequisite is missing."""
    here = Path(__file__).parent
    reason = None
    if not CHROMIUM.exists():
        reason = "Chromium is missing (apt-get install -y chromium)"
    elif not widget_module._ESM.is_file():
        reason = "the JS bundle is not built (make js)"
    if reason and os.environ.get("JOBWIDGET_REQUIRE_ALL"):
        raise pytest.UsageError(f"browser tests cannot run: {reason}")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Lab:
    """A running Jupyter server (JupyterLab or Notebook 7) and its notebook's job server URL."""

    url: str
    job_server_url: str
    root: Path
    notebook_url: str
    dialogs: list[str] = field(default_factory=list)


# Per front end: the server flags on top of the common ones, and the URL path of a notebook.
APPS: dict[str, tuple[list[str], str]] = {
    "lab": (
        [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--LabApp.expose_app_in_browser=True",
        ],
        "lab/tree",
    ),
    "notebook": (["--JupyterNotebookApp.expose_app_in_browser=True"], "notebooks"),
}


@contextlib.contextmanager
def jupyter_server(app: str, notebook: Path, base: Path) -> Iterator[Lab]:
    """Run ``jupyter APP`` (``lab`` or ``notebook``) on loopback, no token, serving ``notebook``.

    Config, settings and workspaces live below ``base``; the notebook finds the port of its job
    server in ``JOBWIDGET_E2E_PORT``. The server and its kernels stop on exit.
    """
    app_flags, notebook_path = APPS[app]
    root = base / "root"
    root.mkdir()
    shutil.copy(notebook, root / notebook.name)
    port, job_port = free_port(), free_port()
    env = {
        **os.environ,
        "JOBWIDGET_E2E_PORT": str(job_port),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
    }
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [
        str(jupyter),
        app,
        "--allow-root",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        *app_flags,
    ]
    log_path = base / f"{app}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter {app} exited: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter {app} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield Lab(
            url=url,
            job_server_url=f"http://127.0.0.1:{job_port}",
            root=root,
            notebook_url=f"{url}/{notebook_path}/{notebook.name}",
        )
    finally:
        _stop_group(proc)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on loopback, no token, with the e2e notebook in a fresh root directory."""
    with jupyter_server("lab", NOTEBOOK, tmp_path_factory.mktemp("lab")) as server:
        yield server


@contextlib.contextmanager
def notebook_page(server: Lab) -> Iterator[Page]:
    """Headless Chromium on ``server``'s notebook: kernel idle, "Run All Cells", widget shown.

    Every ``alert()`` the page raises is dismissed and its message kept in ``server.dialogs``.
    """

    def dismiss(dialog: Dialog) -> None:
        server.dialogs.append(dialog.message)
        dialog.dismiss()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        try:
            page = context.new_page()
            page.on("dialog", dismiss)
            page.goto(server.notebook_url)
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=FIRST_LOAD)
            # Wait for the kernel before running, or the cells queue up behind its start.
            page.wait_for_function(KERNEL_IDLE, timeout=FIRST_LOAD)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            expect(page.locator(".jobwidget")).to_be_visible(timeout=FIRST_LOAD)
            yield page
        finally:
            context.close()
            browser.close()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop Jupyter (it shuts its kernels down), then its process group if anything is left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
