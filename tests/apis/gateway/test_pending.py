"""Pending payments: a 202 now, decided later (on time or through /decide), one callback."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient, exact_json
from payments_server.testing import StoreStub


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def rules(client: FlaskClient, *entries: dict[str, object], **more: object) -> None:
    answer = client.put("/simulation", json={"rules": list(entries), **more})
    assert answer.status_code == 200, answer.get_json()


def test_a_pending_payment_answers_202_takes_nothing_and_is_paid_on_time(
    client: FlaskClient, store: StoreStub
) -> None:
    rules(client, {"next": 1, "outcome": "pending", "decide_after_ms": 300})
    started = time.monotonic()
    answer = client.post("/payments/orders", json={"order_id": "p-1", "amount": 179.98})
    assert answer.status_code == 202
    assert exact_json(answer.get_data()) == exact_json(
        """{"status": "pending", "message": "Payment of 179.98 for order p-1 is pending",
            "order_id": "p-1", "amount": 179.98, "decide_after_ms": 300,
            "shop_notified": false}"""
    )
    assert balance(client) == Decimal("50000") and store.received == []
    assert client.get("/payments/orders/p-1").get_json()["state"] == "pending"
    again = client.post("/pay/order", json={"order_id": "p-1", "amount": 179.98})
    assert (again.status_code, again.get_json()["message"]) == (
        409, "Order p-1 has a payment pending")  # fmt: skip
    (callback,) = store.wait_for(1)
    assert time.monotonic() - started >= 0.3
    assert callback.json == {"order_id": "p-1", "status": "success"}
    # Paid in the book before the store is told: nothing left to wait for.
    record = client.get("/payments/orders/p-1").get_json()
    assert record["state"] == "paid"
    assert [a["outcome"] for a in record["attempts"]] == ["pending", "paid"]
    assert balance(client) == Decimal("49820.02")


def test_decide_now_as_planned_or_as_asked(client: FlaskClient, store: StoreStub) -> None:
    rules(client, {"order_id": "a", "outcome": "pending", "decide_after_ms": 60000,
                   "then": "declined", "decline_code": "do_not_honor"},
          {"order_id": "b", "outcome": "pending", "decide_after_ms": 60000})  # fmt: skip
    client.post("/payments/orders", json={"order_id": "a", "amount": 5})
    client.post("/payments/orders", json={"order_id": "b", "amount": 5})
    planned = client.post("/payments/orders/a/decide").get_json()
    assert (planned["message"], planned["order"]["attempts"][-1]["decline_code"]) == (
        "Order a is failed", "do_not_honor")  # fmt: skip
    asked = client.post("/payments/orders/b/decide", json={"outcome": "declined"}).get_json()
    assert asked["order"]["state"] == "failed"
    assert [c.json for c in store.received] == [
        {"order_id": "a", "status": "failed"}, {"order_id": "b", "status": "failed"}]  # fmt: skip
    assert balance(client) == Decimal("50000")
    again = client.post("/payments/orders/a/decide")
    assert (again.status_code, again.get_json()["message"]) == (
        409,
        "Order a has no payment pending",
    )
    assert client.post("/payments/orders/none/decide").status_code == 404
    assert client.post("/payments/orders/a/decide", json={"outcome": "maybe"}).status_code == 400


def test_the_balance_at_decision_time_applies(client: FlaskClient, store: StoreStub) -> None:
    rules(client, {"order_id": "big", "outcome": "pending", "decide_after_ms": 60000})
    client.post("/payments/orders", json={"order_id": "big", "amount": 40000})
    client.post("/pay", json={"amount": 20000, "recipient": "r"})
    decided = client.post("/payments/orders/big/decide").get_json()
    assert decided["order"]["attempts"][-1]["outcome"] == "insufficient_funds"
    assert store.received[-1].json == {"order_id": "big", "status": "failed"}


def test_the_pending_rate_leaves_order_payments_pending_but_never_a_generic_payment(
    client: FlaskClient,
) -> None:
    rules(client, pending_rate=1)
    assert client.post("/pay", json={"amount": 1, "recipient": "r"}).status_code == 200
    answer = client.post("/payments/orders", json={"order_id": 9, "amount": 1}).get_json()
    assert (answer["status"], answer["decide_after_ms"]) == ("pending", 2000)


def test_a_pending_payment_survives_a_restart_and_is_still_decided_on_time(
    make_client: MakeClient, store: StoreStub, tmp_path: Path
) -> None:
    # On a clock frozen at one instant for both gateways: the restart takes what it takes,
    # and the payment is decided when the clock says, not while the second gateway starts
    # on a busy machine (a frozen clock of its own would stand at its own start).
    state = str(tmp_path / "account.jsonl")
    frozen = {"clock": "frozen", "clock_start": datetime(2026, 12, 1, 10, 0, tzinfo=UTC)}
    first = make_client(state_file=state, callback_retries=0, **frozen)
    rules(first, {"next": 1, "outcome": "pending", "decide_after_ms": 600})
    assert first.post("/payments/orders", json={"order_id": "r", "amount": 7}).status_code == 202
    first.application.extensions["payments_server"].close()
    second = make_client(state_file=state, callback_retries=0, **frozen)
    assert second.get("/payments/orders/r").get_json()["state"] == "pending"
    listed = second.get("/payments/orders?state=pending").get_json()
    assert ([o["order_id"] for o in listed["orders"]], listed["total"]) == (["r"], 1)
    assert advance(second, 0.5) == []
    assert advance(second, 0.2) == ["r"]
    (callback,) = store.wait_for(1)
    assert callback.json == {"order_id": "r", "status": "success"}
    assert second.get("/payments/orders/r").get_json()["state"] == "paid"
    assert second.get("/payments/orders?state=pending").get_json()["total"] == 0
    assert balance(second) == Decimal("49993")
    third = make_client(state_file=state, callback_retries=0, **frozen)
    assert third.get("/payments/orders/r").get_json()["state"] == "paid"


def advance(client: FlaskClient, seconds: float) -> list[str]:
    """Move the gateway's clock on; the ids of the pending payments decided on the way."""
    ran = client.post("/clock/advance", json={"seconds": seconds}).get_json()["ran"]
    return [job["id"] for job in ran if job["kind"] == "pending_payment"]


