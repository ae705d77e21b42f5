"""Checkout sessions on the real server: the event stream, its cap, and payments beside it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import requests

from gateway_process import GatewayProcess
from payments_server.testing import StoreStub


def events(response: requests.Response) -> Iterator[tuple[str, object]]:
    """(event name, data) for each event of a stream; comments (heartbeats) are skipped."""
    name, data = "message", None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and data is not None:
            yield name, data
            name, data = "message", None


def open_session(gateway: GatewayProcess, **body: object) -> dict:  # type: ignore[type-arg]
    response = requests.post(
        gateway.url + "/checkout/sessions",
        json={"order_id": "S-1", "amount": 10, **body},
        timeout=5,
    )
    assert response.status_code == 201
    return response.json()["session"]


def test_the_stream_sends_the_session_at_once_then_its_end_and_closes() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        session = open_session(gateway)
        with requests.get(
            f"{gateway.url}/checkout/sessions/{session['id']}/events", stream=True, timeout=10
        ) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            seen = events(stream)
            name, first = next(seen)
            assert (name, first["state"]) == ("session", "open")  # type: ignore[index]
            requests.post(
                f"{gateway.url}/checkout/sessions/{session['id']}/complete",
                json={"outcome": "paid"},
                timeout=5,
            )
            name, last = next(seen)
            assert (name, last["state"]) == ("session", "paid")  # type: ignore[index]
            assert last["callback"]["state"] == "delivered"  # type: ignore[index]
            assert list(seen) == []  # the server ended the stream
        assert [c.json for c in store.received] == [{"order_id": "S-1", "status": "success"}]
        assert gateway.stop() == 0


def test_twice_the_cap_of_streams_never_starves_payments_and_the_rest_are_refused() -> None:
    # 8 threads: at most 2 streams; 4 asked for.
    with (
        StoreStub() as store,
        GatewayProcess("--callback-url", store.url, "--threads", "8") as gateway,
    ):
        session = open_session(gateway)
        url = f"{gateway.url}/checkout/sessions/{session['id']}/events"
        held = []
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", gateway.port))
            sock.sendall(
                f"GET /checkout/sessions/{session['id']}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
            )
            assert b"200" in sock.recv(64)
            held.append(sock)
        refused = [requests.get(url, timeout=5) for _ in range(2)]
        assert [r.status_code for r in refused] == [503, 503]
        assert refused[0].headers["Retry-After"] == "2"
        assert refused[0].json() == {
            "status": "failed",
            "message": "Too many open event streams (at most 2); poll GET /checkout/sessions/<id> instead",
        }
        started = time.monotonic()
        assert requests.get(gateway.url + "/balance", timeout=5).status_code == 200
        paid = requests.post(
            gateway.url + "/payments/orders", json={"order_id": "o", "amount": 1}, timeout=5
        )
        assert paid.status_code == 200 and paid.json()["shop_notified"] is True
        assert time.monotonic() - started < 5
        # Streams still open do not hold up the stop.
        started = time.monotonic()
        assert gateway.stop() == 0
        assert time.monotonic() - started < 10
        for sock in held:
            sock.close()


def test_a_reset_ends_a_session_stream_with_gone() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        session = open_session(gateway)
        results: list[tuple[str, object]] = []
        following = threading.Event()

        def follow() -> None:
            with requests.get(
                f"{gateway.url}/checkout/sessions/{session['id']}/events", stream=True, timeout=10
            ) as stream:
                for event in events(stream):
                    results.append(event)
                    following.set()

        thread = threading.Thread(target=follow)
        thread.start()
        assert following.wait(10)  # the stream has sent the session: it is open
        requests.post(gateway.url + "/reset", timeout=5)
        thread.join(10)
        assert [name for name, _ in results] == ["session", "gone"]
        assert gateway.stop() == 0
