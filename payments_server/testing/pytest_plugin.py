"""pytest fixtures for a store's tests, loaded automatically once payments_server is installed.

`payments_gateway` is a live gateway and `store_stub` the store it calls back; both live
for the whole run and are returned to the start before each test that uses them.
`payments_namespace` is a fresh namespace per test on one gateway that every xdist worker
shares (or the one $PAYMENTS_GATEWAY_URL names), so tests run in parallel without meeting.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .gateway_namespace import GatewayConnection, GatewayNamespace, namespace_name_for
from .gateway_server import GatewayServer
from .shared_gateway import ENVIRONMENT, shared_gateway_url, stop_shared_gateway
from .store_stub import StoreStub

# The folder, named by the run's main process, where the shared gateway's URL is written.
_SHARED_FOLDER = "payments_gateway_folder"
_FOLDER_KEY = pytest.StashKey[Path]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the main process, for each worker: where the shared gateway will be."""
    config = node.config
    if _FOLDER_KEY not in config.stash:
        config.stash[_FOLDER_KEY] = Path(tempfile.mkdtemp(prefix="payments-gateway-"))
    node.workerinput[_SHARED_FOLDER] = str(config.stash[_FOLDER_KEY])


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the main process, once every worker is done: stop the shared gateway."""
    folder = config.stash.get(_FOLDER_KEY, None)
    if folder is not None:
        stop_shared_gateway(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def payments_gateway_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of the gateway `payments_namespace` makes namespaces on: $PAYMENTS_GATEWAY_URL
    if set (a CI service: nothing is started), else one gateway for the whole run, shared
    by every xdist worker (started by the first that needs it, stopped when the run ends).
    """
    external = os.environ.get(ENVIRONMENT)
    if external:
        yield external.rstrip("/")
        return
    folder = getattr(request.config, "workerinput", {}).get(_SHARED_FOLDER)
    if folder is not None:
        yield shared_gateway_url(Path(folder))
        return
    # No xdist: a gateway process all the same, so that the gateway and the tests do not
    # take turns on one interpreter's lock (each request would wait about twice as long).
    own = Path(tempfile.mkdtemp(prefix="payments-gateway-"))
    try:
        yield shared_gateway_url(own)
    finally:
        stop_shared_gateway(own)
        shutil.rmtree(own, ignore_errors=True)


@pytest.fixture(scope="session")
def _payments_gateway_connection(payments_gateway_url: str) -> Iterator[GatewayConnection]:
    # One keep-alive connection for every namespace the run makes and deletes.
    connection = GatewayConnection(payments_gateway_url)
    yield connection
    connection.close()


@pytest.fixture
def payments_namespace(
    payments_gateway_url: str,
    store_stub: StoreStub,
    request: pytest.FixtureRequest,
    _payments_gateway_connection: GatewayConnection,
) -> Iterator[GatewayNamespace]:
    """A namespace of its own for this test: an account, orders, rules, clock and callbacks
    no other test sees, its callbacks going to `store_stub`; deleted afterwards.

    Point the store's client at `payments_namespace.base_url` (every API is under it), move
    time with `payments_namespace.clock.advance(seconds)`. Made in about a millisecond.
    """
    space = GatewayNamespace.create(
        payments_gateway_url,
        namespace_name_for(request.node.name),
        callback_url=store_stub.url,
        connection=_payments_gateway_connection,
    )
    yield space
    space.delete()


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
