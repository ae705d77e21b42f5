"""StoreNotifier: unit tests against `responses`, plus a real slow socket for the timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import responses

from payments_server import __version__
from payments_server.callbacks import StoreNotifier
from payments_server.testing import StoreStub

URL = "http://store.test/payments/confirm"


@pytest.fixture
def notifier() -> Iterator[StoreNotifier]:
    notifier = StoreNotifier(URL, 5.0, user_agent=f"payments_server/{__version__}")
    yield notifier
    notifier.close()


@responses.activate
def test_posts_exactly_order_id_and_status_as_json(notifier: StoreNotifier) -> None:
    responses.post(URL, status=200)
    delivery = notifier.notify("abc123def456", "success")
    assert delivery.delivered is True
    assert delivery.status_code == 200
    assert delivery.error is None
    (call,) = responses.calls
    assert call.request.body == b'{"order_id":"abc123def456","status":"success"}'
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["User-Agent"] == f"payments_server/{__version__}"


@responses.activate
def test_an_integer_order_id_stays_an_integer(notifier: StoreNotifier) -> None:
    responses.post(URL, status=200)
    notifier.notify(42, "failed")
    assert json.loads(responses.calls[0].request.body) == {"order_id": 42, "status": "failed"}


@responses.activate
@pytest.mark.parametrize(
    ("status", "delivered"),
    [(200, True), (201, True), (204, True), (299, True), (301, False), (302, False),
     (400, False), (404, False), (410, False), (500, False), (503, False)],
)  # fmt: skip
def test_only_a_2xx_counts_as_delivered(
    notifier: StoreNotifier, status: int, delivered: bool
) -> None:
    responses.post(URL, status=status, headers={"Location": "http://store.test/elsewhere"})
    responses.post("http://store.test/elsewhere", status=200)
    delivery = notifier.notify("o", "success")
    assert delivery.delivered is delivered
    assert delivery.status_code == status
    assert len(responses.calls) == 1  # redirects are not followed
    if not delivered:
        assert delivery.error == f"store answered {status}"


@responses.activate
@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (requests.ConnectionError("refused"), "could not connect"),
        (requests.ConnectTimeout("slow"), "no answer within the timeout"),
        (requests.ReadTimeout("slow"), "no answer within the timeout"),
        (requests.exceptions.ChunkedEncodingError("broken"), "ChunkedEncodingError"),
    ],
)
def test_network_failures_are_reported_never_raised(
    notifier: StoreNotifier, exception: Exception, error: str
) -> None:
    responses.post(URL, body=exception)
    delivery = notifier.notify("o", "success")
    assert delivery.delivered is False
    assert delivery.status_code is None
    assert delivery.error == error


@responses.activate
def test_failures_are_logged_with_the_reason(
    notifier: StoreNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    responses.post(URL, status=500)
    notifier.notify("ord-9", "success")
    assert f"callback order ord-9 success to {URL} not delivered: store answered 500" in caplog.text


def test_a_store_that_accepts_but_never_answers_times_out_in_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
        thread.start()
        notifier = StoreNotifier(f"http://127.0.0.1:{port}/payments/confirm", 0.3, "ua")
        started = time.monotonic()
        delivery = notifier.notify("o", "success")
        elapsed = time.monotonic() - started
        thread.join()
        for connection in accepted:
            connection.close()
        notifier.close()
    assert delivery.delivered is False
    assert delivery.error == "no answer within the timeout"
    # Generous upper bound: it is the timeout that ended the wait, not the peer.
    assert elapsed < 3


def test_connections_to_the_store_are_reused() -> None:
    with StoreStub() as store:
        notifier = StoreNotifier(store.url, 2.0, "ua")
        for index in range(5):
            assert notifier.notify(index, "success").delivered
        notifier.close()
        received = store.received
    assert [c.json["order_id"] for c in received] == [0, 1, 2, 3, 4]
    assert len({c.client_port for c in received}) == 1
