"""The notebooks run top to bottom, headless, in a real kernel, and are stored stripped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from jobwidget import widget as widget_module
from jobwidget.server import run_in_thread

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ("01-quickstart", "02-dataframe-analysis", "03-dashboard")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

pytestmark = pytest.mark.skipif(
    not widget_module._ESM.is_file() and not os.environ.get("JOBWIDGET_REQUIRE_ALL"),
    reason="the JS bundle is not built (run `make js`)",
)


def _read(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _run(name: str) -> Any:
    """Execute a notebook in the venv's python3 kernel; a cell error fails the test."""
    nb = _read(name)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(nb: Any) -> str:
    parts = []
    for out in _outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(str(out.data.get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_stored_stripped(name: str) -> None:
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec == KERNELSPEC
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None
    assert "widgets" not in nb.metadata


def test_quickstart_runs_and_exports_a_snapshot() -> None:
    nb = _run("01-quickstart")
    views = [out for out in _outputs(nb) if WIDGET_VIEW in out.get("data", {})]
    assert views  # the widget and the progress bar were displayed
    snapshots = [out.data["text/html"] for out in views if "jobwidget" in str(out.data)]
    assert any("jobwidget-snapshot" in html for html in snapshots)
    text = _text(nb)
    assert "'completed', 'completed'" in text  # the wait's result
    cancel_cell = next(c for c in nb.cells if "w.cancel([slow, ids[0]])" in c.source)
    results = "".join(str(out.get("data", {}).get("text/plain", "")) for out in cancel_cell.outputs)
    assert "True" in results  # the running job was cancelled
    assert "False" in results  # the finished one was refused, per job

    # Saved as JupyterLab saves by default (no widget state): nbconvert shows the snapshot.
    nb.metadata.pop("widgets", None)
    body, _resources = HTMLExporter().from_notebook_node(nb)
    assert "jobwidget-snapshot" in body
    assert "captured at" in body


def test_quickstart_uses_the_make_demo_server(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make demo` passes its server's URL in JOBWIDGET_URL (the kernel inherits it).
    with run_in_thread(port=0, workers=4) as srv:
        monkeypatch.setenv("JOBWIDGET_URL", srv.url)
        nb = _run("01-quickstart")
        assert srv.url in _text(nb)
        names = {job["name"] for job in httpx.get(f"{srv.url}/api/jobs?limit=0").json()["jobs"]}
        assert {"docs 0", "slow crawl"} <= names
        assert srv.running  # the notebook closed only what it started


def test_dataframe_analysis_runs_with_charts() -> None:
    nb = _run("02-dataframe-analysis")
    images = [out for out in _outputs(nb) if "image/png" in out.get("data", {})]
    assert len(images) >= 3  # status, throughput and durations
    text = _text(nb)
    assert "new_job_id" in text  # the rerun's results frame
    assert "frames per second" in text


def test_dashboard_runs_and_its_views_update() -> None:
    nb = _run("03-dashboard")
    text = _text(nb)
    assert "jobs ·" in text  # the counters were drawn
    assert "bytes of PNG" in text
    png = next(line for line in text.splitlines() if "bytes of PNG" in line)
    assert int(png.split("chart: ")[1].split(" ")[0]) > 1000
