"""The Braintree prepaid-card loader (seed 003) at /cardloader: client tokens, card loads
paid with a nonce under compliance limits, and the cards; errors are
{"status": "error", "errors": [{"code", "message"}]}."""

from __future__ import annotations

from flask import Flask

from .routes import BASE_URL, bp

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the card loader's routes under its base URL."""
    app.register_blueprint(bp, url_prefix=BASE_URL)
