"""The Braintree prepaid-card loader (seed 003) at /cardloader: client tokens, card loads
paid with a nonce under compliance limits, and the cards; errors are
{"status": "error", "errors": [{"code", "message"}]}."""

from __future__ import annotations

import re

from flask import Flask

from ..web import EXTENSION_KEY
from .routes import BASE_URL, bp

# The order id of every card load (routes.py): the card loader owns such an order.
LOAD_ORDER = re.compile(r"card-[0-9]+-load-[0-9a-f]{8}")

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the card loader's routes under its base URL; a card load is refunded only
    here, which has no refunds (the real loader has none)."""
    app.register_blueprint(bp, url_prefix=BASE_URL)
    app.extensions[EXTENSION_KEY].flow.refund_owners.append(_refund_owner)


def _refund_owner(order_id: object) -> str | None:
    if isinstance(order_id, str) and LOAD_ORDER.fullmatch(order_id):
        return (
            "it is a card load of the card loader (/cardloader), which has no refunds; the card"
            " keeps the money and the load counts against its limits"
        )
    return None
