"""The serving code (granian through the RSGI bridge), run in this process on a real socket."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from payments_server.collector import stop_freezing
from payments_server.http_servers import ServerLimits, serve_granian


def _file_like_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers in two pieces, as a static file is sent: headers, then the body streamed."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return iter([b"ab", b"cd"])


@contextmanager
def _serving(app: Callable[..., Iterable[bytes]]) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()
    server = threading.Thread(
        target=serve_granian, args=(app, listener, ServerLimits(threads=2), stopping)
    )
    server.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        server.join(timeout=10)
        listener.close()
        # The server froze what the collector had seen; the tests after it expect it thawed.
        stop_freezing()
    assert not server.is_alive()


def _get(client: socket.socket) -> bytes:
    """One request on the connection, and its answer (the app's four bytes of body)."""
    client.sendall(b"GET /style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while not answer.endswith(b"abcd"):
        chunk = client.recv(4096)
        assert chunk, f"the server closed the connection after {answer!r}"
        answer += chunk
    return answer


def _server_side_of(client: socket.socket) -> socket.socket:
    """The connection as this process's server accepted it, found by its peer address."""
    wanted = client.getsockname()
    for name in os.listdir("/proc/self/fd"):
        try:
            copy = os.dup(int(name))
        except OSError:
            continue  # the listing's own descriptor, closed by now
        try:
            candidate = socket.socket(fileno=copy)
        except OSError:
            os.close(copy)
            continue  # not a socket
        try:
            if candidate.type == socket.SOCK_STREAM and candidate.getpeername() == wanted:
                return candidate
        except OSError:
            pass  # a listening or unconnected socket
        candidate.close()
    raise AssertionError(f"no server-side connection from {wanted}")


def test_accepted_connections_send_at_once_without_waiting_for_the_clients_ack() -> None:
    """Nagle's algorithm off (TCP_NODELAY): with it on, the second piece of an answer sent
    in pieces (a static file, an event stream) waited for the client's delayed ACK, 40 ms
    for each answer on a kept-alive connection."""
    with _serving(_file_like_app) as port:
        # The kernel accepts a connection from the listener as it is when the client
        # connects: the first answer says the server has started, with its options set.
        with socket.create_connection(("127.0.0.1", port)) as first:
            assert _get(first).startswith(b"HTTP/1.1 200 OK\r\n")
        with socket.create_connection(("127.0.0.1", port)) as client:
            assert _get(client).startswith(b"HTTP/1.1 200 OK\r\n")
            with _server_side_of(client) as accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
