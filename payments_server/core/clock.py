"""The gateway's one clock: real time by default, or frozen and moved by hand in tests.

Every time the gateway keeps or shows (payments, sessions, callbacks, activity, limits,
idempotency keys) is read here, so a test can freeze it and advance through a 15-minute
expiry or a 24-hour limit window without waiting. Once moved, a running clock keeps its
lead over real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# The clock's range: every timer (a year's window back, a 30-day settlement, a retry) stays
# within what a datetime can hold, so no date sum overflows near year 9999 or year 1.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
ONE_YEAR = timedelta(days=366)


class ClockRangeError(ValueError):
    """A move that would take the clock past LATEST."""

    def __init__(self) -> None:
        super().__init__(f"The clock cannot go past {LATEST.isoformat().replace('+00:00', 'Z')}")


class ClockAheadError(ValueError):
    """Back to real time asked of a clock ahead of it: the clock never goes back."""

    def __init__(self, ahead: timedelta) -> None:
        super().__init__(f"the clock is {ahead} ahead of real time, and it never goes back")
        self.ahead = ahead


def real_now() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


class Clock:
    """Now, as the gateway sees it: real time plus a lead, or a frozen moment."""

    def __init__(
        self,
        *,
        frozen: bool = False,
        start: datetime | None = None,
        real: Callable[[], datetime] = real_now,
    ) -> None:
        self._real = real
        self._start = start
        self._lock = threading.Lock()
        self._lead = timedelta(0)
        self._frozen_at: datetime | None = None
        self._begin(frozen=frozen)

    def _begin(self, *, frozen: bool) -> None:
        # At `start` (a time the clock may be set back to only here), or at real time.
        real = self._real()
        begin = real if self._start is None else self._start
        self._lead = begin - real if not frozen else timedelta(0)
        self._frozen_at = begin if frozen else None

    def now(self) -> datetime:
        """The gateway's time now."""
        frozen = self._frozen_at
        return frozen if frozen is not None else self._real() + self._lead

    def timestamp(self) -> float:
        """The gateway's time now, in seconds since the epoch."""
        return self.now().timestamp()

    @property
    def frozen(self) -> bool:
        """True while the clock stands still."""
        return self._frozen_at is not None

    @property
    def real(self) -> bool:
        """True when the clock runs on real time, neither frozen nor moved."""
        return self._frozen_at is None and not self._lead

    def freeze(self) -> None:
        """Stop the clock where it is (nothing changes if it is frozen already)."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._real() + self._lead

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands, keeping its lead over real time."""
        with self._lock:
            if self._frozen_at is not None:
                self._lead = self._frozen_at - self._real()
                self._frozen_at = None

    def move_to(self, moment: datetime) -> None:
        """Set the clock to `moment`, never back: a clock that is ahead stays where it is;
        raise ClockRangeError past LATEST."""
        if moment > LATEST:
            raise ClockRangeError
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = max(self._frozen_at, moment)
            else:
                self._lead = max(self._lead, moment - self._real())

    def real_now(self) -> datetime:
        """The real time, as this clock reads it."""
        return self._real()

    def run_on_real_time(self) -> None:
        """Run on real time from now on, neither frozen nor ahead; raise ClockAheadError
        (changing nothing) when the clock is ahead of real time, since it never goes back."""
        with self._lock:
            real = self._real()
            now = self._frozen_at if self._frozen_at is not None else real + self._lead
            if now > real:
                raise ClockAheadError(now - real)
            self._lead = timedelta(0)
            self._frozen_at = None

    def reset(self, *, frozen: bool) -> None:
        """Back to where it started (real time, or --clock-start), frozen there or running."""
        with self._lock:
            self._begin(frozen=frozen)
