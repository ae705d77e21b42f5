"""Spending limits: per payment and per rolling 24 hours, in the seed's compliance wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient, exact_json
from payments_server import Settings
from payments_server.config import ConfigError
from payments_server.core.limits import DAY, LimitExceededError, Limits, SpendingWindow
from payments_server.testing import StoreStub

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def refused(answer: object, limit: str, detail: str) -> None:
    assert answer.status_code == 402  # type: ignore[attr-defined]
    assert exact_json(answer.get_data()) == exact_json(  # type: ignore[attr-defined]
        f'{{"status": "failed", "message": "Limit exceeded", "limit": "{limit}",'
        f' "detail": "{detail}"}}'
    )


def test_a_payment_over_the_per_payment_limit_is_refused_and_takes_nothing(
    make_client: MakeClient,
) -> None:
    client = make_client(limit_per_payment=Decimal("500"))
    refused(client.post("/pay", json={"amount": 510, "recipient": "r"}),
            "per payment", "510.00 > 500.00 (per payment)")  # fmt: skip
    assert balance(client) == Decimal("50000")
    assert client.get("/transactions").get_json()["transactions"] == []
    assert client.post("/pay", json={"amount": 500, "recipient": "r"}).status_code == 200


def test_the_day_limit_counts_what_was_paid_in_the_seed_s_words(make_client: MakeClient) -> None:
    client = make_client(limit_per_day=Decimal("500"))
    assert client.post("/pay", json={"amount": 495, "recipient": "r"}).status_code == 200
    refused(client.post("/pay", json={"amount": 10, "recipient": "r"}),
            "1 day", "495.00 + 10.00 > 500.00 (1 day)")  # fmt: skip
    # Exactly up to the limit is allowed; refused payments do not count.
    assert client.post("/pay", json={"amount": 5, "recipient": "r"}).status_code == 200
    refused(client.post("/pay", json={"amount": 0.01, "recipient": "r"}),
            "1 day", "500.00 + 0.01 > 500.00 (1 day)")  # fmt: skip
    assert balance(client) == Decimal("49500")


def test_orders_and_decided_pending_payments_count_in_the_day_and_refunds_give_it_back(
    make_client: MakeClient,
) -> None:
    client = make_client(limit_per_day=Decimal("100"))
    rule = {"order_id": "later", "outcome": "pending", "decide_after_ms": 3_600_000}
    client.put("/simulation", json={"rules": [rule], "limit_per_day": 100})
    assert client.post("/payments/orders", json={"order_id": "o", "amount": 60}).status_code == 200
    assert (
        client.post("/payments/orders", json={"order_id": "later", "amount": 30}).status_code == 202
    )
    assert client.post("/payments/orders/later/decide").get_json()["order"]["state"] == "paid"
    refused(client.post("/pay", json={"amount": 10.01, "recipient": "r"}),
            "1 day", "90.00 + 10.01 > 100.00 (1 day)")  # fmt: skip
    client.post("/payments/orders/o/refunds", json={"amount": 50})
    refused(client.post("/pay", json={"amount": 60.01, "recipient": "r"}),
            "1 day", "40.00 + 60.01 > 100.00 (1 day)")  # fmt: skip
    assert client.post("/pay", json={"amount": 60, "recipient": "r"}).status_code == 200


def test_an_order_over_a_limit_fails_and_the_store_hears_failed(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(limit_per_payment=Decimal("100"))
    refused(client.post("/payments/orders", json={"order_id": "big", "amount": 150}),
            "per payment", "150.00 > 100.00 (per payment)")  # fmt: skip
    assert [c.json for c in store.received] == [{"order_id": "big", "status": "failed"}]
    record = client.get("/payments/orders/big").get_json()
    assert [a["outcome"] for a in record["attempts"]] == ["limit_exceeded"]
    # Lifted, the same order can still be paid.
    client.put("/simulation", json={})
    assert (
        client.post("/payments/orders", json={"order_id": "big", "amount": 150}).status_code == 200
    )
    decision = client.get("/activity?kind=decision&outcome=limit_exceeded").get_json()["activity"]
    assert decision[0]["summary"] == "order big: limit exceeded (150.00 > 100.00 (per payment))"


def test_limits_set_with_the_simulation_count_from_when_they_are_set(client: FlaskClient) -> None:
    client.post("/pay", json={"amount": 400, "recipient": "r"})
    shown = client.put("/simulation", json={"limit_per_day": 500, "limit_per_payment": 300.5})
    assert shown.get_json()["simulation"]["limit_per_day"] == 500
    assert client.post("/pay", json={"amount": 300, "recipient": "r"}).status_code == 200
    refused(client.post("/pay", json={"amount": 300.51, "recipient": "r"}),
            "per payment", "300.51 > 300.50 (per payment)")  # fmt: skip
    refused(client.post("/pay", json={"amount": 201, "recipient": "r"}),
            "1 day", "300.00 + 201.00 > 500.00 (1 day)")  # fmt: skip
    client.put("/simulation", json={})
    client.put("/simulation", json={"limit_per_day": 500})
    assert client.post("/pay", json={"amount": 500, "recipient": "r"}).status_code == 200


def test_a_checkout_session_over_a_limit_fails_with_limit_exceeded(make_client: MakeClient) -> None:
    client = make_client(limit_per_payment=Decimal("10"))
    session = client.post("/checkout/sessions", json={"order_id": "cs", "amount": 25}).get_json()
    done = client.post(f"/checkout/sessions/{session['session']['id']}/complete",
                       json={"outcome": "paid"}).get_json()["session"]  # fmt: skip
    assert (done["state"], done["attempts"][0]["decline_code"]) == ("failed", "limit_exceeded")


def test_the_day_is_a_rolling_24_hours() -> None:
    now = [timedelta(0)]
    window = SpendingWindow(clock=lambda: START + now[0])
    limits = Limits(per_day=Decimal("100"))
    window.add(limits, Decimal("60"))
    now[0] = DAY / 2
    window.add(limits, Decimal("40"))
    with pytest.raises(LimitExceededError) as refused:
        window.check(limits, Decimal("1"))
    assert refused.value.detail == "100.00 + 1.00 > 100.00 (1 day)"
    now[0] = DAY - timedelta(microseconds=1)  # still in
    assert window.total() == Decimal("100")
    now[0] = DAY  # the first payment is a day old to the microsecond: out
    window.check(limits, Decimal("60"))
    assert window.total() == Decimal("40")


def test_new_limits_count_from_when_they_were_set_refunds_included() -> None:
    window = SpendingWindow(clock=lambda: START)
    before, after = (
        Limits(per_day=Decimal("100"), since=1.0),
        Limits(per_day=Decimal("100"), since=2.0),
    )
    window.add(before, Decimal("90"))
    window.add(after, Decimal("-30"))  # a refund under the new limits, before any payment
    window.check(after, Decimal("130"))
    with pytest.raises(LimitExceededError) as refused:
        window.check(after, Decimal("131"))
    assert refused.value.detail == "-30.00 + 131.00 > 100.00 (1 day)"


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"limit_per_day": Decimal("0")},
      "--limit-per-day (PAYMENTS_LIMIT_PER_DAY) must be a positive number, got '0'"),
     ({"limit_per_payment": Decimal("1.005")},
      "--limit-per-payment (PAYMENTS_LIMIT_PER_PAYMENT) must have at most 2 decimal places,"
      " got '1.005'")],
)  # fmt: skip
def test_a_bad_limit_stops_the_start(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(**changes)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_limits_from_the_environment() -> None:
    settings = Settings.from_sources({}, {"PAYMENTS_LIMIT_PER_DAY": "500.00"})
    assert settings.limit_per_day == Decimal("500.00")
