"""Pending order payments decided: now through the API, or when due on the clock, under the
ledger's lock.

A mixin of Ledger, which provides the account; see core/replay.py for the same pattern.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from .money import Amount
from .orders import AttemptOutcome, OrderAttempt, OrderRecord
from .refusals import NotPendingError, PaymentDeclinedError
from .simulation import Decline
from .transactions import OrderId, Transaction, order_key


class PendingDecisions:
    """Ledger.decide(order_id) and Ledger.pending_orders()."""

    _lock: threading.Lock
    _orders: dict[str, OrderRecord]
    _waiting: dict[str, None]
    _clock: Callable[[], datetime]

    if TYPE_CHECKING:

        def _attempt(self, order_id: OrderId, attempt: OrderAttempt) -> None: ...
        def _charge(self, order_id: OrderId, amount: Amount, at: datetime) -> Transaction: ...
        def _decided(
            self, what: str, order_id: OrderId | None, amount: Amount, outcome: str,
            declined: Decline | None = None,
        ) -> None: ...  # fmt: skip

    def decide(
        self, order_id: OrderId, then: str | None = None, *, when_due: bool = False
    ) -> OrderRecord:
        """Decide a pending order payment now, as planned or as `then` ("paid" or
        "declined"): the same checks as a payment, at this moment. With `when_due`, only
        if its time has come (a timer for an earlier pending payment of the order does not).

        Raises KeyError (no such order) or NotPendingError; for a decided payment, whatever
        pay_order() raises for that outcome.
        """
        with self._lock:
            record, at = self._orders[order_key(order_id)], self._clock()
            if record.pending is None or (when_due and record.pending.due > at):
                raise NotPendingError(record.order_id)
            wait = record.pending
            if (then or wait.then) == "declined":
                attempt = OrderAttempt(at, wait.amount, AttemptOutcome.DECLINED, wait.decline_code)
                self._attempt(record.order_id, attempt)
                reason = Decline(wait.decline_code, "the pending payment was declined")
                self._decided(f"order {record.order_id}", record.order_id, wait.amount,
                              "declined", reason)  # fmt: skip
                raise PaymentDeclinedError(wait.decline_code)
            self._charge(record.order_id, wait.amount, at)
            return self._orders[order_key(order_id)]

    def pending_orders(self) -> list[tuple[OrderId, datetime]]:
        """Every pending order payment and when it is due to be decided."""
        with self._lock:
            records = [self._orders[key] for key in self._waiting]
        return [(r.order_id, r.pending.due) for r in records if r.pending]
