"""Test cards: Stripe's numbers, so store developers already know them; and the form's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class TestCard:
    """A number with a known outcome on the page."""

    number: str
    outcome: str
    decline_code: str | None = None
    three_d_secure: bool = False


TEST_CARDS = (
    TestCard("4242424242424242", "Pays"),
    TestCard("4000000000000002", "Declined: card_declined", "card_declined"),
    TestCard("4000000000009995", "Declined: insufficient_funds", "insufficient_funds"),
    TestCard("4000000000009987", "Declined: lost_card", "lost_card"),
    TestCard("4000000000009979", "Declined: stolen_card", "stolen_card"),
    TestCard("4000000000000069", "Declined: expired_card", "expired_card"),
    TestCard("4000000000000127", "Declined: incorrect_cvc", "incorrect_cvc"),
    TestCard("4000000000000119", "Declined: processing_error", "processing_error"),
    TestCard("4000002760003184", "Asks for 3-D Secure, then pays", None, True),
    TestCard("4000008260003178", "3-D Secure, then insufficient_funds", "insufficient_funds", True),
)
BY_NUMBER = {card.number: card for card in TEST_CARDS}


class CardError(ValueError):
    """What is wrong with the form, in words for the customer."""


@dataclass(frozen=True, slots=True)
class EnteredCard:
    """A card as the form gave it; only brand and last four digits ever leave this object."""

    brand: str
    last4: str
    decline_code: str | None
    three_d_secure: bool


def luhn_ok(digits: str) -> bool:
    """True if the digits pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    """The card network by the number's first digits."""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    return "card"


def read_card(number: str, expiry: str, cvc: str, today: date) -> EnteredCard:
    """Check the form's card fields; raise CardError naming the first problem."""
    digits = re.sub(r"[\s-]", "", number)
    # ASCII digits only: a superscript two is a digit to str.isdigit() and not to int(),
    # and a full-width four is one to both; neither is on a card.
    if (
        not (digits.isascii() and digits.isdigit())
        or not 12 <= len(digits) <= 19
        or not luhn_ok(digits)
    ):
        raise CardError("The card number is not valid.")
    match = re.fullmatch(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*", expiry)
    if match is None or not 1 <= int(match.group(1)) <= 12:
        raise CardError("The expiry date must be MM/YY.")
    month, year = int(match.group(1)), int(match.group(2))
    year += 2000 if year < 100 else 0
    if (year, month) < (today.year, today.month):
        raise CardError("The card has expired.")
    if not re.fullmatch(r"[0-9]{3,4}", cvc.strip()):
        raise CardError("The CVC must be 3 or 4 digits.")
    known = BY_NUMBER.get(digits)
    return EnteredCard(
        brand_of(digits),
        digits[-4:],
        None if known is None else known.decline_code,
        known is not None and known.three_d_secure,
    )
