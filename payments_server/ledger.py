"""The account: balance, transactions and paid orders, changed only under one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from .jsonio import as_integer
from .money import Amount, format_balance
from .orders import OrderAttempt, OrderRecord, Outcome

OrderId = str | int
MAX_ORDER_ID_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Transaction:
    """One successful payment: to a recipient (/pay) or for an order (order routes)."""

    amount: Amount
    balance_after: Decimal
    recipient: str | None = None
    order_id: OrderId | None = None

    def to_json(self) -> dict[str, object]:
        """Return the transaction object exactly as the API shows it."""
        if self.order_id is not None:
            head: dict[str, object] = {"order_id": self.order_id}
        else:
            head = {"recipient": self.recipient}
        head["amount"] = self.amount.sent
        head["balance_after"] = format_balance(self.balance_after)
        return head


class InsufficientFundsError(Exception):
    """The balance is lower than the amount asked for; nothing was debited."""

    def __init__(self, balance: Decimal, requested: Amount) -> None:
        super().__init__(f"balance {balance} is lower than {requested.value}")
        self.balance = balance
        self.requested = requested


class OrderAlreadyPaidError(Exception):
    """The order has a successful payment already; nothing was debited."""

    def __init__(self, order_id: OrderId) -> None:
        super().__init__(f"order {order_id} has already been paid")
        self.order_id = order_id


class PaymentDeclinedError(Exception):
    """The payment was declined on purpose (simulation); nothing was debited."""

    def __init__(self, decline_code: str) -> None:
        super().__init__(f"declined: {decline_code}")
        self.decline_code = decline_code


# Asked, under the account lock, whether a payment is declined: a decline code or None.
DeclineCheck = Callable[[], str | None]


def _never_decline() -> str | None:
    return None


def as_order_id(value: object) -> OrderId | None:
    """The value as an order id: a string of 1 to 255 characters or an integer of at most
    255 digits (7.0 counts as the integer 7, as in JSON Schema); None if it is neither."""
    if isinstance(value, str):
        return value if 0 < len(value) <= MAX_ORDER_ID_LENGTH else None
    return as_integer(value, MAX_ORDER_ID_LENGTH)


def order_key(order_id: OrderId) -> str:
    """Key under which an order is remembered: 42 and "42" are the same order."""
    return str(order_id)


class Ledger:
    """One in-memory bank account. Every check-and-change happens under its lock."""

    def __init__(
        self,
        initial_balance: Decimal,
        account_id: str = "ACC-001",
        holder: str = "John Doe",
    ) -> None:
        self.account_id = account_id
        self.holder = holder
        self.initial_balance = initial_balance
        self._lock = threading.Lock()
        self._balance = initial_balance
        self._transactions: list[Transaction] = []
        self._orders: dict[str, OrderRecord] = {}

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
            code = decline()
            if code is not None:
                raise PaymentDeclinedError(code)
            return self._debit(amount, recipient=recipient)

    def pay_order(
        self, order_id: OrderId, amount: Amount, decline: DeclineCheck = _never_decline
    ) -> Transaction:
        """Debit an order once, recording the attempt whatever its outcome.

        Raises OrderAlreadyPaidError (nothing recorded), PaymentDeclinedError or
        InsufficientFundsError.
        """
        key = order_key(order_id)
        with self._lock:
            record = self._orders.get(key) or OrderRecord(order_id)
            if record.paid:
                raise OrderAlreadyPaidError(order_id)
            at = datetime.now(UTC)
            code = decline()
            if code is not None:
                self._orders[key] = record.attempted(
                    OrderAttempt(at, amount, Outcome.DECLINED, code)
                )
                raise PaymentDeclinedError(code)
            try:
                transaction = self._debit(amount, order_id=order_id)
            except InsufficientFundsError:
                self._orders[key] = record.attempted(
                    OrderAttempt(at, amount, Outcome.INSUFFICIENT_FUNDS)
                )
                raise
            self._orders[key] = record.attempted(
                OrderAttempt(at, amount, Outcome.PAID), transaction
            )
            return transaction

    def reset(self, balance: Decimal | None = None) -> Decimal:
        """Forget every transaction and order; start from `balance` or the initial balance."""
        with self._lock:
            self._balance = self.initial_balance if balance is None else balance
            self._transactions.clear()
            self._orders.clear()
            return self._balance

    def _debit(
        self, amount: Amount, recipient: str | None = None, order_id: OrderId | None = None
    ) -> Transaction:
        if amount.value > self._balance:
            raise InsufficientFundsError(self._balance, amount)
        self._balance -= amount.value
        transaction = Transaction(amount, self._balance, recipient, order_id)
        self._transactions.append(transaction)
        return transaction
