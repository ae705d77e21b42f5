"""What a store's tests need: order records, idempotency keys, declines, latency, paging."""

from __future__ import annotations

import json
import sys
import threading
import time
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpers import ISO_MILLIS, MakeClient, Num, exact_json
from payments_server.testing import StoreStub

KEY = {"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}


def exact(response: TestResponse) -> object:
    assert response.mimetype == "application/json"
    return exact_json(response.get_data())


def balance(client: FlaskClient) -> float:
    return client.get("/balance").json["balance"]


def simulate(client: FlaskClient, **settings: object) -> None:
    response = client.put("/simulation", json=settings)
    assert response.status_code == 200, response.json


# --- order records ---------------------------------------------------------------------


def test_a_paid_order_has_a_record_with_its_transaction_and_callback(
    client: FlaskClient, store: StoreStub
) -> None:
    client.post("/payments/orders", json={"order_id": "abc123def456", "amount": 179.98})
    response = client.get("/payments/orders/abc123def456")
    assert response.status_code == 200
    body = exact(response)
    assert ISO_MILLIS.fullmatch(body.pop("paid_at"))
    (attempt,) = body.pop("attempts")
    assert ISO_MILLIS.fullmatch(attempt.pop("at"))
    assert attempt == {"amount": Num("179.98"), "outcome": "paid", "decline_code": None}
    callback = body.pop("callback")
    assert callback == {"id": store.received[0].headers["webhook-id"], "state": "delivered"}
    assert body == exact_json(
        """{"status": "success", "order_id": "abc123def456", "state": "paid", "amount": 179.98,
            "transaction": {"order_id": "abc123def456", "amount": 179.98,
                            "balance_after": 49820.02},
            "refunds": [], "amount_refunded": 0.0, "api": "gateway"}"""
    )


def test_failed_attempts_are_recorded_until_the_order_is_paid(client: FlaskClient) -> None:
    simulate(client, rules=[{"next": 1, "decline_code": "do_not_honor"}])
    client.post("/pay/order", json={"order_id": 42, "amount": 10})
    client.post("/pay/order", json={"order_id": 42, "amount": 60000})
    record = client.get("/payments/orders/42").json
    assert (record["state"], record["amount"], record["paid_at"], record["transaction"]) == (
        "failed", None, None, None,
    )  # fmt: skip
    assert record["callback"]["state"] == "delivered"
    client.post("/payments/orders", json={"order_id": "42", "amount": 10})
    client.post("/payments/orders", json={"order_id": 42, "amount": 10})  # 409: not an attempt
    record = client.get("/payments/orders/42").json
    assert record["order_id"] == 42  # as first sent
    assert record["state"] == "paid"
    assert record["amount"] == 10
    assert [(a["amount"], a["outcome"], a["decline_code"]) for a in record["attempts"]] == [
        (10, "declined", "do_not_honor"),
        (60000, "insufficient_funds", None),
        (10, "paid", None),
    ]
    assert record["paid_at"] == record["attempts"][2]["at"]


def test_an_order_id_with_a_slash_or_spaces_can_be_looked_up(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": "shop/ord 1", "amount": 1})
    assert client.get("/payments/orders/shop/ord%201").json["order_id"] == "shop/ord 1"


@pytest.mark.parametrize("order_id", ["nope", "42"])
def test_an_unknown_order_is_404(client: FlaskClient, order_id: str) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "42"})
    client.post("/payments/orders", json={"order_id": 42})  # 400: never reached the account
    response = client.get(f"/payments/orders/{order_id}")
    assert response.status_code == 404
    assert exact(response) == {
        "status": "failed",
        "message": f"No payment found for order {order_id}",
    }


