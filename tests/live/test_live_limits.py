"""What no client can do to the real server: hold its threads with a slow body, keep a
connection forever, or keep a stream slot after it has gone (docs/limits.md)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import requests

from gateway_process import GatewayProcess

HEAD = b"POST /pay HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def connect(gateway: GatewayProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gateway.port), timeout=10)


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, headers, body, and whether the server then closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    closed = sock.recv(1) == b""
    return int(status_line.split()[1]), headers, body, closed


@contextmanager
def half_bodies(gateway: GatewayProcess, count: int) -> Iterator[list[socket.socket]]:
    """`count` clients that send the headers of a payment and half its body, then wait."""
    with ExitStack() as stack:
        clients = []
        for _ in range(count):
            sock = stack.enter_context(connect(gateway))
            sock.sendall(HEAD + b"Content-Length: 40\r\n\r\n" + b'{"amount": 1,')
            clients.append(sock)
        yield clients


def test_slow_bodies_hold_no_thread_and_get_408_at_the_body_timeout() -> None:
    with GatewayProcess("--threads", "4", "--body-timeout", "1.5") as gateway:
        with half_bodies(gateway, 12) as slow:
            # Three times --threads are waiting on their bodies: everyone else is served.
            started = time.monotonic()
            for _ in range(5):
                assert requests.get(gateway.url + "/balance", timeout=1).ok
            paid = requests.post(
                gateway.url + "/pay", json={"amount": 2, "recipient": "x"}, timeout=1
            )
            assert paid.status_code == 200
            assert time.monotonic() - started < 1.5
            for sock in slow:
                status, headers, body, closed = read_answer(sock)
                assert (status, headers["content-type"], json.loads(body), closed) == (
                    408,
                    "application/json",
                    {
                        "status": "failed",
                        "message": "Request body not received within 1.5 s (--body-timeout)",
                    },
                    True,
                )
        balance = requests.get(gateway.url + "/balance", timeout=5).json()["balance"]
    assert balance == 49998.0  # only the one whole payment


def test_a_body_that_is_too_large_is_refused_before_it_is_read() -> None:
    with GatewayProcess() as gateway:
        with connect(gateway) as sock:
            sock.sendall(HEAD + b"Content-Length: 100000000\r\n\r\n" + b"{")
            status, _, body, closed = read_answer(sock)
        # The largest body a route takes still arrives whole: a thousand long rules.
        rules = [{"order_id": f"{n:04d}" + "\u00e9" * 250, "decline_code": "lost_card"}
                 for n in range(1000)]  # fmt: skip
        settings = requests.put(gateway.url + "/simulation", json={"rules": rules}, timeout=10)
    assert (status, json.loads(body), closed) == (
        413,
        {"status": "failed", "message": "Request body too large"},
        True,
    )
    assert settings.status_code == 200
    assert len(settings.request.body or b"") > 1_000_000


def test_an_idle_connection_is_closed_after_the_header_timeout() -> None:
    with (
        GatewayProcess("--header-timeout", "1") as gateway,
        connect(gateway) as kept,
        connect(gateway) as silent,
    ):
        started = time.monotonic()
        kept.sendall(b"GET /balance HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, _, _, closed = read_answer(kept)  # then waits for the close
        assert (status, closed, silent.recv(1)) == (200, True, b"")
        assert 0.9 < time.monotonic() - started < 3.5


def test_a_header_sent_a_byte_at_a_time_is_cut_off_at_the_header_timeout() -> None:
    with GatewayProcess("--header-timeout", "1") as gateway, connect(gateway) as slowloris:
        started = time.monotonic()
        closed = False
        for byte in b"GET /balance HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 100:
            try:
                slowloris.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > 3:
                break
        closed = closed or slowloris.recv(1) == b""
    assert closed and time.monotonic() - started < 3


# Under the 15 s until a stream's next heartbeat, which would free a slot kept too long.
HEARTBEAT_BOUND = 10


def test_a_stream_slot_is_free_as_soon_as_its_client_leaves() -> None:
    # --threads 4: one stream slot, which each stream below takes and leaves in turn.
    with GatewayProcess("--threads", "4") as gateway:
        started = time.monotonic()
        for _ in range(5):
            while (
                stream := requests.get(gateway.url + "/events", stream=True, timeout=5)
            ).status_code == 503:
                stream.close()
                assert time.monotonic() - started < HEARTBEAT_BOUND, "a slot outlived its client"
            next(stream.iter_content(None))
            stream.close()
        # Not at the next heartbeat, 15 s later: each was freed when its client left (a busy
        # CI machine took 3 s for the five).
        assert time.monotonic() - started < HEARTBEAT_BOUND
