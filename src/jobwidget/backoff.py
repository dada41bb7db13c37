"""Reconnect backoff policy: a small pure function of the attempt number."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter for WebSocket reconnects.

    The ``n``-th consecutive failed attempt (``n = 0`` for the first failure) waits
    ``d = min(maximum, initial * factor**n)``, jittered uniformly in ``[d/2, d]``, and never less
    than ``min_gap``: a server that accepts and then drops at once is not hammered. The counter
    is reset by the caller when a connection opens.

    Parameters
    ----------
    initial : float
        Base delay in seconds (1 s by default).
    maximum : float
        Cap of the un-jittered delay (30 s by default).
    factor : float
        Growth per consecutive failure (2 by default).
    min_gap : float
        Floor of every delay: the least time between a close and the next attempt (1 s).
    jitter : bool
        Spread delays in ``[d/2, d]`` so many clients do not reconnect in step.

    Examples
    --------
    >>> policy = Backoff(jitter=False)
    >>> policy.delay(0), policy.delay(3), policy.delay(9)
    (1.0, 8.0, 30.0)
    """

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    min_gap: float = 1.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.factor < 1 or self.min_gap < 0:
            raise ValueError(
                "Backoff needs 0 < initial <= maximum, factor >= 1 and min_gap >= 0, "
                f"got initial={self.initial}, maximum={self.maximum}, factor={self.factor}, "
                f"min_gap={self.min_gap}"
            )

    def cap(self, attempt: int) -> float:
        """Return the un-jittered delay ``min(maximum, initial * factor**attempt)``."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        # Past the cap the power would only grow: stop early so huge attempt counts cannot overflow.
        delay = self.initial
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.maximum:
                return self.maximum
        return min(delay, self.maximum)

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Return the wait in seconds after the ``attempt``-th consecutive failure (from 0).

        ``rand`` returns a float in ``[0, 1)``; pass a fixed function to make the result exact.
        """
        d = self.cap(attempt)
        if self.jitter:
            d = d / 2 + (d / 2) * rand()
        return max(d, self.min_gap)
