"""GET /events and the long poll on the real server: live views never starve payments."""

from __future__ import annotations

import socket
import threading
import time

import requests

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub


def hold_stream(port: int) -> socket.socket:
    """Open GET /events and keep it open, reading nothing more than its first bytes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert sock.recv(64).startswith(b"HTTP/1.1 200")
    return sock


def test_twice_the_cap_of_event_streams_never_starves_payments_or_the_stop() -> None:
    # 8 threads: at most 2 streams; 4 asked for.
    with (
        StoreStub() as store,
        GatewayProcess("--callback-url", store.url, "--threads", "8") as gateway,
    ):
        held = [hold_stream(gateway.port) for _ in range(2)]
        refused = [requests.get(gateway.url + "/events", timeout=5) for _ in range(2)]
        assert [r.status_code for r in refused] == [503, 503]
        assert refused[0].headers["Retry-After"] == "2"
        started = time.monotonic()
        assert requests.get(gateway.url + "/balance", timeout=5).status_code == 200
        for number in range(20):
            paid = requests.post(
                gateway.url + "/payments/orders", json={"order_id": number, "amount": 1}, timeout=5
            )
            assert paid.status_code == 200 and paid.json()["shop_notified"] is True
        # A long poll finds no slot either: it answers at once with what there is.
        waited = requests.get(gateway.url + "/callbacks?order_id=19&wait=5", timeout=10)
        assert len(waited.json()["callbacks"]) == 1
        assert time.monotonic() - started < 5
        # The streams held saw the payments' notices.
        seen = b""
        while seen.count(b'"kind":"request"') < 20:
            seen += held[0].recv(65536)
        started = time.monotonic()
        assert gateway.stop() == 0
        assert time.monotonic() - started < 10
        for sock in held:
            sock.close()


def test_a_store_test_waits_on_the_gateway_instead_of_sleeping() -> None:
    # The README's recipe: pay, then wait for the callback with ?wait=, no sleep.
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        store.respond_with(200, delay=0.5)
        payment = threading.Timer(
            0.2,
            lambda: requests.post(
                gateway.url + "/payments/orders", json={"order_id": "slow", "amount": 1}, timeout=5
            ),
        )
        payment.start()
        started = time.monotonic()
        listed = requests.get(gateway.url + "/callbacks?order_id=slow&wait=5", timeout=10).json()
        waited = time.monotonic() - started
        # Answered once the store had the callback, not before (it took 0.5 s to answer).
        assert [(c["order_id"], c["state"]) for c in listed["callbacks"]] == [("slow", "delivered")]
        assert [c.json for c in store.received] == [{"order_id": "slow", "status": "success"}]
        assert 0.65 < waited < 2
        payment.join()
        assert gateway.stop() == 0
