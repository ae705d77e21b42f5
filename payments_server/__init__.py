"""payments_server: a mock payments gateway for store development and integration tests."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask

from .account import Account
from .apis import register_apis
from .apis.registry import SURFACES
from .apis.responses import BufferedResponse
from .apis.surface import Surface
from .apis.web import EXTENSION_KEY
from .config import Settings
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
    app = Flask(__name__)
    app.response_class = BufferedResponse
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[EXTENSION_KEY] = Account.from_settings(
        settings, user_agent=f"payments_server/{__version__}", surfaces=surfaces
    )
    register_apis(app, surfaces)
    register_ui(app)
    return app


__all__ = ["Settings", "Surface", "__version__", "create_app"]
