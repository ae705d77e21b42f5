"""The HTTP surfaces, one folder per API (the gateway's own, seed 000, first), and what
they share: the request's Gateway, JSON bodies and answers, the activity recorder, errors."""

from __future__ import annotations

from flask import Flask

from . import gateway
from .errors import register_error_handlers
from .recorder import record_request


def register_apis(app: Flask) -> None:
    """Register every API surface, the activity recorder and the error handlers."""
    gateway.register(app)
    app.after_request(record_request)
    register_error_handlers(app)
