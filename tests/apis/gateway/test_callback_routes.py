"""The callback log over HTTP: GET /callbacks, GET /callbacks/<id>, POST /callbacks/<id>/retry."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from standardwebhooks import Webhook, WebhookVerificationError

from helpers import ISO_MILLIS, MakeClient, Num, exact_json
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET
from payments_server.testing import StoreStub


def get_json(client: FlaskClient, path: str, status: int = 200) -> dict:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def pay_order(client: FlaskClient, order_id: object, amount: object = 10) -> dict:
    return client.post("/payments/orders", json={"order_id": order_id, "amount": amount}).json


def wait_for_state(client: FlaskClient, delivery_id: str, state: str) -> dict:
    """The callback once it is in `state`: the gateway's own long poll answers when it is."""
    order_id = get_json(client, f"/callbacks/{delivery_id}")["callback"]["order_id"]
    found = get_json(client, f"/callbacks?order_id={order_id}&state={state}&wait=5")
    (record,) = [c for c in found["callbacks"] if c["id"] == delivery_id]
    return record  # type: ignore[no-any-return]


def test_an_order_payment_is_logged_with_its_attempt(client: FlaskClient, store: StoreStub) -> None:
    assert pay_order(client, "abc123def456", 179.98)["shop_notified"] is True
    body = get_json(client, "/callbacks")
    assert body["status"] == "success"
    (record,) = body["callbacks"]
    assert record.keys() == {
        "id", "order_id", "payment_status", "state", "attempts", "next_attempt_at", "created_at",
    }  # fmt: skip
    assert re.fullmatch(r"msg_[0-9a-f]{24}", record["id"])
    assert (record["order_id"], record["payment_status"], record["state"]) == (
        "abc123def456",
        "success",
        "delivered",
    )
    assert record["next_attempt_at"] is None
    assert ISO_MILLIS.fullmatch(record["created_at"])
    (attempt,) = record["attempts"]
    assert attempt.keys() == {"at", "status_code", "error", "duration_ms", "response"}
    assert (attempt["status_code"], attempt["error"]) == (200, None)
    assert ISO_MILLIS.fullmatch(attempt["at"])
    assert store.received[0].headers["webhook-id"] == record["id"]


def test_every_callback_verifies_with_the_configured_secret(
    make_client: MakeClient, store: StoreStub
) -> None:
    secret = "whsec_" + "QUJD" * 11  # base64 of 33 bytes
    client = make_client(webhook_secret=secret)
    pay_order(client, 1)
    client.post("/payments/orders", json={"order_id": 2, "amount": 10**9})  # refused: 402
    received = store.wait_for(2)
    assert [Webhook(secret).verify(c.body, dict(c.headers)) for c in received] == [
        {"order_id": 1, "status": "success"},
        {"order_id": 2, "status": "failed"},
    ]
    # Signed with the configured secret, not the development one.
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(DEV_WEBHOOK_SECRET).verify(received[0].body, dict(received[0].headers))


def test_a_refused_order_payment_logs_a_failed_payment_callback(client: FlaskClient) -> None:
    response = client.post("/pay/order", json={"order_id": 77, "amount": 60000})
    assert response.status_code == 402
    (record,) = get_json(client, "/callbacks")["callbacks"]
    assert (record["order_id"], record["payment_status"], record["state"]) == (
        77,
        "failed",
        "delivered",
    )


def test_pay_and_refused_requests_send_no_callback(client: FlaskClient, store: StoreStub) -> None:
    client.post("/pay", json={"amount": 5, "recipient": "x"})
    client.post("/payments/orders", json={"order_id": "o"})  # 400: no amount
    pay_order(client, "o")
    pay_order(client, "o")  # 409: already paid
    assert len(get_json(client, "/callbacks")["callbacks"]) == 1
    assert len(store.received) == 1


def test_a_failed_first_attempt_is_pending_with_its_next_attempt(
    client: FlaskClient, store: StoreStub
) -> None:
    store.respond_with(500)
    assert pay_order(client, "o")["shop_notified"] is False
    (record,) = get_json(client, "/callbacks")["callbacks"]
    assert record["state"] == "pending"
    assert ISO_MILLIS.fullmatch(record["next_attempt_at"])
    assert [(a["status_code"], a["error"]) for a in record["attempts"]] == [
        (500, "store answered 500")
    ]


