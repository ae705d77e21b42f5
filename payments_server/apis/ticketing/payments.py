"""The ticketing service's payments (seed 001): what its Payment entity holds, kept for
GET /ticketing/payments/<id>; the money itself is the one ledger's."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...core import jsonio
from ...core.jsonio import format_time
from ...core.ledger import Ledger

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# How many payments are kept for lookups, the oldest dropped first.
KEPT = 10_000


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


def simulated_response(outcome: str, **details: object) -> str:
    """What the simulated gateway answered, as the text the entity stores."""
    return jsonio.dumps({"gateway": "payments_server", "outcome": outcome, **details})


class Payments:
    """The payments made through this API, by id; a pending one follows the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
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
        record = self._ledger.order(str(payment.order_id))
        if record is None:
            with self._lock:
                self._kept.pop(payment_id, None)
            return None
        if payment.status != PENDING or record.pending is not None:
            return payment
        # Decided since: as the ledger decided it.
        last = record.attempts[-1] if record.attempts else None
        decided = replace(
            payment,
            status=SUCCEEDED if record.paid else FAILED,
            processed_at=None if last is None else last.at,
            error_code=None if record.paid or last is None else last.decline_code,
            error_message=None if record.paid else "Payment failed: declined when decided",
            simulated_response=simulated_response("paid" if record.paid else "declined"),
        )
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
        """Nothing is read back yet: the payments live in memory (docs/ticketing.md)."""

    def resume(self) -> None:
        """No timer: a pending payment follows the ledger's decision when read."""

    def for_order(self, order_id: uuid.UUID) -> list[Payment]:
        """The order's payments, newest first."""
        with self._lock:
            ids = [p.id for p in reversed(self._kept.values()) if p.order_id == order_id]
        return [found for found in map(self.get, ids) if found is not None]
