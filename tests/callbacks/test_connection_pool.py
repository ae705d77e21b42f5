"""ConnectionPool: the idle connections to stores every namespace's callbacks share."""

from __future__ import annotations

import socket

from helpers import MakeClient
from payments_server.callbacks.connection_pool import ConnectionPool
from payments_server.callbacks.http1 import Connection
from payments_server.testing import StoreStub


def test_callbacks_of_many_namespaces_to_one_store_share_one_connection(
    make_client: MakeClient, store: StoreStub
) -> None:
    client = make_client()
    for index in range(30):
        answer = client.post(
            "/payments/orders",
            json={"order_id": "1", "amount": 1},
            headers={"Payments-Namespace": f"team-{index}"},
        )
        assert answer.get_json()["shop_notified"] is True
    received = store.wait_for(30)
    assert [c.headers["Payments-Namespace"] for c in received] == [
        f"team-{index}" for index in range(30)
    ]
    # Each namespace kept its own would have opened 30, open until the namespaces go.
    assert len({c.client_port for c in received}) == 1


def _open(listener: socket.socket) -> Connection:
    host, port = listener.getsockname()
    return Connection(host, port, 5.0)


def test_the_pool_keeps_at_most_per_origin_idle_connections_and_closes_the_rest() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        origin = ("127.0.0.1", listener.getsockname()[1], False)
        pool = ConnectionPool(per_origin=2)
        connections = [_open(listener) for _ in range(3)]
        for connection in connections:
            pool.give_back(origin, connection)
        assert connections[2].sock.fileno() == -1  # the third, over the bound, was closed
        assert {pool.take(origin), pool.take(origin)} == set(connections[:2])
        assert pool.take(origin) is None
        assert pool.take(("127.0.0.1", 9, False)) is None  # nothing kept for another store


def test_a_closed_pool_closes_what_it_kept_and_what_comes_back_later() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        origin = ("127.0.0.1", listener.getsockname()[1], False)
        pool = ConnectionPool()
        kept, late = _open(listener), _open(listener)
        pool.give_back(origin, kept)
        pool.close()
        pool.give_back(origin, late)
        assert (kept.sock.fileno(), late.sock.fileno()) == (-1, -1)
        assert pool.take(origin) is None


def test_a_connection_the_store_closed_while_idle_is_not_handed_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        origin = ("127.0.0.1", listener.getsockname()[1], False)
        pool = ConnectionPool()
        pool.give_back(origin, _open(listener))
        accepted, _ = listener.accept()
        accepted.close()  # the store lets the idle connection go
        assert pool.take(origin) is None
