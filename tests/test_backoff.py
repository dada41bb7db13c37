"""The reconnect backoff policy as a pure function."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobwidget.backoff import Backoff


def test_doubles_from_one_second_to_thirty() -> None:
    policy = Backoff(jitter=False)
    assert [policy.delay(n) for n in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_jitter_spans_half_to_full_delay() -> None:
    policy = Backoff()
    assert policy.delay(3, rand=lambda: 0.0) == 4.0
    assert policy.delay(3, rand=lambda: 0.999999) == pytest.approx(8.0, rel=1e-5)
    assert policy.delay(10, rand=lambda: 0.5) == 22.5


def test_never_sooner_than_the_minimum_gap() -> None:
    assert Backoff().delay(0, rand=lambda: 0.0) == 1.0
    assert Backoff(initial=0.05, maximum=0.4, min_gap=0.2).delay(0, rand=lambda: 0.0) == 0.2


def test_huge_attempt_counts_do_not_overflow() -> None:
    assert Backoff(jitter=False).delay(10_000) == 30.0


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": 0}, {"initial": 5, "maximum": 1}, {"factor": 0.5}, {"min_gap": -1}],
)
def test_bad_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff needs"):
        Backoff(**kwargs)


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        Backoff().delay(-1)


@given(st.integers(0, 200), st.floats(0, 1, exclude_max=True))
def test_delay_is_within_bounds(attempt: int, r: float) -> None:
    policy = Backoff()
    d = policy.delay(attempt, rand=lambda: r)
    cap = policy.cap(attempt)
    assert max(cap / 2, policy.min_gap) <= d <= max(cap, policy.min_gap)
    assert d <= policy.maximum
