"""What a card number and expiry date must be, shared by the hosted page and the PSP API.

Only the last four digits of a number ever leave the caller that checked it.
"""

from __future__ import annotations

import re
from datetime import date

EXPIRY = re.compile(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*")


def luhn_ok(digits: str) -> bool:
    """True if the digits pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_digits(number: str) -> str | None:
    """The number's digits (spaces and dashes dropped) if it is a valid card number."""
    digits = re.sub(r"[\s-]", "", number)
    # ASCII digits only: a superscript two is a digit to str.isdigit() and not to int(),
    # and a full-width four is one to both; neither is on a card.
    if digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19 and luhn_ok(digits):
        return digits
    return None


def parse_expiry(text: str) -> tuple[int, int] | None:
    """MM/YY (or MM/YYYY) as (year, month); None if it is not one."""
    match = EXPIRY.fullmatch(text)
    if match is None or not 1 <= int(match.group(1)) <= 12:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    return year + (2000 if year < 100 else 0), month


def expired(year: int, month: int, today: date) -> bool:
    """True once the month of the expiry date is over."""
    return (year, month) < (today.year, today.month)


def brand_of(digits: str) -> str:
    """The card network by the number's first digits."""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    return "card"
