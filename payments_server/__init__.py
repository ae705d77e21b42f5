"""payments_server: a mock payments gateway for store development and integration tests."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask

from .account import Account, stream_slots
from .apis import register_apis
from .apis.flask_app import GatewayFlask
from .apis.namespace_routing import NAMESPACES_KEY
from .apis.registry import SURFACES
from .apis.responses import BufferedResponse
from .apis.surface import Surface
from .apis.web import EXTENSION_KEY
from .callbacks.connection_pool import ConnectionPool
from .config import Settings
from .namespaces import Namespaces
from .publishing.kafka import EventPublisher
from .ui import register_ui

__version__ = "0.1.0"

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, surfaces: Sequence[Surface] = SURFACES) -> Flask:
    """Create the gateway app with its own account, speaking `surfaces` (every API by
    default; a test may add its own); nothing is shared between apps.

    With settings.state_file the account is replayed from it; raises JournalError if the
    file is damaged (a torn last line, from a crash, is dropped with a warning).
    """
    settings = settings or Settings()
    app = GatewayFlask(__name__)
    app.response_class = BufferedResponse
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    namespaces = _namespaces(settings, surfaces)
    app.extensions[EXTENSION_KEY] = namespaces.default
    app.extensions[NAMESPACES_KEY] = namespaces
    register_apis(app, surfaces)
    register_ui(app)
    return app


def close_app(app: Flask) -> int:
    """Close an app made by create_app(): every namespace's timers, connections and state
    file, and its Kafka client; return how many callbacks were still pending."""
    namespaces: Namespaces = app.extensions[NAMESPACES_KEY]
    return namespaces.close()


def _namespaces(settings: Settings, surfaces: Sequence[Surface]) -> Namespaces:
    """The default account and every namespace kept beside the state file, sharing one
    Kafka client, one cap on open streams and one pool of connections to stores."""
    publisher = (
        None
        if settings.kafka_bootstrap_servers is None
        else EventPublisher(settings.kafka_bootstrap_servers, currency=settings.currency)
    )
    streams = stream_slots(settings)
    connections = ConnectionPool(settings.threads)
    agent = f"payments_server/{__version__}"

    def make(chosen: Settings, namespace: str | None) -> Account:
        return Account.from_settings(
            chosen, agent, surfaces,
            namespace=namespace, publisher=publisher, streams=streams, connections=connections,
        )  # fmt: skip

    try:
        namespaces = Namespaces(make(settings, None), make, publisher, connections)
    except BaseException:
        if publisher is not None:
            publisher.close()
        connections.close()
        raise
    try:
        namespaces.restore()
    except BaseException:
        namespaces.close()
        raise
    return namespaces


__all__ = ["Settings", "Surface", "__version__", "close_app", "create_app"]
