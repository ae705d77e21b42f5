"""What every route module shares: the app's gateway and reading a JSON object body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, request

from ..core import jsonio
from .errors import ApiError

if TYPE_CHECKING:
    # Only the type: the gateway composes the API, so the API must not import it at run time.
    from ..gateway import Gateway

EXTENSION_KEY = "payments_server"


def gateway() -> Gateway:
    """The state of the app handling this request."""
    return current_app.extensions[EXTENSION_KEY]


def raw_body() -> bytes:
    """The request body, read once and kept for whoever asks next."""
    return request.get_data(cache=True)


def json_object() -> dict[str, Any]:
    """The body as a JSON object, whatever the Content-Type; 400 if it is anything else."""
    body = optional_json_object()
    if body is None:
        raise ApiError(400, "Request body must be JSON")
    return body


def optional_json_object() -> dict[str, Any] | None:
    """The body as a JSON object, or None when there is no body at all."""
    # curl -d without -H sends a form Content-Type with a JSON body.
    data = raw_body()
    if not data.strip():
        return None
    try:
        body = jsonio.loads(data)
    except RecursionError:
        raise ApiError(400, "Request body is nested too deeply") from None
    except ValueError:
        raise ApiError(400, "Request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body
