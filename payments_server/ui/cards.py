"""Test cards: Stripe's numbers, so store developers already know them; and the form's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..core.card_numbers import brand_of, card_digits, expired, parse_expiry


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


def read_card(number: str, expiry: str, cvc: str, today: date) -> EnteredCard:
    """Check the form's card fields; raise CardError naming the first problem."""
    digits = card_digits(number)
    if digits is None:
        raise CardError("The card number is not valid.")
    expiry_date = parse_expiry(expiry)
    if expiry_date is None:
        raise CardError("The expiry date must be MM/YY.")
    if expired(*expiry_date, today):
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
