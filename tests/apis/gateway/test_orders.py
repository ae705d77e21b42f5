"""GET /payments/orders: every order newest first, by state, with a total."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.apis.web import EXTENSION_KEY

TICKET = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"


def listed(client: FlaskClient, query: str = "") -> dict:  # type: ignore[type-arg]
    answer = client.get(f"/payments/orders{query}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def ids(body: dict) -> list[object]:  # type: ignore[type-arg]
    return [order["order_id"] for order in body["orders"]]


@pytest.fixture
def orders(client: FlaskClient) -> FlaskClient:
    """Five orders, one in each state and one more paid: paid, failed, pending, refunded."""
    client.put("/simulation", json={"rules": [
        {"order_id": "waits", "outcome": "pending", "decide_after_ms": 3_600_000}]})  # fmt: skip
    client.post("/payments/orders", json={"order_id": "first", "amount": 5})
    client.post("/payments/orders", json={"order_id": 2, "amount": 10**6})  # insufficient
    client.post("/payments/orders", json={"order_id": "waits", "amount": 7})
    client.post("/pay/order", json={"order_id": "back", "amount": 3})
    client.post("/payments/orders/back/refunds")
    client.post("/pay", json={"amount": 1, "recipient": "not an order"})
    return client


def test_every_order_newest_first_with_its_record(orders: FlaskClient) -> None:
    body = listed(orders)
    assert ids(body) == ["back", "waits", 2, "first"] and body["total"] == 4
    assert [order["state"] for order in body["orders"]] == ["refunded", "pending", "failed", "paid"]
    one = orders.get("/payments/orders/first").get_json()
    assert body["orders"][3] == {key: one[key] for key in one if key not in ("status", "callback")}


@pytest.mark.parametrize(
    ("state", "expected"),
    [("pending", ["waits"]), ("paid", ["first"]), ("failed", [2]), ("refunded", ["back"])],
)
def test_one_state(orders: FlaskClient, state: str, expected: list[object]) -> None:
    body = listed(orders, f"?state={state}")
    assert (ids(body), body["total"]) == (expected, len(expected))


def test_a_decided_payment_leaves_the_pending_list(orders: FlaskClient) -> None:
    orders.post("/payments/orders/waits/decide")
    assert ids(listed(orders, "?state=pending")) == []
    assert ids(listed(orders, "?state=paid")) == ["waits", "first"]


def test_the_pending_list_is_newest_first_and_an_order_pending_again_comes_first(
    client: FlaskClient,
) -> None:
    rule = {"outcome": "pending", "decide_after_ms": 3_600_000, "then": "declined"}
    client.put("/simulation", json={"rules": [{**rule, "order_id": o} for o in ("x", "y")]})
    client.post("/payments/orders", json={"order_id": "x", "amount": 1})
    client.post("/payments/orders", json={"order_id": "y", "amount": 1})
    assert ids(listed(client, "?state=pending")) == ["y", "x"]
    client.post("/payments/orders/x/decide")  # failed, so it may be paid again
    client.post("/payments/orders", json={"order_id": "x", "amount": 1})
    assert ids(listed(client, "?state=pending")) == ["x", "y"]
    assert ids(listed(client, "?state=pending&limit=1")) == ["x"]


def test_limit_keeps_the_newest_and_total_counts_them_all(orders: FlaskClient) -> None:
    body = listed(orders, "?limit=2")
    assert (ids(body), body["total"]) == (["back", "waits"], 4)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?offset=2", [2, "first"]),
        ("?limit=1&offset=1", ["waits"]),
        ("?limit=2&offset=3", ["first"]),
        ("?offset=4", []),
        ("?offset=" + "9" * 40, []),
        ("?state=paid&offset=1", ["first"][1:]),
        ("?state=pending&offset=0", ["waits"]),
    ],
)
def test_offset_reads_every_order_to_the_end(
    orders: FlaskClient, query: str, expected: list[object]
) -> None:
    body = listed(orders, query)
    assert ids(body) == expected and body["total"] == (4 if "state" not in query else 1)


def test_none_yet_and_none_after_a_reset(orders: FlaskClient) -> None:
    orders.post("/reset")
    assert listed(orders) == {"status": "success", "orders": [], "total": 0}


@pytest.mark.parametrize(
    ("query", "message"),
    [("?state=open", "'state' must be one of paid, pending, refunded, failed, got 'open'"),
     ("?limit=0", "'limit' must be a whole number from 1 to 1000, got '0'"),
     ("?limit=1001", "'limit' must be a whole number from 1 to 1000, got '1001'"),
     ("?status=paid", "'status' is not a query parameter of GET /payments/orders; use limit,"
                      " offset, state")],
)  # fmt: skip
def test_a_bad_query_is_a_400(client: FlaskClient, query: str, message: str) -> None:
    answer = client.get(f"/payments/orders{query}")
    assert (answer.status_code, answer.get_json()) == (
        400,
        {"status": "failed", "message": message},
    )


def test_each_order_names_the_api_it_came_through_and_keeps_it_after_a_restart(
    make_client: MakeClient, tmp_path: Path
) -> None:
    state = str(tmp_path / "account.jsonl")
    client = make_client(state_file=state)
    client.post("/payments/orders", json={"order_id": "G-1", "amount": 2})
    client.post("/ticketing/payments", json={
        "orderId": TICKET, "customerId": "6b29fc40-ca47-1067-b31d-00dd010662da", "amount": 3})  # fmt: skip
    client.post("/psp/transactions", headers={"x-customer-id": "1"}, json={
        "description": "x", "amount": "400", "payment_method": "credit_card",
        "card_number": "4111111111111111", "card_holder_name": "A",
        "card_expiration_date": "10/35", "card_verification_code": "123"})  # fmt: skip
    created = client.post("/article/create-session", json={
        "amount": 5, "currency": "USD", "callback_url": "http://127.0.0.1:9/cb",
        "transaction_id": 77}).get_json()  # fmt: skip
    session = created["payment_url"].rsplit("/", 1)[1]
    client.post(f"/checkout/sessions/{session}/complete", json={"outcome": "paid"})
    client.post("/cardloader/cards/1/load/", json={"nonce": "fake-valid-nonce", "amount": "6.00"})
    # A gateway checkout session, completed: the session's API.
    opened = client.post("/checkout/sessions", json={"order_id": "S-1", "amount": 1}).get_json()
    client.post(f"/checkout/sessions/{opened['session']['id']}/complete", json={"outcome": "paid"})
    expected = ["gateway", "cardloader", "article", "psp", "ticketing", "gateway"]
    assert [order["api"] for order in listed(client)["orders"]] == expected
    client.application.extensions[EXTENSION_KEY].close()
    again = make_client(state_file=state)
    assert [order["api"] for order in listed(again)["orders"]] == expected
