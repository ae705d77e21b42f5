"""The gateway's own JSON API (seed 000) at /: one blueprint per area."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import PathConverter

from . import (
    activity,
    callbacks,
    checkout,
    clock,
    orders,
    payments,
    refunds,
    simulation,
    spec,
    store_check,
)  # fmt: skip
from .query import refuse_unknown_query_parameters

BLUEPRINTS = (payments, orders, refunds, callbacks, simulation, checkout, activity, clock, spec,
              store_check)  # fmt: skip


class OrderPathConverter(PathConverter):
    """An order id in a path, slashes and all, except one ending in /refunds or /decide:
    those paths are the order actions', and GET must not claim them (an OPTIONS Allow
    would list GET)."""

    regex = r"[^/].*?(?<!/refunds)(?<!/decide)"


def register(app: Flask) -> None:
    """Register the gateway API's routes, and its check of query parameters."""
    app.url_map.converters["order_path"] = OrderPathConverter
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    app.before_request(refuse_unknown_query_parameters)
