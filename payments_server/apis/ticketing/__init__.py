"""The ticketing platform's payment service (seed 001) at /ticketing: POST /payments as
its ASP.NET Core controller answers, and the payments it made."""

from __future__ import annotations

from flask import Flask

from ..web import EXTENSION_KEY
from .payments import Payments
from .routes import BASE_URL, EXTENSION, bp

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the ticketing API's routes under its base URL, with its payments' store."""
    app.extensions[EXTENSION] = Payments(app.extensions[EXTENSION_KEY].ledger)
    app.register_blueprint(bp, url_prefix=BASE_URL)
