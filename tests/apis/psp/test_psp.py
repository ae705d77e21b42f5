"""The small PSP (seed 004) at /psp: transactions per merchant, payables with their fees
made by a worker, settlement on the clock, and a card number that never comes back."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server.apis.psp import payouts
from payments_server.apis.web import EXTENSION_KEY

# The seed's own request (its card expired in 10/25: the tests' clock starts in 2020).
SEED_BODY = {"description": "Lightsaber", "amount": "2500", "payment_method": "credit_card",
             "card_number": "4111111111111111", "card_holder_name": "Luke Skywalker",
             "card_expiration_date": "10/25", "card_verification_code": "123"}  # fmt: skip
SEED_TIME = datetime.fromisoformat("2020-07-19T22:26:23.693Z")
MERCHANT = {"x-customer-id": "123"}
DAY = 86400


@pytest.fixture
def psp(make_client: MakeClient) -> FlaskClient:
    """A gateway whose frozen clock stands at the seed's example time."""
    return make_client(clock="frozen", clock_start=SEED_TIME)


def create(client: FlaskClient, body: object = SEED_BODY, headers: dict[str, str] | None = None,
           **changes: object) -> tuple[int, dict[str, object]]:  # fmt: skip
    sent = {**body, **changes} if isinstance(body, dict) else body
    answer = client.post(
        "/psp/transactions", json=sent, headers=MERCHANT if headers is None else headers
    )
    return answer.status_code, answer.get_json()


def listed(client: FlaskClient, what: str, merchant: str = "123") -> list[dict[str, object]]:
    answer = client.get(f"/psp/{what}", headers={"x-customer-id": merchant})
    assert answer.status_code == 200
    found: list[dict[str, object]] = answer.get_json()
    return found


def test_the_seeds_transaction_is_created_with_its_fields_and_no_cvc(psp: FlaskClient) -> None:
    status, body = create(psp)
    assert status == 201
    assert body == {
        "id": body["id"], "description": "Lightsaber", "customer_id": "123", "amount": 2500,
        "payment_method": "credit_card", "status": "pending_payment",
        "card_holder_name": "Luke Skywalker", "card_expiration_date": "2025-10-01T00:00:00.000Z",
        "card_last_four_numbers": "1111", "updated_at": "2020-07-19T22:26:23.693Z",
        "created_at": "2020-07-19T22:26:23.693Z",
    }  # fmt: skip
    assert listed(psp, "transactions") == [body]
    # The card pays, not the one account (the real PSP has no balance): the order is paid.
    assert psp.get("/balance").get_json()["balance"] == 50000.0
    order = psp.get(f"/payments/orders/{body['id']}").get_json()
    assert order["state"] == "paid" and psp.get("/transactions").get_json()["transactions"] == []


def test_a_transaction_never_fails_for_the_accounts_funds(make_client: MakeClient) -> None:
    # The real PSP's own test pays 10,000,000,000 cents with a card that expired in 10/10.
    psp = make_client(initial_balance=Decimal(10))
    status, _ = create(psp, amount=10_000_000_000, card_expiration_date="10/10")
    assert status == 201 and psp.get("/balance").get_json()["balance"] == 10.0


def test_a_credit_card_payable_waits_30_days_less_5_percent_then_settles(psp: FlaskClient) -> None:
    _, transaction = create(psp)
    [payable] = listed(psp, "payables")
    assert payable == {
        "id": payable["id"], "customer_id": "123", "status": "waiting_funds",
        "payment_date": "2020-08-18T22:26:23.693Z", "fee": 5, "receivable_amount": 2375,
        "created_at": "2020-07-19T22:26:23.693Z", "updated_at": "2020-07-19T22:26:23.693Z",
        "transaction_id": transaction["id"],
    }  # fmt: skip
    assert psp.get("/psp/balance", headers=MERCHANT).get_json() == {
        "customer_id": "123", "available": 0, "waiting_funds": 2375, "currency": "USD"}  # fmt: skip
    psp.post("/clock/advance", json={"seconds": 30 * DAY - 1})
    assert listed(psp, "payables")[0]["status"] == "waiting_funds"
    ran = psp.post("/clock/advance", json={"seconds": 1}).get_json()["ran"]
    assert [job["kind"] for job in ran] == ["psp_settlement"]
    [settled] = listed(psp, "payables")
    assert (settled["status"], settled["updated_at"]) == ("paid", "2020-08-18T22:26:23.693Z")
    [paid] = listed(psp, "transactions")
    assert (paid["status"], paid["updated_at"]) == ("paid", "2020-08-18T22:26:23.693Z")
    assert psp.get("/psp/balance", headers=MERCHANT).get_json()["available"] == 2375
    [payout] = psp.get("/activity?outcome=paid_out").get_json()["activity"]
    assert (payout["summary"], payout["order_id"]) == (
        f"payable {settled['id']} paid out: 2375 cents to merchant 123", transaction["id"])  # fmt: skip


