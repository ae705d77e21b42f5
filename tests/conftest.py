"""Shared fixtures: a real store stub, and an app whose callbacks go to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server import Settings, close_app, create_app
from payments_server.testing import StoreStub

# The longest tests, slowest first (about 130, 60, 15, 14 and 10 s on 2 cores). `make test`
# runs `-n auto --dist worksteal`: each worker gets a contiguous block of the collection
# and the others steal from its end, so each block starts with its share of these and no
# worker is left with one of them at the end.
SLOWEST = (
    "tests/live/test_fuzz.py::test_schemathesis_finds_no_server_error_undocumented_status_or_schema_violation[plain]",
    "tests/live/test_fuzz.py::test_schemathesis_finds_no_server_error_undocumented_status_or_schema_violation[with-hooks]",
    "tests/live/test_stress.py::",
    "tests/apis/gateway/test_model.py::",
    "tests/testing/test_pytest_plugin.py::test_the_fixtures_work_under_xdist",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core, since most tests wait on a real server, a browser,
    a store or the fuzzer's own pace rather than on the CPU (on 2 cores `make test` took
    236 s with 2 workers, 173 s with 3, 164 s with 4, when it had no 800-test xdist run
    and a shorter fuzz)."""
    return max(2, (os.cpu_count() or 1) * 2)


def _rank(item: pytest.Item) -> int | None:
    return next((n for n, start in enumerate(SLOWEST) if item.nodeid.startswith(start)), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, deal the slowest tests to the start of each worker's block."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    workers = int(workerinput.get("workercount", 1))
    if workers < 2:
        return
    slow = sorted((item for item in items if _rank(item) is not None), key=lambda i: _rank(i) or 0)
    rest = iter([item for item in items if _rank(item) is None])
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker in range(workers):
        # As worksteal cuts the collection: len(pending) // nodes remaining.
        size = left // (workers - worker)
        left -= size
        block = slow[worker::workers]
        block += [next(rest) for _ in range(size - len(block))]
        ordered += block
    items[:] = ordered


@pytest.fixture
def store() -> Iterator[StoreStub]:
    """A real HTTP store on 127.0.0.1 that records callbacks."""
    with StoreStub() as stub:
        yield stub


@pytest.fixture
def settings(store: StoreStub) -> Settings:
    """Default settings, with callbacks going to the store stub."""
    return Settings(callback_url=store.url, callback_timeout=2.0)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """A fresh gateway app."""
    app = create_app(settings)
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def make_client(store: StoreStub) -> Iterator[MakeClient]:
    """Build gateways calling the store stub with some settings changed; closed afterwards."""
    apps = []

    def build(**changes: object) -> FlaskClient:
        options: dict[str, object] = {"callback_url": store.url, "callback_timeout": 2.0}
        app = create_app(Settings(**{**options, **changes}))  # type: ignore[arg-type]
        apps.append(app)
        return app.test_client()

    yield build
    for app in apps:
        close_app(app)
