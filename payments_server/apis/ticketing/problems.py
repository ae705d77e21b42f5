"""ASP.NET Core's ProblemDetails (RFC 9457), as the ticketing service's framework answers
what reaches no action, and every failure of this API that is not the controller's."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from ..responses import json_response

# Where RFC 9110 defines each status, as ProblemDetails' "type" links to it.
RFC9110_SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6",
                    408: "15.5.9", 409: "15.5.10", 413: "15.5.14", 415: "15.5.16",
                    500: "15.6.1", 503: "15.6.4"}  # fmt: skip


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
