"""GatewayConnection: the kit's one keep-alive connection to a gateway, against a real
gateway and against a peer that closes a kept connection as a gateway does when idle."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from payments_server.testing import GatewayServer
from payments_server.testing.gateway_namespace import GatewayConnection, GatewayNamespace

ANSWER = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
)


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


class ClosingPeer:
    """Answers `per_connection` requests on each connection, then closes it unannounced
    (as a gateway closes a connection left idle for --header-timeout); counts connections."""

    def __init__(self, per_connection: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.per_connection = per_connection
        self.connections = 0
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                for _ in range(self.per_connection):
                    request = _read_request(connection)
                    if not request:
                        break
                    self.requests.append(request.split(b"\r\n", 1)[0])
                    connection.sendall(ANSWER)


@pytest.fixture
def peer_closing_after_one() -> Iterator[ClosingPeer]:
    peer = ClosingPeer(per_connection=1)
    yield peer
    peer.listener.close()


def test_calls_share_one_connection_to_the_gateway() -> None:
    peer = ClosingPeer(per_connection=100)
    connection = GatewayConnection(peer.url)
    for index in range(5):
        assert connection.call("GET", f"{peer.url}/balance?n={index}", expect=200) == (
            200, {"ok": True},
        )  # fmt: skip
    connection.close()
    peer.listener.close()
    assert peer.connections == 1
    assert peer.requests == [f"GET /balance?n={index} HTTP/1.1".encode() for index in range(5)]


def test_a_kept_connection_the_gateway_closed_is_replaced_and_the_request_sent_once(
    peer_closing_after_one: ClosingPeer,
) -> None:
    peer = peer_closing_after_one
    connection = GatewayConnection(peer.url)
    assert connection.call("PUT", f"{peer.url}/namespaces/a", {}, expect=200)[0] == 200
    assert connection.call("DELETE", f"{peer.url}/namespaces/a", expect=200)[0] == 200
    connection.close()
    assert peer.connections == 2
    assert peer.requests == [b"PUT /namespaces/a HTTP/1.1", b"DELETE /namespaces/a HTTP/1.1"]


def test_an_unexpected_status_fails_with_what_the_gateway_answered() -> None:
    with GatewayServer() as server:
        connection = GatewayConnection(server.url)
        with pytest.raises(AssertionError) as refused:
            connection.call("PUT", f"{server.url}/namespaces/no%20spaces", {}, expect=201)
        connection.close()
    message = str(refused.value)
    assert message.startswith(f"PUT {server.url}/namespaces/no%20spaces answered 400, not 201:")
    assert "letters, digits" in message


def test_a_url_of_another_gateway_is_refused() -> None:
    connection = GatewayConnection("http://127.0.0.1:5000")
    with pytest.raises(ValueError, match="not on this connection's gateway"):
        connection.call("GET", "http://127.0.0.1:5001/balance")


def test_namespaces_made_over_one_connection_work_and_are_deleted() -> None:
    with GatewayServer() as server:
        connection = GatewayConnection(server.url)
        spaces = [
            GatewayNamespace.create(server.url, f"t-{index}", balance=index, connection=connection)
            for index in range(3)
        ]
        balances = [space.request("GET", "/balance")[1]["balance"] for space in spaces]
        for space in spaces:
            space.delete()
        listed = connection.call("GET", f"{server.url}/namespaces", expect=200)[1]
        connection.close()
    assert balances == [0, 1, 2]
    assert [space["name"] for space in listed["namespaces"]] == ["default"]
