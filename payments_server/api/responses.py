"""JSON answers: the body written by core.jsonio, with a trailing newline as jsonify does."""

from __future__ import annotations

from flask import Response

from ..core.jsonio import dumps

MIMETYPE = "application/json"


def json_response(payload: object, status: int = 200) -> Response:
    """Build a JSON response with a trailing newline, as Flask's jsonify does."""
    return Response(dumps(payload) + "\n", status=status, mimetype=MIMETYPE)
