"""StoreNotifier: one signed attempt per call, against the store stub and raw sockets."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from payments_server import __version__
from payments_server.callbacks.client import Attempt, Callback, StoreNotifier, parse_retry_after
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET, Signer
from payments_server.testing import StoreStub


def make_notifier(url: str, timeout: float = 5.0, **options: object) -> StoreNotifier:
    return StoreNotifier(
        url,
        timeout,
        user_agent=f"payments_server/{__version__}",
        signer=Signer(DEV_WEBHOOK_SECRET),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def notifier(store: StoreStub) -> Iterator[StoreNotifier]:
    notifier = make_notifier(store.url)
    yield notifier
    notifier.close()


def test_posts_exactly_order_id_and_status_as_json(
    notifier: StoreNotifier, store: StoreStub
) -> None:
    attempt = notifier.send(Callback.new("abc123def456", "success"))
    assert attempt.delivered is True
    assert attempt.status_code == 200
    assert attempt.error is None
    (call,) = store.received
    assert (call.method, call.path) == ("POST", "/payments/confirm")
    assert call.body == b'{"order_id":"abc123def456","status":"success"}'
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["User-Agent"] == f"payments_server/{__version__}"


def test_every_attempt_is_signed_so_a_store_using_standardwebhooks_accepts_it(
    notifier: StoreNotifier, store: StoreStub
) -> None:
    callback = Callback.new(77, "failed")
    notifier.send(callback)
    (call,) = store.received
    headers = dict(call.headers)
    assert headers["webhook-id"] == callback.id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert call.signature_valid
    assert Webhook(DEV_WEBHOOK_SECRET).verify(call.body, headers) == {
        "order_id": 77,
        "status": "failed",
    }


def test_each_attempt_has_the_same_id_and_body_with_its_own_timestamp_and_signature(
    store: StoreStub,
) -> None:
    moments = iter(
        [datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC), datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)]
    )
    times = list(moments)
    notifier = make_notifier(store.url, real=iter(times).__next__, clock=iter(times).__next__)
    store.respond_with(500)
    callback = Callback.new("o-1", "success")
    first, second = notifier.send(callback), notifier.send(callback)
    notifier.close()
    one, two = store.received
    assert one.body == two.body == callback.body
    assert one.headers["webhook-id"] == two.headers["webhook-id"] == callback.id
    assert (one.headers["webhook-timestamp"], two.headers["webhook-timestamp"]) == (
        "1795341600",
        "1795341605",
    )
    assert one.headers["webhook-signature"] != two.headers["webhook-signature"]
    assert (first.at, second.at) == (
        datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC),
    )


def test_an_integer_order_id_stays_an_integer(notifier: StoreNotifier, store: StoreStub) -> None:
    notifier.send(Callback.new(42, "failed"))
    assert json.loads(store.received[0].body) == {"order_id": 42, "status": "failed"}


def test_the_query_string_of_the_callback_url_is_kept(store: StoreStub) -> None:
    notifier = make_notifier(store.url + "?shop=7")
    assert notifier.send(Callback.new(1, "success")).delivered
    notifier.close()
    assert store.received[0].path == "/payments/confirm?shop=7"


@pytest.mark.parametrize(
    ("status", "delivered"),
    [(200, True), (201, True), (204, True), (299, True), (301, False), (302, False),
     (400, False), (404, False), (410, False), (500, False), (503, False)],
)  # fmt: skip
def test_only_a_2xx_counts_as_delivered(
    notifier: StoreNotifier, store: StoreStub, status: int, delivered: bool
) -> None:
    store.respond_with(status, headers={"Location": store.base_url + "/elsewhere"})
    attempt = notifier.send(Callback.new("o", "success"))
    assert attempt.delivered is delivered
    assert attempt.status_code == status
    assert attempt.gone is (status == 410)
    assert [call.path for call in store.received] == ["/payments/confirm"]  # no redirect
    if not delivered:
        assert attempt.error == f"store answered {status}"


def test_a_store_that_is_not_running_is_reported_never_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = make_notifier(f"http://127.0.0.1:{port}/payments/confirm")
    attempt = notifier.send(Callback.new("o", "success"))
    notifier.close()
    assert (attempt.delivered, attempt.status_code) == (False, None)
    assert attempt.error == "could not connect"


def test_a_store_that_hangs_up_without_answering_is_reported_never_raised() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def hang_up() -> None:
            connection, _ = listener.accept()
            connection.recv(65536)
            connection.close()

        thread = threading.Thread(target=hang_up)
        thread.start()
        notifier = make_notifier(f"http://127.0.0.1:{port}/payments/confirm")
        attempt = notifier.send(Callback.new("o", "success"))
        thread.join()
        notifier.close()
    assert (attempt.delivered, attempt.status_code) == (False, None)
    assert attempt.error == "the store closed the connection without an answer"


@pytest.mark.parametrize(
    ("status", "header", "retry_after"),
    [(429, "7", 7.0), (503, "0", 0.0), (503, " 120 ", 120.0),
     (503, "Sun, 22 Nov 2026 10:00:30 GMT", 30.0), (503, "Sun, 22 Nov 2026 09:00:00 GMT", 0.0),
     (503, "soon", None), (503, "-5", None), (503, "1.5", None),
     (500, "7", None), (200, "7", None)],
)  # fmt: skip
def test_retry_after_is_read_only_from_429_and_503(
    store: StoreStub, status: int, header: str, retry_after: float | None
) -> None:
    # An HTTP date is read against real time, wherever the gateway's clock stands.
    notifier = make_notifier(
        store.url,
        real=lambda: datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC),
        clock=lambda: datetime(2031, 1, 1, tzinfo=UTC),
    )
    store.respond_with(status, headers={"Retry-After": header})
    assert notifier.send(Callback.new("o", "success")).retry_after == retry_after
    notifier.close()


def test_an_attempt_is_timed_on_the_gateway_clock_and_signed_with_real_time(
    store: StoreStub,
) -> None:
    real = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
    ahead = datetime(2026, 12, 22, 10, 0, 0, tzinfo=UTC)
    notifier = make_notifier(store.url, real=lambda: real, clock=lambda: ahead)
    callback = Callback.new("o-1", "success")
    attempt = notifier.send(callback)
    notifier.close()
    [received] = store.received
    assert attempt.at == ahead and attempt.stamp == 1795341600
    assert received.headers["webhook-timestamp"] == "1795341600"
    sent = notifier.sent_headers(callback, attempt)
    assert sent["webhook-timestamp"] == "1795341600"
    assert sent["webhook-signature"] == received.headers["webhook-signature"]


def test_retry_after_without_a_header_is_none() -> None:
    now = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("Sun, 22 Nov 2026 10:00:30 -0000", now) is None
    assert parse_retry_after("Sun, 22 Nov 2026 10:00:30 +0000", now) == 30.0


def test_an_attempt_shows_time_status_error_and_duration() -> None:
    attempt = Attempt(
        datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC), None, "could not connect", 1.26
    )
    assert attempt.to_json() == {
        "at": "2026-11-22T10:00:00.123Z",
        "status_code": None,
        "error": "could not connect",
        "duration_ms": 1.3,
        "response": None,
    }
    paris = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    assert Attempt(paris, 200, None, 0.0).to_json()["at"] == "2026-11-22T11:00:00.000Z"


def test_a_store_that_accepts_but_never_answers_times_out_in_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
        thread.start()
        notifier = make_notifier(f"http://127.0.0.1:{port}/payments/confirm", 0.3)
        started = time.monotonic()
        attempt = notifier.send(Callback.new("o", "success"))
        elapsed = time.monotonic() - started
        thread.join()
        for connection in accepted:
            connection.close()
        notifier.close()
    assert attempt.delivered is False
    assert attempt.error == "no answer within the timeout"
    # Generous upper bound: it is the timeout that ended the wait, not the peer.
    assert elapsed < 3


def test_connections_to_the_store_are_reused() -> None:
    with StoreStub() as store:
        notifier = make_notifier(store.url, 2.0)
        for index in range(5):
            assert notifier.send(Callback.new(index, "success")).delivered
        notifier.close()
        received = store.received
    assert [c.json["order_id"] for c in received] == [0, 1, 2, 3, 4]
    assert len({c.client_port for c in received}) == 1


def test_a_proxy_in_the_environment_is_not_used(
    store: StoreStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A developer's shell often has one; the store is local and must be called directly.
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{dead.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    notifier = make_notifier(store.url)
    assert notifier.send(Callback.new("o", "success")).delivered
    notifier.close()
    assert len(store.received) == 1


def test_a_redirect_is_not_followed(store: StoreStub) -> None:
    store.respond_with(302, headers={"Location": store.base_url + "/elsewhere"})
    notifier = make_notifier(store.url)
    attempt = notifier.send(Callback.new("o", "success"))
    notifier.close()
    assert (attempt.delivered, attempt.status_code, attempt.error) == (
        False,
        302,
        "store answered 302",
    )
    assert [c.path for c in store.received] == ["/payments/confirm"]


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_keep_alive_connection_the_store_closed_is_replaced_and_nothing_is_sent_twice() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        requests_seen: list[bytes] = []
        first_closed = threading.Event()

        def serve_one_each() -> None:
            # Two connections, one request each: the first is closed after its answer,
            # while the client still holds it as idle.
            for _ in range(2):
                connection, _ = listener.accept()
                requests_seen.append(_read_request(connection))
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                connection.close()
                first_closed.set()

        thread = threading.Thread(target=serve_one_each)
        thread.start()
        notifier = make_notifier(f"http://127.0.0.1:{port}/payments/confirm")
        first = notifier.send(Callback.new(1, "success"))
        assert first_closed.wait(5)  # the store has closed the idle connection
        second = notifier.send(Callback.new(2, "success"))
        thread.join(5)
        notifier.close()
    assert first.delivered and second.delivered
    assert [b'"order_id":1' in r for r in requests_seen] == [True, False]
    assert [b'"order_id":2' in r for r in requests_seen] == [False, True]


def test_concurrent_callbacks_each_get_a_connection_and_keep_it(store: StoreStub) -> None:
    notifier = make_notifier(store.url)
    store.respond_with(200, delay=0.2)
    barrier = threading.Barrier(3)

    def send_two(order: int) -> None:
        barrier.wait()
        notifier.send(Callback.new(order, "success"))
        notifier.send(Callback.new(order, "success"))

    threads = [threading.Thread(target=send_two, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    notifier.close()
    received = store.received
    assert len(received) == 6
    # Three at once need three connections; the second round reuses them.
    assert len({c.client_port for c in received}) == 3


def test_a_url_a_request_cannot_carry_fails_each_attempt_in_words_and_never_raises() -> None:
    notifier = make_notifier("http://127.0.0.1:9/€")
    attempt = notifier.send(Callback.new("o-1", "success"))
    notifier.close()
    assert (attempt.status_code, attempt.delivered) == (None, False)
    assert attempt.error == (
        "the callback URL has characters a request cannot carry (percent-encode them)"
    )
