"""GatewayServer and StoreStub, the kit a store's tests use, over real HTTP."""

from __future__ import annotations

import http.client
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from flask import Blueprint

from payments_server import Settings
from payments_server.testing import ClockAheadError, GatewayServer, GatewayServerError, StoreStub
from payments_server.testing.gateway_namespace import GatewayNamespace

OTHER_SECRET = "whsec_YS1zdG9yZS1zZWNyZXQtZm9yLWxpdmUtdGVzdHMhIQ=="


def test_the_gateway_listens_on_a_port_of_its_own_before_start_returns(store: StoreStub) -> None:
    with GatewayServer(callback_url=store.url) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.url_for("balance") == server.url + "/balance"
        response = requests.post(
            server.url_for("/payments/orders"), json={"order_id": "o", "amount": 5}, timeout=5
        )
        assert response.json()["shop_notified"] is True
        assert server.gateway.ledger.balance == Decimal("49995")
    (callback,) = store.received
    assert callback.json == {"order_id": "o", "status": "success"}
    assert callback.signature_valid is True


def test_two_servers_do_not_share_a_port_or_an_account(store: StoreStub) -> None:
    with GatewayServer(callback_url=store.url) as one, GatewayServer(callback_url=store.url) as two:
        assert one.port != two.port
        requests.post(one.url_for("/pay"), json={"amount": 1, "recipient": "r"}, timeout=5)
        assert requests.get(two.url_for("/balance"), timeout=5).json()["balance"] == 50000.0


def test_settings_are_the_clis(store: StoreStub) -> None:
    with GatewayServer(
        callback_url=store.url, initial_balance=Decimal("10.00"), webhook_secret=OTHER_SECRET
    ) as server:
        requests.post(server.url_for("/pay/order"), json={"order_id": 1, "amount": 2}, timeout=5)
        assert server.gateway.ledger.balance == Decimal("8.00")
    # The stub checks with the development secret, so this signature does not verify.
    assert store.wait_for(1)[0].signature_valid is False
    settings = Settings(callback_url=store.url, initial_balance=Decimal("3"))
    with GatewayServer(settings=settings) as server:
        assert requests.get(server.url_for("/balance"), timeout=5).json()["balance"] == 3.0


def test_reset_forgets_payments_and_can_set_the_balance(store: StoreStub) -> None:
    with GatewayServer(callback_url=store.url) as server:
        requests.post(server.url_for("/payments/orders"), json={"order_id": "o", "amount": 5})
        server.reset(balance="12.50")
        assert requests.get(server.url_for("/balance"), timeout=5).json()["balance"] == 12.5
        assert requests.get(server.url_for("/payments/orders/o"), timeout=5).status_code == 404
        server.reset()
        assert server.gateway.ledger.balance == Decimal("50000.00")


def test_an_unexpected_error_in_a_request_is_raised_in_the_test(store: StoreStub) -> None:
    server = GatewayServer(callback_url=store.url)
    broken = Blueprint("broken", __name__)

    @broken.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    server.app.register_blueprint(broken)
    server.start()
    assert requests.get(server.url_for("/boom"), timeout=5).status_code == 500
    with pytest.raises(GatewayServerError, match="kaboom"):
        server.check()
    server.check()  # reported once
    requests.get(server.url_for("/boom"), timeout=5)
    with pytest.raises(GatewayServerError, match="kaboom"):
        server.stop()


def test_stop_ends_the_thread_and_frees_the_port(store: StoreStub) -> None:
    server = GatewayServer(callback_url=store.url).start()
    port = server.port
    server.stop()
    assert not server._thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/balance", timeout=2)


def test_the_stub_checks_signatures_with_its_secret() -> None:
    with (
        StoreStub(secret=OTHER_SECRET) as store,
        GatewayServer(callback_url=store.url, webhook_secret=OTHER_SECRET) as server,
    ):
        requests.post(server.url_for("/pay/order"), json={"order_id": 1, "amount": 2}, timeout=5)
        requests.post(store.url, data=b'{"order_id":1,"status":"success"}', timeout=5)
        signed, forged = store.wait_for(2)
    assert (signed.signature_valid, forged.signature_valid) == (True, False)


def test_a_status_sequence_then_the_default(store: StoreStub) -> None:
    store.respond_with(200, then=[500, 503])
    statuses = [requests.post(store.url, data=b"{}", timeout=5).status_code for _ in range(4)]
    assert statuses == [500, 503, 200, 200]


def test_a_blackholed_stub_never_answers_until_cleared(store: StoreStub) -> None:
    store.blackhole()
    with pytest.raises(requests.ReadTimeout):
        requests.post(store.url, data=b"{}", timeout=0.3)
    assert len(store.received) == 1
    store.clear()
    assert requests.post(store.url, data=b"{}", timeout=5).status_code == 200


def test_a_chunked_body_is_read_whole(store: StoreStub) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(store.base_url.rsplit(":", 1)[1]))
    connection.request(
        "POST", "/payments/confirm", body=iter([b'{"order_id":', b'"c","status":"failed"}']),
        headers={"Content-Type": "application/json"}, encode_chunked=True,
    )  # fmt: skip
    assert connection.getresponse().status == 200
    connection.close()
    assert store.received[0].json == {"order_id": "c", "status": "failed"}
    assert store.received[0].headers["Transfer-Encoding"] == "chunked"


def test_wait_for_names_what_arrived_when_it_times_out(store: StoreStub) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="store stub received 0 requests, expected 1"):
        store.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 2


def test_the_kits_clocks_come_back_to_real_time_and_refuse_when_ahead(store: StoreStub) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with GatewayServer(callback_url=store.url, clock="frozen", clock_start=an_hour_ago) as server:
        session = requests.post(server.url + "/checkout/sessions", timeout=5,
                                json={"order_id": "k-1", "amount": 2, "expires_in": 60})  # fmt: skip
        ran = server.clock.back_to_real_time()
        assert [(due.kind, due.key) for due in ran] == [
            ("session_expiry", session.json()["session"]["id"])
        ]
        assert not server.clock.frozen and server.gateway.clock.real
        server.clock.freeze()
        server.clock.advance(600)
        with pytest.raises(ClockAheadError, match="ahead of real time, and it never goes back"):
            server.clock.back_to_real_time()
        # The same through HTTP, in a namespace of its own (its clock starts where the
        # gateway's did: an hour behind, frozen).
        space = GatewayNamespace.create(server.url, "kit-clock")
        assert space.clock.back_to_real_time() == []
        assert space.clock.frozen is False
        space.clock.freeze()
        space.clock.advance(600)
        with pytest.raises(AssertionError, match="never goes back"):
            space.clock.back_to_real_time()
