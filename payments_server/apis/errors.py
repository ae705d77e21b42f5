"""Turns every failure, expected or not, into its API's JSON: the seed's envelope
{"status": "failed", ...}, or another surface's own shape (by the request's path)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response, current_app, got_request_exception, has_request_context, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from ..core.journal import JournalError
from ..core.refusals import RefusedError
from .index import surface_of
from .responses import json_response

log = logging.getLogger("payments_server.errors")

# Werkzeug's own descriptions are HTML-flavoured prose; these are the documented messages.
HTTP_MESSAGES = {
    404: "Not found",
    405: "Method not allowed",
    408: "Request body not received within {timeout:g} s (--body-timeout)",
    413: "Request body too large",
}


# Flask's descriptions (werkzeug's), which the card loader's Flask app answers with.
WERKZEUG_MESSAGES = {
    404: NotFound.description,
    405: MethodNotAllowed.description,
}
# The PSP's error types where its code names them.
PSP_TYPES = {400: "bad_request", 404: "not-found", 405: "method-not-allowed",
             500: "internal_server_error"}  # fmt: skip

# Where RFC 9110 defines each status, as ProblemDetails' "type" links to it.
RFC9110_SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6",
                    408: "15.5.9", 409: "15.5.10", 413: "15.5.14", 415: "15.5.16",
                    500: "15.6.1", 503: "15.6.4"}  # fmt: skip


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
    """Build a failure response in the shape of the API the request was sent to: the
    seed's {"status": "failed", "message": ..., **extra}, or the article's {"error": ...}."""
    surface = surface_of(request.path) if has_request_context() else "gateway"
    if surface == "article":
        return json_response({"error": message}, status)
    if surface == "ticketing":
        return problem_details(status, message)
    if surface == "cardloader":
        # Flask's own words for a URL or method it has no route for, as the loader answers.
        text = (
            WERKZEUG_MESSAGES.get(status, message)
            if message == HTTP_MESSAGES.get(status)
            else message
        )
        listed = [{"code": f"http-{status}", "message": text}]
        return json_response({"status": "error", "errors": listed}, status)
    if surface == "psp":
        return _psp_error(status, message)
    return json_response({"status": "failed", "message": message, **extra}, status)


def _psp_error(status: int, message: str) -> Response:
    """The PSP's {"message", "type"}: its words for a path or method it has no route for."""
    if status == 404 and message == HTTP_MESSAGES[404]:
        message = f'Resource "{request.path}" not found'
    kind = PSP_TYPES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
    return json_response({"message": message, "type": kind}, status)


def problem_details(status: int, detail: str | None = None) -> Response:
    """ASP.NET Core's ProblemDetails (RFC 9457), as the ticketing service's framework
    answers what reaches no action: its type, title and status, and what went wrong."""
    body: dict[str, object] = {
        "type": f"https://tools.ietf.org/html/rfc9110#section-{RFC9110_SECTIONS.get(status, '15')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail is not None:
        body["detail"] = detail
    response = json_response(body, status)
    response.headers["Content-Type"] = "application/problem+json; charset=utf-8"
    return response


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
