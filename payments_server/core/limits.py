"""Spending limits: at most so much per payment, and per rolling 24 hours.

The wording of a refusal is the seed's compliance error (`003_…`): "495.00 + 10.00 >
500.00 (1 day)". The day is counted only while a day limit is set, so the history of a
long run costs no memory: a day limit set with PUT /simulation counts from then.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .clock import real_now
from .refusals import LimitExceededError

__all__ = ["DAY", "LimitExceededError", "Limits", "SpendingWindow"]

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force; None is no limit."""

    per_payment: Decimal | None = None
    per_day: Decimal | None = None
    # When these limits were set (time.monotonic): the day counts from then.
    since: float = 0.0


class SpendingWindow:
    """Successful payments of the last 24 hours, while a day limit is set.

    Not locked itself: the ledger checks and adds under its own lock.
    """

    def __init__(self, clock: Callable[[], datetime] = real_now) -> None:
        # The gateway's clock, exact to the microsecond: a payment made a day ago to the
        # microsecond is out of the window, whatever float rounding would say.
        self._clock = clock
        self._spent: deque[tuple[datetime, Decimal]] = deque()
        self._total = Decimal(0)
        self._since = 0.0

    def check(self, limits: Limits, amount: Decimal) -> None:
        """Raise LimitExceededError if paying `amount` now would go over a limit."""
        self._follow(limits)
        if limits.per_payment is not None and amount > limits.per_payment:
            raise LimitExceededError(
                "per payment", f"{amount:.2f} > {limits.per_payment:.2f} (per payment)"
            )
        if limits.per_day is not None:
            spent = self.total()
            if spent + amount > limits.per_day:
                raise LimitExceededError(
                    "1 day", f"{spent:.2f} + {amount:.2f} > {limits.per_day:.2f} (1 day)"
                )

    def add(self, limits: Limits, amount: Decimal) -> None:
        """Count a successful payment (or a refund, negative), if a day limit is set."""
        self._follow(limits)
        if limits.per_day is not None:
            self._spent.append((self._clock(), amount))
            self._total += amount

    def _follow(self, limits: Limits) -> None:
        if limits.since != self._since:
            # New limits: their day counts from when they were set.
            self.clear()
            self._since = limits.since

    def total(self) -> Decimal:
        """What was paid in the last 24 hours."""
        horizon = self._clock() - DAY
        while self._spent and self._spent[0][0] <= horizon:
            self._total -= self._spent.popleft()[1]
        return self._total

    def clear(self) -> None:
        """Forget every payment (a reset)."""
        self._spent.clear()
        self._total = Decimal(0)
