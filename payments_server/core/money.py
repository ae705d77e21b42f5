"""Amounts of money: parse what clients send and format what we answer, always in Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MAX_AMOUNT = Decimal("1000000000000")


class AmountError(ValueError):
    """An amount that is not a positive number of cents within bounds; str() is the message."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"{name} {rule}")
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of money: its exact value, and the JSON number the client wrote, to echo back."""

    value: Decimal
    sent: int | Decimal


def parse_amount(raw: object, *, name: str = "Amount", allow_zero: bool = False) -> Amount:
    """Validate a JSON-decoded number as money; raise AmountError naming what is wrong."""
    # bool is a subclass of int, and JSON true is not an amount.
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise AmountError(name, _sign_rule(allow_zero))
    value = Decimal(raw)
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise AmountError(name, _sign_rule(allow_zero))
    # Checked before the cents rule: quantizing a huge number would overflow the context.
    if value > MAX_AMOUNT:
        raise AmountError(name, f"must be at most {MAX_AMOUNT}")
    if value != value.quantize(CENT):
        raise AmountError(name, "must have at most 2 decimal places")
    return Amount(value, raw)


def _sign_rule(allow_zero: bool) -> str:
    return f"must be {'zero or ' if allow_zero else ''}a positive number"


def format_balance(value: Decimal) -> Decimal:
    """Return a balance as JSON shows it: cents, trailing zero dropped (50000.0, 49820.02)."""
    cents = value.quantize(CENT)
    tenths = cents.quantize(TENTH)
    return tenths if tenths == cents else cents


def format_money(value: Decimal | int) -> str:
    """An amount as a page shows it: always two decimals (7 is 7.00, 49820.5 is 49820.50)."""
    return f"{Decimal(value).quantize(CENT)}"
