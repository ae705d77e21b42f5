"""API faults over HTTP: a request that meets one (PUT /simulation "api_faults") fails the
way real processors fail, in its API's own shape, and the activity log says so.

A status fault answers before the route runs (nothing happens); hold and latency wait,
then the route runs; a lost answer lets the route run (the money moves, the store is
told), then answers 502 or 504 instead, or breaks the connection. Faults on the wire
(truncate, stall, reset, empty, and a lost answer's reset) are marked in the environ for
the server to carry out (rsgi_bridge.py); under a WSGI test client the answer is whole.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from flask import Response, g, request
from werkzeug.exceptions import HTTPException

from ..core import jsonio
from ..core.api_faults import FaultHit
from ..core.transactions import OrderId, as_order_id
from .errors import failure
from .web import account, raw_body

if TYPE_CHECKING:
    from ..account import Account

# In the environ: (what breaks, ms to wait first), for the server to carry out.
TRANSPORT_FAULT = "payments_server.transport_fault"
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# What each status fault says, after "On purpose (an API fault): ".
WORDS = {
    429: "too many requests; try again after Retry-After",
    500: "the gateway failed",
    502: "the processor could not be reached",
    503: "the gateway is down for maintenance; try again after Retry-After",
    504: "the processor did not answer in time",
}
ORDER_KEYS = ("order_id", "transaction_id", "orderid")
REPLAYED = "Idempotent-Replayed"


def documented_path(rule: str) -> str:
    """A route's rule as its document writes it: /payments/orders/{order_id}."""
    return _CONVERTER.sub(r"{\1}", rule)


def meet_api_fault(state: Account) -> Response | None:
    """Apply the API fault the request meets, if any (run before each request, with the
    account of its namespace)."""
    if not state.flow.simulation().api_faults or request.url_rule is None:
        return None  # the common case: one attribute read
    order_id = _order_named()
    hit = state.flow.api_fault(request.method, documented_path(request.url_rule.rule), order_id)
    if hit is None:
        return None
    g.api_fault = hit
    fault = hit.fault
    if fault.fault != "lost_answer":  # a lost answer is noted once it is lost
        _note(hit, order_id)
    if fault.fault == "status":
        assert fault.status is not None
        return _failed(fault.status, f"On purpose (an API fault): {WORDS[fault.status]}", hit)
    if fault.fault in ("hold", "latency"):
        time.sleep(hit.delay_ms / 1000)  # bounded: MAX_DELAY_MS
    elif fault.fault != "lost_answer":
        request.environ[TRANSPORT_FAULT] = (fault.fault, hit.delay_ms)
    return None


def lose_the_answer(response: Response) -> Response:
    """After each request: a lost answer replaces a successful one (the route has run)."""
    hit: FaultHit | None = g.get("api_fault")
    if hit is None or hit.fault.fault != "lost_answer" or not 200 <= response.status_code < 300:
        return response
    if response.headers.get(REPLAYED) == "true":
        return response  # an Idempotency-Key retry gets the answer that was lost
    _note(hit, _order_named())
    if hit.fault.answer == "reset":
        request.environ[TRANSPORT_FAULT] = ("reset", 0)
        return response
    status = hit.fault.status or 502
    return _failed(
        status,
        "On purpose (an API fault): the request was carried out and its answer lost;"
        " retry it with the same Idempotency-Key for the answer",
        hit,
    )


def _note(hit: FaultHit, order_id: OrderId | None) -> None:
    # A decision of the simulation's, beside the request it hit in the order's timeline.
    summary = f"{hit.fault.route}: {_what(hit)}"
    account().flow.note("decision", summary, order_id, "api_fault")


def _failed(status: int, message: str, hit: FaultHit) -> Response:
    response = failure(status, message)
    if hit.fault.retry_after is not None:
        response.headers["Retry-After"] = str(hit.fault.retry_after)
    for name, value in hit.fault.headers:
        response.headers[name] = value
    return response


def _what(hit: FaultHit) -> str:
    fault = hit.fault
    if fault.fault == "status":
        return f"answered {fault.status} on purpose"
    if fault.fault == "lost_answer":
        lost = "the connection closed" if fault.answer == "reset" else f"{fault.status} answered"
        return f"answer lost after it was carried out ({lost})"
    if fault.fault in ("hold", "latency"):
        return f"held {hit.delay_ms} ms on purpose"
    if fault.fault == "stall":
        return f"answer stalled {hit.delay_ms} ms mid-body on purpose"
    if fault.fault == "truncate":
        return "answer cut short on purpose"
    return "connection closed at the start of the body on purpose"  # reset, empty


def _order_named() -> OrderId | None:
    """The order the request is about, from its path or its body, as the fault's
    order_id matches it."""
    arguments = request.view_args or {}
    for key in ("order_id", "transaction_id"):
        if key in arguments:
            return as_order_id(arguments[key])
    parsed = g.get("json_body")
    if parsed is None:
        if not request.content_length:
            return None  # no body to name an order (and none to wait for)
        try:
            parsed = jsonio.loads(raw_body())
        except (ValueError, HTTPException):
            return None
    if not isinstance(parsed, dict):
        return None
    named: dict[str, Any] = {k.lower(): v for k, v in parsed.items() if isinstance(k, str)}
    for key in ORDER_KEYS:
        if key in named:
            return as_order_id(named[key])
    return None