def test_a_debit_card_payable_is_paid_at_once_less_3_percent(psp: FlaskClient) -> None:
    status, transaction = create(psp, payment_method="debit_card", amount=999)
    assert (status, transaction["status"]) == (201, "paid")
    [payable] = listed(psp, "payables")
    # 999 less 3 % is 969.03, rounded up to the cent as the PSP rounds: 970.
    assert (payable["status"], payable["fee"], payable["receivable_amount"]) == ("paid", 3, 970)
    assert payable["payment_date"] == "2020-07-19T22:26:23.693Z"
    assert psp.get("/psp/balance", headers=MERCHANT).get_json()["available"] == 970


def test_advancing_30_days_settles_every_credit_payable_at_once(psp: FlaskClient) -> None:
    for amount in (100, 200, 300):
        create(psp, amount=amount)
        psp.post("/clock/advance", json={"seconds": 3600})
    create(psp, payment_method="debit_card", amount=1000)
    assert {p["status"] for p in listed(psp, "payables")} == {"paid", "waiting_funds"}
    psp.post("/clock/advance", json={"seconds": 30 * DAY})
    assert {p["status"] for p in listed(psp, "payables")} == {"paid"}
    assert psp.get("/psp/balance", headers=MERCHANT).get_json()["available"] == 95 + 190 + 285 + 970


def test_each_merchant_sees_only_its_own(psp: FlaskClient) -> None:
    create(psp)
    create(psp, headers={"x-customer-id": "456"}, amount=100)
    assert [t["amount"] for t in listed(psp, "transactions", "456")] == [100]
    assert [p["receivable_amount"] for p in listed(psp, "payables", "456")] == [95]
    assert listed(psp, "transactions", "789") == [] and listed(psp, "payables", "789") == []
    [theirs] = listed(psp, "transactions", "123")
    # One transaction by its id is any merchant's, and an unknown one null, as the real
    # PSP answers GET /transactions/:id (it looks the id up and nothing else).
    other = psp.get(f"/psp/transactions/{theirs['id']}", headers={"x-customer-id": "456"})
    assert (other.status_code, other.get_json()) == (200, theirs)
    unknown = psp.get("/psp/transactions/no-such-id")
    assert (unknown.status_code, unknown.get_data()) == (200, b"null\n")
    [payable] = listed(psp, "payables", "123")
    assert psp.get(f"/psp/payables/{payable['id']}").get_json() == payable


def test_lists_are_newest_first_and_paged(psp: FlaskClient) -> None:
    for amount in (1, 2, 3):
        create(psp, amount=amount)
    assert [t["amount"] for t in listed(psp, "transactions")] == [3, 2, 1]
    page = psp.get("/psp/transactions?page=2&limit=2", headers=MERCHANT).get_json()
    assert [t["amount"] for t in page] == [1]
    # As the real PSP pages: page 0 reads as 1, a limit over 200 as 200.
    first = psp.get("/psp/transactions?page=0&limit=5000", headers=MERCHANT).get_json()
    assert [t["amount"] for t in first] == [3, 2, 1]
    bad = psp.get("/psp/payables?limit=x", headers=MERCHANT)
    assert (bad.status_code, bad.get_json()["type"]) == (400, "invalid_query")


def test_without_x_customer_id_every_call_is_a_422(psp: FlaskClient) -> None:
    problem = {"message": "\"customerId\" is required: the merchant's id, in x-customer-id",
               "path": "customerId"}  # fmt: skip
    for path in ("/psp/transactions", "/psp/payables", "/psp/balance"):
        answer = psp.get(path)
        assert (answer.status_code, answer.get_json()) == (422, {
            "message": "Invalid request body", "type": "invalid_request_body",
            "details": [problem]})  # fmt: skip
    assert create(psp, headers={}) == (422, {
        "message": "Invalid request body", "type": "invalid_request_body",
        "details": [problem]})  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "paths"),
    [
        ({"card_number": "4111111111111112"}, ["cardNumber"]),
        ({"card_number": "4111 1111"}, ["cardNumber"]),
        ({"card_number": 4111111111111111}, ["cardNumber"]),
        ({"card_expiration_date": "2025-10"}, ["cardExpirationDate"]),
        ({"card_expiration_date": "13/25"}, ["cardExpirationDate"]),
        ({"card_verification_code": "12"}, ["cardVerificationCode"]),
        ({"card_verification_code": "1234"}, ["cardVerificationCode"]),
        ({"amount": "0"}, ["amount"]),
        ({"amount": 12.5}, ["amount"]),
        ({"amount": True}, ["amount"]),
        ({"payment_method": "pix"}, ["paymentMethod"]),
        ({"payment_method": {}}, ["paymentMethod"]),
        ({"card_holder_name": " "}, ["cardHolderName"]),
        ({"description": None, "amount": -1}, ["description", "amount"]),
    ],
)
def test_every_bad_field_is_named_without_its_value_and_changes_nothing(
    psp: FlaskClient, changes: dict[str, object], paths: list[str]
) -> None:
    status, body = create(psp, **changes)
    assert (status, body["message"], body["type"]) == (422, "Invalid request body",
                                                       "invalid_request_body")  # fmt: skip
    assert [d["path"] for d in body["details"]] == paths  # type: ignore[attr-defined]
    assert "4111111" not in json.dumps(body) and '"123"' not in json.dumps(body)
    assert (
        listed(psp, "transactions") == [] and psp.get("/balance").get_json()["balance"] == 50000.0
    )


