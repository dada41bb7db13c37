"""The built-in ``crawl`` job type: walks a synthetic site from the seed URLs."""

from __future__ import annotations

import random
from collections import deque
from typing import Any, Final

from .workers import JobContext

__all__ = ["CRAWL_DEFAULTS", "crawl"]

#: Config knobs of a crawl job and their defaults (see the README).
CRAWL_DEFAULTS: Final[dict[str, Any]] = {
    "pages": 20,  # pages of the synthetic site (total_urls grows up to this)
    "page_delay": 0.1,  # seconds per page
    "fail_rate": 0.05,  # share of pages that fail (failed_urls)
    "job_fail_rate": 0.0,  # chance that the whole job fails partway
    "seed": None,  # random seed, for a reproducible walk
}
_DEFAULT_SEED_URL: Final = "https://example.org/"
_MAX_LINKS: Final = 3


def _number(config: dict[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    value = config.get(key, CRAWL_DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"config.{key} must be a non-negative number, not {value!r}")
    return kind(value)


def _settings(config: dict[str, Any]) -> tuple[int, float, float, float]:
    if "pages" not in config and isinstance(config.get("max_pages"), int):
        config = {**config, "pages": config["max_pages"]}
    if "page_delay" not in config and isinstance(config.get("rate_limit"), int):
        config = {**config, "page_delay": config["rate_limit"] / 1e9}
    return (
        max(1, _number(config, "pages", int)),
        _number(config, "page_delay", float),
        min(1.0, _number(config, "fail_rate", float)),
        min(1.0, _number(config, "job_fail_rate", float)),
    )


async def crawl(ctx: JobContext) -> None:
    """Visit pages breadth-first, one per ``page_delay``; discover links until ``pages``.

    Progress (total/completed/failed URLs, documents) and one log line per page are reported;
    with probability ``job_fail_rate`` the job fails at a random page.
    """
    pages, delay, fail_rate, job_fail_rate = _settings(ctx.config)
    rng = random.Random(ctx.config.get("seed"))
    seeds = ctx.seed_urls or [_DEFAULT_SEED_URL]
    frontier = deque(seeds)
    total = len(seeds)
    fail_at = rng.randrange(pages) if rng.random() < job_fail_rate else -1
    done = failed = 0
    ctx.log(f"crawl of {len(seeds)} seed URL(s), up to {pages} pages")
    ctx.progress(total=total, completed=0, failed=0, results=0)
    while frontier:
        url = frontier.popleft()
        ctx.progress(current_url=url)
        await ctx.sleep(delay)
        if done + failed == fail_at:
            ctx.log(f"giving up at {url}: HTTP 503", "ERROR")
            raise RuntimeError(f"synthetic crawl error: HTTP 503 from {url}")
        if rng.random() < fail_rate:
            failed += 1
            ctx.log(f"failed {url}: HTTP 404", "WARN")
        else:
            done += 1
            ctx.log(f"fetched {url}")
            links = rng.randint(0, _MAX_LINKS) if frontier else rng.randint(1, _MAX_LINKS)
            base = url.rstrip("/")
            for _ in range(min(links, pages - total)):
                frontier.append(f"{base}/page/{total}")
                total += 1
        if not frontier and total < pages:
            frontier.append(f"{seeds[0].rstrip('/')}/page/{total}")
            total += 1
        ctx.progress(total=total, completed=done, failed=failed, results=done)
    ctx.log(f"crawl finished: {done} fetched, {failed} failed")
