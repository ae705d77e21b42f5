"""Pending payments, composed: each is decided on time (or at once through the API) by
the ledger, and the store then gets the one callback, as for any order payment."""

from __future__ import annotations

import contextlib
from datetime import datetime

from .callbacks.deliveries import Delivery
from .callbacks.dispatcher import CallbackDispatcher
from .core.ledger import Ledger
from .core.limits import LimitExceededError
from .core.orders import OrderRecord
from .core.refusals import InsufficientFundsError, NotPendingError, PaymentDeclinedError
from .core.timer import DueTimer
from .core.transactions import OrderId


class PendingPayments:
    """Decides pending order payments when they are due, on one timer thread."""

    def __init__(self, ledger: Ledger, callbacks: CallbackDispatcher) -> None:
        self.ledger = ledger
        self.callbacks = callbacks
        self._timer: DueTimer[OrderId] = DueTimer(self._due, "pending")

    def schedule(self, order_id: OrderId, due: datetime) -> None:
        """Decide this order's pending payment at `due` (at once if that has passed)."""
        self._timer.schedule(order_id, due)

    def decide(
        self, order_id: OrderId, then: str | None = None, *, when_due: bool = False
    ) -> tuple[OrderRecord, Delivery]:
        """Decide now (as planned, or as `then`) and tell the store; raise KeyError or
        NotPendingError, and then nothing happened."""
        try:
            record = self.ledger.decide(order_id, then, when_due=when_due)
            status = "success"
        except (PaymentDeclinedError, InsufficientFundsError, LimitExceededError):
            record = self.ledger.order(order_id)  # type: ignore[assignment]
            status = "failed"
        # Outside the ledger's lock, as every callback is sent.
        return record, self.callbacks.notify(record.order_id, status)

    def reset(self) -> None:
        """Forget every scheduled decision (the ledger forgot the payments)."""
        self._timer.clear()

    def close(self) -> None:
        """Stop the timer thread."""
        self._timer.close()

    def _due(self, order_id: OrderId) -> None:
        # KeyError, NotPendingError: decided through the API first, or reset.
        with contextlib.suppress(KeyError, NotPendingError):
            self.decide(order_id, when_due=True)
