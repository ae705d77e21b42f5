"""The ticketing service's payments (seed 001): what its Payment entity holds, kept for
GET /ticketing/payments/<id>; the money itself is the one ledger's."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...core.jsonio import format_time
from ...core.orders import OrderRecord

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# How many payments are kept for lookups, the oldest dropped first.
KEPT = 10_000
# The key of a ticketing payment on its order's state-file line.
NOTE = "ticketing_payment"
# The real simulator's failures (PaymentSimulatorService): a decline code's errorCode,
# errorMessage and failureReason; any other code is a card declined with its own code.
FAILURES = {
    "card_declined": ("CARD_DECLINED", "Your card was declined", "card_declined"),
    "insufficient_funds": (
        "INSUFFICIENT_FUNDS",
        "Insufficient funds on card",
        "insufficient_funds",
    ),
    "processor_timeout": ("PROCESSOR_TIMEOUT", "Payment processor timeout", "timeout"),
    "amount_too_large": ("AMOUNT_TOO_LARGE", "Amount exceeds maximum limit", "processor_error"),
}


def failure_of(code: str, detail: str | None = None) -> tuple[str, str, str]:
    """errorCode, errorMessage and failureReason of a decline code."""
    if code in FAILURES:
        return FAILURES[code]
    if code == "limit_exceeded":
        why = "Payment over the limit" + ("" if detail is None else f": {detail}")
        return "LIMIT_EXCEEDED", why, "processor_error"
    return code.upper(), f"Your card was declined ({code})", "card_declined"


# The controller's switch on the handler's error message: each class and its status.
CLASSES = {
    "order_not_found": (404, "Order not found"),
    "order_validation_failed": (400, "Order validation failed"),
    "reservation_validation_failed": (400, "Reservation validation failed"),
    "unauthorized": (401, "Unauthorized"),
    "internal_error": (500, "Payment gateway error"),
}


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment as the seed's Payment entity has it."""

    id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    reservation_id: uuid.UUID | None
    amount: Decimal
    currency: str
    payment_method: str
    status: str
    created_at: datetime
    processed_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    failure_reason: str | None = None
    simulated_response: str | None = None

    def failed(self, code: str, at: datetime, detail: str | None = None) -> Payment:
        """The payment failed with a decline `code`, in the real simulator's words: its
        errorCode, errorMessage and failureReason (the limit's `detail` for a limit)."""
        error_code, message, reason = failure_of(code, detail)
        return replace(
            self, status=FAILED, processed_at=at, error_code=error_code, error_message=message,
            failure_reason=reason,
            simulated_response=f"Failed - {error_code}: {message}",
        )  # fmt: skip

    def succeeded(self, at: datetime) -> Payment:
        """The payment succeeded at `at`, with a transaction id as the real simulator's."""
        transaction = f"txn_{uuid.uuid5(self.id, 'transaction').hex[:16]}"
        return replace(
            self, status=SUCCEEDED, processed_at=at,
            simulated_response=f"Success - TransactionId: {transaction}",
        )  # fmt: skip

    @property
    def transaction_id(self) -> str | None:
        """The simulator's transaction id of a succeeded payment."""
        text = self.simulated_response or ""
        prefix = "Success - TransactionId: "
        return text.removeprefix(prefix) if text.startswith(prefix) else None

    def event(self) -> tuple[str, dict[str, object]]:
        """Its Kafka event as the real service publishes it (contracts/kafka): the key, the
        payment id in the "N" format, and the value of payment-succeeded or -failed."""
        common: dict[str, object] = {
            "paymentId": str(self.id), "orderId": str(self.order_id),
            "customerId": str(self.customer_id),
            "reservationId": None if self.reservation_id is None else str(self.reservation_id),
            "amount": self.amount, "currency": self.currency, "paymentMethod": self.payment_method,
        }  # fmt: skip
        at = format_time(self.processed_at or self.created_at)
        if self.status == SUCCEEDED:
            value = {**common, "transactionId": self.transaction_id, "processedAt": at,
                     "status": "succeeded"}  # fmt: skip
        else:
            value = {**common, "errorCode": self.error_code, "errorMessage": self.error_message,
                     "failureReason": self.failure_reason, "attemptedAt": at,
                     "status": "failed"}  # fmt: skip
        return self.id.hex, value

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Payment:
        """A payment as to_json() wrote it (the state file); ValueError if it is not one."""
        try:
            reservation = data.get("reservationId")
            return cls(
                uuid.UUID(data["id"]), uuid.UUID(data["orderId"]), uuid.UUID(data["customerId"]),
                None if reservation is None else uuid.UUID(reservation), Decimal(data["amount"]),
                str(data["currency"]), str(data["paymentMethod"]), str(data["status"]),
                datetime.fromisoformat(str(data["createdAt"]).replace("Z", "+00:00")),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"a ticketing payment that cannot be read back: {exc}") from None

    def to_json(self) -> dict[str, object]:
        """camelCase, as System.Text.Json writes it with ASP.NET Core's web defaults."""
        return {
            "id": str(self.id),
            "orderId": str(self.order_id),
            "customerId": str(self.customer_id),
            "reservationId": None if self.reservation_id is None else str(self.reservation_id),
            "amount": self.amount,
            "currency": self.currency,
            "paymentMethod": self.payment_method,
            "status": self.status,
            "errorCode": self.error_code,
            "errorMessage": self.error_message,
            "failureReason": self.failure_reason,
            "createdAt": format_time(self.created_at),
            "processedAt": None if self.processed_at is None else format_time(self.processed_at),
            "isSimulated": True,
            "simulatedResponse": self.simulated_response,
        }


