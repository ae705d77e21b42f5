"""The account: balance, transactions and paid orders, changed only under one lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

from .money import Amount, format_balance

OrderId = str | int


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
        self._paid_orders: dict[str, Transaction] = {}

    @property
    def balance(self) -> Decimal:
        """The current balance."""
        return self._balance

    def transactions(self) -> list[Transaction]:
        """A snapshot of every successful payment, oldest first."""
        with self._lock:
            return list(self._transactions)

    def paid_order(self, order_id: OrderId) -> Transaction | None:
        """The transaction that paid this order, if it has been paid."""
        return self._paid_orders.get(order_key(order_id))

    def pay(self, amount: Amount, recipient: str) -> Transaction:
        """Debit a payment to a recipient, or raise InsufficientFundsError."""
        with self._lock:
            return self._debit(amount, recipient=recipient)

    def pay_order(self, order_id: OrderId, amount: Amount) -> Transaction:
        """Debit an order once; raise OrderAlreadyPaidError or InsufficientFundsError."""
        key = order_key(order_id)
        with self._lock:
            if key in self._paid_orders:
                raise OrderAlreadyPaidError(order_id)
            transaction = self._debit(amount, order_id=order_id)
            self._paid_orders[key] = transaction
            return transaction

    def reset(self) -> Decimal:
        """Restore the initial balance and forget every transaction and paid order."""
        with self._lock:
            self._balance = self.initial_balance
            self._transactions.clear()
            self._paid_orders.clear()
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
