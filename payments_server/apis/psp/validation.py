"""The small PSP's checks of a new transaction (seed 004), every problem at once as its Joi
schema reports them: {"message", "path"} each, naming the field as the schema does (in
camelCase: cardHolderName) and never echoing a value. As the real schema, nothing more:
any 3 characters of code, any amount of cents; an expired card only with
--psp-refuse-expired-cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ...core.card_numbers import card_digits, expired, parse_expiry
from ...core.transactions import MAX_ORDER_ID_LENGTH
from .payables import RULES

CUSTOMER_HEADER = "x-customer-id"
# Whole cents, as the PSP counts them: at most what the account could ever hold.
MAX_CENTS = 10**14
Problem = dict[str, str]


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """A transaction that passed every check; the card is down to its last four digits."""

    customer_id: str
    description: str
    amount: int
    payment_method: str
    card_holder_name: str
    card_expiration_date: datetime
    card_last_four_numbers: str


def customer_problem(customer_id: str | None) -> Problem | None:
    """What is wrong with the x-customer-id header (the schema's customerId), if anything."""
    if customer_id is None or not customer_id.strip():
        return _problem("customerId", "is required: the merchant's id, in x-customer-id")
    if len(customer_id) > MAX_ORDER_ID_LENGTH:
        return _problem("customerId", f"must be at most {MAX_ORDER_ID_LENGTH} characters")
    return None


def check_transaction(
    customer_id: str | None, body: dict[str, Any], today: date, *, refuse_expired: bool = False
) -> NewTransaction | list[Problem]:
    """The transaction, or every problem with it; an expired card is one only with
    `refuse_expired` (the real PSP checks no date)."""
    problems = [p for p in [customer_problem(customer_id)] if p is not None]
    description = body.get("description")
    if not isinstance(description, str):
        problems.append(_problem("description", "is required: a string (may be empty)"))
    amount = _cents(body.get("amount"))
    if amount is None:
        problems.append(
            _problem("amount", f"must be a positive whole number of cents, at most {MAX_CENTS}"
                     " (a number or a string of digits)")
        )  # fmt: skip
    method = body.get("payment_method")
    if not isinstance(method, str) or method not in RULES:
        problems.append(_problem("paymentMethod", "must be one of [credit_card, debit_card]"))
    number = body.get("card_number")
    digits = card_digits(number) if isinstance(number, str) else None
    if digits is None:
        problems.append(
            _problem("cardNumber", "must be a valid card number: 12 to 19 digits that pass"
                     " the Luhn check, as a string")
        )  # fmt: skip
    holder = body.get("card_holder_name")
    if not isinstance(holder, str) or not holder.strip():
        problems.append(_problem("cardHolderName", "is required: a non-empty string"))
    expiry = body.get("card_expiration_date")
    parsed = parse_expiry(expiry) if isinstance(expiry, str) else None
    if parsed is None:
        problems.append(_problem("cardExpirationDate", "must be MM/YY, such as 10/29"))
    elif refuse_expired and expired(*parsed, today):
        problems.append(_problem("cardExpirationDate", "is in the past: the card has expired"))
    code = body.get("card_verification_code")
    if not isinstance(code, str) or len(code) != 3:
        problems.append(_problem("cardVerificationCode", "length must be 3 characters long"))
    if problems:
        return problems
    assert customer_id is not None and isinstance(description, str) and amount is not None
    assert isinstance(method, str) and digits is not None and isinstance(holder, str)
    assert parsed is not None
    return NewTransaction(
        customer_id, description, amount, method, holder,
        datetime(parsed[0], parsed[1], 1, tzinfo=UTC), digits[-4:],
    )  # fmt: skip


def _cents(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
        raw = int(raw)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 15:
        raw = int(raw)
    if isinstance(raw, int) and 0 < raw <= MAX_CENTS:
        return raw
    return None


def _problem(path: str, rule: str) -> Problem:
    return {"message": f'"{path}" {rule}', "path": path}
