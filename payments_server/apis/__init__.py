"""The HTTP surfaces, one folder per API (the gateway's own, seed 000, first), and what
they share: the request's Account, JSON bodies and answers, the activity recorder, errors."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, request

from .api_faults import lose_the_answer, meet_api_fault
from .errors import HTTP_MESSAGES, ApiError, register_error_handlers
from .guard import guard
from .namespace_routing import NamespacePrefix, enter_namespace
from .recorder import record_request
from .surface import SURFACES_KEY, Surface
from .web import BODY_PROBLEM
from .web import account as current_gateway


def register_apis(app: Flask, surfaces: Sequence[Surface]) -> None:
    """Register every API surface, the activity recorder and the error handlers."""
    app.extensions[SURFACES_KEY] = tuple(surfaces)
    app.wsgi_app = NamespacePrefix(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(enter_namespace)
    app.before_request(_refuse_unread_body)
    app.before_request(guard)
    app.before_request(meet_api_fault)
    for surface in surfaces:
        surface.register(app)
    app.after_request(record_request)
    app.after_request(_no_sniffing)
    # Registered last, so it runs first: the recorder keeps the answer the client got.
    app.after_request(lose_the_answer)
    register_error_handlers(app)


def _refuse_unread_body() -> None:
    # The server could not read the body in time (or it was too large): say so, changing
    # nothing, in the API's own shape.
    status = request.environ.get(BODY_PROBLEM)
    if status is not None:
        timeout = current_gateway().settings.body_timeout
        raise ApiError(status, HTTP_MESSAGES[status].format(timeout=timeout))


def _no_sniffing(response: Response) -> Response:
    # Every answer is what its Content-Type says: a browser must not guess otherwise.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
