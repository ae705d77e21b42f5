"""The JSON API: one blueprint per area, and the error handlers that keep every answer JSON."""

from __future__ import annotations

from flask import Flask

from . import callbacks, checkout, payments, simulation, spec
from .errors import register_error_handlers
from .query import refuse_unknown_query_parameters


def register_api(app: Flask) -> None:
    """Register every JSON route and the error handlers on the app."""
    for module in (payments, callbacks, simulation, checkout, spec):
        app.register_blueprint(module.bp)
    app.before_request(refuse_unknown_query_parameters)
    register_error_handlers(app)
