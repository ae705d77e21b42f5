"""The JSON API: one blueprint per area, and the error handlers that keep every answer JSON."""

from __future__ import annotations

from flask import Flask

from . import callbacks, payments, simulation, spec
from .errors import register_error_handlers


def register_api(app: Flask) -> None:
    """Register every JSON route and the error handlers on the app."""
    for module in (payments, callbacks, simulation, spec):
        app.register_blueprint(module.bp)
    register_error_handlers(app)
