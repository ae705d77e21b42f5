"""The JSON API: one blueprint per area, and the error handlers that keep every answer JSON."""

from __future__ import annotations

from flask import Flask

from . import activity, callbacks, checkout, payments, simulation, spec
from .errors import register_error_handlers
from .query import refuse_unknown_query_parameters
from .recorder import record_request


def register_api(app: Flask) -> None:
    """Register every JSON route and the error handlers on the app."""
    for module in (payments, callbacks, simulation, checkout, activity, spec):
        app.register_blueprint(module.bp)
    app.before_request(refuse_unknown_query_parameters)
    app.after_request(record_request)
    register_error_handlers(app)