class Payments:
    """The payments made through this API, by id; a pending one follows the ledger."""

    def __init__(self, order_of: Callable[[str], OrderRecord | None]) -> None:
        self._order_of = order_of
        self._lock = threading.Lock()
        self._kept: OrderedDict[uuid.UUID, Payment] = OrderedDict()

    def add(self, payment: Payment) -> Payment:
        """Keep a payment (the oldest goes when KEPT are kept)."""
        with self._lock:
            self._kept[payment.id] = payment
            if len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return payment

    def get(self, payment_id: uuid.UUID) -> Payment | None:
        """The payment as it stands now; None if unknown, or forgotten by a reset."""
        with self._lock:
            payment = self._kept.get(payment_id)
        if payment is None:
            return None
        record = self._order_of(str(payment.order_id))
        if record is None:
            with self._lock:
                self._kept.pop(payment_id, None)
            return None
        if payment.status != PENDING or record.pending is not None:
            return payment
        # Decided since: as the ledger decided it.
        last = record.attempts[-1] if record.attempts else None
        at = payment.created_at if last is None else last.at
        code = "card_declined" if last is None else last.decline_code or "card_declined"
        decided = payment.succeeded(at) if record.paid else payment.failed(code, at)
        with self._lock:
            self._kept[payment_id] = decided
        return decided

    def reset(self) -> None:
        """Forget every payment (the account was reset)."""
        with self._lock:
            self._kept.clear()

    def restore(self, event: Mapping[str, Any]) -> bool:
        """No line of the state file is the payments' own."""
        return False

    def restore_order(self, event: Mapping[str, Any]) -> None:
        """An order's line that carries a ticketing payment (NOTE) puts it back, as the
        attempt ended: paid, pending, or failed with its code (a limit's detail aside)."""
        data = event.get(NOTE)
        if not isinstance(data, dict):
            return
        payment = Payment.from_json(data)
        outcome, at = (
            event.get("outcome"),
            datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00")),
        )
        if outcome == "paid":
            payment = payment.succeeded(at)
        elif outcome != "pending":
            code = event.get("decline_code") or str(outcome)
            if code in CLASSES:
                return  # the controller answered with its class and kept no payment
            payment = payment.failed(code, payment.created_at)
        self.add(payment)

    def resume(self) -> None:
        """No timer: a pending payment follows the ledger's decision when read."""

    def for_order(self, order_id: uuid.UUID) -> list[Payment]:
        """The order's payments, newest first."""
        with self._lock:
            ids = [p.id for p in reversed(self._kept.values()) if p.order_id == order_id]
        return [found for found in map(self.get, ids) if found is not None]
