"""The HTTP contract, through Flask's test client, with callbacks going to a real store stub."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from helpers import Num, exact_json
from payments_server import MAX_BODY_BYTES, Settings, create_app
from payments_server.apis.web import EXTENSION_KEY
from payments_server.testing import StoreStub

ORDER_ROUTES = ["/payments/orders", "/pay/order"]


def body_of(response: TestResponse) -> object:
    assert response.mimetype == "application/json"
    return exact_json(response.get_data())


def state(client: FlaskClient) -> tuple[object, object]:
    """What a store could see of the account: balance and transactions, exactly."""
    return body_of(client.get("/balance")), body_of(client.get("/transactions"))


def test_the_seed_walk_through_gives_the_seed_bodies(client: FlaskClient, store: StoreStub) -> None:
    response = client.get("/balance")
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        '{"status": "success", "account_id": "ACC-001", "holder": "John Doe", "balance": 50000.0}'
    )

    response = client.post(
        "/payments/orders",
        data='{"order_id": "abc123def456", "amount": 179.98}',
        content_type="application/json",
    )
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        """{"status": "success",
            "message": "Payment of 179.98 for order abc123def456 completed",
            "balance": 49820.02,
            "transaction": {"order_id": "abc123def456", "amount": 179.98, "balance_after": 49820.02},
            "shop_notified": true}"""
    )
    assert [c.json for c in store.received] == [{"order_id": "abc123def456", "status": "success"}]

    response = client.post("/pay", json={"amount": 100, "recipient": "https://example-shop.com"})
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        """{"status": "success",
            "message": "Payment of 100 to https://example-shop.com completed",
            "balance": 49720.02,
            "transaction": {"recipient": "https://example-shop.com", "amount": 100,
                            "balance_after": 49720.02}}"""
    )

    response = client.get("/transactions")
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        """{"status": "success", "account_id": "ACC-001", "transactions": [
            {"order_id": "abc123def456", "amount": 179.98, "balance_after": 49820.02},
            {"recipient": "https://example-shop.com", "amount": 100, "balance_after": 49720.02}]}"""
    )

    response = client.post("/reset")
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        '{"status": "success", "message": "Account reset to default balance", "balance": 50000.0}'
    )
    assert state(client) == (
        exact_json(
            '{"status":"success","account_id":"ACC-001","holder":"John Doe","balance":50000.0}'
        ),
        exact_json('{"status":"success","account_id":"ACC-001","transactions":[]}'),
    )
    assert len(store.received) == 1  # /pay and /reset never call the store


@pytest.mark.parametrize("route", ORDER_ROUTES)
def test_insufficient_funds_on_an_order_is_402_and_tells_the_store(
    client: FlaskClient, store: StoreStub, route: str
) -> None:
    client.post(route, data='{"order_id": "abc123def456", "amount": 179.98}')
    before = state(client)
    response = client.post(route, data='{"order_id": "big-1", "amount": 51000}')
    assert response.status_code == 402
    assert body_of(response) == exact_json(
        '{"status": "failed", "message": "Insufficient funds", "balance": 49820.02, "requested": 51000}'
    )
    assert state(client) == before
    assert [c.json for c in store.received] == [
        {"order_id": "abc123def456", "status": "success"},
        {"order_id": "big-1", "status": "failed"},
    ]


def test_insufficient_funds_on_pay_is_402_and_sends_nothing(
    client: FlaskClient, store: StoreStub
) -> None:
    response = client.post("/pay", data='{"amount": 50000.01, "recipient": "shop"}')
    assert response.status_code == 402
    assert body_of(response) == exact_json(
        '{"status": "failed", "message": "Insufficient funds", "balance": 50000.0, "requested": 50000.01}'
    )
    assert store.received == []


@pytest.mark.parametrize("route", ORDER_ROUTES)
def test_both_order_routes_behave_the_same(client: FlaskClient, route: str) -> None:
    response = client.post(route, data='{"order_id": 7, "amount": 12.5}')
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        """{"status": "success", "message": "Payment of 12.5 for order 7 completed",
            "balance": 49987.5,
            "transaction": {"order_id": 7, "amount": 12.5, "balance_after": 49987.5},
            "shop_notified": true}"""
    )


def test_amounts_are_echoed_as_sent(client: FlaskClient) -> None:
    response = client.post("/pay", data='{"amount": 12.50, "recipient": "shop"}')
    assert body_of(response)["message"] == "Payment of 12.50 to shop completed"
    assert body_of(response)["transaction"]["amount"] == Num("12.50")
    assert body_of(response)["balance"] == Num("49987.5")


def test_the_callback_keeps_the_order_id_type_and_has_exactly_two_keys(
    client: FlaskClient, store: StoreStub
) -> None:
    client.post("/payments/orders", data='{"order_id": 1001, "amount": 1}')
    client.post("/pay/order", data='{"order_id": "1002", "amount": 1}')
    received = store.received
    assert [exact_json(c.body) for c in received] == [
        {"order_id": Num("1001"), "status": "success"},
        {"order_id": "1002", "status": "success"},
    ]
    for callback in received:
        assert (callback.method, callback.path) == ("POST", "/payments/confirm")
        assert callback.headers["Content-Type"] == "application/json"


def test_three_dimes_and_a_thousand_cents_are_exact(client: FlaskClient) -> None:
    for _ in range(3):
        client.post("/pay", data='{"amount": 0.1, "recipient": "shop"}')
    assert body_of(client.get("/balance"))["balance"] == Num("49999.7")
    client.post("/reset")
    for _ in range(1000):
        assert client.post("/pay", data='{"amount": 0.01, "recipient": "s"}').status_code == 200
    assert body_of(client.get("/balance"))["balance"] == Num("49990.0")
    assert len(body_of(client.get("/transactions"))["transactions"]) == 1000


# --- bad input: a clear JSON error, nothing changed, no callback ---------------------------

NOT_POSITIVE = "Amount must be a positive number"
ORDER_BOTH = "Both 'order_id' and 'amount' fields are required"
PAY_BOTH = "Both 'amount' and 'recipient' fields are required"
ORDER_ID_RULE = (
    "'order_id' must be a string of 1 to 255 characters or an integer of at most 255 digits"
)
RECIPIENT_RULE = "'recipient' must be a non-empty string of at most 2048 characters"

BODY_ERRORS = [
    ("", 400, "Request body must be JSON"),
    ("   \n", 400, "Request body must be JSON"),
    ("not json", 400, "Request body must be JSON"),
    ("{'order_id': 'a', 'amount': 1}", 400, "Request body must be JSON"),
    ('{"order_id": "a", "amount": 1', 400, "Request body must be JSON"),
    (b"\xff\xfe\xfa", 400, "Request body must be JSON"),
    ("[1, 2]", 400, "Request body must be a JSON object"),
    ('"text"', 400, "Request body must be a JSON object"),
    ("42", 400, "Request body must be a JSON object"),
    ("null", 400, "Request body must be a JSON object"),
    ('{"a": ' + "[" * 100_00 + "]" * 100_00 + "}", 400, "Request body is nested too deeply"),
]

AMOUNT_ERRORS = [
    ("true", NOT_POSITIVE),
    ("false", NOT_POSITIVE),
    ('"100"', NOT_POSITIVE),
    ('""', NOT_POSITIVE),
    ("[100]", NOT_POSITIVE),
    ('{"v": 1}', NOT_POSITIVE),
    ("NaN", NOT_POSITIVE),
    ("Infinity", NOT_POSITIVE),
    ("-Infinity", NOT_POSITIVE),
    ("0", NOT_POSITIVE),
    ("0.0", NOT_POSITIVE),
    ("-5", NOT_POSITIVE),
    ("-0.01", NOT_POSITIVE),
    ("0.001", "Amount must have at most 2 decimal places"),
    ("179.985", "Amount must have at most 2 decimal places"),
    ("1e-7", "Amount must have at most 2 decimal places"),
    ("1000000000000.01", "Amount must be at most 1000000000000"),
    ("1e13", "Amount must be at most 1000000000000"),
    ("9" * 5000, "Amount must be at most 1000000000000"),
]


def assert_refused(
    client: FlaskClient, store: StoreStub, route: str, data: str | bytes, status: int, message: str
) -> None:
    before = state(client)
    response = client.post(route, data=data, content_type="application/json")
    assert response.status_code == status
    assert body_of(response) == {"status": "failed", "message": message}
    assert state(client) == before
    assert store.received == []


@pytest.mark.parametrize("route", [*ORDER_ROUTES, "/pay"])
@pytest.mark.parametrize(("data", "status", "message"), BODY_ERRORS)
def test_bodies_that_are_not_a_json_object_are_refused(
    client: FlaskClient, store: StoreStub, route: str, data: str, status: int, message: str
) -> None:
    assert_refused(client, store, route, data, status, message)


@pytest.mark.parametrize("route", ORDER_ROUTES)
@pytest.mark.parametrize(("amount", "message"), AMOUNT_ERRORS)
def test_bad_order_amounts_are_refused(
    client: FlaskClient, store: StoreStub, route: str, amount: str, message: str
) -> None:
    data = f'{{"order_id": "ord-1", "amount": {amount}}}'
    assert_refused(client, store, route, data, 400, message)


@pytest.mark.parametrize(("amount", "message"), AMOUNT_ERRORS)
def test_bad_pay_amounts_are_refused(
    client: FlaskClient, store: StoreStub, amount: str, message: str
) -> None:
    data = f'{{"recipient": "shop", "amount": {amount}}}'
    assert_refused(client, store, "/pay", data, 400, message)


@pytest.mark.parametrize("route", ORDER_ROUTES)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{}", ORDER_BOTH),
        ('{"amount": 10}', ORDER_BOTH),
        ('{"order_id": "ord-1"}', ORDER_BOTH),
        ('{"order_id": null, "amount": 10}', ORDER_BOTH),
        ('{"order_id": "ord-1", "amount": null}', ORDER_BOTH),
        ('{"order_id": "", "amount": 10}', ORDER_BOTH),
        ('{"orderId": "ord-1", "amount": 10}', ORDER_BOTH),
        ('{"order_id": true, "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": 1.5, "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": ["a"], "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": {"id": 1}, "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": "' + "x" * 256 + '", "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": ' + "9" * 256 + ', "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": 1e255, "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": 1e999999999, "amount": 10}', ORDER_ID_RULE),
        ('{"order_id": NaN, "amount": 10}', ORDER_ID_RULE),
    ],
)
def test_bad_order_fields_are_refused(
    client: FlaskClient, store: StoreStub, route: str, data: str, message: str
) -> None:
    assert_refused(client, store, route, data, 400, message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{}", PAY_BOTH),
        ('{"amount": 10}', PAY_BOTH),
        ('{"recipient": "shop"}', PAY_BOTH),
        ('{"amount": 10, "recipient": null}', PAY_BOTH),
        ('{"amount": null, "recipient": "shop"}', PAY_BOTH),
        ('{"amount": 10, "recipient": ""}', PAY_BOTH),
        ('{"amount": 10, "recipient": 5}', RECIPIENT_RULE),
        ('{"amount": 10, "recipient": ["shop"]}', RECIPIENT_RULE),
        ('{"amount": 10, "recipient": "' + "x" * 2049 + '"}', RECIPIENT_RULE),
    ],
)
def test_bad_pay_fields_are_refused(
    client: FlaskClient, store: StoreStub, data: str, message: str
) -> None:
    assert_refused(client, store, "/pay", data, 400, message)


def test_an_order_id_written_as_a_whole_decimal_is_that_integer(
    client: FlaskClient, store: StoreStub
) -> None:
    # JSON Schema, and so the OpenAPI document, calls 42.0 the integer 42.
    paid = client.post("/payments/orders", data='{"order_id": 42.0, "amount": 10}')
    assert paid.status_code == 200
    assert paid.get_json()["transaction"]["order_id"] == 42
    assert store.wait_for(1)[0].body == b'{"order_id":42,"status":"success"}'
    again = client.post("/payments/orders", data='{"order_id": 4.2e1, "amount": 10}')
    assert again.status_code == 409
    assert again.get_json()["message"] == "Order 42 has already been paid"


def test_the_longest_allowed_ids_and_recipients_are_accepted(client: FlaskClient) -> None:
    order = client.post("/payments/orders", json={"order_id": "x" * 255, "amount": 1})
    assert order.status_code == 200
    order = client.post("/payments/orders", data='{"order_id": ' + "9" * 255 + ', "amount": 1}')
    assert order.status_code == 200
    pay = client.post("/pay", json={"recipient": "r" * 2048, "amount": 1})
    assert pay.status_code == 200


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_a_json_body_is_accepted_whatever_its_content_type(
    client: FlaskClient, content_type: str | None
) -> None:
    response = client.post(
        "/pay", data='{"amount": 1, "recipient": "shop"}', content_type=content_type
    )
    assert response.status_code == 200


@pytest.mark.parametrize("route", [*ORDER_ROUTES, "/pay"])
def test_a_body_over_64_kib_is_413(client: FlaskClient, store: StoreStub, route: str) -> None:
    padding = "x" * MAX_BODY_BYTES
    data = f'{{"order_id": "o", "recipient": "r", "amount": 1, "pad": "{padding}"}}'
    assert_refused(client, store, route, data, 413, "Request body too large")


def test_a_body_of_exactly_64_kib_is_read(client: FlaskClient) -> None:
    data = '{"recipient": "r", "amount": 1, "pad": ""}'
    data = data.replace('""', '"' + "x" * (MAX_BODY_BYTES - len(data)) + '"')
    assert len(data) == MAX_BODY_BYTES
    assert client.post("/pay", data=data).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/balances", 404, "Not found"),
        ("POST", "/", 405, "Method not allowed"),
        ("POST", "/payments/confirm", 404, "Not found"),
        ("GET", "/pay", 405, "Method not allowed"),
        ("DELETE", "/balance", 405, "Method not allowed"),
        ("POST", "/balance", 405, "Method not allowed"),
        ("GET", "/reset", 405, "Method not allowed"),
        ("PUT", "/payments/orders", 405, "Method not allowed"),
    ],
)
def test_unknown_paths_and_wrong_methods_answer_json(
    client: FlaskClient, method: str, path: str, status: int, message: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert body_of(response) == {"status": "failed", "message": message}


def test_405_says_which_methods_are_allowed(client: FlaskClient) -> None:
    assert "POST" in client.get("/pay").headers["Allow"]


def test_an_unexpected_error_is_a_json_500_with_the_traceback_only_in_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    def broken() -> None:
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    assert body_of(response) == {"status": "failed", "message": "Internal server error"}
    assert b"secret" not in response.get_data()
    assert "secret internals" in caplog.text
    assert "Traceback" in caplog.text


# --- orders are paid once -------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [(a, b) for a in ORDER_ROUTES for b in ORDER_ROUTES])
def test_a_paid_order_cannot_be_paid_again_on_either_route(
    client: FlaskClient, store: StoreStub, first: str, second: str
) -> None:
    assert client.post(first, json={"order_id": "ord-1", "amount": 10}).status_code == 200
    before = state(client)
    response = client.post(second, json={"order_id": "ord-1", "amount": 10})
    assert response.status_code == 409
    assert body_of(response) == {
        "status": "failed",
        "message": "Order ord-1 has already been paid",
    }
    assert state(client) == before
    assert len(store.received) == 1


def test_an_integer_order_id_and_its_string_are_the_same_order(client: FlaskClient) -> None:
    assert client.post("/pay/order", json={"order_id": 42, "amount": 1}).status_code == 200
    response = client.post("/pay/order", json={"order_id": "42", "amount": 1})
    assert response.status_code == 409
    assert body_of(response)["message"] == "Order 42 has already been paid"


def test_an_order_whose_payment_failed_can_be_paid_again(
    client: FlaskClient, store: StoreStub
) -> None:
    assert client.post("/pay/order", json={"order_id": "o", "amount": 60000}).status_code == 402
    assert client.post("/pay/order", json={"order_id": "o", "amount": 60}).status_code == 200
    assert [c.json["status"] for c in store.received] == ["failed", "success"]


def test_reset_forgets_paid_orders(client: FlaskClient) -> None:
    client.post("/payments/orders", json={"order_id": "o", "amount": 1})
    client.post("/reset")
    assert client.post("/payments/orders", json={"order_id": "o", "amount": 1}).status_code == 200


@pytest.mark.parametrize("data", ["", "  \n", "{}", '{"balance": null}', '{"other": 1}'])
def test_reset_without_a_balance_is_the_legacy_reset(client: FlaskClient, data: str) -> None:
    client.post("/pay", json={"amount": 1, "recipient": "r"})
    response = client.post("/reset", data=data)
    assert response.status_code == 200
    assert body_of(response) == exact_json(
        '{"status": "success", "message": "Account reset to default balance", "balance": 50000.0}'
    )


def test_reset_restores_the_configured_initial_balance(store: StoreStub) -> None:
    app = create_app(Settings(callback_url=store.url, initial_balance=Decimal("100.50")))
    client = app.test_client()
    assert body_of(client.get("/balance"))["balance"] == Num("100.5")
    client.post("/pay", json={"amount": 100, "recipient": "r"})
    assert body_of(client.post("/reset"))["balance"] == Num("100.5")


def test_apps_do_not_share_an_account(store: StoreStub) -> None:
    first = create_app(Settings(callback_url=store.url)).test_client()
    second = create_app(Settings(callback_url=store.url)).test_client()
    first.post("/pay", json={"amount": 1, "recipient": "r"})
    assert body_of(second.get("/balance"))["balance"] == Num("50000.0")


# --- the store is slow, down, or unhappy: the payment stands ---------------------------------


@pytest.mark.parametrize("status", [500, 404, 302, 204, 201])
def test_shop_notified_is_true_only_for_a_2xx(
    client: FlaskClient, store: StoreStub, status: int
) -> None:
    store.respond_with(status)
    response = client.post("/payments/orders", json={"order_id": "o", "amount": 1})
    assert response.status_code == 200
    assert body_of(response)["shop_notified"] is (200 <= status < 300)
    assert body_of(client.get("/balance"))["balance"] == Num("49999.0")
    assert len(store.received) == 1  # a 302 is not followed


def test_a_store_that_is_down_leaves_the_payment_done(store: StoreStub) -> None:
    url = store.url
    store.stop()
    client = create_app(Settings(callback_url=url)).test_client()
    response = client.post("/payments/orders", json={"order_id": "o", "amount": 1})
    assert response.status_code == 200
    assert body_of(response)["shop_notified"] is False
    assert body_of(client.get("/balance"))["balance"] == Num("49999.0")
    failed = client.post("/payments/orders", json={"order_id": "p", "amount": 90000})
    assert failed.status_code == 402


def test_a_store_slower_than_the_timeout_is_not_notified(store: StoreStub) -> None:
    store.respond_with(200, delay=1.0)
    client = create_app(Settings(callback_url=store.url, callback_timeout=0.2)).test_client()
    response = client.post("/payments/orders", json={"order_id": "o", "amount": 1})
    assert response.status_code == 200
    assert body_of(response)["shop_notified"] is False
    assert len(store.received) == 1


def test_a_store_holding_a_callback_blocks_neither_balance_nor_other_payments(
    app: Flask, store: StoreStub
) -> None:
    store.hold()
    results: list[TestResponse] = []
    waiting = threading.Thread(
        target=lambda: results.append(
            app.test_client().post("/payments/orders", json={"order_id": "o", "amount": 10})
        )
    )
    waiting.start()
    try:
        store.wait_for(1)  # the gateway is now waiting on the store
        client = app.test_client()
        assert body_of(client.get("/balance"))["balance"] == Num("49990.0")
        assert client.post("/pay", json={"amount": 5, "recipient": "r"}).status_code == 200
        assert body_of(client.get("/balance"))["balance"] == Num("49985.0")
        assert results == []  # still waiting for the store
    finally:
        store.release()
        waiting.join()
    assert body_of(results[0])["shop_notified"] is True


# --- concurrency through the API --------------------------------------------------------------


def test_64_concurrent_payments_of_3_on_100_leave_33_successes(store: StoreStub) -> None:
    app = create_app(Settings(callback_url=store.url, initial_balance=Decimal("100.00")))
    start = threading.Barrier(64)
    statuses: list[int] = []

    def pay(index: int) -> None:
        client = app.test_client()
        start.wait()
        if index % 2:
            response = client.post("/pay", json={"amount": 3, "recipient": f"r{index}"})
        else:
            response = client.post("/payments/orders", json={"order_id": index, "amount": 3})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=pay, args=(index,)) for index in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 33 + [402] * 31
    client = app.test_client()
    assert body_of(client.get("/balance"))["balance"] == Num("1.0")
    transactions = body_of(client.get("/transactions"))["transactions"]
    assert len(transactions) == 33
    balances = sorted(Decimal(t["balance_after"].text) for t in transactions)
    assert balances == [Decimal(1 + 3 * i) for i in range(33)]
    order_callbacks = store.wait_for(32)
    assert len(order_callbacks) == 32  # every order attempt reached the funds check


def test_the_gateway_is_registered_on_its_app(app: Flask) -> None:
    assert app.extensions[EXTENSION_KEY].ledger.account_id == "ACC-001"
