"""The small PSP (seed 004) at /psp: card transactions per merchant, their payables (fees,
payment dates) and settlement on the clock; errors are {"message", "type", "details"}."""

from __future__ import annotations

from flask import Flask

from ..web import EXTENSION_KEY
from .routes import BASE_URL, bp

__all__ = ["BASE_URL", "register"]


def register(app: Flask) -> None:
    """Register the PSP's routes under its base URL; a PSP transaction is refunded only
    here, which has no refunds (the real PSP has none)."""
    app.register_blueprint(bp, url_prefix=BASE_URL)
    book = app.extensions[EXTENSION_KEY].payouts.book

    def refund_owner(order_id: object) -> str | None:
        if isinstance(order_id, str) and book.knows(order_id):
            return (
                "it is a transaction of the PSP (/psp), which has no refunds; its payable is"
                " paid out to the merchant as before"
            )
        return None

    app.extensions[EXTENSION_KEY].flow.refund_owners.append(refund_owner)