def test_reset_forgets_order_records(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": "o", "amount": 1})
    client.post("/reset")
    assert client.get("/payments/orders/o").status_code == 404


# --- idempotency keys ------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/payments/orders", "/pay/order", "/pay"])
def test_a_repeated_key_replays_the_first_answer_without_acting_again(
    client: FlaskClient, store: StoreStub, route: str
) -> None:
    body = {"order_id": "o-1", "amount": 25.5, "recipient": "r"}
    first = client.post(route, json=body, headers=KEY)
    second = client.post(route, json=body, headers=KEY)
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.mimetype == "application/json"
    assert balance(client) == 49974.5
    assert len(client.get("/transactions").json["transactions"]) == 1
    assert len(store.received) == (0 if route == "/pay" else 1)


def test_the_same_json_written_differently_is_the_same_request(client: FlaskClient) -> None:
    client.post("/pay", data='{"amount": 5, "recipient": "r"}', headers=KEY)
    again = client.post("/pay", data='{ "recipient":"r",\n "amount":5 }', headers=KEY)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance(client) == 49995.0


def test_error_answers_are_replayed_too(client: FlaskClient, store: StoreStub) -> None:
    body = {"order_id": "big", "amount": 60000}
    first = client.post("/payments/orders", json=body, headers=KEY)
    second = client.post("/payments/orders", json=body, headers=KEY)
    assert first.status_code == second.status_code == 402
    assert second.get_data() == first.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(store.received) == 1  # one "failed" callback


def test_an_already_paid_answer_is_replayed(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": "o", "amount": 1})
    first = client.post("/payments/orders", json={"order_id": "o", "amount": 1}, headers=KEY)
    second = client.post("/payments/orders", json={"order_id": "o", "amount": 1}, headers=KEY)
    assert first.status_code == second.status_code == 409
    assert second.headers["Idempotent-Replayed"] == "true"


def test_a_validation_failure_is_not_kept_so_the_fixed_request_runs(client: FlaskClient) -> None:
    bad = client.post("/payments/orders", json={"order_id": "o"}, headers=KEY)
    assert bad.status_code == 400
    fixed = client.post("/payments/orders", json={"order_id": "o", "amount": 3}, headers=KEY)
    assert fixed.status_code == 200
    assert "Idempotent-Replayed" not in fixed.headers
    assert balance(client) == 49997.0


@pytest.mark.parametrize(
    ("route", "body"),
    [("/payments/orders", {"order_id": "o", "amount": 2}),
     ("/payments/orders", {"order_id": "other", "amount": 1}),
     ("/pay/order", {"order_id": "o", "amount": 1}),
     ("/pay", {"amount": 1, "recipient": "o"})],
)  # fmt: skip
def test_a_key_reused_with_a_different_request_is_422(
    client: FlaskClient, route: str, body: dict
) -> None:
    client.post("/payments/orders", json={"order_id": "o", "amount": 1}, headers=KEY)
    response = client.post(route, json=body, headers=KEY)
    assert response.status_code == 422
    assert exact(response) == {
        "status": "failed",
        "message": "Idempotency-Key reused with a different request",
    }
    assert balance(client) == 49999.0


@pytest.mark.parametrize("header", ["", "two words", "k" * 256, '"open'])
def test_a_bad_key_is_400_and_changes_nothing(
    client: FlaskClient, store: StoreStub, header: str
) -> None:
    response = client.post(
        "/payments/orders", json={"order_id": "o", "amount": 1}, headers={"Idempotency-Key": header}
    )
    assert response.status_code == 400
    assert exact(response) == {
        "status": "failed",
        "message": "Idempotency-Key must be a token or a quoted string of 1 to 255 characters",
    }
    assert balance(client) == 50000.0
    assert store.received == []


def test_a_key_in_use_by_a_running_request_is_409(client: FlaskClient, store: StoreStub) -> None:
    store.hold()  # the first request waits on its callback, holding the key
    answers: list[TestResponse] = []
    body = {"order_id": "o", "amount": 1}
    first = threading.Thread(
        target=lambda: answers.append(client.post("/payments/orders", json=body, headers=KEY))
    )
    first.start()
    try:
        store.wait_for(1)
        second = client.post("/payments/orders", json=body, headers=KEY)
    finally:
        store.release()
        first.join()
    assert second.status_code == 409
    assert exact(second) == {
        "status": "failed",
        "message": "A request with this Idempotency-Key is in progress",
    }
    assert answers[0].status_code == 200
    third = client.post("/payments/orders", json=body, headers=KEY)
    assert third.headers["Idempotent-Replayed"] == "true"
    assert third.get_data() == answers[0].get_data()


def test_a_concurrent_double_submit_debits_and_calls_back_once(
    client: FlaskClient, store: StoreStub
) -> None:
    barrier = threading.Barrier(8)
    answers: list[TestResponse] = []
    lock = threading.Lock()

    def submit() -> None:
        local = client.application.test_client()
        barrier.wait()
        response = local.post("/pay/order", json={"order_id": "dbl", "amount": 7}, headers=KEY)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    originals = [
        a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a.headers
    ]
    replays = [a for a in answers if a.headers.get("Idempotent-Replayed") == "true"]
    in_progress = [a for a in answers if a.status_code == 409]
    assert len(originals) == 1
    assert len(replays) + len(in_progress) == 7
    assert all(r.get_data() == originals[0].get_data() for r in replays)
    assert balance(client) == 49993.0
    assert len(store.received) == 1


def test_reset_forgets_keys(client: FlaskClient) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "r"}, headers=KEY)
    client.post("/reset")
    again = client.post("/pay", json={"amount": 1, "recipient": "r"}, headers=KEY)
    assert "Idempotent-Replayed" not in again.headers
    assert balance(client) == 49999.0


