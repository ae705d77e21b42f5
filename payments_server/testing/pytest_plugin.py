"""pytest fixtures for a store's tests, loaded automatically once payments_server is installed.

`payments_gateway` is a live gateway and `store_stub` the store it calls back; both live
for the whole run and are returned to the start before each test that uses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .gateway_server import GatewayServer
from .store_stub import StoreStub


@pytest.fixture(scope="session")
def payments_gateway_settings() -> dict[str, Any]:
    """Extra settings for `payments_gateway`, by their Settings names; override to change.

    For example, in your conftest.py: return {"callback_retries": 0, "initial_balance": 100}.
    """
    return {}


@pytest.fixture(scope="session")
def store_stub() -> Iterator[StoreStub]:
    """A store on 127.0.0.1 that records the gateway's callbacks; cleared before each test.

    `received` lists them (`.json`, `.headers`, `.body`, `.signature_valid`), `wait_for(n)`
    waits for n of them, and `respond_with(500)`, `respond_with(200, then=[500, 500])`,
    `respond_with(delay=...)` and `blackhole()` script its answers.
    """
    with StoreStub() as stub:
        yield stub


@pytest.fixture(scope="session")
def payments_gateway(
    store_stub: StoreStub, payments_gateway_settings: dict[str, Any]
) -> Iterator[GatewayServer]:
    """A live payments_server on 127.0.0.1 (a free port), calling back `store_stub`.

    One server for the whole run, reset before each test that uses it: balance 50000.0,
    no payments, callbacks, idempotency keys or pending retries. `url_for("/balance")`
    gives a URL; `reset(balance=...)` starts from another balance; `clock.freeze()` and
    `clock.advance(seconds)` move its time through expiry, pending decisions and retries
    (each reset puts it back on real time).
    """
    options = {"callback_url": store_stub.url, "callback_timeout": 2.0}
    with GatewayServer(**{**options, **payments_gateway_settings}) as server:
        yield server


@pytest.fixture(autouse=True)
def _payments_server_fresh_state(request: pytest.FixtureRequest) -> Iterator[None]:
    # Session-wide servers are cheap to share but must not carry state between tests.
    server: GatewayServer | None = None
    if "payments_gateway" in request.fixturenames:
        server = request.getfixturevalue("payments_gateway")
        server.reset()
    if "store_stub" in request.fixturenames:
        request.getfixturevalue("store_stub").clear()
    yield
    if server is not None:
        server.check()
