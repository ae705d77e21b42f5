"""The ticketing service's PaymentRequest as ASP.NET Core binds it (System.Text.Json with
its web defaults): property names in any case, GUIDs as GUIDs, numbers also as strings,
unknown properties ignored. A body that does not bind is null, as the controller sees it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...core import jsonio

EMPTY = uuid.UUID(int=0)
# System.Text.Json reads a Guid in the "D" format: 32 hex digits in groups of 8-4-4-4-12.
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
# C#'s decimal holds magnitudes below 2**96; a larger number does not bind.
DECIMAL_BOUND = Decimal(2**96)


class UnboundError(Exception):
    """The body does not bind to a PaymentRequest: the action sees null."""


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """The seed's request DTO; a property the body leaves out has its C# default."""

    order_id: uuid.UUID = EMPTY
    customer_id: uuid.UUID = EMPTY
    reservation_id: uuid.UUID | None = None
    amount: Decimal = Decimal(0)
    currency: str | None = "USD"
    payment_method: str | None = None


# camelCase property -> (field, reader); the lookup is by lower case, as the web defaults do.
def bind(body: bytes) -> PaymentRequest | None:
    """The request the body binds to, or None where ASP.NET Core's binding would fail."""
    try:
        # System.Text.Json has no NaN or Infinity literals.
        value = jsonio.loads(body, constants=False) if body.strip() else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    fields: dict[str, Any] = {}
    try:
        for name, raw in value.items():
            reader = READERS.get(name.lower())
            if reader is not None:
                fields[reader[0]] = reader[1](raw)
    except UnboundError:
        return None
    return PaymentRequest(**fields)


def _guid(raw: object) -> uuid.UUID:
    if isinstance(raw, str) and GUID.fullmatch(raw):
        return uuid.UUID(raw)
    raise UnboundError


def _optional_guid(raw: object) -> uuid.UUID | None:
    return None if raw is None else _guid(raw)


def _decimal(raw: object) -> Decimal:
    # AllowReadingFromString: "12.50" reads as 12.50. Booleans and null are not numbers.
    if isinstance(raw, bool) or raw is None:
        raise UnboundError
    if isinstance(raw, str) and NUMBER.fullmatch(raw):
        raw = jsonio.number_from_text(raw)
    if isinstance(raw, Decimal | int):
        number = Decimal(raw)
        # The exponent first: abs() of 1E+999999 overflows Decimal's context.
        if number.is_finite() and number.adjusted() < 30 and abs(number) < DECIMAL_BOUND:
            return number
    raise UnboundError


def _string(raw: object) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    raise UnboundError


READERS = {
    "orderid": ("order_id", _guid),
    "customerid": ("customer_id", _guid),
    "reservationid": ("reservation_id", _optional_guid),
    "amount": ("amount", _decimal),
    "currency": ("currency", _string),
    "paymentmethod": ("payment_method", _string),
}