def test_requests_without_a_key_are_never_replayed(client: FlaskClient) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "r"})
    again = client.post("/pay", json={"amount": 1, "recipient": "r"})
    assert "Idempotent-Replayed" not in again.headers
    assert balance(client) == 49998.0


# --- reset to a balance ----------------------------------------------------------------


def test_reset_to_a_given_balance_keeps_the_answer_shape(client: FlaskClient) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "r"})
    response = client.post("/reset", data='{"balance": 100.00}')
    assert exact(response) == exact_json(
        '{"status": "success", "message": "Account reset to balance 100.00", "balance": 100.0}'
    )
    assert client.get("/transactions").json["transactions"] == []
    assert client.post("/pay", json={"amount": 150, "recipient": "r"}).status_code == 402
    # A reset without a body goes back to the configured balance.
    assert exact(client.post("/reset"))["balance"] == Num("50000.0")


def test_reset_to_zero_is_allowed(client: FlaskClient) -> None:
    assert exact(client.post("/reset", json={"balance": 0}))["balance"] == Num("0.0")
    assert client.post("/pay", json={"amount": 0.01, "recipient": "r"}).status_code == 402


@pytest.mark.parametrize(
    ("data", "message"),
    [('{"balance": -1}', "Balance must be zero or a positive number"),
     ('{"balance": "100"}', "Balance must be zero or a positive number"),
     ('{"balance": 1.005}', "Balance must have at most 2 decimal places"),
     ('{"balance": 1e13}', "Balance must be at most 1000000000000"),
     ("anything", "Request body must be JSON"),
     ("[100]", "Request body must be a JSON object")],
)  # fmt: skip
def test_a_bad_reset_body_is_400_and_resets_nothing(
    client: FlaskClient, data: str, message: str
) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "r"})
    response = client.post("/reset", data=data)
    assert response.status_code == 400
    assert exact(response) == {"status": "failed", "message": message}
    assert balance(client) == 49999.0
    assert len(client.get("/transactions").json["transactions"]) == 1


# --- simulation ------------------------------------------------------------------------


def test_the_simulation_is_off_by_default(client: FlaskClient) -> None:
    assert exact(client.get("/simulation")) == exact_json(
        """{"status": "success", "simulation": {"decline_rate": 0.0, "seed": null,
            "decline_code": "card_declined", "latency_ms": 0, "rules": [],
            "limit_per_payment": null, "limit_per_day": null, "callback_faults": [],
            "pending_rate": 0.0}}"""
    )


