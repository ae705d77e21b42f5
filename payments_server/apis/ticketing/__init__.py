"""The ticketing platform's payment service (seed 001) at /ticketing: POST /payments as
its ASP.NET Core controller answers, and the payments it made."""

from __future__ import annotations

import uuid

from flask import Flask

from ..web import EXTENSION_KEY
from .payments import Payments
from .routes import BASE_URL, EXTENSION, bp

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the ticketing API's routes under its base URL, with its payments' store."""
    payments = app.extensions[EXTENSION] = Payments(app.extensions[EXTENSION_KEY].ledger)
    app.register_blueprint(bp, url_prefix=BASE_URL)

    def refund_owner(order_id: object) -> str | None:
        try:
            order = uuid.UUID(str(order_id))
        except ValueError:
            return None
        if str(order) == order_id and payments.for_order(order):
            return (
                "it was paid through the ticketing service (/ticketing), which has no refunds;"
                " its payment stays succeeded"
            )
        return None

    app.extensions[EXTENSION_KEY].flow.refund_owners.append(refund_owner)