def test_a_store_that_recovers_gets_the_event_again_and_the_log_says_delivered(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(callback_schedule=(0.05, 0.05))
    store.respond_with(200, then=[503, 500])
    assert pay_order(client, "o")["shop_notified"] is False
    delivery_id = get_json(client, "/callbacks")["callbacks"][0]["id"]
    record = wait_for_state(client, delivery_id, "delivered")
    assert [a["status_code"] for a in record["attempts"]] == [503, 500, 200]
    assert [c.headers["webhook-id"] for c in store.received] == [delivery_id] * 3


def test_with_zero_retries_a_failed_callback_is_failed_at_once(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(callback_retries=0)
    store.respond_with(503)
    pay_order(client, "o")
    (record,) = get_json(client, "/callbacks")["callbacks"]
    assert (record["state"], record["next_attempt_at"], len(record["attempts"])) == (
        "failed",
        None,
        1,
    )


def test_the_list_is_newest_first_and_filters_by_order_id_and_state(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(callback_retries=0)
    store.respond_with(500)
    client.post("/payments/orders", json={"order_id": "7", "amount": 10**9})  # 402
    pay_order(client, "8")
    store.respond_with(200)
    pay_order(client, 7)

    def listed(query: str) -> list[tuple[object, str, str]]:
        records = get_json(client, "/callbacks" + query)["callbacks"]
        return [(r["order_id"], r["payment_status"], r["state"]) for r in records]

    assert listed("") == [
        (7, "success", "delivered"),
        ("8", "success", "failed"),
        ("7", "failed", "failed"),
    ]
    assert listed("?order_id=7") == [(7, "success", "delivered"), ("7", "failed", "failed")]
    assert listed("?state=failed") == [("8", "success", "failed"), ("7", "failed", "failed")]
    assert listed("?order_id=7&state=delivered") == [(7, "success", "delivered")]
    assert listed("?state=pending") == []
    assert listed("?order_id=nope") == []


@pytest.mark.parametrize("state", ["bogus", "", "PENDING"])
def test_an_unknown_state_filter_is_400(client: FlaskClient, state: str) -> None:
    assert get_json(client, f"/callbacks?state={state}", 400) == {
        "status": "failed",
        "message": f"'state' must be one of pending, delivered, failed, got {state!r}",
    }


def test_one_callback_by_its_id_shows_the_exact_request_each_attempt_sent(
    client: FlaskClient, store: StoreStub
) -> None:
    pay_order(client, "o")
    (record,) = get_json(client, "/callbacks")["callbacks"]
    shown = get_json(client, f"/callbacks/{record['id']}")["callback"]
    (received,) = store.received
    (attempt,) = shown.pop("attempts")
    assert shown == {key: value for key, value in record.items() if key != "attempts"}
    sent = attempt.pop("request")
    assert attempt == record["attempts"][0]
    assert (sent["method"], sent["url"], sent["body"]) == (
        "POST",
        store.url,
        received.body.decode(),
    )
    # Every header the store received, with the same values, signature included.
    assert sent["headers"] == {name: received.headers[name] for name in sent["headers"]}
    assert [name.lower() for name in sent["headers"]] == [
        "host", "user-agent", "content-type", "webhook-id", "webhook-timestamp",
        "webhook-signature", "content-length",
    ]  # fmt: skip
    assert sent["curl"] == (
        f"curl -sS -X POST {store.url} -H 'User-Agent: {received.headers['User-Agent']}'"
        " -H 'Content-Type: application/json'"
        f" -H 'webhook-id: {record['id']}'"
        f" -H 'webhook-timestamp: {received.headers['webhook-timestamp']}'"
        f" -H 'webhook-signature: {received.headers['webhook-signature']}'"
        """ --data-binary '{"order_id":"o","status":"success"}'"""
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/callbacks/msg_nope"), ("POST", "/callbacks/msg_nope/retry")],
)
def test_an_unknown_id_is_404_json(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 404
    assert exact_json(response.get_data()) == {
        "status": "failed",
        "message": "No callback with id 'msg_nope'",
    }


def test_retry_sends_the_same_event_now_and_reports_the_attempt(
    client: FlaskClient, store: StoreStub
) -> None:
    pay_order(client, 5)
    delivery_id = get_json(client, "/callbacks")["callbacks"][0]["id"]
    response = client.post(f"/callbacks/{delivery_id}/retry")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "success"
    assert body["message"] == f"Callback {delivery_id} delivered: store answered 200"
    assert body["delivered"] is True
    assert (body["attempt"]["status_code"], body["attempt"]["error"]) == (200, None)
    assert body["callback"]["attempts"][-1] == body["attempt"]
    assert len(body["callback"]["attempts"]) == 2
    first, second = store.received
    assert first.body == second.body == b'{"order_id":5,"status":"success"}'
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery_id


def test_a_retry_the_store_refuses_says_so(make_client: MakeClient, store: StoreStub) -> None:
    client = make_client(callback_retries=0)
    store.respond_with(503)
    pay_order(client, 5)
    delivery_id = get_json(client, "/callbacks")["callbacks"][0]["id"]
    body = client.post(f"/callbacks/{delivery_id}/retry").json
    assert body["message"] == f"Callback {delivery_id} not delivered: store answered 503"
    assert body["delivered"] is False
    assert body["callback"]["state"] == "failed"
    store.respond_with(200)
    body = client.post(f"/callbacks/{delivery_id}/retry").json
    assert (body["delivered"], body["callback"]["state"]) == (True, "delivered")


def test_retry_is_post_only(client: FlaskClient) -> None:
    pay_order(client, 5)
    delivery_id = get_json(client, "/callbacks")["callbacks"][0]["id"]
    response = client.get(f"/callbacks/{delivery_id}/retry")
    assert response.status_code == 405
    assert "GET" not in response.headers["Allow"]
    assert "POST" in response.headers["Allow"]


def test_reset_cancels_retries_and_clears_the_log(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(callback_schedule=(0.2,), clock="frozen")
    store.respond_with(500)
    pay_order(client, "o")
    assert [job["kind"] for job in get_json(client, "/clock")["scheduled"]] == ["callback"]
    assert exact_json(client.post("/reset").get_data()) == {
        "status": "success",
        "message": "Account reset to default balance",
        "balance": Num("50000.0"),
    }
    assert get_json(client, "/callbacks")["callbacks"] == []
    assert client.post("/clock/advance", json={"seconds": 60}).get_json()["ran"] == []
    assert len(store.received) == 1


def test_the_log_keeps_the_configured_number_of_finished_callbacks(
    make_client: MakeClient,
) -> None:
    client = make_client(callback_log_size=2)
    for order_id in range(4):
        pay_order(client, order_id)
    assert [r["order_id"] for r in get_json(client, "/callbacks")["callbacks"]] == [3, 2]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/callbacks?orderid=7",
            "'orderid' is not a query parameter of GET /callbacks; use limit, offset, order_id, state, wait",
        ),
        (
            "/callbacks?state=failed&page=2",
            "'page' is not a query parameter of GET /callbacks; use limit, offset, order_id, state, wait",
        ),
        ("/balance?verbose=1", "'verbose' is not a query parameter of GET /balance; it takes none"),
        (
            "/transactions?limit=5&sort=desc",
            "'sort' is not a query parameter of GET /transactions; use limit, offset",
        ),
        (
            "/callbacks/msg_1?x=1",
            "'x' is not a query parameter of GET /callbacks/{delivery_id}; it takes none",
        ),
        (
            "/payments/orders/7?full=1",
            "'full' is not a query parameter of GET /payments/orders/{order_id}; it takes none",
        ),
    ],
)
def test_a_query_parameter_the_document_does_not_list_is_400(
    client: FlaskClient, path: str, message: str
) -> None:
    # A misspelt filter would otherwise list everything, silently.
    assert get_json(client, path, 400) == {"status": "failed", "message": message}


def test_a_refused_query_parameter_changes_nothing(client: FlaskClient) -> None:
    response = client.post("/pay?dry_run=1", json={"amount": 5, "recipient": "Bob"})
    assert response.status_code == 400
    assert get_json(client, "/balance")["balance"] == 50000.0


def test_the_callback_log_pages_and_counts_every_state(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client(callback_retries=0)
    for n in range(3):
        client.post("/payments/orders", json={"order_id": f"p{n}", "amount": 1})
    store.respond_with(500)
    client.post("/payments/orders", json={"order_id": "f", "amount": 1})
    page = client.get("/callbacks?limit=2").get_json()
    assert [c["order_id"] for c in page["callbacks"]] == ["f", "p2"]
    assert (page["total"], page["counts"]) == (4, {"pending": 0, "delivered": 3, "failed": 1})
    failed = client.get("/callbacks?state=failed").get_json()
    assert (len(failed["callbacks"]), failed["total"]) == (1, 1)
    assert failed["counts"] == page["counts"]
    for limit in ("0", "1001", "ten"):
        answer = client.get(f"/callbacks?limit={limit}")
        assert (answer.status_code, answer.get_json()["message"]) == (
            400,
            f"'limit' must be a whole number from 1 to 1000, got {limit!r}",
        )