def test_an_expired_card_is_refused_only_when_asked_on_the_gateways_clock(
    make_client: MakeClient,
) -> None:
    # The real PSP checks no date: the seed's card (10/25) pays today.
    assert create(make_client())[0] == 201
    status, body = create(make_client(psp_refuse_expired_cards=True))
    assert (status, body["details"]) == (422, [  # type: ignore[index]
        {"message": '"cardExpirationDate" is in the past: the card has expired',
         "path": "cardExpirationDate"}])  # fmt: skip


def test_malformed_json_is_the_express_parsers_bad_request(psp: FlaskClient) -> None:
    answer = psp.post("/psp/transactions", data='{"amount" 1}', headers=MERCHANT,
                      content_type="application/json")  # fmt: skip
    assert (answer.status_code, answer.get_json()) == (400, {
        "message": "Bad request", "type": "bad_request",
        "details": {"context": "Expecting ':' delimiter: line 1 column 11 (char 10)"}})  # fmt: skip


def test_unknown_paths_and_methods_in_the_psps_shape(psp: FlaskClient) -> None:
    # Its not-found handler's and its not-allowed middleware's words, the path as the PSP
    # sees it.
    assert psp.get("/psp/refunds").get_json() == {
        "message": 'Resource "/refunds" not found', "type": "not-found", "details": []}  # fmt: skip
    answer = psp.delete("/psp/payables")
    assert (answer.status_code, answer.get_json()) == (405, {
        "message": 'Method "DELETE" is not allowed for resource "/payables"',
        "type": "method-not-allowed", "details": []})  # fmt: skip


def test_a_decline_is_402_and_makes_no_transaction(make_client: MakeClient) -> None:
    psp = make_client(clock="frozen", clock_start=SEED_TIME)
    psp.put("/simulation", json={"rules": [{"next": 1, "decline_code": "insufficient_funds"}]})
    assert create(psp) == (402, {
        "message": "Transaction declined", "type": "transaction_declined",
        "details": [{"message": "the card was declined (insufficient_funds)",
                     "code": "insufficient_funds"}]})  # fmt: skip
    psp.put("/simulation", json={"rules": [{"next": 1, "decline_code": "card_declined"}]})
    assert create(psp, amount=100)[1]["details"] == [  # type: ignore[index]
        {"message": "the card was declined (card_declined)", "code": "card_declined"}
    ]
    assert listed(psp, "transactions") == [] and listed(psp, "payables") == []


def test_the_card_number_and_cvc_never_reach_an_answer_or_the_activity_log(
    psp: FlaskClient,
) -> None:
    body = {**SEED_BODY, "card_number": "4000056655665556", "card_verification_code": "987"}
    assert create(psp, body)[0] == 201
    create(psp, body, card_expiration_date="01/19")
    psp.post("/psp/transactions", data=b'{"card_number": "4000056655665556", "x', headers=MERCHANT)
    seen = "".join(
        psp.get(path, headers=MERCHANT).get_data(as_text=True)
        for path in ("/psp/transactions", "/psp/payables", "/activity", "/payments/orders",
                     "/transactions", "/dashboard", "/callbacks")
    )  # fmt: skip
    assert "5556" in seen  # the last four digits are kept
    assert "4000056655665556" not in seen and '"987"' not in seen and "987'" not in seen
    assert '\\"card_verification_code\\":\\"****\\"' in seen  # the activity log's copy


def test_a_reset_forgets_transactions_payables_and_settlements(psp: FlaskClient) -> None:
    create(psp)
    listed(psp, "payables")
    psp.post("/reset", json={})
    assert listed(psp, "transactions") == [] and listed(psp, "payables") == []
    assert psp.get("/clock").get_json()["scheduled"] == []


def test_a_payable_made_today_is_paid_out_by_advancing_the_clock_30_days(
    make_client: MakeClient,
) -> None:
    client = make_client(clock="frozen")
    status, transaction = create(client, card_expiration_date="12/99")
    assert status == 201
    [payable] = listed(client, "payables")
    assert payable["status"] == "waiting_funds"
    client.post("/clock/advance", json={"seconds": 30 * DAY})
    assert [p["status"] for p in listed(client, "payables")] == ["paid"]
    assert listed(client, "transactions")[0]["status"] == "paid"
    assert payable["transaction_id"] == transaction["id"]


def test_the_payables_worker_ends_when_idle_and_a_new_one_starts_on_demand(
    psp: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A namespace that stopped using the PSP holds no thread for it."""
    monkeypatch.setattr(payouts, "IDLE_END", 0.02)
    worker = psp.application.extensions[EXTENSION_KEY].apis["psp"]
    assert not worker.working
    assert create(psp)[0] == 201
    assert len(listed(psp, "payables")) == 1  # a worker made it
    thread = worker._thread  # the worker's own thread: it ends once idle for IDLE_END
    assert thread is not None
    thread.join(5)
    assert not worker.working
    assert create(psp)[0] == 201
    assert len(listed(psp, "payables")) == 2
