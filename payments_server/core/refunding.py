"""Refunds: money back for a paid order, in full or in parts, under the ledger's lock.

A mixin of Ledger, which provides the account; see core/replay.py for the same pattern.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from .jsonio import format_time
from .limits import Limits, SpendingWindow
from .money import Amount
from .orders import OrderRecord, OrderRefund
from .refusals import (
    NothingToRefundError,
    NotTheAccountsMoneyError,
    OrderNotPaidError,
    RefundTooLargeError,
)
from .transactions import OrderId, Refund, Transaction, order_key


class Refunds:
    """Ledger.refund(order_id, amount)."""

    _lock: threading.Lock
    _balance: Decimal
    _orders: dict[str, OrderRecord]
    _window: SpendingWindow
    _limits: Callable[[], Limits]
    _clock: Callable[[], datetime]

    if TYPE_CHECKING:

        def _commit(self, transaction: Transaction) -> None: ...
        def _write(self, event: dict[str, object]) -> None: ...
        def _decided(
            self, what: str, order_id: OrderId | None, amount: Amount, outcome: str
        ) -> None: ...

    def refund(self, order_id: OrderId, amount: Amount | None = None) -> OrderRecord:
        """Give back `amount` (default: all that is left) of a paid order's payment.

        Raises KeyError (no such order), OrderNotPaidError, NothingToRefundError or
        RefundTooLargeError; then nothing changed.
        """
        with self._lock:
            record = self._orders[order_key(order_id)]
            if not record.paid:
                raise OrderNotPaidError(record.order_id)
            if not record.funded:
                raise NotTheAccountsMoneyError(record.order_id)
            left = record.refundable
            if amount is None:
                if left == 0:
                    raise NothingToRefundError(record.order_id)
                amount = Amount(left, left)
            if amount.value > left:
                raise RefundTooLargeError(record.order_id, amount, left)
            refund = Refund(amount.sent, self._balance + amount.value, None, record.order_id)
            at = self._clock()
            self._write(
                {"event": "refund", "order_id": record.order_id, "amount": amount.sent,
                 "at": format_time(at), "balance_after": refund.balance_after}
            )  # fmt: skip
            self._commit(refund)
            self._window.add(self._limits(), -amount.value)  # the day counts payments net
            record = self._orders[order_key(order_id)] = record.with_refund(OrderRefund(at, refund))
            self._decided(f"order {record.order_id}", record.order_id, amount, "refunded")
            return record
