"""Refunds: money back for a paid order, in full or in parts, never more than was paid."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient, exact_json
from payments_server.testing import StoreStub


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def paid(client: FlaskClient, order_id: object = "r-1", amount: object = 179.98) -> None:
    answer = client.post("/payments/orders", json={"order_id": order_id, "amount": amount})
    assert answer.status_code == 200


def test_a_full_refund_gives_everything_back_and_tells_the_store_when_asked(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(refund_callbacks=True)
    paid(client)
    answer = client.post("/payments/orders/r-1/refunds")
    assert answer.status_code == 200
    assert exact_json(answer.get_data()) == exact_json(
        """{"status": "success", "message": "Refund of 179.98 for order r-1 completed",
            "balance": 50000.0,
            "refund": {"type": "refund", "refund_of": "r-1", "amount": 179.98,
                       "balance_after": 50000.0},
            "amount_refunded": 179.98, "amount_left": 0.0, "shop_notified": true}"""
    )
    assert [c.body for c in store.received] == [
        b'{"order_id":"r-1","status":"success"}',
        b'{"order_id":"r-1","status":"refunded","amount":179.98,"amount_refunded":179.98}',
    ]
    assert all(c.signature_valid for c in store.received)
    record = client.get("/payments/orders/r-1").get_json()
    assert (record["state"], record["amount_refunded"]) == ("refunded", 179.98)
    assert [r["amount"] for r in record["refunds"]] == [179.98]


def test_refunds_in_parts_never_more_than_was_paid(client: FlaskClient) -> None:
    paid(client, 7, 100)
    assert client.post("/payments/orders/7/refunds", json={"amount": 30}).status_code == 200
    answer = client.post("/payments/orders/7/refunds", json={"amount": 70.01})
    assert (answer.status_code, answer.get_json()["message"]) == (
        409, "A refund of 70.01 is more than the 70.00 left to refund on order 7")  # fmt: skip
    # An amount of null is the same as none: all that is left (as the document says).
    left = client.post("/payments/orders/7/refunds", json={"amount": None}).get_json()
    assert (left["refund"]["amount"], left["amount_left"]) == (70, 0.0)
    again = client.post("/payments/orders/7/refunds")
    assert (again.status_code, again.get_json()["message"]) == (
        409, "Order 7 has been refunded in full")  # fmt: skip
    assert balance(client) == Decimal("50000")


def test_the_history_lists_refunds_as_their_own_entries_and_the_balance_adds_up(
    client: FlaskClient,
) -> None:
    paid(client, "a", 40)
    client.post("/pay", json={"amount": 10, "recipient": "bob"})
    client.post("/payments/orders/a/refunds", json={"amount": 15.5})
    listed = client.get("/transactions").get_data()
    assert exact_json(listed) == exact_json(
        """{"status": "success", "account_id": "ACC-001", "transactions": [
            {"order_id": "a", "amount": 40, "balance_after": 49960.0},
            {"recipient": "bob", "amount": 10, "balance_after": 49950.0},
            {"type": "refund", "refund_of": "a", "amount": 15.5, "balance_after": 49965.5}]}"""
    )
    paged = client.get("/transactions?limit=10").get_json()["transactions"]
    assert paged == json.loads(listed)["transactions"]
    payments = sum(Decimal(str(t["amount"])) for t in paged if "type" not in t)
    refunds = sum(Decimal(str(t["amount"])) for t in paged if t.get("type") == "refund")
    assert balance(client) == Decimal("50000") - payments + refunds


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [("/payments/orders/none/refunds", None, 404, "No payment found for order none"),
     ("/payments/orders/declined/refunds", None, 409,
      "Order declined has not been paid: there is nothing to refund"),
     ("/payments/orders/p/refunds", {"amount": 0}, 400, "Amount must be a positive number"),
     ("/payments/orders/p/refunds", {"amount": 1.001}, 400,
      "Amount must have at most 2 decimal places"),
     ("/payments/orders/p/refunds", {"amount": "5"}, 400, "Amount must be a positive number"),
     ("/payments/orders/p/refunds", {"amount": 1, "reason": "x"}, 400,
      "'reason' is not a refund field; use amount, notify_store"),
     ("/payments/orders/p/refunds", {"notify_store": "no"}, 400,
      "'notify_store' must be true, false or null")],
)  # fmt: skip
def test_a_bad_refund_is_refused_and_changes_nothing(
    client: FlaskClient, store: StoreStub, path: str, body: object, status: int, message: str
) -> None:
    paid(client, "p", 10)
    client.put(
        "/simulation", json={"rules": [{"order_id": "declined", "decline_code": "lost_card"}]}
    )
    client.post("/payments/orders", json={"order_id": "declined", "amount": 5})
    before = (balance(client), client.get("/transactions").get_data(), len(store.received))
    answer = client.post(path, json=body) if body is not None else client.post(path)
    assert (answer.status_code, answer.get_json()) == (
        status,
        {"status": "failed", "message": message},
    )
    assert (balance(client), client.get("/transactions").get_data(), len(store.received)) == before


def test_by_default_a_refund_tells_the_store_nothing_so_a_seed_000_store_needs_no_change(
    client: FlaskClient, store: StoreStub
) -> None:
    # The seed's store answers 400 to any status but "success" and "failed".
    paid(client, "q")
    store.respond_with(400, body=b'{"detail": "status must be either success or failed"}')
    assert (
        client.post("/payments/orders/q/refunds", json={"amount": 1}).get_json()["shop_notified"]
        is None
    )
    assert client.get("/callbacks").get_json()["counts"]["pending"] == 0
    assert [c.json["status"] for c in store.received] == ["success"]
    # A store that knows refunds asks for each one's callback, or for all (--refund-callbacks).
    store.respond_with(200)
    asked = client.post("/payments/orders/q/refunds", json={"notify_store": True})
    assert asked.get_json()["shop_notified"] is True
    assert [c.json["status"] for c in store.received] == ["success", "refunded"]


def test_with_refund_callbacks_on_one_refund_can_still_go_untold(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(refund_callbacks=True)
    paid(client, "n")
    answer = client.post("/payments/orders/n/refunds", json={"notify_store": False})
    assert answer.get_json()["shop_notified"] is None
    assert [c.json["status"] for c in store.received] == ["success"]


def test_a_refund_with_an_idempotency_key_happens_once(client: FlaskClient) -> None:
    paid(client, "k", 50)
    key = {"Idempotency-Key": "refund-k-1"}
    first = client.post("/payments/orders/k/refunds", json={"amount": 20}, headers=key)
    replay = client.post("/payments/orders/k/refunds", json={"amount": 20}, headers=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_data() == first.get_data()
    assert balance(client) == Decimal("49970")


def test_refunds_are_kept_in_the_state_file(make_client: MakeClient, tmp_path: Path) -> None:
    state = str(tmp_path / "account.jsonl")
    first = make_client(state_file=state)
    paid(first, "s", 100)
    first.post("/payments/orders/s/refunds", json={"amount": 25})
    before = [first.get(p).get_data() for p in ("/balance", "/transactions")]
    second = make_client(state_file=state)
    assert [second.get(p).get_data() for p in ("/balance", "/transactions")] == before
    assert second.get("/payments/orders/s").get_json()["amount_refunded"] == 25
    assert second.post("/payments/orders/s/refunds").get_json()["refund"]["amount"] == 75


def test_a_refund_frees_room_under_the_day_limit(make_client: MakeClient) -> None:
    client = make_client(limit_per_day=Decimal("100"))
    paid(client, "d", 100)
    assert client.post("/pay", json={"amount": 1, "recipient": "r"}).status_code == 402
    client.post("/payments/orders/d/refunds", json={"amount": 40})
    assert client.post("/pay", json={"amount": 40, "recipient": "r"}).status_code == 200
