"""POST /store-check: the store's report card (docs/check-store.md) against the callback URL
the gateway is configured with, for the dashboard's button."""

from __future__ import annotations

from flask import Blueprint, Response

from ...callbacks.store_check import StoreChecker
from ..responses import json_response
from ..web import gateway

bp = Blueprint("store_check", __name__)


@bp.post("/store-check")
def store_check() -> Response:
    """Run the checks that need no order against --callback-url, signed with the gateway's
    secret; each request waits at most --callback-timeout."""
    settings = gateway().settings
    # The gateway calls this URL anyway: no loopback rule here, unlike the CLI's.
    checker = StoreChecker(
        settings.callback_url, settings.webhook_secret,
        timeout=settings.callback_timeout, callback_timeout=settings.callback_timeout,
    )  # fmt: skip
    return json_response({"status": "success", **checker.run().to_json()})
