"""The account: balance, transactions and paid orders, changed only under one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .activity import ActivityLog
from .journal import Journal
from .jsonio import format_time
from .limits import LimitExceededError, Limits, SpendingWindow
from .money import Amount
from .orders import OrderAttempt, OrderRecord, OrderRefund, Outcome
from .refusals import (  # re-exported: the refusals are the ledger's answers
    InsufficientFundsError,
    NothingToRefundError,
    OrderAlreadyPaidError,
    OrderNotPaidError,
    PaymentDeclinedError,
    RefundTooLargeError,
)
from .replay import Replay
from .simulation import Decline
from .transactions import OrderId, Refund, Transaction, order_key

# Asked, under the account lock, whether a payment is declined: a decline (or just its
# code), or None.
DeclineCheck = Callable[[], Decline | str | None]


def _never_decline() -> None:
    return None


def _as_decline(answer: Decline | str | None) -> Decline | None:
    return Decline(answer, "declined") if isinstance(answer, str) else answer


class Ledger(Replay):
    """One in-memory bank account. Every check-and-change happens under its lock."""

    def __init__(
        self,
        initial_balance: Decimal,
        account_id: str = "ACC-001",
        holder: str = "John Doe",
        journal: Journal | None = None,
        activity: ActivityLog | None = None,
        limits: Callable[[], Limits] = Limits,
    ) -> None:
        self.account_id = account_id
        self.holder = holder
        self.initial_balance = initial_balance
        self._lock = threading.Lock()
        self._balance = initial_balance
        self._transactions: list[Transaction] = []
        self._orders: dict[str, OrderRecord] = {}
        self._journal = journal
        self._activity = activity
        self._limits = limits
        self._window = SpendingWindow()

    @property
    def balance(self) -> Decimal:
        """The current balance."""
        return self._balance

    def transactions(self) -> list[Transaction]:
        """A snapshot of every successful payment, oldest first."""
        with self._lock:
            return list(self._transactions)

    def transactions_page(self, offset: int, limit: int) -> tuple[list[Transaction], int]:
        """Up to `limit` payments from position `offset`, oldest first, and the total count."""
        with self._lock:
            return self._transactions[offset : offset + limit], len(self._transactions)

    def order(self, order_id: OrderId) -> OrderRecord | None:
        """What happened to an order's payments, if any reached the account."""
        return self._orders.get(order_key(order_id))

    def paid_order(self, order_id: OrderId) -> Transaction | None:
        """The transaction that paid this order, if it has been paid."""
        record = self.order(order_id)
        return None if record is None else record.transaction

    def pay(
        self, amount: Amount, recipient: str, decline: DeclineCheck = _never_decline
    ) -> Transaction:
        """Debit a payment to a recipient; raise PaymentDeclinedError or InsufficientFundsError."""
        with self._lock:
            declined = _as_decline(decline())
            if declined is not None:
                self._decided(f"payment to {recipient}", None, amount, "declined", declined)
                raise PaymentDeclinedError(declined.code)
            limits = self._limits()
            try:
                self._window.check(limits, amount.value)
            except LimitExceededError as exc:
                self._decided(f"payment to {recipient}", None, amount, "limit_exceeded", exc)
                raise
            try:
                transaction = self._transaction(amount, recipient=recipient)
            except InsufficientFundsError:
                self._decided(f"payment to {recipient}", None, amount, "insufficient_funds")
                raise
            self._write({"event": "payment", **transaction.to_json()})
            self._commit(transaction)
            self._window.add(limits, amount.value)
            self._decided(f"payment to {recipient}", None, amount, "paid", balance=transaction)
            return transaction

    def pay_order(
        self, order_id: OrderId, amount: Amount, decline: DeclineCheck = _never_decline
    ) -> Transaction:
        """Debit an order once, recording the attempt whatever its outcome.

        Raises OrderAlreadyPaidError (nothing recorded), PaymentDeclinedError or
        InsufficientFundsError.
        """
        what = f"order {order_id}"
        with self._lock:
            if self._order_paid(order_id):
                self._decided(what, order_id, amount, "already_paid")
                raise OrderAlreadyPaidError(order_id)
            at = datetime.now(UTC)
            declined = _as_decline(decline())
            if declined is not None:
                attempt = OrderAttempt(at, amount, Outcome.DECLINED, declined.code)
                self._attempt(order_id, attempt)
                self._decided(what, order_id, amount, "declined", declined)
                raise PaymentDeclinedError(declined.code)
            limits = self._limits()
            try:
                self._window.check(limits, amount.value)
            except LimitExceededError as exc:
                self._attempt(order_id, OrderAttempt(at, amount, Outcome.LIMIT_EXCEEDED))
                self._decided(what, order_id, amount, "limit_exceeded", exc)
                raise
            try:
                transaction = self._transaction(amount, order_id=order_id)
            except InsufficientFundsError:
                self._attempt(order_id, OrderAttempt(at, amount, Outcome.INSUFFICIENT_FUNDS))
                self._decided(what, order_id, amount, "insufficient_funds")
                raise
            self._attempt(order_id, OrderAttempt(at, amount, Outcome.PAID), transaction)
            self._window.add(limits, amount.value)
            self._decided(what, order_id, amount, "paid", balance=transaction)
            return transaction

    def refund(self, order_id: OrderId, amount: Amount | None = None) -> OrderRecord:
        """Give back `amount` (default: all that is left) of a paid order's payment.

        Raises KeyError (no such order), OrderNotPaidError, NothingToRefundError or
        RefundTooLargeError; then nothing changed.
        """
        with self._lock:
            record = self._orders[order_key(order_id)]
            if not record.paid:
                raise OrderNotPaidError(record.order_id)
            left = record.refundable
            if amount is None:
                if left == 0:
                    raise NothingToRefundError(record.order_id)
                amount = Amount(left, left)
            if amount.value > left:
                raise RefundTooLargeError(record.order_id, amount, left)
            refund = Refund(amount.sent, self._balance + amount.value, None, record.order_id)
            at = datetime.now(UTC)
            self._write(
                {"event": "refund", "order_id": record.order_id, "amount": amount.sent,
                 "at": format_time(at), "balance_after": refund.balance_after}
            )  # fmt: skip
            self._commit(refund)
            self._window.add(self._limits(), -amount.value)  # the day counts payments net
            record = self._orders[order_key(order_id)] = record.with_refund(OrderRefund(at, refund))
            self._decided(f"order {record.order_id}", record.order_id, amount, "refunded")
            return record

    def _decided(
        self,
        what: str,
        order_id: OrderId | None,
        amount: Amount,
        outcome: str,
        declined: Decline | LimitExceededError | None = None,
        balance: Transaction | None = None,
    ) -> None:
        """Tell the activity log what was decided, and on which balance."""
        if self._activity is not None:
            after = self._balance if balance is None else balance.balance_after
            self._activity.decided(what, order_id, amount.sent, outcome, after, declined)

    def reset(self, balance: Decimal | None = None) -> Decimal:
        """Forget every transaction and order; start from `balance` or the initial balance."""
        with self._lock:
            value = self.initial_balance if balance is None else balance
            if self._journal is not None:
                # Nothing before a reset matters any more, so the file starts again.
                self._journal.rewrite([{"event": "reset", "balance": value}])
            self._clear(value)
            return value

    def start_journal(self) -> None:
        """Record the starting balance in a new state file, so a restart begins from it."""
        with self._lock:
            self._write({"event": "reset", "balance": self._balance})

    def _order_paid(self, order_id: OrderId) -> bool:
        record = self._orders.get(order_key(order_id))
        return record is not None and record.paid

    def _record(self, order_id: OrderId) -> OrderRecord:
        return self._orders.get(order_key(order_id)) or OrderRecord(order_id)

    def _attempt(
        self, order_id: OrderId, attempt: OrderAttempt, transaction: Transaction | None = None
    ) -> None:
        if self._journal is not None:
            event: dict[str, Any] = {"event": "order", **attempt.to_json(), "order_id": order_id}
            if transaction is not None:
                event["balance_after"] = transaction.balance_after
            self._write(event)
        if transaction is not None:
            self._commit(transaction)
        self._orders[order_key(order_id)] = self._record(order_id).attempted(attempt, transaction)

    def _transaction(
        self, amount: Amount, recipient: str | None = None, order_id: OrderId | None = None
    ) -> Transaction:
        if amount.value > self._balance:
            raise InsufficientFundsError(self._balance, amount)
        return Transaction(amount.sent, self._balance - amount.value, recipient, order_id)

    def _commit(self, transaction: Transaction) -> None:
        self._balance = transaction.balance_after
        self._transactions.append(transaction)

    def _clear(self, balance: Decimal) -> None:
        self._window.clear()
        self._balance = balance
        self._transactions.clear()
        self._orders.clear()

    def _write(self, event: dict[str, Any]) -> None:
        # Written before memory changes: a change the file does not hold never happened.
        if self._journal is not None:
            self._journal.append(event)
