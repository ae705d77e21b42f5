"""Prepaid cards: the compliance limits' wording and windows, and loads that count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments_server.apis.cardloader.prepaid_cards import (
    ComplianceError,
    PrepaidCards,
    format_limits,
    parse_limits,
)

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_the_limits_are_worded_as_the_card_loader_words_them() -> None:
    day, week = parse_limits("1d=500,7d=1000.50")
    assert (day.code, day.message(Decimal("495"), Decimal("10"))) == (
        "compliance-1-day", "495.00 + 10.00 > 500 (1 day)")  # fmt: skip
    assert (week.code, week.message(Decimal(0), Decimal("1000.51"))) == (
        "compliance-7-days", "0.00 + 1000.51 > 1000.50 (7 days)")  # fmt: skip
    assert format_limits((week, day)) == "7d=1000.50,1d=500"


@pytest.mark.parametrize("text", ["", "500", "1d=", "1d=-1", "0d=5", "400d=5", "xd=5", "1d=NaN"])
def test_limits_that_are_not_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must"):
        parse_limits(text)


def test_a_load_counts_for_its_window_and_no_longer() -> None:
    now = [T0]
    cards = PrepaidCards(parse_limits("1d=500"), lambda: now[0])
    card = cards.get(1)
    assert card is not None and cards.get(11) is None

    def load(amount: str) -> bool:
        return cards.load(card, Decimal(amount), lambda _load: True, bool, "l", "o")

    assert load("400.00") and load("100.00")
    with pytest.raises(ComplianceError) as refused:
        load("0.01")
    assert (refused.value.code, refused.value.message) == (
        "compliance-1-day", "500.00 + 0.01 > 500 (1 day)")  # fmt: skip
    now[0] = T0 + timedelta(days=1)
    assert load("500.00") and card.balance == Decimal("1000.00")


def test_a_load_the_charge_did_not_pay_is_not_put_on_the_card() -> None:
    cards = PrepaidCards(parse_limits("1d=500"), lambda: T0)
    card = cards.get(2)
    assert card is not None
    assert (
        cards.load(card, Decimal(300), lambda _load: "declined", lambda _: False, "l", "o")
        == "declined"
    )
    assert (card.balance, card.loads) == (Decimal(0), [])
