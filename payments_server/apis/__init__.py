"""The HTTP surfaces, one folder per API (the gateway's own, seed 000, first), and what
they share: the request's Account, JSON bodies and answers, the activity recorder, errors."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, request

from .api_fault_hooks import lose_the_answer, meet_api_fault
from .errors import HTTP_MESSAGES, ApiError, register_error_handlers
from .guard import guard
from .namespace_routing import NamespacePrefix, enter_namespace
from .recorder import record_request
from .surface import SURFACES_KEY, Surface
from .web import BODY_PROBLEM


def register_apis(app: Flask, surfaces: Sequence[Surface]) -> None:
    """Register every API surface, the activity recorder and the error handlers."""
    app.extensions[SURFACES_KEY] = tuple(surfaces)
    app.wsgi_app = NamespacePrefix(app.wsgi_app)  # type: ignore[method-assign]
    # One hook each way, not one per concern: they run on every request.
    app.before_request(_before_each_request)
    for surface in surfaces:
        surface.register(app)
    app.after_request(_after_each_request)
    register_error_handlers(app)


def _before_each_request() -> Response | None:
    environ = request.environ
    state = enter_namespace(environ)
    status = environ.get(BODY_PROBLEM)
    if status is not None:
        # The server could not read the body in time (or it was too large): say so,
        # changing nothing, in the API's own shape.
        timeout = state.settings.body_timeout
        raise ApiError(status, HTTP_MESSAGES[status].format(timeout=timeout))
    guard(environ, state.settings)
    return meet_api_fault(state)


def _after_each_request(response: Response) -> Response:
    # A lost answer first, so that the recorder keeps the answer the client got.
    response = record_request(lose_the_answer(response))
    # Every answer is what its Content-Type says: a browser must not guess otherwise.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
