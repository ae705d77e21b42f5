"""RetryPolicy: the schedule, its jitter, Retry-After and 410 Gone."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from payments_server.callbacks.client import Attempt
from payments_server.callbacks.retries import DEFAULT_SCHEDULE, MAX_RETRY_AFTER, RetryPolicy

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
FAILED = Attempt(AT, 500, "store answered 500", 1.0)


def attempt(status: int | None, retry_after: float | None = None) -> Attempt:
    error = None if status is not None and 200 <= status < 300 else f"store answered {status}"
    return Attempt(AT, status, error, 1.0, retry_after)


def test_the_default_schedule_is_about_1_5_30_120_600_seconds_then_gives_up() -> None:
    policy, rng = RetryPolicy(), random.Random(1)
    delays = [policy.next_delay(FAILED, done, rng) for done in range(6)]
    assert delays[5] is None
    for delay, step in zip(delays[:5], (1, 5, 30, 120, 600), strict=True):
        assert delay is not None
        assert step * 0.8 <= delay <= step * 1.2


def test_jitter_spreads_retries_of_callbacks_that_failed_together() -> None:
    policy, rng = RetryPolicy(), random.Random(2)
    delays = {policy.next_delay(FAILED, 0, rng) for _ in range(100)}
    assert len(delays) == 100
    assert min(delays) < 0.9  # type: ignore[type-var]
    assert max(delays) > 1.1  # type: ignore[type-var]


def test_without_jitter_the_schedule_is_exact() -> None:
    policy = RetryPolicy((0.5, 2.0), jitter=0.0)
    rng = random.Random(3)
    assert [policy.next_delay(FAILED, done, rng) for done in range(3)] == [0.5, 2.0, None]


def test_more_retries_than_steps_repeat_the_last_step() -> None:
    policy = RetryPolicy((1.0, 4.0), retries=4, jitter=0.0)
    rng = random.Random(4)
    assert [policy.next_delay(FAILED, done, rng) for done in range(5)] == [1, 4, 4, 4, None]


def test_zero_retries_means_the_single_first_attempt() -> None:
    assert RetryPolicy(retries=0).next_delay(FAILED, 0, random.Random()) is None


@pytest.mark.parametrize("status", [200, 204])
def test_a_delivered_attempt_is_not_retried(status: int) -> None:
    assert RetryPolicy().next_delay(attempt(status), 0, random.Random()) is None


def test_410_gone_stops_retrying_at_once() -> None:
    assert RetryPolicy().next_delay(attempt(410), 0, random.Random()) is None


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503, None, 302])
def test_other_failures_are_retried(status: int | None) -> None:
    assert RetryPolicy().next_delay(attempt(status), 0, random.Random()) is not None


def test_retry_after_replaces_the_scheduled_delay_up_to_an_hour() -> None:
    policy, rng = RetryPolicy(), random.Random(5)
    assert policy.next_delay(attempt(503, 2.0), 3, rng) == 2.0
    assert policy.next_delay(attempt(429, 0.0), 0, rng) == 0.0
    assert policy.next_delay(attempt(503, 86_400.0), 0, rng) == MAX_RETRY_AFTER
    # Retry-After changes the wait, not the number of retries.
    assert policy.next_delay(attempt(503, 2.0), 5, rng) is None


@pytest.mark.parametrize(
    ("policy", "text"),
    [
        (RetryPolicy(), "5 retries after 1, 5, 30, 120, 600 s"),
        (RetryPolicy(retries=0), "no retries"),
        (RetryPolicy(retries=1), "1 retry after 1 s"),
        (RetryPolicy((0.5, 2.0), retries=5), "5 retries after 0.5, 2 s, then every 2 s"),
    ],
)
def test_the_policy_describes_itself_for_the_startup_line(policy: RetryPolicy, text: str) -> None:
    assert policy.describe() == text


def test_the_default_schedule_constant_is_the_documented_one() -> None:
    assert DEFAULT_SCHEDULE == (1, 5, 30, 120, 600)
