"""Pending payments, composed: each is decided on time (or at once through the API) by
the ledger, and the store then gets the one callback, as for any order payment."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from datetime import UTC, datetime

from .callbacks.deliveries import Delivery
from .callbacks.dispatcher import CallbackDispatcher
from .core.ledger import Ledger
from .core.limits import LimitExceededError
from .core.orders import OrderRecord
from .core.refusals import InsufficientFundsError, NotPendingError, PaymentDeclinedError
from .core.transactions import OrderId


class PendingPayments:
    """Decides pending order payments when they are due, on one timer thread."""

    def __init__(self, ledger: Ledger, callbacks: CallbackDispatcher) -> None:
        self.ledger = ledger
        self.callbacks = callbacks
        self._lock = threading.Condition()
        self._due: list[tuple[datetime, int, OrderId]] = []
        self._order = itertools.count()
        self._timer: threading.Thread | None = None
        self._closed = False

    def schedule(self, order_id: OrderId, due: datetime) -> None:
        """Decide this order's pending payment at `due` (at once if that has passed)."""
        with self._lock:
            heapq.heappush(self._due, (due, next(self._order), order_id))
            if self._timer is None:
                self._timer = threading.Thread(target=self._run, name="pending", daemon=True)
                self._timer.start()
            self._lock.notify_all()

    def decide(self, order_id: OrderId, then: str | None = None) -> tuple[OrderRecord, Delivery]:
        """Decide now (as planned, or as `then`) and tell the store; raise KeyError or
        NotPendingError, and then nothing happened."""
        try:
            record = self.ledger.decide(order_id, then)
            status = "success"
        except (PaymentDeclinedError, InsufficientFundsError, LimitExceededError):
            record = self.ledger.order(order_id)  # type: ignore[assignment]
            status = "failed"
        # Outside the ledger's lock, as every callback is sent.
        return record, self.callbacks.notify(record.order_id, status)

    def reset(self) -> None:
        """Forget every scheduled decision (the ledger forgot the payments)."""
        with self._lock:
            self._due.clear()

    def close(self) -> None:
        """Stop the timer thread."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._timer is not None:
            self._timer.join(1.0)

    def _run(self) -> None:
        while (order_id := self._next_due()) is not None:
            # KeyError, NotPendingError: decided through the API first, or reset.
            with contextlib.suppress(KeyError, NotPendingError):
                self.decide(order_id)

    def _next_due(self) -> OrderId | None:
        with self._lock:
            while not self._closed:
                if not self._due:
                    self._lock.wait()
                    continue
                wait = (self._due[0][0] - datetime.now(UTC)).total_seconds()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                return heapq.heappop(self._due)[2]
            return None
