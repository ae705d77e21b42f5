"""Shared fixtures: a real store stub, and an app whose callbacks go to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from helpers import MakeClient
from payments_server import Settings, create_app
from payments_server.api.web import EXTENSION_KEY
from payments_server.testing import StoreStub


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
    app.extensions[EXTENSION_KEY].close()


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
        app.extensions[EXTENSION_KEY].close()
