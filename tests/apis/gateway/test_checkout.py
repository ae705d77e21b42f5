"""Checkout sessions through the JSON API: the same rules, ledger and callbacks as orders."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import ISO_MILLIS, MakeClient
from payments_server.testing import StoreStub

SESSION_ID = re.compile(r"cs_[0-9a-f]{32}")


def create(client: FlaskClient, status: int = 201, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/checkout/sessions", json={"order_id": "A-1", "amount": 25, **body})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def test_a_session_is_created_open_with_its_page_on_the_host_the_client_used(
    make_client: MakeClient,
) -> None:
    # A name the gateway answers to once allowed, as a container's name would be.
    client = make_client(allowed_hosts=("gateway.test",))
    response = client.post(
        "/checkout/sessions",
        json={
            "order_id": 7,
            "amount": 179.98,
            "success_url": "https://shop.test/thanks?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.test/orders/{ORDER_ID}",
            "description": "Two mugs",
            "metadata": {"cart": "c-9"},
        },
        base_url="http://gateway.test:5000",
    )
    assert response.status_code == 201
    created = response.get_json()
    session = created["session"]
    assert created["status"] == "success"
    assert SESSION_ID.fullmatch(session["id"])
    assert session["url"] == f"http://gateway.test:5000/checkout/{session['id']}"
    assert session["success_url"] == f"https://shop.test/thanks?session={session['id']}"
    assert session["cancel_url"] == "https://shop.test/orders/7"
    assert (session["order_id"], session["amount"], session["state"]) == (7, 179.98, "open")
    assert ISO_MILLIS.fullmatch(session["created_at"])
    assert ISO_MILLIS.fullmatch(session["expires_at"])
    assert session["callback_url"] is None and session["callback"] is None
    assert session["attempts"] == [] and session["metadata"] == {"cart": "c-9"}
    shown = client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]
    assert shown["url"].startswith("http://localhost/checkout/")
    assert {k: v for k, v in shown.items() if k != "url"} == {
        k: v for k, v in session.items() if k != "url"
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"amount": 5}, "Both 'order_id' and 'amount' fields are required"),
        ({"order_id": "x"}, "Both 'order_id' and 'amount' fields are required"),
        ({"order_id": "x", "amount": 0}, "Amount must be a positive number"),
        ({"order_id": "x", "amount": 0.001}, "Amount must have at most 2 decimal places"),
        ({"order_id": True, "amount": 1}, "'order_id' must be a string of 1 to 255 characters or an integer of at most 255 digits"),
        ({"order_id": "x", "amount": 1, "success_url": "/relative"}, "'success_url' must be an absolute http:// or https:// URL"),
        ({"order_id": "x", "amount": 1, "cancel_url": "ftp://shop.test/"}, "'cancel_url' must be an absolute http:// or https:// URL"),
        ({"order_id": "x", "amount": 1, "callback_url": 5}, "'callback_url' must be an absolute http:// or https:// URL"),
        ({"order_id": "x", "amount": 1, "expires_in": 9}, "'expires_in' must be a whole number of seconds from 10 to 86400"),
        ({"order_id": "x", "amount": 1, "expires_in": 86401}, "'expires_in' must be a whole number of seconds from 10 to 86400"),
        ({"order_id": "x", "amount": 1, "expires_in": "60"}, "'expires_in' must be a whole number of seconds from 10 to 86400"),
        ({"order_id": "x", "amount": 1, "description": "d" * 501}, "'description' must be a string of at most 500 characters"),
        ({"order_id": "x", "amount": 1, "metadata": {"k": 1}}, "'metadata' must be an object of at most 50 keys of up to 40 characters, each a string of at most 500"),
        ({"order_id": "x", "amount": 1, "metadata": []}, "'metadata' must be an object of at most 50 keys of up to 40 characters, each a string of at most 500"),
        ({"order_id": "x", "amount": 1, "coupon": "X"}, "'coupon' is not a checkout session field; use order_id, amount, success_url, cancel_url, callback_url, expires_in, description, metadata"),
    ],
)  # fmt: skip
def test_a_bad_session_is_refused_and_nothing_is_made(
    client: FlaskClient, body: dict[str, object], message: str
) -> None:
    response = client.post("/checkout/sessions", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"status": "failed", "message": message}
    assert client.get("/checkout/sessions").get_json() == {
        "status": "success",
        "sessions": [],
        "total": 0,
    }


def test_paying_through_complete_is_an_order_payment_with_its_callback(
    client: FlaskClient, store: StoreStub
) -> None:
    session = create(client, order_id="A-1", amount=25)["session"]
    done = client.post(f"/checkout/sessions/{session['id']}/complete", json={"outcome": "paid"})
    assert done.status_code == 200
    paid = done.get_json()["session"]
    assert paid["state"] == "paid"
    assert [(a["outcome"], a["decline_code"], a["card"]) for a in paid["attempts"]] == [
        ("paid", None, None)
    ]
    assert balance(client) == Decimal("49975.0")
    assert client.get("/transactions").get_json()["transactions"] == [
        {"order_id": "A-1", "amount": 25, "balance_after": 49975.0}
    ]
    (received,) = store.received
    assert received.body == b'{"order_id":"A-1","status":"success"}' and received.signature_valid
    assert paid["callback"] == {"id": received.headers["webhook-id"], "state": "delivered"}
    assert client.get("/payments/orders/A-1").get_json()["state"] == "paid"
    again = client.post(f"/checkout/sessions/{session['id']}/complete", json={"outcome": "paid"})
    assert again.status_code == 409
    assert again.get_json() == {
        "status": "failed",
        "message": f"Checkout session {session['id']} is paid, not open",
    }
    assert balance(client) == Decimal("49975.0") and len(store.received) == 1


@pytest.mark.parametrize(
    ("body", "state", "code"),
    [
        ({"outcome": "declined"}, "failed", "card_declined"),
        ({"outcome": "declined", "decline_code": "stolen_card"}, "failed", "stolen_card"),
        ({"outcome": "canceled"}, "canceled", None),
    ],
)
def test_a_decline_or_a_cancel_tells_the_store_failed_and_takes_nothing(
    client: FlaskClient, store: StoreStub, body: dict[str, str], state: str, code: str | None
) -> None:
    session = create(client)["session"]
    done = client.post(f"/checkout/sessions/{session['id']}/complete", json=body).get_json()
    assert done["session"]["state"] == state
    assert [a["decline_code"] for a in done["session"]["attempts"]] == ([code] if code else [])
    assert balance(client) == Decimal("50000.0")
    assert [c.body for c in store.received] == [b'{"order_id":"A-1","status":"failed"}']


def test_the_balance_and_the_simulation_apply(client: FlaskClient) -> None:
    too_much = create(client, order_id="big", amount=60000)["session"]
    failed = client.post(f"/checkout/sessions/{too_much['id']}/complete", json={"outcome": "paid"})
    assert failed.get_json()["session"]["attempts"][0]["decline_code"] == "insufficient_funds"
    client.put("/simulation", json={"rules": [{"order_id": "r", "decline_code": "lost_card"}]})
    ruled = create(client, order_id="r", amount=1)["session"]
    declined = client.post(f"/checkout/sessions/{ruled['id']}/complete", json={"outcome": "paid"})
    assert declined.get_json()["session"]["attempts"][0]["decline_code"] == "lost_card"
    assert balance(client) == Decimal("50000.0")


def test_expire_now_tells_the_store_failed_once(client: FlaskClient, store: StoreStub) -> None:
    session = create(client)["session"]
    expired = client.post(f"/checkout/sessions/{session['id']}/expire")
    assert expired.status_code == 200
    assert expired.get_json()["session"]["state"] == "expired"
    again = client.post(f"/checkout/sessions/{session['id']}/expire")
    assert again.status_code == 409
    assert again.get_json()["message"] == f"Checkout session {session['id']} is expired, not open"
    assert [c.body for c in store.received] == [b'{"order_id":"A-1","status":"failed"}']


def test_a_session_of_its_own_callback_url_calls_back_there(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client()
    with StoreStub() as own:
        session = create(client, callback_url=own.url + "?order={ORDER_ID}")["session"]
        client.post(f"/checkout/sessions/{session['id']}/complete", json={"outcome": "paid"})
        assert [(c.path, c.body) for c in own.received] == [
            ("/payments/confirm?order=A-1", b'{"order_id":"A-1","status":"success"}')
        ]
    assert store.received == []


def test_a_paid_order_cannot_get_a_session(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": "P", "amount": 1})
    refused = client.post("/checkout/sessions", json={"order_id": "P", "amount": 1})
    assert refused.status_code == 409
    assert refused.get_json() == {"status": "failed", "message": "Order P has already been paid"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("post", "/expire"), ("post", "/complete")],
)
def test_an_unknown_session_is_404(client: FlaskClient, method: str, path: str) -> None:
    response = getattr(client, method)(
        f"/checkout/sessions/cs_nope{path}", json={"outcome": "paid"}
    )
    assert response.status_code == 404
    assert response.get_json() == {
        "status": "failed",
        "message": "No checkout session with id 'cs_nope'",
    }


@pytest.mark.parametrize(
    "body",
    [{}, {"outcome": "refunded"}, {"outcome": "paid", "decline_code": "lost_card"},
     {"outcome": "declined", "decline_code": "nope"}, {"outcome": "paid", "extra": 1}],
)  # fmt: skip
def test_a_bad_completion_is_400_and_leaves_the_session_open(
    client: FlaskClient, body: dict[str, object]
) -> None:
    session = create(client)["session"]
    response = client.post(f"/checkout/sessions/{session['id']}/complete", json=body)
    assert response.status_code == 400
    assert (
        client.get(f"/checkout/sessions/{session['id']}").get_json()["session"]["state"] == "open"
    )


def test_sessions_are_listed_newest_first_by_order_and_state_and_reset_forgets_them(
    client: FlaskClient,
) -> None:
    first = create(client, order_id=1)["session"]
    second = create(client, order_id="1")["session"]
    third = create(client, order_id=2)["session"]
    client.post(f"/checkout/sessions/{first['id']}/expire")

    def ids(query: str) -> list[str]:
        return [s["id"] for s in client.get("/checkout/sessions" + query).get_json()["sessions"]]

    assert ids("") == [third["id"], second["id"], first["id"]]
    assert ids("?order_id=1") == [second["id"], first["id"]]
    assert ids("?state=expired") == [first["id"]]
    assert ids("?order_id=1&state=open") == [second["id"]]
    # A page at most: the newest, with the count of them all.
    page = client.get("/checkout/sessions?limit=2").get_json()
    assert ([x["id"] for x in page["sessions"]], page["total"]) == ([third["id"], second["id"]], 3)
    assert client.get("/checkout/sessions?order_id=1&limit=1").get_json()["total"] == 2
    for limit in ("0", "1001", "x", "1" * 5000):
        refused = client.get(f"/checkout/sessions?limit={limit}")
        assert refused.get_json() == {
            "status": "failed",
            "message": f"'limit' must be a whole number from 1 to 1000, got {limit!r}",
        }
    bad = client.get("/checkout/sessions?state=done")
    assert bad.status_code == 400
    assert (
        bad.get_json()["message"]
        == "'state' must be one of open, paid, failed, canceled, expired, got 'done'"
    )
    client.post("/reset")
    assert ids("") == []


def test_an_idempotency_key_replays_the_same_session(client: FlaskClient) -> None:
    headers = {"Idempotency-Key": "checkout-1"}
    body = {"order_id": "K", "amount": 3}
    one = client.post("/checkout/sessions", json=body, headers=headers)
    two = client.post("/checkout/sessions", json=body, headers=headers)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.get_data() == two.get_data()
    assert two.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/checkout/sessions").get_json()["sessions"]) == 1


def test_a_callback_url_a_request_cannot_carry_is_refused_before_any_money_moves(
    client: FlaskClient, store: StoreStub
) -> None:
    # Once accepted, such a session was charged, then answered 500 and told nobody.
    body = {"order_id": "eu-1", "amount": 5, "callback_url": "http://127.0.0.1:9/€"}
    refused = client.post("/checkout/sessions", json=body)
    assert refused.status_code == 400
    assert refused.get_json() == {
        "status": "failed",
        "message": "'callback_url' must be in ASCII: percent-encode other characters"
        " (http://127.0.0.1:9/%E2%82%AC)",
    }
    assert client.get("/checkout/sessions").get_json()["sessions"] == []
    # Percent-encoded as suggested, it is paid and the store is told there.
    body["callback_url"] = f"{store.base_url}/%E2%82%AC"
    session = client.post("/checkout/sessions", json=body).get_json()["session"]
    done = client.post(f"/checkout/sessions/{session['id']}/complete", json={"outcome": "paid"})
    assert done.status_code == 200 and done.get_json()["session"]["state"] == "paid"
    [callback] = store.received
    assert (callback.path, callback.json) == (
        "/%E2%82%AC",
        {"order_id": "eu-1", "status": "success"},
    )


def test_completing_a_session_whose_order_has_a_payment_pending_fails_it_and_tells_nobody(
    client: FlaskClient, store: StoreStub
) -> None:
    # This answered 500 before: the session's payment met the order's pending payment.
    rule = {"order_id": "pp-1", "outcome": "pending", "decide_after_ms": 60_000}
    assert client.put("/simulation", json={"rules": [rule]}).status_code == 200
    assert (
        client.post("/payments/orders", json={"order_id": "pp-1", "amount": 7}).status_code == 202
    )
    session = client.post("/checkout/sessions", json={"order_id": "pp-1", "amount": 7}).get_json()[
        "session"
    ]
    done = client.post(f"/checkout/sessions/{session['id']}/complete", json={"outcome": "paid"})
    assert done.status_code == 200
    finished = done.get_json()["session"]
    assert (finished["state"], finished["callback"]) == ("failed", None)
    assert [a["decline_code"] for a in finished["attempts"]] == ["payment_pending"]
    assert store.received == [] and client.get("/balance").get_json()["balance"] == 50000.0
    # The pending payment decides, and tells the store, as it would have anyway.
    decided = client.post("/payments/orders/pp-1/decide")
    assert decided.get_json()["order"]["state"] == "paid"
    assert [c.json for c in store.received] == [{"order_id": "pp-1", "status": "success"}]
