"""The small PSP's book (seed 004): each merchant's card transactions and the payables they
owe the merchant, with their fees and the day each is paid out.

Amounts are whole cents, as the PSP's API counts them. A transaction never holds the card's
number or verification code: only its last four digits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ...core.jsonio import format_time

TRANSACTION_EVENT = "psp_transaction"  # the key on its order's state-file line
PAYABLE_EVENT = "psp_payable"
SETTLED_EVENT = "psp_settled"
PAID, WAITING_FUNDS = "paid", "waiting_funds"
PENDING_PAYMENT = "pending_payment"


@dataclass(frozen=True, slots=True)
class PayableRule:
    """What a payment method's payable is: its first status, fee in percent, days to wait."""

    status: str
    fee: int
    days: int


# The PSP's rules: a debit card is paid at once less 3 %, a credit card 30 days later less 5 %.
RULES = {
    "debit_card": PayableRule(PAID, 3, 0),
    "credit_card": PayableRule(WAITING_FUNDS, 5, 30),
}


def receivable(amount: int, fee: int) -> int:
    """The amount less the fee, rounded up to the whole cent as the PSP does (2500 → 2375,
    999 at 3 % → 970)."""
    return -((-(100 - fee) * amount) // 100)


@dataclass(frozen=True, slots=True)
class PspTransaction:
    """One card transaction as the PSP keeps it."""

    id: str
    customer_id: str
    description: str
    amount: int
    payment_method: str
    card_holder_name: str
    card_expiration_date: datetime
    card_last_four_numbers: str
    status: str
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, object]:
        """The seed's fields (without the verification code), and its status."""
        return {
            "id": self.id,
            "description": self.description,
            "customer_id": self.customer_id,
            "amount": self.amount,
            "payment_method": self.payment_method,
            "status": self.status,
            "card_holder_name": self.card_holder_name,
            "card_expiration_date": format_time(self.card_expiration_date),
            "card_last_four_numbers": self.card_last_four_numbers,
            "updated_at": format_time(self.updated_at),
            "created_at": format_time(self.created_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PspTransaction:
        """Read back from the state file; ValueError if it is not one."""
        try:
            return cls(
                str(data["id"]), str(data["customer_id"]), str(data["description"]),
                int(data["amount"]), str(data["payment_method"]), str(data["card_holder_name"]),
                _time(data["card_expiration_date"]), str(data["card_last_four_numbers"]),
                str(data["status"]), _time(data["created_at"]), _time(data["updated_at"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            raise ValueError("a PSP transaction without its fields") from None


@dataclass(frozen=True, slots=True)
class Payable:
    """What the PSP owes a merchant for one transaction, and when it pays it."""

    id: str
    customer_id: str
    transaction_id: str
    status: str
    fee: int
    receivable_amount: int
    payment_date: datetime
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, object]:
        """The seed's fields."""
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "status": self.status,
            "payment_date": format_time(self.payment_date),
            "fee": self.fee,
            "receivable_amount": self.receivable_amount,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
            "transaction_id": self.transaction_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Payable:
        """Read back from the state file; ValueError if it is not one."""
        try:
            return cls(
                str(data["id"]), str(data["customer_id"]), str(data["transaction_id"]),
                str(data["status"]), int(data["fee"]), int(data["receivable_amount"]),
                _time(data["payment_date"]), _time(data["created_at"]), _time(data["updated_at"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            raise ValueError("a payable without its fields") from None


def payable_for(transaction: PspTransaction, payable_id: str, now: datetime) -> Payable:
    """The payable the PSP's worker makes for a transaction."""
    rule = RULES[transaction.payment_method]
    return Payable(
        payable_id, transaction.customer_id, transaction.id, rule.status, rule.fee,
        receivable(transaction.amount, rule.fee),
        transaction.created_at + timedelta(days=rule.days), now, now,
    )  # fmt: skip


class PspBook:
    """Every merchant's transactions and payables, in the order they were made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transactions: OrderedDict[str, PspTransaction] = OrderedDict()
        self._payables: OrderedDict[str, Payable] = OrderedDict()
        self._payable_of: dict[str, str] = {}  # transaction id → payable id

    def add_transaction(self, transaction: PspTransaction) -> None:
        """Keep a transaction."""
        with self._lock:
            self._transactions[transaction.id] = transaction

    def add_payable(self, payable: Payable) -> None:
        """Keep a payable; its transaction is paid with it if the payable is paid at once."""
        with self._lock:
            self._payables[payable.id] = payable
            self._payable_of[payable.transaction_id] = payable.id
            if payable.status == PAID:
                self._paid_transaction(payable.transaction_id, payable.updated_at)

    def knows(self, transaction_id: str) -> bool:
        """True if the transaction is in the book."""
        return transaction_id in self._transactions

    def has_payable(self, transaction_id: str) -> bool:
        """True once the transaction's payable is made."""
        return transaction_id in self._payable_of

    def settle(self, payable_id: str, at: datetime) -> Payable | None:
        """Mark a waiting payable paid at `at`, and its transaction; None if nothing to do."""
        with self._lock:
            payable = self._payables.get(payable_id)
            if payable is None or payable.status != WAITING_FUNDS:
                return None
            settled = replace(payable, status=PAID, updated_at=at)
            self._payables[payable_id] = settled
            self._paid_transaction(payable.transaction_id, at)
            return settled

    def transactions(self, customer_id: str) -> list[PspTransaction]:
        """A merchant's transactions, oldest first."""
        with self._lock:
            return [t for t in self._transactions.values() if t.customer_id == customer_id]

    def transaction_by_id(self, transaction_id: str) -> PspTransaction | None:
        """A transaction, whichever merchant's, or None."""
        with self._lock:
            return self._transactions.get(transaction_id)

    def payable_by_id(self, payable_id: str) -> Payable | None:
        """A payable, whichever merchant's, or None."""
        with self._lock:
            return self._payables.get(payable_id)

    def payables(self, customer_id: str) -> list[Payable]:
        """A merchant's payables, oldest first."""
        with self._lock:
            return [p for p in self._payables.values() if p.customer_id == customer_id]

    def waiting(self) -> list[Payable]:
        """Every payable still waiting for its payment date."""
        with self._lock:
            return [p for p in self._payables.values() if p.status == WAITING_FUNDS]

    def unpaid_out(self) -> list[PspTransaction]:
        """The transactions whose payable is not made yet (after a restart, say)."""
        with self._lock:
            return [t for t in self._transactions.values() if t.id not in self._payable_of]

    def balance(self, customer_id: str) -> dict[str, int]:
        """What the merchant has been paid and what it waits for, in cents."""
        totals = {PAID: 0, WAITING_FUNDS: 0}
        for payable in self.payables(customer_id):
            totals[payable.status] += payable.receivable_amount
        return {"available": totals[PAID], "waiting_funds": totals[WAITING_FUNDS]}

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self._transactions.clear()
            self._payables.clear()
            self._payable_of.clear()

    def _paid_transaction(self, transaction_id: str, at: datetime) -> None:
        transaction = self._transactions.get(transaction_id)
        if transaction is not None and transaction.status != PAID:
            self._transactions[transaction_id] = replace(transaction, status=PAID, updated_at=at)


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a time")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.utcoffset() is None:
        raise ValueError("a time without its zone")
    return moment
