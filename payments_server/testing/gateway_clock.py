"""GatewayClock: the gateway's clock in a store's test, frozen and advanced by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..account import Account
from ..core.scheduler import Due

__all__ = ["GatewayClock"]


class GatewayClock:
    """Freeze the gateway's time and move it on: expiry, pending decisions and callback
    retries run during advance(), in due order, as POST /clock/advance runs them."""

    def __init__(self, gateway: Account) -> None:
        self._gateway = gateway

    @property
    def now(self) -> datetime:
        """The gateway's time now."""
        return self._gateway.clock.now()

    @property
    def frozen(self) -> bool:
        """True while the clock stands still."""
        return self._gateway.clock.frozen

    def freeze(self) -> None:
        """Stop the clock: nothing falls due until advance()."""
        self._gateway.clock.freeze()
        self._gateway.scheduler.wake()

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        self._gateway.clock.unfreeze()
        self._gateway.scheduler.wake()

    def back_to_real_time(self) -> list[Due]:
        """Bring a clock that is behind real time up to it, running what falls due on the
        way, and run it on real time; what ran. Raises ClockAheadError, changing nothing,
        for a clock ahead of real time: it never goes back."""
        return self._gateway.flow.clock_to_real_time()

    def advance(self, seconds: float = 0.0, *, to: datetime | None = None) -> list[Due]:
        """Move the clock on by `seconds` (or to `to`), running what falls due on the way;
        return what ran, in order. Callbacks have been sent when it returns."""
        target = to if to is not None else self.now + timedelta(seconds=seconds)
        return self._gateway.scheduler.advance(target)

    def scheduled(self) -> list[Due]:
        """What runs next, soonest first."""
        return self._gateway.scheduler.upcoming()
