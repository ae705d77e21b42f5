"""POST /store-check starts the store's report card (docs/check-store.md) against the
callback URL the gateway is configured with, for the dashboard's button; GET /store-check
tells how it went. The checks run on a thread of their own, one run at a time."""

from __future__ import annotations

from flask import Blueprint, Response

from ...callbacks.report_card import StoreChecker
from ...core.jsonio import format_time
from ..responses import json_response
from ..web import account

bp = Blueprint("store_check", __name__)


@bp.post("/store-check")
def start_store_check() -> Response:
    """Start the checks that need no order against --callback-url, signed with the gateway's
    secret, each request waiting at most --callback-timeout; 202 at once (a run already
    going on is that run)."""
    state = account()
    settings = state.settings
    # The gateway calls this URL anyway: no loopback rule here, unlike the CLI's.
    checker = StoreChecker(
        settings.callback_url, settings.webhook_secret,
        timeout=settings.callback_timeout, callback_timeout=settings.callback_timeout,
    )  # fmt: skip
    started = state.store_check.start(checker, lambda: format_time(state.clock.now()))
    response = json_response({"status": "success", **started}, 202)
    response.headers["Location"] = "/store-check"
    return response


@bp.get("/store-check")
def store_check() -> Response:
    """The running check, or the last report: {"state": "none" | "running" | "done", ...}."""
    return json_response({"status": "success", **account().store_check.latest()})
