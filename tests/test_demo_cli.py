"""`jobwidget demo`, what `make demo` runs: a demo server plus JupyterLab, both on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .helpers import free_port

ROOT = Path(__file__).parents[1]


def test_demo_serves_a_live_queue_and_jupyterlab_on_the_quickstart(tmp_path: Path) -> None:
    port, lab_port = free_port(), free_port()
    # JupyterLab's own settings and runtime files go to a temporary home, not the user's.
    env = {**os.environ, **{name: str(tmp_path / name) for name in (
        "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")}}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobwidget", "demo", "--port", str(port), "--lab-port",
         str(lab_port), "--rate", "5", "--notebooks", str(ROOT / "notebooks")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "JupyterLab :" in line or not line:
                break
        found = re.search(r"(http://127\.0\.0\.1:\d+)/lab/tree/01-quickstart\.ipynb\?token=(\w+)",
                          "".join(lines))  # fmt: skip
        assert found, lines
        lab, token = found.groups()
        status = httpx.get(f"{lab}/api/status", params={"token": token}, timeout=10)
        assert status.status_code == 200
        contents = httpx.get(
            f"{lab}/api/contents/01-quickstart.ipynb", params={"token": token}, timeout=10
        )
        assert contents.status_code == 200
        assert httpx.get(f"{lab}/api/status", timeout=10).status_code == 403  # the token counts
        deadline = time.monotonic() + 30
        while httpx.get(f"http://127.0.0.1:{port}/api/jobs/stats").json()["total_jobs"] < 3:
            assert time.monotonic() < deadline, "the demo workload creates no jobs"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
