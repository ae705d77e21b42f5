"""The small PSP (seed 004) at /psp: card transactions per merchant, their payables (fees,
payment dates) and settlement on the clock; errors are {"message", "type", "details"}."""

from __future__ import annotations

from flask import Flask

from .routes import BASE_URL, bp

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the PSP's routes under its base URL."""
    app.register_blueprint(bp, url_prefix=BASE_URL)
