"""payments_server: a mock payments gateway for store development and integration tests."""

from __future__ import annotations

from flask import Flask

from . import api, callback_routes, simulation_routes, spec
from .callbacks import StoreNotifier
from .config import Settings
from .dispatcher import CallbackDispatcher
from .errors import register_error_handlers
from .gateway import Gateway
from .idempotency import IdempotencyStore
from .journal import Journal
from .ledger import Ledger
from .retries import RetryPolicy
from .signing import Signer
from .simulation import SimulationSettings, Simulator
from .web import EXTENSION_KEY

__version__ = "0.1.0"

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> Flask:
    """Create the gateway app with its own account; nothing is shared between apps.

    With settings.state_file the account is replayed from it; raises JournalError if the
    file is damaged (a torn last line, from a crash, is dropped with a warning).
    """
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    journal = (
        None if settings.state_file is None else Journal(settings.state_file, fsync=settings.fsync)
    )
    gateway = Gateway(
        settings=settings,
        ledger=Ledger(settings.initial_balance, journal=journal),
        callbacks=CallbackDispatcher(
            StoreNotifier(
                settings.callback_url,
                settings.callback_timeout,
                user_agent=f"payments_server/{__version__}",
                signer=Signer(settings.webhook_secret),
                pool_size=settings.threads,
            ),
            RetryPolicy(settings.callback_schedule, settings.callback_retries),
            settings.callback_log_size,
        ),
        simulator=Simulator(
            SimulationSettings(
                decline_rate=settings.decline_rate,
                seed=settings.decline_seed,
                latency_ms=settings.latency_ms,
            )
        ),
        idempotency=IdempotencyStore(journal=journal),
        journal=journal,
    )
    if journal is not None:
        gateway.restore(journal)
    app.extensions[EXTENSION_KEY] = gateway
    for blueprint in (api.bp, callback_routes.bp, simulation_routes.bp, spec.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    return app


__all__ = ["Settings", "__version__", "create_app"]
