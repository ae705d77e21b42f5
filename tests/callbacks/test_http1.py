"""The minimal HTTP/1.1 client: every way a store may frame its answer, against raw sockets."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from payments_server.callbacks.http1 import ClosedWithoutAnswerError, Connection, ProtocolError

HEAD = b"POST /payments/confirm HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"


@contextmanager
def store_answering(
    *answers: bytes, close_after: bool = False
) -> Iterator[tuple[int, list[bytes]]]:
    """A one-connection store that answers each request with the next of `answers`."""
    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve() -> None:
            connection, _ = listener.accept()
            with connection:
                for answer in answers:
                    data = b""
                    while not data.endswith(b"{}"):
                        chunk = connection.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                    received.append(data)
                    connection.sendall(answer)
                if not close_after:
                    time.sleep(0.3)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield listener.getsockname()[1], received
        thread.join(2)


def post(connection: Connection) -> tuple[int, str | None, bool]:
    answer = connection.post(HEAD, b"{}", time.monotonic() + 2)
    return answer.status, answer.retry_after, answer.keep_alive


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", (200, None, True)),
        (b"HTTP/1.1 204 No Content\r\n\r\n", (204, None, True)),
        (b"HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", (503, "7", True)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\nT: v\r\n\r\n",
         (200, None, True)),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
         (201, None, True)),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", (200, None, False)),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", (200, None, False)),
        (b"HTTP/1.1 200 OK\r\nretry-after:  9 \r\ncontent-length: 0\r\n\r\n", (200, "9", True)),
    ],
)  # fmt: skip
def test_each_framing_is_read_to_its_end(answer: bytes, expected: tuple[object, ...]) -> None:
    with store_answering(answer) as (port, _):
        connection = Connection("127.0.0.1", port, 2)
        assert post(connection) == expected
        connection.close()


def test_an_answer_without_a_length_ends_with_the_connection() -> None:
    with store_answering(b"HTTP/1.1 200 OK\r\n\r\nwhatever the store says", close_after=True) as (
        port,
        _,
    ):
        connection = Connection("127.0.0.1", port, 2)
        assert post(connection) == (200, None, False)
        connection.close()


def test_a_kept_connection_carries_the_next_request() -> None:
    ok = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    with store_answering(ok, ok) as (port, received):
        connection = Connection("127.0.0.1", port, 2)
        assert post(connection) == (200, None, True)
        assert not connection.dropped()
        assert post(connection) == (200, None, True)
        connection.close()
    assert received == [HEAD + b"{}"] * 2  # each request in full, in one piece


def test_a_connection_the_store_closed_is_seen_as_dropped() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    with store_answering(ok, close_after=True) as (port, _):
        connection = Connection("127.0.0.1", port, 2)
        post(connection)
        # The store's FIN arrives when it arrives: look until it has, for at most 5 s.
        deadline = time.monotonic() + 5
        while not connection.dropped() and time.monotonic() < deadline:
            select.select([], [], [], 0.01)
        assert connection.dropped()
        connection.close()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"", ClosedWithoutAnswerError),
        (b"SMTP ready\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 abc OK\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", ClosedWithoutAnswerError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ProtocolError),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", ProtocolError),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", ProtocolError),
    ],
)
def test_what_is_not_http_is_an_error_never_a_hang(answer: bytes, error: type[Exception]) -> None:
    with store_answering(answer, close_after=True) as (port, _):
        connection = Connection("127.0.0.1", port, 2)
        with pytest.raises(error):
            post(connection)
        connection.close()


def test_no_answer_in_time_is_a_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        connection = Connection("127.0.0.1", listener.getsockname()[1], 0.2)
        accepted = listener.accept()[0]
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            connection.post(HEAD, b"{}", time.monotonic() + 0.2)
        assert time.monotonic() - started < 2
        accepted.close()
        connection.close()


@pytest.mark.parametrize(
    "dribble",
    [
        pytest.param([b"H", b"T", b"T", b"P", b"/", b"1"], id="a byte at a time"),
        pytest.param([b"HTTP/1.1 100 Continue\r\n\r\n"] * 6, id="endless 100 Continue"),
        pytest.param(
            [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"] + [b"1\r\nx\r\n"] * 5,
            id="endless chunked body",
        ),
    ],
)
def test_a_store_dribbling_its_answer_is_cut_off_at_the_deadline(dribble: list[bytes]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        connection = Connection("127.0.0.1", listener.getsockname()[1], 1)
        accepted = listener.accept()[0]
        stop = threading.Event()

        def dribbling() -> None:
            for piece in dribble:
                if stop.wait(0.15):
                    return
                accepted.sendall(piece)

        thread = threading.Thread(target=dribbling, daemon=True)
        thread.start()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            connection.post(HEAD, b"{}", started + 0.4)
        # Each piece comes within any per-read timeout; only a deadline ends it.
        assert time.monotonic() - started < 0.4 + 0.1
        stop.set()
        thread.join()
        accepted.close()
        connection.close()


def test_the_answer_keeps_its_headers_and_the_first_kib_of_its_body() -> None:
    detail = b"{\"detail\":\"status must be either 'success' or 'failed'\"}"
    long_body = b"x" * 5000
    answers = (
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(detail)}\r\n\r\n".encode() + detail,
        b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"1388\r\n" + long_body + b"\r\n0\r\n\r\n",
    )  # fmt: skip
    with store_answering(*answers) as (port, _):
        connection = Connection("127.0.0.1", port, 2)
        first = connection.post(HEAD, b"{}", time.monotonic() + 2)
        assert (first.status, first.body) == (400, detail)
        assert first.headers == (
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(detail))),
        )
        second = connection.post(HEAD, b"{}", time.monotonic() + 2)
        assert (second.status, second.body) == (500, b"x" * 2048)
        assert second.headers == (("Transfer-Encoding", "chunked"),)
        connection.close()
