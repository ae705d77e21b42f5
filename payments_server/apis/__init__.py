"""The HTTP surfaces, one folder per API (the gateway's own, seed 000, first), and what
they share: the request's Gateway, JSON bodies and answers, the activity recorder, errors."""

from __future__ import annotations

from flask import Flask, Response

from . import gateway
from .errors import register_error_handlers
from .guard import guard
from .recorder import record_request


def register_apis(app: Flask) -> None:
    """Register every API surface, the activity recorder and the error handlers."""
    app.before_request(guard)
    gateway.register(app)
    app.after_request(record_request)
    app.after_request(_no_sniffing)
    register_error_handlers(app)


def _no_sniffing(response: Response) -> Response:
    # Every answer is what its Content-Type says: a browser must not guess otherwise.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
