"""The article's hosted-payment gateway (seed 002) at /article: create-session, status,
and a callback of {"transaction_id", "status"}; its errors are {"error": "..."}."""

from __future__ import annotations

from flask import Flask

from .routes import BASE_URL, bp

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the article API's routes under its base URL."""
    app.register_blueprint(bp, url_prefix=BASE_URL)
