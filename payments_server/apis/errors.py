"""Turns every failure, expected or not, into its API's JSON: the seed's envelope
{"status": "failed", ...}, or another API's own shape (its Surface.error, by the path)."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, got_request_exception
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..core.journal import JournalError
from ..core.refusals import RefusedError
from .responses import json_response
from .surface import current_surface

log = logging.getLogger("payments_server.errors")

# Werkzeug's own descriptions are HTML-flavoured prose; these are the documented messages.
HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    408: "Request body not received within {timeout:g} s (--body-timeout)",
    413: "Request body too large",
}


class ApiError(Exception):
    """A request we refuse: its HTTP status, message, and any extra keys for the body."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def to_response(self) -> Response:
        """The JSON failure response for this error."""
        return failure(self.status, self.message, **self.extra)


def failure(status: int, message: str, **extra: object) -> Response:
    """Build a failure response in the shape of the API the request was sent to (its
    Surface.error): the seed's {"status": "failed", "message": ..., **extra} by default."""
    surface = current_surface()
    if surface is None:
        return json_response({"status": "failed", "message": message, **extra}, status)
    return surface.error(status, message, extra)


def register_error_handlers(app: Flask) -> None:
    """Make every error, expected or not, answer with the JSON envelope and never HTML."""
    app.register_error_handler(ApiError, ApiError.to_response)
    app.register_error_handler(RefusedError, refused)
    app.register_error_handler(JournalError, _journal_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def refused(exc: RefusedError) -> Response:
    """The answer to a refusal: its status, the seed's message and its details."""
    return failure(exc.status, exc.message, **exc.details)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = failure(status, HTTP_MESSAGES.get(status, exc.name))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _journal_error(exc: JournalError) -> Response:
    # The change was refused before it touched the account: nothing happened.
    log.error("%s; the request changed nothing", exc)
    return failure(503, f"{exc}; nothing was changed")


def _unexpected_error(exc: Exception) -> Response:
    log.exception("unexpected error while handling a request")
    # Handled here, so Flask would not send its signal; GatewayServer listens for it.
    got_request_exception.send(current_app._get_current_object(), exception=exc)  # type: ignore[attr-defined]
    return failure(500, "Internal server error")
