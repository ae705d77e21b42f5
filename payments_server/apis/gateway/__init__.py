"""The gateway's own JSON API (seed 000) at /: one blueprint per area."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Flask
from werkzeug.routing import PathConverter

from ..surface import Surface
from . import (
    activity,
    callbacks,
    checkout,
    clock,
    namespaces,
    orders,
    payments,
    refunds,
    simulation,
    spec,
    store_check,
)  # fmt: skip
from .query import refuse_unknown_query_parameters

BLUEPRINTS = (payments, orders, refunds, callbacks, simulation, checkout, activity, clock, spec,
              store_check, namespaces)  # fmt: skip
# The areas whose writes the activity log keeps: the payment's, not the clock's or a look.
RECORDED = frozenset({"payments", "refunds", "callbacks", "simulation", "checkout"})
# Checking a signature changes nothing, and its body may hold the store's secret: the
# recorder leaves this endpoint out (apis/recorder.py).


class OrderPathConverter(PathConverter):
    """An order id in a path, slashes and all, except one ending in /refunds or /decide:
    those paths are the order actions', and GET must not claim them (an OPTIONS Allow
    would list GET)."""

    regex = r"[^/].*?(?<!/refunds)(?<!/decide)"


class GatewayApi(Surface):
    """payments_server's own API: the account, orders, refunds, callbacks, sessions, clock."""

    id = payments.API
    title = "payments_server's own API"
    base_url = ""
    docs = "docs/api.md"

    def blueprints(self) -> Sequence[Blueprint]:
        """One blueprint per area."""
        return tuple(module.bp for module in BLUEPRINTS)

    def register(self, app: Flask) -> None:
        """Register the routes, and the check of query parameters the document lists."""
        app.url_map.converters["order_path"] = OrderPathConverter
        super().register(app)
        app.before_request(refuse_unknown_query_parameters)

    def recorded(self) -> frozenset[str]:
        """The payment's areas (RECORDED)."""
        return RECORDED
