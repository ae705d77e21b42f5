"""What happened to each order: every payment attempt and, once paid, its transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from .jsonio import format_time
from .money import Amount, format_balance
from .transactions import OrderId, Refund, Transaction


class AttemptOutcome(StrEnum):
    """How one payment attempt for an order ended."""

    PAID = "paid"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DECLINED = "declined"
    LIMIT_EXCEEDED = "limit_exceeded"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class OrderAttempt:
    """One payment attempt that reached the account: when, how much, and how it ended."""

    at: datetime
    amount: Amount
    outcome: AttemptOutcome
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
class PendingOrder:
    """An order payment left pending: how much, when it is decided, and how."""

    amount: Amount
    due: datetime
    then: str
    decline_code: str

    def to_event(self) -> dict[str, object]:
        """What the state file keeps of it, beside the pending attempt."""
        return {"decide_at": self.due.isoformat(), "then": self.then,
                "then_decline_code": self.decline_code}  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrderRefund:
    """Money given back for a paid order: when, how much, and the history's entry for it."""

    at: datetime
    refund: Refund

    def to_json(self) -> dict[str, object]:
        """The refund as the order record shows it."""
        return {
            "at": format_time(self.at),
            "amount": self.refund.sent,
            "balance_after": format_balance(self.refund.balance_after),
        }


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order's payment history; `transaction` is set once it is paid."""

    order_id: OrderId
    attempts: tuple[OrderAttempt, ...] = ()
    transaction: Transaction | None = None
    refunds: tuple[OrderRefund, ...] = ()
    pending: PendingOrder | None = None
    # False when a card outside the account paid it (an API whose real system has no
    # balance): the account has nothing of it to give back.
    funded: bool = True
    # The API its first attempt came through ("gateway", "psp", ...), if it was told.
    api: str | None = None

    @property
    def paid(self) -> bool:
        """True once a payment for the order succeeded."""
        return self.transaction is not None

    @property
    def refunded(self) -> Decimal:
        """How much of the payment has been given back."""
        return sum((r.refund.amount.value for r in self.refunds), Decimal(0))

    @property
    def refundable(self) -> Decimal:
        """How much of the payment can still be given back (0 when not paid)."""
        if self.transaction is None:
            return Decimal(0)
        return self.transaction.amount.value - self.refunded

    def with_refund(self, refund: OrderRefund) -> OrderRecord:
        """This record with one more refund."""
        return replace(self, refunds=(*self.refunds, refund))

    def attempted(
        self, attempt: OrderAttempt, transaction: Transaction | None = None, api: str | None = None
    ) -> OrderRecord:
        """This record with one more attempt (and the transaction, if it paid; the API, if
        it had none)."""
        return replace(
            self,
            attempts=(*self.attempts, attempt),
            transaction=transaction or self.transaction,
            api=self.api or api,
        )

    @property
    def state(self) -> str:
        """paid, pending, refunded (paid, then refunded in full) or failed."""
        if self.refunds and self.refundable == 0:
            return "refunded"
        return "paid" if self.paid else "pending" if self.pending else "failed"

    def to_json(self) -> dict[str, object]:
        """The record as GET /payments/orders/<id> shows it (without the envelope)."""
        paying = next((a for a in self.attempts if a.outcome is AttemptOutcome.PAID), None)
        return {
            "order_id": self.order_id,
            "state": self.state,
            "amount": None if paying is None else paying.amount.sent,
            "paid_at": None if paying is None else format_time(paying.at),
            "transaction": None if self.transaction is None else self.transaction.to_json(),
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "refunds": [refund.to_json() for refund in self.refunds],
            "amount_refunded": format_balance(self.refunded),
            "api": self.api,
        }
