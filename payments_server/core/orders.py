"""What happened to each order: every payment attempt and, once paid, its transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .jsonio import format_time
from .money import Amount
from .transactions import OrderId, Transaction


class Outcome(StrEnum):
    """How one payment attempt for an order ended."""

    PAID = "paid"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DECLINED = "declined"
    LIMIT_EXCEEDED = "limit_exceeded"


@dataclass(frozen=True, slots=True)
class OrderAttempt:
    """One payment attempt that reached the account: when, how much, and how it ended."""

    at: datetime
    amount: Amount
    outcome: Outcome
    decline_code: str | None = None

    def to_json(self) -> dict[str, object]:
        """The attempt as GET /payments/orders/<id> shows it."""
        return {
            "at": format_time(self.at),
            "amount": self.amount.sent,
            "outcome": self.outcome.value,
            "decline_code": self.decline_code,
        }


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order's payment history; `transaction` is set once it is paid."""

    order_id: OrderId
    attempts: tuple[OrderAttempt, ...] = ()
    transaction: Transaction | None = None

    @property
    def paid(self) -> bool:
        """True once a payment for the order succeeded."""
        return self.transaction is not None

    def attempted(
        self, attempt: OrderAttempt, transaction: Transaction | None = None
    ) -> OrderRecord:
        """This record with one more attempt (and the transaction, if it paid)."""
        return replace(
            self, attempts=(*self.attempts, attempt), transaction=transaction or self.transaction
        )

    def to_json(self) -> dict[str, object]:
        """The record as GET /payments/orders/<id> shows it (without the envelope)."""
        paying = next((a for a in self.attempts if a.outcome is Outcome.PAID), None)
        return {
            "order_id": self.order_id,
            "state": "paid" if self.paid else "failed",
            "amount": None if paying is None else paying.amount.sent,
            "paid_at": None if paying is None else format_time(paying.at),
            "transaction": None if self.transaction is None else self.transaction.to_json(),
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }
