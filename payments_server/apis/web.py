"""What every route module shares: the app's gateway and reading a JSON object body."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..core import jsonio
from ..core.urls import is_callback_url, is_http_url
from .errors import ApiError

if TYPE_CHECKING:
    # Only the type: the gateway composes the API, so the API must not import it at run time.
    from ..account import Account

T = TypeVar("T")
EXTENSION_KEY = "payments_server"
# More digits than any bound of a query parameter has.
MAX_DIGITS = 18
# What a URL keeps as it is when its other characters are percent-encoded (RFC 3986).
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
# The largest body any route takes (PUT /simulation's); the server refuses a longer one
# with 413 before reading it. Other routes take 64 KiB (MAX_CONTENT_LENGTH).
LARGEST_BODY = 4 * 1024 * 1024
# Set in the environ by the server (rsgi_bridge) when it could not read the body: 408 (not
# in time) or 413 (too large). The app answers it in each API's shape, changing nothing.
BODY_PROBLEM = "payments_server.body_problem"
# In the environ: a callable giving a threading.Event the server sets when the client has
# gone (made when first asked for: most requests never ask).
DISCONNECTED = "payments_server.disconnected"
# Every list answers a page: this many items unless ?limit= says otherwise, up to MAX_PAGE.
PAGE = 100
MAX_PAGE = 1000


def account() -> Account:
    """The account of the namespace this request is in (apis/namespace_routing.py): the
    app's own, the default namespace's, unless the request named another."""
    try:
        chosen: Account = g.account  # kept by enter_namespace(), once per request
    except AttributeError:  # before it ran, or outside a request's hooks
        chosen = current_app.extensions[EXTENSION_KEY]
    return chosen


def raw_body() -> bytes:
    """The request body, read once and kept for whoever asks next; 413 over the limit."""
    if "raw_body" not in g:
        g.raw_body = _read_body()
    body: bytes = g.raw_body
    return body


def _read_body() -> bytes:
    limit = request.max_content_length
    if request.content_length is not None or limit is None:
        return request.get_data()
    # A chunked body has no length to check first, and werkzeug would cut it at the limit
    # without a word (granian passes it on as it comes).
    data = request.input_stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return data


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
    except jsonio.LoneSurrogateError as exc:
        raise ApiError(400, str(exc)) from None
    except ValueError:
        raise ApiError(400, "Request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    g.json_body = body  # for the activity log: which order the request was about
    return body


def about_order(order_id: object) -> None:
    """Say which order this request is about, for the activity log's order filter and the
    dashboard's order drawer (a body that names it as order_id says so by itself)."""
    g.json_body = {"order_id": order_id}


def page_limit() -> int:
    """?limit= of a list: how many items one answer carries, 1 to MAX_PAGE (default PAGE)."""
    return int_arg("limit", PAGE, 1, MAX_PAGE)


def page_offset() -> int:
    """?offset= of a list: how many items of it the page skips (default 0); a position past
    the end is an empty page."""
    return int_arg("offset", 0, 0, None)


def page_of(items: list[T]) -> list[T]:
    """The page of a list that ?offset= and ?limit= ask for."""
    offset = page_offset()
    return items[offset : offset + page_limit()]


def int_arg(name: str, default: int, low: int, high: int | None) -> int:
    """The query parameter as a whole number within bounds, or `default`; 400 otherwise."""
    text = request.args.get(name)
    if text is None:
        return default
    digits = text.isascii() and text.isdigit()
    if digits and len(text) > MAX_DIGITS and high is None:
        # A position past any history (the document sets no bound): an empty page, nothing
        # after it. Not int(): it refuses 4,300 digits, and this needs none of them.
        return sys.maxsize
    value = int(text) if digits and len(text) <= MAX_DIGITS else None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ApiError(400, f"'{name}' must be a whole number {bounds}, got {text!r}")
    return value


def url_field(body: dict[str, Any], name: str) -> str | None:
    """An optional absolute http(s) URL of a body; 400 if it is not one, or is a callback URL
    a request could not carry."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2048 or not is_http_url(value):
        raise ApiError(400, f"'{name}' must be an absolute http:// or https:// URL")
    if name == "callback_url" and not is_callback_url(value):
        # Refused before any money moves: a callback could never be sent there.
        raise ApiError(
            400, "'callback_url' must be in ASCII: percent-encode other characters"
            f" ({quote(value, safe=URL_SAFE)})",
        )  # fmt: skip
    return value
