"""When to try a failed callback again: a backoff schedule with jitter, Retry-After, 410 Gone."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .client import Attempt

# About 12 minutes in all: long enough for a developer to restart a crashed store.
DEFAULT_SCHEDULE = (1.0, 5.0, 30.0, 120.0, 600.0)
# Each delay is stretched or shrunk by up to this fraction, so that callbacks that failed
# together do not all come back in the same instant.
JITTER = 0.2
# A store's Retry-After is honoured up to an hour; beyond that the event would outlive any test.
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retries follow a failed first attempt, and the wait before each."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    # None: one retry per step of the schedule. More retries than steps repeat the last step.
    retries: int | None = None
    jitter: float = JITTER

    @property
    def max_retries(self) -> int:
        """The number of retries after the first attempt."""
        return len(self.schedule) if self.retries is None else self.retries

    def next_delay(self, attempt: Attempt, retries_done: int, rng: random.Random) -> float | None:
        """Seconds to wait before the next retry, or None when this event is finished."""
        if attempt.delivered or attempt.gone or retries_done >= self.max_retries:
            return None
        if attempt.retry_after is not None:
            return min(attempt.retry_after, MAX_RETRY_AFTER)
        step = self.schedule[min(retries_done, len(self.schedule) - 1)]
        return step * rng.uniform(1 - self.jitter, 1 + self.jitter)

    def describe(self) -> str:
        """The schedule in words, for the startup line: "5 retries after 1, 5, 30, 120, 600 s"."""
        count = self.max_retries
        if count == 0:
            return "no retries"
        steps = ", ".join(f"{step:g}" for step in self.schedule[:count])
        text = f"{count} {'retry' if count == 1 else 'retries'} after {steps} s"
        if count > len(self.schedule):
            text += f", then every {self.schedule[-1]:g} s"
        return text