def test_put_replaces_the_settings_and_shows_them(client: FlaskClient) -> None:
    response = client.put(
        "/simulation",
        json={"decline_rate": 0.5, "seed": 7, "rules": [{"next": 2, "decline_code": "lost_card"}]},
    )
    assert response.status_code == 200
    assert response.json["simulation"] == {
        "decline_rate": 0.5, "seed": 7, "decline_code": "card_declined", "latency_ms": 0,
        "rules": [{"next": 2, "decline_code": "lost_card"}],
        "limit_per_payment": None, "limit_per_day": None, "callback_faults": [],
        "pending_rate": 0.0,
    }  # fmt: skip
    assert client.get("/simulation").json == response.json
    assert client.put("/simulation", json={}).json["simulation"]["rules"] == []
    assert client.get("/simulation").json["simulation"]["decline_rate"] == 0.0


@pytest.mark.parametrize(
    ("data", "message"),
    [('{"decline_rate": 2}', "'decline_rate' must be a number from 0 to 1"),
     ('{"rules": [{"next": 1, "decline_code": "nope"}]}',
      "'rules[0].decline_code' must be one of do_not_honor, insufficient_funds, card_declined,"
      " expired_card, processing_error, lost_card, stolen_card, order_not_found,"
      " order_validation_failed, reservation_validation_failed, unauthorized, internal_error"),
     ("", "Request body must be JSON"),
     ("[]", "Request body must be a JSON object")],
)  # fmt: skip
def test_invalid_simulation_settings_are_400_and_change_nothing(
    client: FlaskClient, data: str, message: str
) -> None:
    simulate(client, latency_ms=5)
    response = client.put("/simulation", data=data)
    assert response.status_code == 400
    assert exact(response) == {"status": "failed", "message": message}
    assert client.get("/simulation").json["simulation"]["latency_ms"] == 5


@pytest.mark.parametrize("route", ["/payments/orders", "/pay/order"])
def test_a_declined_order_is_402_with_its_code_a_failed_callback_and_no_debit(
    client: FlaskClient, store: StoreStub, route: str
) -> None:
    simulate(client, rules=[{"order_id": "ord_9", "decline_code": "expired_card"}])
    response = client.post(route, json={"order_id": "ord_9", "amount": 12.5})
    assert response.status_code == 402
    assert exact(response) == {
        "status": "failed",
        "message": "Payment declined",
        "decline_code": "expired_card",
    }
    assert balance(client) == 50000.0
    assert client.get("/transactions").json["transactions"] == []
    assert [c.json for c in store.wait_for(1)] == [{"order_id": "ord_9", "status": "failed"}]


def test_a_declined_generic_payment_sends_no_callback(
    client: FlaskClient, store: StoreStub
) -> None:
    simulate(client, rules=[{"next": 1, "decline_code": "stolen_card"}])
    response = client.post("/pay", json={"amount": 5, "recipient": "r"})
    assert (response.status_code, response.json["decline_code"]) == (402, "stolen_card")
    assert client.post("/pay", json={"amount": 5, "recipient": "r"}).status_code == 200
    assert store.received == []
    assert balance(client) == 49995.0


def test_a_seeded_decline_rate_gives_the_same_outcomes_on_each_run(
    make_client: MakeClient,
) -> None:
    runs = []
    for _ in range(2):
        client = make_client(decline_rate=0.5, decline_seed=11)
        runs.append(
            [
                client.post("/pay", json={"amount": 1, "recipient": "r"}).status_code
                for _ in range(40)
            ]
        )
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 402}


def test_reset_leaves_the_simulation_alone(client: FlaskClient) -> None:
    simulate(client, rules=[{"order_id": "x", "decline_code": "card_declined"}])
    client.post("/reset")
    assert client.get("/simulation").json["simulation"]["rules"] == [
        {"order_id": "x", "decline_code": "card_declined"}
    ]


def test_latency_delays_payments_but_not_the_balance(client: FlaskClient) -> None:
    simulate(client, latency_ms=300)
    started = time.monotonic()
    assert client.post("/pay", json={"amount": 1, "recipient": "r"}).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get("/balance")
    assert time.monotonic() - started < 0.3