def test_the_timer_of_an_earlier_pending_payment_does_not_decide_the_next_one_early(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(clock="frozen")
    rules(client, {"order_id": "again", "outcome": "pending", "decide_after_ms": 600,
                   "then": "declined"})  # fmt: skip
    client.post("/payments/orders", json={"order_id": "again", "amount": 5})
    client.post("/payments/orders/again/decide")  # failed now, before its time
    assert advance(client, 0.3) == []
    assert (
        client.post("/payments/orders", json={"order_id": "again", "amount": 5}).status_code == 202
    )
    # The first payment's time (0.6 s) passes: the second, due at 0.9 s, still waits.
    assert advance(client, 0.45) == []
    assert client.get("/payments/orders/again").get_json()["state"] == "pending"
    assert advance(client, 0.15) == ["again"]
    assert client.get("/payments/orders/again").get_json()["state"] == "failed"
    assert [c.json["status"] for c in store.received] == ["failed", "failed"]


def test_reset_forgets_a_pending_payment(make_client: MakeClient, store: StoreStub) -> None:
    client = make_client(clock="frozen")
    rules(client, {"next": 1, "outcome": "pending", "decide_after_ms": 200})
    client.post("/payments/orders", json={"order_id": "gone", "amount": 1})
    client.post("/reset")
    assert advance(client, 1) == []
    assert store.received == []
    assert client.get("/payments/orders/gone").status_code == 404


@pytest.mark.parametrize(
    ("rule", "message"),
    [({"next": 1, "outcome": "pending", "then": "maybe"}, "'rules[0].then' must be paid or declined"),
     ({"next": 1, "outcome": "pending", "decide_after_ms": -1},
      "'rules[0].decide_after_ms' must be an integer from 0 to 3600000"),
     ({"next": 1, "order_id": 1, "outcome": "pending"}, None),
     ({"next": 1, "outcome": "later"}, None)],
)  # fmt: skip
def test_a_bad_pending_rule_is_a_400(
    client: FlaskClient, rule: dict[str, object], message: str | None
) -> None:
    answer = client.put("/simulation", json={"rules": [rule]})
    assert answer.status_code == 400
    if message is not None:
        assert answer.get_json()["message"] == message
