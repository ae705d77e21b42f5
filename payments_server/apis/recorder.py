"""Every JSON API request that could change something, kept in the activity log as it came
in and went out: the dashboard's timeline and its copy-as-curl start here."""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from ..core.card_data import SUSPECT, redact_body, redact_text
from ..core.transactions import OrderId, as_order_id
from .curl import as_curl
from .surface import surface_for
from .web import account

# Checking a signature changes nothing, and its body may hold the store's secret.
NOT_RECORDED = frozenset({"callbacks.verify_callback"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Request headers that say something about the payment, replayed by copy-as-curl.
KEPT_HEADERS = (
    ("Content-Type", "CONTENT_TYPE"),
    ("Idempotency-Key", "HTTP_IDEMPOTENCY_KEY"),
    ("Payments-Namespace", "HTTP_PAYMENTS_NAMESPACE"),
)
MAX_SHOWN = 4096


def record_request(response: Response) -> Response:
    """After each request: keep it in the activity log if it is a JSON API write."""
    # The areas each API keeps (Surface.recorded); pages (which carry card numbers) never.
    if request.method not in WRITES or request.endpoint in NOT_RECORDED:
        return response
    if g.get("namespace_refused"):
        return response  # no namespace's: the name was refused
    surface = surface_for(request.path)
    if request.blueprint not in surface.recorded():
        return response
    # Only raw values here, read straight from the WSGI environ: this runs on every
    # payment, and the text shown (the URL, the curl command) is made when it is looked at.
    environ = request.environ
    method, status = request.method, response.status_code
    path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
    if query and SUSPECT.search(query.encode("latin-1", "replace")):
        query = redact_text(query)
    # The namespace's prefix (SCRIPT_NAME) belongs to the URL a copied command sends to.
    origin = (
        f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        + environ.get("SCRIPT_NAME", "")
    )
    headers = {name: environ[key] for name, key in KEPT_HEADERS if key in environ}
    # Card data is masked now, not when shown: the log must never hold a number.
    body = redact_body(g.get("raw_body", b""))
    answer = b"" if response.is_streamed else response.get_data()

    def detail() -> dict[str, Any]:
        where = f"{path}?{query}" if query else path
        return {
            "api": surface.id,
            "method": method,
            "path": where,
            "status": status,
            "request_body": _shown(body),
            "response_body": _shown(answer),
            "curl": as_curl(method, origin + where, headers, body[:MAX_SHOWN]),
        }

    account().activity.add("request", f"{method} {path} {status}", _order_of(), str(status), detail)
    return response


def _order_of() -> OrderId | None:
    """The order the request was about, as the timeline's order filter matches it."""
    arguments = request.view_args or {}
    if "order_id" in arguments:  # an order action: refunds, decide
        return as_order_id(arguments["order_id"])
    session_id = arguments.get("session_id")
    if session_id is not None:
        session = account().checkout.sessions.get(session_id)
        return None if session is None else session.order_id
    parsed = g.get("json_body")
    if not isinstance(parsed, dict):
        return None
    # The order, as each API names it: the article's transaction, the ticketing orderId.
    named = {key.lower(): value for key, value in parsed.items() if isinstance(key, str)}
    for key in ("order_id", "transaction_id", "orderid"):
        if key in named:
            return as_order_id(named[key])
    return None


def _shown(data: bytes) -> str:
    text = data[:MAX_SHOWN].decode("utf-8", "replace")
    return text + f"… ({len(data)} bytes in all)" if len(data) > MAX_SHOWN else text
