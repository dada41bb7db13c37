"""The public surface: ``jobwidget.__all__`` is exactly what the README documents, with docs."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import jobwidget

EXPECTED = {
    "STATUSES",
    "TERMINAL",
    "ActionError",
    "ActionOutcome",
    "AuthError",
    "Backoff",
    "ConnectionInfo",
    "History",
    "Job",
    "JobQueueWidget",
    "JobStats",
    "JobStore",
    "JobWidgetError",
    "ProtocolError",
    "QueueClient",
    "ServerError",
    "StatusEvent",
    "__version__",
    "to_dataframe",
}


def test_all_is_exactly_the_public_surface() -> None:
    assert set(jobwidget.__all__) == EXPECTED
    public = {name for name in vars(jobwidget) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(jobwidget, name))}
    assert public - modules - {"annotations"} == EXPECTED - {"__version__"}


def test_every_public_name_is_documented_and_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in EXPECTED - {"__version__", "STATUSES", "TERMINAL"}:
        obj = getattr(jobwidget, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"
        assert re.search(rf"\b{name}\b", readme), f"{name} is not in the README"


def test_public_methods_have_docstrings() -> None:
    for cls in (jobwidget.QueueClient, jobwidget.JobQueueWidget, jobwidget.JobStore):
        for name, member in vars(cls).items():
            if name.startswith("_") or not callable(member):
                continue
            assert inspect.getdoc(member), f"{cls.__name__}.{name} has no docstring"
