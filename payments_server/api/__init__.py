"""The JSON API: one blueprint per area, and the error handlers that keep every answer JSON."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import PathConverter

from . import activity, callbacks, checkout, clock, orders, payments, refunds, simulation, spec
from .errors import register_error_handlers
from .query import refuse_unknown_query_parameters
from .recorder import record_request


class OrderPathConverter(PathConverter):
    """An order id in a path, slashes and all, except one ending in /refunds or /decide:
    those paths are the order actions', and GET must not claim them (an OPTIONS Allow
    would list GET)."""

    regex = r"[^/].*?(?<!/refunds)(?<!/decide)"


def register_api(app: Flask) -> None:
    """Register every JSON route and the error handlers on the app."""
    app.url_map.converters["order_path"] = OrderPathConverter
    for module in (
        payments,
        orders,
        refunds,
        callbacks,
        simulation,
        checkout,
        activity,
        clock,
        spec,
    ):
        app.register_blueprint(module.bp)
    app.before_request(refuse_unknown_query_parameters)
    app.after_request(record_request)
    register_error_handlers(app)
