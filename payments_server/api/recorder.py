"""Every JSON API request that could change something, kept in the activity log as it came
in and went out: the dashboard's timeline and its copy-as-curl start here."""

from __future__ import annotations

from flask import Response, g, request

from ..core import jsonio
from ..core.transactions import OrderId, as_order_id
from .curl import as_curl
from .web import gateway

# The areas whose POSTs and PUTs are kept; pages (which carry card numbers) never are.
RECORDED_BLUEPRINTS = frozenset({"payments", "callbacks", "simulation", "checkout"})
# Checking a signature changes nothing, and its body may hold the store's secret.
NOT_RECORDED = frozenset({"callbacks.verify_callback"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Request headers that say something about the payment, replayed by copy-as-curl.
KEPT_HEADERS = ("Content-Type", "Idempotency-Key")
MAX_SHOWN = 4096


def record_request(response: Response) -> Response:
    """After each request: keep it in the activity log if it is a JSON API write."""
    if (
        request.method not in WRITES
        or request.blueprint not in RECORDED_BLUEPRINTS
        or request.endpoint in NOT_RECORDED
    ):
        return response
    state = gateway()
    body: bytes = g.get("raw_body", b"")
    headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    status = response.status_code
    state.activity.add(
        "request",
        f"{request.method} {request.path} {status}",
        _order_of(body),
        str(status),
        method=request.method,
        path=request.full_path.rstrip("?"),
        status=status,
        request_body=_shown(body),
        response_body=_shown(b"" if response.is_streamed else response.get_data()),
        curl=as_curl(request.method, request.url, headers, body[:MAX_SHOWN]),
    )
    return response


def _order_of(body: bytes) -> OrderId | None:
    """The order the request was about, as the timeline's order filter matches it."""
    session_id = (request.view_args or {}).get("session_id")
    if session_id is not None:
        session = gateway().checkout.sessions.get(session_id)
        return None if session is None else session.order_id
    if b"order_id" not in body:
        return None
    try:
        parsed = jsonio.loads(body)
    except (ValueError, RecursionError):
        return None
    return as_order_id(parsed.get("order_id")) if isinstance(parsed, dict) else None


def _shown(data: bytes) -> str:
    text = data[:MAX_SHOWN].decode("utf-8", "replace")
    return text + f"… ({len(data)} bytes in all)" if len(data) > MAX_SHOWN else text
