"""Scenario control and idempotency keys on the real server, over real HTTP."""

from __future__ import annotations

import threading
import time

import requests

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub


def test_a_concurrent_double_submit_over_http_debits_and_calls_back_once() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        store.respond_with(200, delay=0.2)  # keeps the first request running a while
        barrier = threading.Barrier(8)
        answers: list[requests.Response] = []
        lock = threading.Lock()

        def submit() -> None:
            barrier.wait()
            response = requests.post(
                gateway.url + "/payments/orders",
                json={"order_id": "double", "amount": 19.99},
                headers={"Idempotency-Key": '"checkout 1"'},
                timeout=10,
            )
            with lock:
                answers.append(response)

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
        replay = requests.post(
            gateway.url + "/payments/orders",
            json={"order_id": "double", "amount": 19.99},
            headers={"Idempotency-Key": '"checkout 1"'},
            timeout=10,
        )
    # Read once the gateway has stopped: a late second callback would be here by now.
    received = store.received
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 409}
    originals = [
        a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a.headers
    ]
    assert len(originals) == 1
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == originals[0].content
    assert balance == 49980.01
    assert [c.json for c in received] == [{"order_id": "double", "status": "success"}]


def test_flags_decline_every_payment_and_the_store_hears_failed() -> None:
    with (
        StoreStub() as store,
        GatewayProcess(
            "--callback-url", store.url, "--decline-rate", "1", "--decline-seed", "5"
        ) as gateway,
    ):
        response = requests.post(
            gateway.url + "/pay/order", json={"order_id": 5, "amount": 1}, timeout=10
        )
        record = requests.get(gateway.url + "/payments/orders/5", timeout=5).json()
        received = store.wait_for(1)
    assert response.status_code == 402
    assert response.json() == {
        "status": "failed",
        "message": "Payment declined",
        "decline_code": "card_declined",
    }
    assert [c.json for c in received] == [{"order_id": 5, "status": "failed"}]
    assert record["state"] == "failed"
    assert record["attempts"][0]["decline_code"] == "card_declined"


def test_latency_from_the_environment_delays_payments_only() -> None:
    with GatewayProcess(env={"PAYMENTS_LATENCY_MS": "400"}) as gateway:
        started = time.monotonic()
        requests.post(gateway.url + "/pay", json={"amount": 1, "recipient": "r"}, timeout=10)
        paid = time.monotonic() - started
        started = time.monotonic()
        requests.get(gateway.url + "/balance", timeout=10)
        looked = time.monotonic() - started
    assert paid >= 0.4
    assert looked < 0.4
