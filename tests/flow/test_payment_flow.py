"""The flow's operations, as every API calls them: one charge with its note, the decision
taken at once, what a decline is called, and refunds an API keeps for itself."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from payments_server import Settings
from payments_server.account import Account
from payments_server.core.money import Amount
from payments_server.core.refusals import NotTheAccountsMoneyError, RefundOwnedElsewhereError
from payments_server.core.simulation import Decline, SimulationSettings
from payments_server.flow.outcomes import Declined, Paid, Pending
from payments_server.testing import StoreStub


def amount(value: str) -> Amount:
    return Amount(Decimal(value), Decimal(value))


@pytest.fixture
def account(store: StoreStub, tmp_path: Path) -> Iterator[Account]:
    settings = Settings(callback_url=store.url, state_file=str(tmp_path / "state.jsonl"))
    made = Account.from_settings(settings, user_agent="test")
    yield made
    made.close()


def test_charge_pays_an_order_with_its_note_on_the_state_file_line_and_tells_no_store(
    account: Account, store: StoreStub, tmp_path: Path
) -> None:
    outcome = account.flow.charge("o-1", amount("12.50"), note=lambda _attempt: {"mine": 7})
    assert isinstance(outcome, Paid) and outcome.delivery is None
    assert account.ledger.balance == Decimal("49987.50")
    line = (tmp_path / "state.jsonl").read_text().splitlines()[-1]
    assert '"order_id":"o-1"' in line and '"mine":7' in line
    assert store.received == []


def test_charge_follows_the_simulation_by_default_and_the_apis_decision_when_given(
    account: Account,
) -> None:
    account.simulator.configure(SimulationSettings.from_json(
        {"rules": [{"order_id": "held", "outcome": "pending", "decide_after_ms": 1000}]}))  # fmt: skip
    assert isinstance(account.flow.charge("held", amount("1")), Pending)
    declined = account.flow.charge(
        "mine", amount("1"), decide=lambda: Decline("do_not_honor", "the API said no")
    )
    assert isinstance(declined, Declined) and declined.code == "do_not_honor"


@pytest.mark.parametrize(
    ("rules", "value", "code"),
    [
        ({"rules": [{"next": 1, "decline_code": "lost_card"}]}, "1", "lost_card"),
        ({}, "60000", "insufficient_funds"),
        ({"limit_per_payment": 5}, "6", "limit_exceeded"),
    ],
)
def test_every_decline_has_one_code(
    account: Account, rules: dict[str, object], value: str, code: str
) -> None:
    account.simulator.configure(SimulationSettings.from_json(rules))
    outcome = account.flow.charge("o", amount(value), decide=account.flow.simulated_decline)
    assert isinstance(outcome, Declined) and outcome.code == code


def test_a_payment_decided_at_once_is_never_left_pending(account: Account) -> None:
    account.simulator.configure(SimulationSettings.from_json(
        {"rules": [{"next": 1, "outcome": "pending", "decide_after_ms": 1000}]}))  # fmt: skip
    assert account.flow.simulated_decline() is None


def test_a_refund_an_api_keeps_for_itself_is_refused_and_changes_nothing(
    account: Account,
) -> None:
    account.flow.charge("theirs", amount("5"))
    account.flow.refund_owners.append(lambda order_id: "not here" if order_id == "theirs" else None)
    before = account.ledger.balance
    with pytest.raises(
        RefundOwnedElsewhereError, match="Order theirs cannot be refunded here: not here"
    ):
        account.flow.refund("theirs", None)
    assert account.ledger.balance == before
    account.flow.charge("ours", amount("5"))
    record, _ = account.flow.refund("ours", None)
    assert record.state == "refunded" and account.ledger.balance == before


def test_an_unfunded_charge_pays_the_order_and_leaves_the_account_as_it_was(
    account: Account, tmp_path: Path
) -> None:
    outcome = account.flow.charge("psp-1", amount("100000000.00"), funded=False)
    assert isinstance(outcome, Paid)
    assert account.ledger.balance == Decimal(50000) and account.ledger.transactions() == []
    record = account.ledger.order("psp-1")
    assert record is not None and record.state == "paid"
    again = Account.from_settings(account.settings, user_agent="test")
    try:
        restored = again.ledger.order("psp-1")
        assert restored is not None and restored.state == "paid"
        assert again.ledger.balance == Decimal(50000) and again.ledger.transactions() == []
    finally:
        again.close()


def test_the_account_never_gives_back_what_a_card_outside_it_paid(account: Account) -> None:
    # Whatever API paid it unfunded, even one that registered no refund check of its own.
    account.flow.charge("card-paid", amount("40.00"), funded=False)
    with pytest.raises(NotTheAccountsMoneyError, match="paid by a card outside the account"):
        account.flow.refund("card-paid", None)
    assert account.ledger.balance == Decimal(50000)
    again = Account.from_settings(account.settings, user_agent="test")
    try:
        with pytest.raises(NotTheAccountsMoneyError):
            again.flow.refund("card-paid", None)
    finally:
        again.close()
