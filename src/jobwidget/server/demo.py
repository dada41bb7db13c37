"""Demo traffic: keep creating crawl jobs (some fail, some get cancelled) so the queue lives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Final

from .jobqueue import ApiError, JobQueue, JobSpec

__all__ = ["demo_spec", "run_demo"]

logger = logging.getLogger(__name__)

_SOURCES: Final = {
    "jira": ("issues", "projects"),
    "confluence": ("spaces", "pages"),
    "github": ("repos", "issues"),
}
_CANCEL_SHARE: Final = 0.1


def demo_spec(rng: random.Random) -> JobSpec:
    """A random crawl job like the ones the demo creates."""
    source = rng.choice(list(_SOURCES))
    entity = rng.choice(_SOURCES[source])
    team = rng.choice(("platform", "docs", "search", "billing", "infra", "mobile"))
    return JobSpec(
        name=f"{source.capitalize()} {entity} of {team}",
        job_type="crawl",
        source_type=source,
        entity_type=entity,
        config={
            "pages": rng.randint(5, 60),
            "page_delay": round(rng.uniform(0.05, 0.4), 3),
            "fail_rate": 0.05,
            "job_fail_rate": 0.15,
        },
        seed_urls=[f"https://{source}.example.org/{team}/"],
    )


async def _cancel_later(queue: JobQueue, job_id: str, delay: float) -> None:
    await asyncio.sleep(delay)
    with contextlib.suppress(ApiError):  # already finished, deleted, or pending in quirks mode
        await queue.cancel(job_id)


async def run_demo(queue: JobQueue, rate: float) -> None:
    """Create ``rate`` demo jobs per second until cancelled; cancel about one in ten."""
    rng = random.Random()
    cancels: set[asyncio.Task[None]] = set()
    try:
        while True:
            await asyncio.sleep(rng.expovariate(rate))
            rec = queue.create(demo_spec(rng))
            if rng.random() < _CANCEL_SHARE:
                task = asyncio.create_task(_cancel_later(queue, rec.id, rng.uniform(0.5, 6.0)))
                cancels.add(task)
                task.add_done_callback(cancels.discard)
    finally:
        for task in list(cancels):
            task.cancel()
