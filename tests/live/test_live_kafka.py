"""Payment events on a real Kafka-protocol broker: Tansu on a free loopback port (or the
broker KAFKA_BOOTSTRAP_SERVERS names). Skipped without Tansu, but never under CI=true."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from kafka_broker import need_kafka_client, read, running_broker, start_broker

from gateway_process import GatewayProcess, free_port

need_kafka_client()


@pytest.fixture
def broker() -> Iterator[str]:
    """host:port of a broker for this test."""
    yield from running_broker()


def pay(gateway: GatewayProcess, order_id: str, amount: object) -> int:
    body = {"order_id": order_id, "amount": amount}
    return requests.post(gateway.url + "/payments/orders", json=body, timeout=10).status_code


PSP_TRANSACTION = {"description": "x", "amount": 2500, "payment_method": "debit_card",
                   "card_number": "4111111111111111", "card_holder_name": "A",
                   "card_expiration_date": "12/99", "card_verification_code": "123"}  # fmt: skip


def test_each_decided_payment_is_an_event_keyed_by_its_order_in_cloudevents_binary_mode(
    broker: str,
) -> None:
    with GatewayProcess("--kafka-bootstrap-servers", broker) as gateway:
        assert pay(gateway, "k-1", 12.5) == 200
        assert pay(gateway, "k-2", 10**6) == 402  # more than the balance
        ticketing = {"orderId": "9c5b94b1-35ad-49bb-b118-8e8fc24abf80",
                     "customerId": "6b29fc40-ca47-1067-b31d-00dd010662da", "amount": 3,
                     "paymentMethod": "credit_card"}  # fmt: skip
        paid = requests.post(gateway.url + "/ticketing/payments", json=ticketing, timeout=10)
        assert paid.status_code == 200
        # A card load and a PSP transaction are order payments of the one flow too.
        requests.post(gateway.url + "/cardloader/cards/1/load/",
                      json={"nonce": "fake-valid-nonce", "amount": "10.00"}, timeout=10)  # fmt: skip
        load = requests.get(gateway.url + "/cardloader/cards/1/", timeout=5).json()["loads"][0]
        psp = requests.post(gateway.url + "/psp/transactions", headers={"x-customer-id": "m"},
                            json={**PSP_TRANSACTION}, timeout=10).json()  # fmt: skip
        succeeded = read(broker, "payment-succeeded", 4)
        (failed,) = read(broker, "payment-failed", 1)
        activity = requests.get(gateway.url + "/activity?kind=event", timeout=5).json()
    by_key = {m.key(): m for m in succeeded}  # type: ignore[attr-defined]
    orders = (ticketing["orderId"], load["order_id"], psp["id"])
    # The ticketing service keys its own events by the payment id ("N" format).
    payment_key = uuid.UUID(paid.json()["payment"]["id"]).hex.encode()
    assert set(by_key) == {b"k-1", payment_key, load["order_id"].encode(), psp["id"].encode()}
    assert sorted(e["summary"] for e in activity["activity"]) == sorted([
        "payment-failed for order k-2: delivered",
        *(f"payment-succeeded for order {order}: delivered" for order in orders),
        "payment-succeeded for order k-1: delivered",
    ])  # fmt: skip
    assert json.loads(by_key[psp["id"].encode()].value())["amount"] == 25.0  # type: ignore[attr-defined]
    assert b"4111111111111111" not in b"".join(m.value() for m in succeeded)  # type: ignore[attr-defined]
    first = by_key[b"k-1"]
    headers = dict(first.headers())  # type: ignore[attr-defined]
    assert (headers["ce_specversion"], headers["ce_type"], headers["ce_source"]) == (
        b"1.0", b"payments_server.payment-succeeded", b"payments_server")  # fmt: skip
    assert headers["ce_subject"] == b"k-1" and headers["content-type"] == b"application/json"
    event = json.loads(first.value())  # type: ignore[attr-defined]
    assert event == {"orderId": "k-1", "status": "succeeded", "amount": 12.5,
                     "declineCode": None, "currency": "USD",
                     "occurredAt": event["occurredAt"]}  # fmt: skip
    assert json.loads(failed.value())["declineCode"] == "insufficient_funds"  # type: ignore[attr-defined]


def test_a_broker_that_is_down_delays_events_and_never_a_payment() -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    with GatewayProcess("--kafka-bootstrap-servers", bootstrap) as gateway:
        gateway.wait_for_line(f"Kafka at {bootstrap} is not reachable")
        started = time.monotonic()
        for n in range(3):
            assert pay(gateway, f"late-{n}", 1) == 200
        assert time.monotonic() - started < 2  # the payments did not wait for the broker
        process = start_broker(port)
        try:
            events = read(bootstrap, "payment-succeeded", 3, timeout=30)
            keys = sorted(m.key() for m in events)  # type: ignore[attr-defined]
            assert keys == [b"late-0", b"late-1", b"late-2"]
            gateway.wait_for_line(f"Kafka at {bootstrap} is reachable again")
        finally:
            process.terminate()
            process.wait(10)
    warnings = [line for line in gateway.lines if "is not reachable" in line]
    assert len(warnings) == 1  # said once, not at every retry


# The ticketing platform's event contract (its contracts/kafka), restated: each topic's
# required fields, and every field it allows.
SUCCEEDED_REQUIRED = {"paymentId", "orderId", "customerId", "amount", "currency",
                      "paymentMethod", "processedAt", "status"}  # fmt: skip
SUCCEEDED_ALLOWED = SUCCEEDED_REQUIRED | {"reservationId", "transactionId"}
FAILED_REQUIRED = {"paymentId", "orderId", "customerId", "amount", "currency", "paymentMethod",
                   "failureReason", "attemptedAt", "status"}  # fmt: skip
FAILED_ALLOWED = FAILED_REQUIRED | {"reservationId", "errorCode", "errorMessage"}


def test_the_ticketing_services_events_follow_its_contract_with_the_requests_values(
    broker: str,
) -> None:
    reservation = "a1b2c3d4-0000-4000-8000-000000000001"
    base = {"customerId": "6b29fc40-ca47-1067-b31d-00dd010662da", "reservationId": reservation,
            "currency": "USD", "paymentMethod": "debit_card"}  # fmt: skip
    with GatewayProcess("--kafka-bootstrap-servers", broker) as gateway:
        url = gateway.url + "/ticketing/payments"
        paid = requests.post(url, json={**base, "orderId": "11111111-0000-4000-8000-000000000001",
                                        "amount": 40}, timeout=10).json()["payment"]  # fmt: skip
        failed = requests.post(url, json={**base, "orderId": "11111111-0000-4000-8000-000000000002",
                                          "amount": 40.13}, timeout=10).json()["payment"]  # fmt: skip
        (succeeded_event,) = read(broker, "payment-succeeded", 1)
        (failed_event,) = read(broker, "payment-failed", 1)
    good = json.loads(succeeded_event.value())  # type: ignore[attr-defined]
    assert SUCCEEDED_REQUIRED <= set(good) <= SUCCEEDED_ALLOWED
    assert good["reservationId"] == reservation  # what Inventory and Catalog read
    assert (good["paymentId"], good["orderId"], good["status"]) == (
        paid["id"], paid["orderId"], "succeeded")  # fmt: skip
    assert (good["amount"], good["paymentMethod"], good["currency"]) == (40, "debit_card", "USD")
    assert good["transactionId"].startswith("txn_")
    assert succeeded_event.key() == uuid.UUID(paid["id"]).hex.encode()  # type: ignore[attr-defined]
    bad = json.loads(failed_event.value())  # type: ignore[attr-defined]
    assert FAILED_REQUIRED <= set(bad) <= FAILED_ALLOWED
    assert (bad["paymentId"], bad["reservationId"], bad["status"]) == (
        failed["id"], reservation, "failed")  # fmt: skip
    assert (bad["errorCode"], bad["errorMessage"], bad["failureReason"]) == (
        "CARD_DECLINED", "Your card was declined", "card_declined")  # fmt: skip


def test_an_event_of_a_namespace_says_its_namespace_and_a_defaults_says_none(
    broker: str,
) -> None:
    with GatewayProcess("--kafka-bootstrap-servers", broker, "--clock", "frozen") as gateway:
        root = gateway.url
        gateway.url = root + "/ns/team-k"
        assert pay(gateway, "same", 1) == 200
        gateway.url = root
        assert pay(gateway, "same", 2) == 200
        events = read(broker, "payment-succeeded", 2)
        in_namespace = requests.get(root + "/ns/team-k/activity?kind=event", timeout=5).json()
    by_amount = {json.loads(m.value())["amount"]: dict(m.headers()) for m in events}  # type: ignore[attr-defined]
    assert by_amount[1]["payments-namespace"] == b"team-k"
    assert "payments-namespace" not in by_amount[2]
    # The namespace's own activity log hears of its event's delivery, and of no other.
    assert [e["summary"] for e in in_namespace["activity"]] == [
        "payment-succeeded for order same: delivered"
    ]
