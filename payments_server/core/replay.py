"""The ledger's side of the state file: each line read back, checked and applied.

A mixin of Ledger, so that replaying uses exactly the same records and checks as a live
payment; every derived number (balance_after) is recomputed and must match the file.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .money import Amount, AmountError, parse_amount
from .orders import AttemptOutcome, OrderAttempt, OrderRecord, OrderRefund, PendingOrder
from .transactions import OrderId, Refund, Transaction, as_order_id, order_key


class Replay:
    """Ledger.replay(event) and the checks it makes; the Ledger provides the rest."""

    _lock: threading.Lock
    _balance: Decimal
    _orders: dict[str, OrderRecord]

    if TYPE_CHECKING:

        def _clear(self, balance: Decimal) -> None: ...
        def _commit(self, transaction: Transaction) -> None: ...
        def _order_paid(self, order_id: OrderId) -> bool: ...
        def _record(self, order_id: OrderId) -> OrderRecord: ...
        def _keep_order(self, record: OrderRecord, pending: PendingOrder | None) -> None: ...
        def _transaction(
            self, amount: Amount, recipient: str | None = None, order_id: OrderId | None = None
        ) -> Transaction: ...

    def replay(self, event: dict[str, Any]) -> None:
        """Apply one event read back from the state file; raise ValueError if it cannot be."""
        with self._lock:
            kind = event.get("event")
            if kind == "reset":
                self._clear(_stored_amount(event, "balance", allow_zero=True).value)
            elif kind == "payment":
                recipient = event.get("recipient")
                if not isinstance(recipient, str):
                    raise ValueError("a payment without a recipient")
                transaction = self._transaction(_stored_amount(event), recipient=recipient)
                _check_balance_after(event, transaction)
                self._commit(transaction)
            elif kind == "order":
                self._replay_order(event)
            elif kind == "refund":
                self._replay_refund(event)
            else:
                raise ValueError(f"unknown event {kind!r}")

    def _replay_order(self, event: dict[str, Any]) -> None:
        order_id = as_order_id(event.get("order_id"))
        if order_id is None:
            raise ValueError("an order event without a valid order_id")
        if self._order_paid(order_id):
            raise ValueError(f"order {order_id} is paid twice")
        try:
            outcome = AttemptOutcome(event["outcome"])
            at = datetime.fromisoformat(event["at"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("an order event without a valid outcome and time") from None
        code = event.get("decline_code")
        if code is not None and not isinstance(code, str):
            raise ValueError("an order event with a decline_code that is not text")
        amount = _stored_amount(event)
        attempt = OrderAttempt(at, amount, outcome, code)
        # A pending attempt keeps its decision to come; any other attempt ends it.
        pending = _pending(event, amount) if outcome is AttemptOutcome.PENDING else None
        transaction = None
        if outcome is AttemptOutcome.PAID and event.get("funded") is False:
            # Paid from outside the account: the order's, not the balance's.
            transaction = Transaction(amount.sent, self._balance, None, order_id)
        elif outcome is AttemptOutcome.PAID:
            transaction = self._transaction(amount, order_id=order_id)
            _check_balance_after(event, transaction)
            self._commit(transaction)
        api = event.get("api")
        if api is not None and not isinstance(api, str):
            raise ValueError("an order event with an api that is not text")
        record = self._record(order_id).attempted(attempt, transaction, api)
        if transaction is not None and event.get("funded") is False:
            record = replace(record, funded=False)
        self._keep_order(record, pending)

    def _replay_refund(self, event: dict[str, Any]) -> None:
        order_id = as_order_id(event.get("order_id"))
        record = None if order_id is None else self._orders.get(order_key(order_id))
        if record is None or not record.paid:
            raise ValueError("a refund of an order that is not paid")
        amount = _stored_amount(event)
        if amount.value > record.refundable:
            raise ValueError(f"a refund of more than is left on order {order_id}")
        try:
            at = datetime.fromisoformat(event["at"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a refund event without a valid time") from None
        refund = Refund(amount.sent, self._balance + amount.value, None, record.order_id)
        _check_balance_after(event, refund)
        self._commit(refund)
        self._orders[order_key(record.order_id)] = record.with_refund(OrderRefund(at, refund))


def _stored_amount(event: dict[str, Any], name: str = "amount", **rules: bool) -> Amount:
    try:
        return parse_amount(event.get(name), name=name, **rules)
    except AmountError as exc:
        raise ValueError(str(exc)) from None


def _pending(event: dict[str, Any], amount: Amount) -> PendingOrder:
    then, code = event.get("then"), event.get("then_decline_code")
    try:
        due = datetime.fromisoformat(event["decide_at"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("a pending order event without a valid decide_at") from None
    if then not in ("paid", "declined") or not isinstance(code, str) or due.utcoffset() is None:
        raise ValueError("a pending order event without then, then_decline_code and a zone")
    return PendingOrder(amount, due, then, code)


def _check_balance_after(event: dict[str, Any], transaction: Transaction) -> None:
    stored = event.get("balance_after")
    if not isinstance(stored, int | Decimal) or Decimal(stored) != transaction.balance_after:
        raise ValueError(
            f"balance_after {stored} does not follow from the balance before it"
            f" ({transaction.balance_after + transaction.amount.value}"
            f" - {transaction.amount.value} = {transaction.balance_after})"
        )
