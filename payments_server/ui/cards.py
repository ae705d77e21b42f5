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
    TestCard("4000000000000002", "Declined: card declined", "card_declined"),
    TestCard("4000000000009995", "Declined: insufficient funds", "insufficient_funds"),
    TestCard("4000000000009987", "Declined: lost card", "lost_card"),
    TestCard("4000000000009979", "Declined: stolen card", "stolen_card"),
    TestCard("4000000000000069", "Declined: expired card", "expired_card"),
    TestCard("4000000000000127", "Declined: incorrect CVC", "incorrect_cvc"),
    TestCard("4000000000000119", "Declined: processing error", "processing_error"),
    TestCard("4000002760003184", "Asks for 3-D Secure, then pays", None, True),
    TestCard("4000008260003178", "3-D Secure, then insufficient funds", "insufficient_funds", True),
)
# What the customer reads for each decline, in Stripe's words: a lost or stolen card reads
# as a plain decline, as it does at Stripe, so a thief learns nothing.
DECLINE_TEXT = {
    "card_declined": "Your card was declined.",
    "do_not_honor": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "We are unable to authenticate your payment method. Please choose"
    " a different payment method and try again.",
}
GENERIC_DECLINE = "Your card was declined."
BRAND_NAMES = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}


def decline_text(code: str | None) -> str:
    """The customer's words for a decline code."""
    return DECLINE_TEXT.get(code or "", GENERIC_DECLINE)


def card_name(brand: str) -> str:
    """A card as the customer knows it: "Visa card", "American Express card", or "card"."""
    known = BRAND_NAMES.get(brand)
    return "card" if known is None else f"{known} card"


BY_NUMBER = {card.number: card for card in TEST_CARDS}


class CardError(ValueError):
    """What is wrong with the form, in words for the customer: `problems` by field (number,
    expiry, cvc), every one found; str() is all of them."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class EnteredCard:
    """A card as the form gave it; only brand and last four digits ever leave this object."""

    brand: str
    last4: str
    decline_code: str | None
    three_d_secure: bool


def read_card(number: str, expiry: str, cvc: str, today: date) -> EnteredCard:
    """Check the form's card fields; raise CardError naming every problem, so that the
    customer fixes them in one go."""
    problems: dict[str, str] = {}
    digits = card_digits(number)
    if digits is None:
        problems["number"] = "The card number is not valid."
    expiry_date = parse_expiry(expiry)
    if expiry_date is None:
        problems["expiry"] = "The expiry date must be MM/YY."
    elif expired(*expiry_date, today):
        problems["expiry"] = "The card has expired."
    if not re.fullmatch(r"[0-9]{3,4}", cvc.strip()):
        problems["cvc"] = "The CVC must be 3 or 4 digits."
    if problems or digits is None:
        raise CardError(problems)
    known = BY_NUMBER.get(digits)
    return EnteredCard(
        brand_of(digits),
        digits[-4:],
        None if known is None else known.decline_code,
        known is not None and known.three_d_secure,
    )
