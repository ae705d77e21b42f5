"""Callbacks end to end: the real CLI, real HTTP, a real store, verified with standardwebhooks."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
import requests
from standardwebhooks import Webhook

from gateway_process import DRIBBLES, GatewayProcess, dribbling_store, free_port
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET
from payments_server.testing import StoreStub

SECRET = "whsec_YS1zdG9yZS1zZWNyZXQtZm9yLWxpdmUtdGVzdHMhIQ=="
FAST = ("--callback-schedule", "0.1,0.1,0.1")
# Retries wait on the gateway's clock, moved by the test (POST /clock/advance).
FROZEN = ("--clock", "frozen", *FAST)


def pay_order(gateway: GatewayProcess, order_id: object, amount: object = 10) -> dict:
    response = requests.post(
        gateway.url + "/payments/orders", json={"order_id": order_id, "amount": amount}, timeout=30
    )
    return response.json()


def callbacks(gateway: GatewayProcess, query: str = "") -> list[dict]:
    return requests.get(gateway.url + "/callbacks" + query, timeout=5).json()["callbacks"]


@pytest.fixture(params=DRIBBLES)
def blackhole(request: pytest.FixtureRequest) -> Iterator[str]:
    """A store that accepts connections and never finishes an answer: its callback URL."""
    with dribbling_store(DRIBBLES[request.param]) as url:
        yield url


def test_the_startup_line_prints_the_development_secret_and_the_schedule() -> None:
    with GatewayProcess() as gateway:
        line = gateway.wait_for_line("callbacks are signed")
    assert line.endswith(
        "callbacks are signed (Standard Webhooks) with the development secret"
        f" {DEV_WEBHOOK_SECRET}; 5 retries after 1, 5, 30, 120, 600 s"
    )


def test_a_secret_of_your_own_is_not_printed() -> None:
    with GatewayProcess(env={"PAYMENTS_WEBHOOK_SECRET": SECRET}) as gateway:
        line = gateway.wait_for_line("callbacks are signed")
        assert gateway.stop() == 0
    assert "your secret from --webhook-secret (PAYMENTS_WEBHOOK_SECRET)" in line
    assert SECRET not in "\n".join(gateway.lines)


def test_a_store_verifying_with_standardwebhooks_accepts_every_callback() -> None:
    with (
        StoreStub() as store,
        GatewayProcess("--callback-url", store.url, "--webhook-secret", SECRET) as gateway,
    ):
        pay_order(gateway, "abc123def456", 179.98)
        pay_order(gateway, 77, 60000)
        requests.post(gateway.url + "/pay/order", json={"order_id": "x-1", "amount": 0.01})
        received = store.wait_for(3)
    webhook = Webhook(SECRET)
    assert [webhook.verify(c.body, dict(c.headers)) for c in received] == [
        {"order_id": "abc123def456", "status": "success"},
        {"order_id": 77, "status": "failed"},
        {"order_id": "x-1", "status": "success"},
    ]
    assert len({c.headers["webhook-id"] for c in received}) == 3


def advance(gateway: GatewayProcess, seconds: float) -> list[str]:
    """Move the gateway's clock on; the kinds of what ran on the way."""
    answer = requests.post(gateway.url + "/clock/advance", json={"seconds": seconds}, timeout=30)
    return [job["kind"] for job in answer.json()["ran"]]


def test_a_store_that_fails_twice_then_recovers_acts_once_on_one_webhook_id() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url, *FROZEN) as gateway:
        store.respond_with(200, then=[500, 503])
        assert pay_order(gateway, "o-1")["shop_notified"] is False
        assert advance(gateway, 1) == ["callback", "callback"]
        received = store.received
        (record,) = callbacks(gateway)
        assert advance(gateway, 86400) == [] and len(store.received) == 3
    webhook = Webhook(DEV_WEBHOOK_SECRET)
    for callback in received:
        webhook.verify(callback.body, dict(callback.headers))
    assert {c.headers["webhook-id"] for c in received} == {record["id"]}
    assert record["state"] == "delivered"
    assert [a["status_code"] for a in record["attempts"]] == [500, 503, 200]


def test_a_store_answering_410_gets_one_attempt() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url, *FROZEN) as gateway:
        store.respond_with(410)
        pay_order(gateway, "gone")
        (record,) = callbacks(gateway)
        assert advance(gateway, 86400) == []
        assert len(store.received) == 1
        line = gateway.wait_for_line("410 Gone")
    assert record["state"] == "failed"
    assert "so no more retries" in line


def test_zero_retries_sends_exactly_one_attempt() -> None:
    with (
        StoreStub() as store,
        GatewayProcess("--callback-url", store.url, "--callback-retries", "0", *FROZEN) as gateway,
    ):
        store.respond_with(500)
        assert pay_order(gateway, "once")["shop_notified"] is False
        assert advance(gateway, 86400) == []
        assert len(store.received) == 1
        (record,) = callbacks(gateway)
    assert (record["state"], len(record["attempts"])) == ("failed", 1)


def test_a_hostile_store_costs_a_payment_at_most_the_callback_timeout(blackhole: str) -> None:
    with GatewayProcess(
        "--callback-url", blackhole, "--callback-timeout", "1", "--callback-schedule", "0"
    ) as gateway:
        started = time.monotonic()
        body = pay_order(gateway, "slow")
        elapsed = time.monotonic() - started
        # The worker is now retrying into the blackhole; nothing else waits on it.
        assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 49990.0
        (record,) = callbacks(gateway)
    assert body["shop_notified"] is False
    assert body["balance"] == 49990.0
    # Generous upper bound: it is the 1 s timeout that ended the wait, not the store.
    assert 0.9 <= elapsed < 2.5
    assert record["attempts"][0]["error"] == "no answer within the timeout"


def test_resend_delivers_again_with_the_same_webhook_id() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        pay_order(gateway, 9)
        (record,) = callbacks(gateway)
        response = requests.post(f"{gateway.url}/callbacks/{record['id']}/retry", timeout=5)
        received = store.wait_for(2)
    assert response.status_code == 200
    assert response.json()["delivered"] is True
    assert [c.headers["webhook-id"] for c in received] == [record["id"]] * 2
    assert received[0].body == received[1].body


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_shutdown_with_pending_retries_is_prompt_and_says_how_many(sig: int) -> None:
    dead = f"http://127.0.0.1:{free_port()}/payments/confirm"
    with GatewayProcess("--callback-url", dead, "--callback-schedule", "600") as gateway:
        pay_order(gateway, "a")
        pay_order(gateway, "b", 10**9)  # refused, and its "failed" callback is pending too
        started = time.monotonic()
        assert gateway.stop(sig) == 0
        elapsed = time.monotonic() - started
    assert gateway.lines[-1].endswith(
        "payments_server stopped with 2 callbacks still pending; they will not be retried"
    )
    assert elapsed < 5


def test_shutdown_does_not_wait_for_a_retry_stuck_on_a_slow_store() -> None:
    with (
        StoreStub() as store,
        GatewayProcess(
            "--callback-url", store.url, "--callback-timeout", "30", "--callback-schedule", "1"
        ) as gateway,
    ):
        store.respond_with(200, then=[500])
        assert pay_order(gateway, "stuck")["shop_notified"] is False
        store.hold()  # the retry comes at least 0.8 s later, so it meets the held store
        store.wait_for(2)  # the worker's retry now waits on the store for up to 30 s
        started = time.monotonic()
        assert gateway.stop() == 0
        elapsed = time.monotonic() - started
    assert gateway.lines[-1].endswith(
        "payments_server stopped with 1 callback still pending; they will not be retried"
    )
    assert elapsed < 5
