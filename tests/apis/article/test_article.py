"""The article's hosted-payment gateway (seed 002) at /article: its create-session, its
status check and its callback, as the article's own code uses them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.testing import StoreStub

# Exactly what the article's initiate_payment() sends (its transaction id is a number).
ARTICLE_BODY = {
    "amount": 25.5,
    "currency": "USD",
    "callback_url": "https://your-app.com/payment-callback",
    "transaction_id": 7,
}


def balance(client: FlaskClient) -> Decimal:
    return Decimal(str(client.get("/balance").get_json()["balance"]))


def create(client: FlaskClient, store: StoreStub, **changes: object) -> dict:  # type: ignore[type-arg]
    body = {**ARTICLE_BODY, "callback_url": store.url, **changes}
    answer = client.post("/article/create-session", json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def status(client: FlaskClient, transaction_id: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    answer = client.get(f"/article/status/{transaction_id}")
    return answer.status_code, answer.get_json()


def session_of(created: dict) -> str:  # type: ignore[type-arg]
    return created["payment_url"].rsplit("/", 1)[1]


def test_create_session_answers_a_payment_url_on_the_hosted_page(
    client: FlaskClient, store: StoreStub
) -> None:
    created = create(client, store)
    session_id = session_of(created)
    assert created == {
        "payment_url": f"http://localhost/checkout/{session_id}",
        "session_id": session_id,
        "transaction_id": 7,
        "status": "pending",
        "expires_at": created["expires_at"],
    }
    assert client.get(f"/checkout/{session_id}").status_code == 200
    session = client.get(f"/checkout/sessions/{session_id}").get_json()["session"]
    assert (session["api"], session["order_id"], session["amount"]) == ("article", 7, 25.5)
    assert status(client, 7) == (200, {"status": "pending"})
    assert store.received == []


@pytest.mark.parametrize("transaction_id", [7, "tx-7"])
def test_a_paid_session_tells_the_store_its_transaction_id_as_given_and_success(
    client: FlaskClient, store: StoreStub, transaction_id: object
) -> None:
    session_id = session_of(create(client, store, transaction_id=transaction_id))
    paid = client.post(f"/checkout/sessions/{session_id}/complete", json={"outcome": "paid"})
    assert paid.status_code == 200
    (callback,) = store.wait_for(1)
    assert callback.json == {"transaction_id": transaction_id, "status": "success"}
    assert callback.signature_valid
    assert status(client, transaction_id) == (200, {"status": "success"})
    assert balance(client) == Decimal("49974.5")


@pytest.mark.parametrize(
    "ending",
    [{"outcome": "declined", "decline_code": "insufficient_funds"}, {"outcome": "canceled"}],
)
def test_a_session_that_ends_unpaid_is_a_failure_for_the_store_and_for_status(
    client: FlaskClient,
    store: StoreStub,
    ending: dict,  # type: ignore[type-arg]
) -> None:
    session_id = session_of(create(client, store))
    client.post(f"/checkout/sessions/{session_id}/complete", json=ending)
    (callback,) = store.wait_for(1)
    assert callback.json == {"transaction_id": 7, "status": "failure"}
    assert status(client, 7) == (200, {"status": "failure"})
    assert balance(client) == Decimal("50000")


def test_a_card_declined_on_the_page_ends_the_articles_payment_at_once(
    client: FlaskClient, store: StoreStub
) -> None:
    # The gateway's own sessions stay open for another card; the article's front end shows
    # its failure screen at a decline, so its payment ends there.
    session_id = session_of(create(client, store))
    card = {"number": "4000000000000002", "expiry": "12/39", "cvc": "123"}
    client.post(f"/checkout/{session_id}/pay", data=card)
    (callback,) = store.wait_for(1)
    assert callback.json == {"transaction_id": 7, "status": "failure"}
    assert status(client, 7) == (200, {"status": "failure"})
    page = client.get(f"/checkout/{session_id}").get_data(as_text=True)
    assert "Payment declined" in page and 'name="number"' not in page


def test_a_session_expires_after_15_minutes_as_a_failure(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(clock="frozen")
    create(client, store)
    client.post("/clock/advance", json={"seconds": 899})
    assert status(client, 7) == (200, {"status": "pending"})
    client.post("/clock/advance", json={"seconds": 1})
    assert status(client, 7) == (200, {"status": "failure"})
    assert [c.json for c in store.wait_for(1)] == [{"transaction_id": 7, "status": "failure"}]


@pytest.mark.parametrize(
    ("body", "code", "error"),
    [
        ({**ARTICLE_BODY, "currency": "EUR"}, 400,
         "'currency' must be USD, the account's (--currency), got 'EUR': a mock converts nothing"),
        ({**ARTICLE_BODY, "amount": -5}, 400, "Amount must be a positive number"),
        ({k: v for k, v in ARTICLE_BODY.items() if k != "transaction_id"}, 400,
         "'transaction_id' is required, and must be a string of 1 to 255 characters or an"
         " integer of at most 255 digits"),
        ({**ARTICLE_BODY, "order_id": 7}, 400,
         "'order_id' is not a create-session field; use amount, currency, callback_url,"
         " transaction_id"),
        ({**ARTICLE_BODY, "callback_url": "ftp://x"}, 400,
         "'callback_url' must be an absolute http:// or https:// URL"),
        ("garbage", 400, "Request body must be JSON"),
    ],
)  # fmt: skip
def test_bad_input_gets_the_articles_error_shape_and_changes_nothing(
    client: FlaskClient, body: object, code: int, error: str
) -> None:
    before = client.get("/checkout/sessions").get_json()["total"]
    if isinstance(body, str):
        answer = client.post("/article/create-session", data=body)
    else:
        answer = client.post("/article/create-session", json=body)
    assert (answer.status_code, answer.get_json()) == (code, {"error": error})
    assert client.get("/checkout/sessions").get_json()["total"] == before


def test_status_of_an_unknown_transaction_is_404_without_a_status_key(client: FlaskClient) -> None:
    # A body with "status" would read as a payment status to the article's job.
    assert status(client, 99) == (
        404,
        {"error": "No transaction '99': create-session opens one"},
    )
    wrong = client.post("/article/status/99")
    assert (wrong.status_code, wrong.get_json()) == (405, {"error": "Method not allowed"})


def test_a_shop_that_starts_again_pays_its_transaction_ids_again(
    client: FlaskClient, store: StoreStub
) -> None:
    # The transaction id is the shop's reference: a shop restarted with a fresh database
    # numbers its transactions from 1 again, and pays each one.
    first = session_of(create(client, store))
    client.post(f"/checkout/sessions/{first}/complete", json={"outcome": "paid"})
    again = create(client, store)
    assert again["transaction_id"] == 7 and again["status"] == "pending"
    assert status(client, 7) == (200, {"status": "pending"})  # the newest one's
    client.post(f"/checkout/sessions/{session_of(again)}/complete", json={"outcome": "paid"})
    assert status(client, 7) == (200, {"status": "success"})
    told = [c.json for c in store.wait_for(2)]
    assert told == [{"transaction_id": 7, "status": "success"}] * 2
    # Paid under an order of its own, and counted twice.
    assert client.get("/payments/orders/7~2").get_json()["state"] == "paid"
    assert balance(client) == Decimal(50000) - 2 * Decimal(str(ARTICLE_BODY["amount"]))


@pytest.mark.parametrize("reference", ["0" * 255, int("9" * 254), "x" * 254])
def test_a_reference_too_long_to_be_paid_again_under_its_own_order_is_a_409(
    client: FlaskClient, store: StoreStub, reference: object
) -> None:
    first = session_of(create(client, store, transaction_id=reference))
    client.post(f"/checkout/sessions/{first}/complete", json={"outcome": "paid"})
    # reference~2 would be longer than an order id may be (found by the fuzzer: a session
    # listed with an order id of 257 characters).
    again = client.post("/article/create-session",
                        json={**ARTICLE_BODY, "callback_url": store.url, "transaction_id": reference})  # fmt: skip
    assert again.status_code == 409
    assert again.get_json() == {
        "error": f"Transaction {reference!r} is paid already, and its id is too long to be paid"
        " again under an order id of its own (at most 255 characters)"
    }
    listed = client.get("/checkout/sessions").get_json()["sessions"]
    assert [session["order_id"] for session in listed] == [reference]
    assert balance(client) == Decimal(50000) - Decimal(str(ARTICLE_BODY["amount"]))


def test_the_index_lists_each_api_with_its_base_url(client: FlaskClient) -> None:
    index = client.get("/", headers={"Accept": "application/json"}).get_json()
    assert [(a["id"], a["base_url"]) for a in index["apis"]] == [
        ("gateway", "http://localhost/"),
        ("article", "http://localhost/article"),
        ("ticketing", "http://localhost/ticketing"),
        ("cardloader", "http://localhost/cardloader"),
        ("psp", "http://localhost/psp"),
    ]