def test_settings_from_the_command_line_show_in_the_simulation(make_client: MakeClient) -> None:
    client = make_client(decline_rate=0.25, decline_seed=3, latency_ms=10,
                         limit_per_payment=Decimal("500"), limit_per_day=Decimal("1000.50"))  # fmt: skip
    assert exact(client.get("/simulation"))["simulation"] == exact_json(
        """{"decline_rate": 0.25, "seed": 3, "decline_code": "card_declined", "latency_ms": 10,
            "rules": [], "limit_per_payment": 500, "limit_per_day": 1000.50,
            "callback_faults": [], "pending_rate": 0.0}"""
    )


# --- paged transactions ----------------------------------------------------------------


def test_transactions_without_parameters_are_the_legacy_answer(client: FlaskClient) -> None:
    client.post("/pay", json={"amount": 100, "recipient": "https://example-shop.com"})
    assert exact(client.get("/transactions")) == exact_json(
        """{"status": "success", "account_id": "ACC-001", "transactions": [
            {"recipient": "https://example-shop.com", "amount": 100, "balance_after": 49900.0}]}"""
    )


def test_limit_and_offset_page_through_the_history(client: FlaskClient) -> None:
    for amount in range(1, 8):
        client.post("/pay", json={"amount": amount, "recipient": "r"})
    page = client.get("/transactions?limit=3&offset=2").json
    assert [t["amount"] for t in page["transactions"]] == [3, 4, 5]
    assert (page["total"], page["limit"], page["offset"]) == (7, 3, 2)
    assert page["account_id"] == "ACC-001"
    assert [t["amount"] for t in client.get("/transactions?offset=5").json["transactions"]] == [
        6,
        7,
    ]
    assert client.get("/transactions?limit=2").json["transactions"][0]["amount"] == 1
    assert client.get("/transactions?offset=99").json["transactions"] == []
    assert client.get("/transactions?offset=99").json["total"] == 7


@pytest.mark.parametrize(
    ("query", "message"),
    [("limit=0", "'limit' must be a whole number from 1 to 1000, got '0'"),
     ("limit=1001", "'limit' must be a whole number from 1 to 1000, got '1001'"),
     ("limit=ten", "'limit' must be a whole number from 1 to 1000, got 'ten'"),
     ("offset=-1", "'offset' must be a whole number of at least 0, got '-1'"),
     ("offset=", "'offset' must be a whole number of at least 0, got ''")],
)  # fmt: skip
def test_bad_paging_parameters_are_400(client: FlaskClient, query: str, message: str) -> None:
    response = client.get("/transactions?" + query)
    assert response.status_code == 400
    assert exact(response) == {"status": "failed", "message": message}


def test_a_thousand_rules_with_the_longest_escaped_ids_fit_but_a_bigger_body_is_413(
    client: FlaskClient,
) -> None:
    # Each of 255 astral characters is 12 bytes once JSON-escaped: about 3 MB in all.
    rules = [{"order_id": f"{n:03}" + "\U0001f600" * 252, "decline_code": "lost_card"}
             for n in range(1000)]  # fmt: skip
    body = json.dumps({"rules": rules})
    assert len(body) > 3_000_000
    response = client.put("/simulation", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["simulation"]["rules"]) == 1000
    too_big = json.dumps({"rules": rules, "seed": 1, "pad": "x" * 4 * 1024 * 1024})
    response = client.put("/simulation", data=too_big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"status": "failed", "message": "Request body too large"}
    assert len(client.get("/simulation").get_json()["simulation"]["rules"]) == 1000
    # Payments keep their 64 KiB limit.
    payment = json.dumps({"amount": 1, "recipient": "x" * 70_000})
    assert client.post("/pay", data=payment, content_type="application/json").status_code == 413


def test_a_position_past_any_history_is_an_empty_page_however_long(client: FlaskClient) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "r"})
    huge = "1" * 5000  # more than int() takes: this once answered 500
    page = client.get(f"/transactions?offset={huge}").get_json()
    assert (page["transactions"], page["total"], page["offset"]) == ([], 1, sys.maxsize)
    after = client.get(f"/activity?since={huge}").get_json()
    assert after["activity"] == []
