"""The account: balance, transactions and paid orders, changed only under one lock."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from .activity import ActivityLog
from .clock import real_now
from .journal import Journal
from .jsonio import format_time
from .limits import LimitExceededError, Limits, SpendingWindow
from .money import Amount
from .orders import AttemptOutcome, OrderAttempt, OrderRecord, OrderRefund, PendingOrder
from .refusals import (  # re-exported: the refusals are the ledger's answers
    InsufficientFundsError,
    NothingToRefundError,
    NotPendingError,
    NotTheAccountsMoneyError,
    OrderAlreadyPaidError,
    OrderNotPaidError,
    OrderPendingError,
    PaymentDeclinedError,
    PaymentPendingError,
    RefundTooLargeError,
)
from .replay import Replay
from .simulation import Decline, HoldPending
from .transactions import OrderId, Refund, Transaction, order_key

# Asked, under the account lock, whether a payment is declined (or left pending), or None.
DeclineCheck = Callable[[], Decline | HoldPending | str | None]
# Given an order's attempt, more keys for its state-file line: a checkout session's new
# version, so that one line holds the whole payment.
Note = Callable[[OrderAttempt], Mapping[str, Any]]


def _as_decline(answer: Decline | HoldPending | str | None) -> Decline | None:
    if isinstance(answer, HoldPending):
        return None  # a generic payment is never left pending
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
        clock: Callable[[], datetime] = real_now,
    ) -> None:
        self.account_id = account_id
        self.holder = holder
        self.initial_balance = initial_balance
        self._lock = threading.Lock()
        self._balance = initial_balance
        self._transactions: list[Transaction] = []
        self._orders: dict[str, OrderRecord] = {}
        # The keys of orders with a payment pending, oldest first: listed without a scan.
        self._waiting: dict[str, None] = {}
        self._journal = journal
        self._activity = activity
        self._limits = limits
        self._clock = clock
        self._window = SpendingWindow(clock)

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

    def orders(
        self, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[OrderRecord], int]:
        """Up to `limit` orders (of those in `state`) after the first `offset`, newest first,
        and how many there are."""
        stop = min(offset + limit, sys.maxsize)
        with self._lock:
            if state is None:
                newest = reversed(self._orders.values())
                return list(islice(newest, min(offset, stop), stop)), len(self._orders)
            if state == "pending":
                keys = list(reversed(self._waiting))
                return [self._orders[key] for key in keys[offset:stop]], len(keys)
            records = list(reversed(self._orders.values()))
        matching = [record for record in records if record.state == state]
        return matching[offset:stop], len(matching)

    def paid_order(self, order_id: OrderId) -> Transaction | None:
        """The transaction that paid this order, if it has been paid."""
        record = self.order(order_id)
        return None if record is None else record.transaction

    def pay(
        self, amount: Amount, recipient: str, decline: DeclineCheck = lambda: None
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
        self,
        order_id: OrderId,
        amount: Amount,
        decline: DeclineCheck = lambda: None,
        note: Note | None = None,
        *,
        funded: bool = True,
        api: str | None = None,
    ) -> Transaction:
        """Debit an order once, recording the attempt whatever its outcome (with `note`'s
        keys on its state-file line, and `api`, the API it came through, on the order);
        with `funded` False the money comes from outside the
        account (a card the PSP charges): the order is paid, and neither the balance nor the
        spending window moves. Raises
        OrderAlreadyPaidError or OrderPendingError (nothing recorded), PaymentPendingError
        (recorded, decided later by decide()), PaymentDeclinedError, LimitExceededError or
        InsufficientFundsError."""
        what = f"order {order_id}"
        with self._lock:
            if self._order_paid(order_id):
                self._decided(what, order_id, amount, "already_paid")
                raise OrderAlreadyPaidError(order_id)
            if self._record(order_id).pending is not None:
                raise OrderPendingError(order_id)
            at = self._clock()
            answer = decline()
            if isinstance(answer, HoldPending):
                due = at + timedelta(milliseconds=answer.after_ms)
                wait = PendingOrder(amount, due, answer.then, answer.decline_code)
                self._attempt(
                    order_id,
                    OrderAttempt(at, amount, AttemptOutcome.PENDING),
                    pending=wait,
                    note=note,
                    api=api,
                )
                self._decided(what, order_id, amount, "pending", Decline("", answer.reason))
                raise PaymentPendingError(order_id, amount, answer.after_ms, due)
            declined = _as_decline(answer)
            if declined is not None:
                attempt = OrderAttempt(at, amount, AttemptOutcome.DECLINED, declined.code)
                self._attempt(order_id, attempt, note=note, api=api)
                self._decided(what, order_id, amount, "declined", declined)
                raise PaymentDeclinedError(declined.code)
            if not funded:
                paid = Transaction(amount.sent, self._balance, None, order_id)
                attempt = OrderAttempt(at, amount, AttemptOutcome.PAID)
                self._attempt(order_id, attempt, paid, note=note, funded=False, api=api)
                self._decided(what, order_id, amount, "paid")
                return paid
            return self._charge(order_id, amount, at, note, api)

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

    def _charge(
        self,
        order_id: OrderId,
        amount: Amount,
        at: datetime,
        note: Note | None = None,
        api: str | None = None,
    ) -> Transaction:
        """Debit an order under the limits and the balance, recording the attempt."""
        what = f"order {order_id}"
        limits = self._limits()
        try:
            self._window.check(limits, amount.value)
        except LimitExceededError as exc:
            self._attempt(
                order_id,
                OrderAttempt(at, amount, AttemptOutcome.LIMIT_EXCEEDED),
                note=note,
                api=api,
            )
            self._decided(what, order_id, amount, "limit_exceeded", exc)
            raise
        try:
            transaction = self._transaction(amount, order_id=order_id)
        except InsufficientFundsError:
            attempt = OrderAttempt(at, amount, AttemptOutcome.INSUFFICIENT_FUNDS)
            self._attempt(order_id, attempt, note=note, api=api)
            self._decided(what, order_id, amount, "insufficient_funds")
            raise
        self._attempt(
            order_id, OrderAttempt(at, amount, AttemptOutcome.PAID), transaction, note=note, api=api
        )
        self._window.add(limits, amount.value)
        self._decided(what, order_id, amount, "paid", balance=transaction)
        return transaction

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
        self,
        order_id: OrderId,
        attempt: OrderAttempt,
        transaction: Transaction | None = None,
        pending: PendingOrder | None = None,
        note: Note | None = None,
        funded: bool = True,
        api: str | None = None,
    ) -> None:
        """Record an attempt (first in the state file, with `note`'s keys); any attempt but
        a pending one ends the order's pending payment. An unfunded payment's transaction
        is the order's, and not the account's. The order keeps the first `api` it is given
        (the API it came through)."""
        noted = None if note is None else note(attempt)
        if self._journal is not None:
            event: dict[str, Any] = {"event": "order", **attempt.to_json(), "order_id": order_id}
            if api is not None:
                event["api"] = api
            if transaction is not None and funded:
                event["balance_after"] = transaction.balance_after
            if not funded:
                event["funded"] = False
            if pending is not None:
                event.update(pending.to_event())
            if noted is not None:
                event.update(noted)
            self._write(event)
        if transaction is not None and funded:
            self._commit(transaction)
        record = self._record(order_id).attempted(attempt, transaction, api)
        if transaction is not None and not funded:
            record = replace(record, funded=False)
        self._keep_order(record, pending)

    def _keep_order(self, record: OrderRecord, pending: PendingOrder | None) -> None:
        key = order_key(record.order_id)
        self._orders[key] = replace(record, pending=pending)
        self._waiting.pop(key, None)
        if pending is not None:
            self._waiting[key] = None  # last: the newest pending payment

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
        self._waiting.clear()

    def _write(self, event: dict[str, Any]) -> None:
        # Written before memory changes: a change the file does not hold never happened.
        if self._journal is not None:
            self._journal.append(event)
