"""The callback log over HTTP: list (or wait for) deliveries, show one with the exact
requests sent, send one again, retry it now, and check a signature against it."""

from __future__ import annotations

import hmac
import re
import time
from typing import Any

from flask import Blueprint, Response, request

from ...callbacks.client import Attempt
from ...callbacks.deliveries import Delivery, State
from ...callbacks.signing import SecretError, Signer
from ...core.jsonio import as_integer
from ..curl import as_curl
from ..errors import ApiError
from ..responses import json_response
from ..web import account, json_object, page_limit, page_offset

bp = Blueprint("callbacks", __name__)

STATES = tuple(state.value for state in State)
MAX_WAIT = 30.0
# The OpenAPI document's pattern: 0 to 30, up to three decimals.
_SECONDS = re.compile(r"30|[12]?[0-9](\.[0-9]{1,3})?")


@bp.get("/callbacks")
def callbacks() -> Response:
    """List callback deliveries newest first, filtered by ?order_id= and ?state=, at most
    ?limit= of them from ?offset= on (total counts them all, counts each state's in the
    whole log); with ?wait=SECONDS, answer as soon as one of them has been sent (or when
    the time is up)."""
    name = request.args.get("state")
    if name is not None and name not in STATES:
        raise ApiError(400, f"'state' must be one of {', '.join(STATES)}, got {name!r}")
    offset = page_offset()
    stop = offset + page_limit()
    # A long poll holds a thread as a stream does, and for no longer.
    wait = min(_wait(request.args.get("wait")), account().settings.stream_lifetime)
    order_id = request.args.get("order_id")
    wanted = None if name is None else State(name)
    state = account()
    bus = state.events
    # Taken before looking, so a delivery logged just after the look still wakes us.
    seen = bus.last
    deliveries = state.flow.deliveries(order_id, wanted)
    # Waiting ends at a callback the store has been sent: one still in its first attempt
    # would tell a test nothing yet. A waiting request holds a server thread, as a stream
    # does: it takes a stream slot, and without one it answers at once with what there is.
    if wait and not _sent_any(deliveries) and state.streams.acquire():
        try:
            deadline = time.monotonic() + wait
            while not _sent_any(deliveries) and (left := deadline - time.monotonic()) > 0:
                bus.wait(seen, left)
                if bus.closed:
                    break
                seen = bus.last
                deliveries = state.flow.deliveries(order_id, wanted)
        finally:
            state.streams.release()
    return json_response(
        {
            "status": "success",
            "callbacks": [delivery.to_json() for delivery in deliveries[offset:stop]],
            "total": len(deliveries),
            "counts": state.flow.callback_counts(),
        }
    )


@bp.get("/callbacks/<delivery_id>")
def callback(delivery_id: str) -> Response:
    """One callback delivery with every attempt, each with the request it sent."""
    delivery = _delivery(delivery_id)
    shown = delivery.to_json()
    shown["attempts"] = [
        {**attempt.to_json(), "request": _sent(delivery, attempt)} for attempt in delivery.attempts
    ]
    return json_response({"status": "success", "callback": shown})


@bp.post("/callbacks/<delivery_id>/retry")
def retry_callback(delivery_id: str) -> Response:
    """Send a callback again now, with the same webhook-id, and report this attempt."""
    _delivery(delivery_id)
    return _attempted(delivery_id, *account().flow.resend(delivery_id))


@bp.post("/callbacks/<delivery_id>/retry-now")
def retry_now(delivery_id: str) -> Response:
    """Make a pending callback's next scheduled retry now; it counts as that retry."""
    attempt, delivery = account().flow.retry_now(delivery_id)
    return _attempted(delivery_id, attempt, delivery)


@bp.post("/callbacks/<delivery_id>/verify")
def verify_callback(delivery_id: str) -> Response:
    """Check a signature, or the signature a secret makes, against an attempt's exact bytes."""
    delivery = _delivery(delivery_id)
    body = json_object()
    given: dict[str, Any] = {name: body[name] for name in ("signature", "secret") if name in body}
    number = body.get("attempt", len(delivery.attempts))
    if (
        set(body) - {"signature", "secret", "attempt"}
        or len(given) != 1
        or not all(isinstance(value, str) for value in given.values())
    ):
        raise ApiError(
            400, 'Body must be {"signature": "v1,..."} or {"secret": "whsec_..."}, with an'
            ' optional "attempt" number',
        )  # fmt: skip
    if not delivery.attempts:
        raise ApiError(409, f"Callback {delivery_id} has not been sent yet")
    number = as_integer(number)
    if number is None:
        raise ApiError(400, "'attempt' must be a whole number: 1 is the first attempt")
    if not 1 <= number <= len(delivery.attempts):
        count = len(delivery.attempts)
        raise ApiError(
            404, f"Callback {delivery_id} has no attempt {number}; it has {count} (1 to {count})"
        )
    attempt = delivery.attempts[number - 1]
    _, headers = account().flow.sent_headers(delivery, attempt)
    sent = headers["webhook-signature"]
    what = "The signature" if "signature" in given else "The signature this secret makes"
    candidate: str | None = given.get("signature", "").strip()
    if "secret" in given:
        try:
            candidate = Signer(given["secret"]).signature(
                delivery.id, int(headers["webhook-timestamp"]), delivery.callback.body
            )
        except SecretError as exc:
            # A wrong paste is an answer, not an error: the store's secret is wrong.
            candidate, what = None, f"This is not a secret anything signs with (it {exc}): it"
    valid = candidate is not None and hmac.compare_digest(candidate.encode(), sent.encode())
    return json_response(
        {
            "status": "success",
            "valid": valid,
            "message": f"{what} {'matches' if valid else 'does not match'} the one sent",
            "attempt": number,
            "signed_content": f"{delivery.id}.{headers['webhook-timestamp']}."
            + delivery.callback.body.decode(),
            "sent_signature": sent,
            "checked_signature": candidate,
        }
    )


def _sent_any(deliveries: list[Delivery]) -> bool:
    return any(delivery.attempts for delivery in deliveries)


def _delivery(delivery_id: str) -> Delivery:
    return account().flow.delivery(delivery_id)


def _sent(delivery: Delivery, attempt: Attempt) -> dict[str, object]:
    url, headers = account().flow.sent_headers(delivery, attempt)
    body = delivery.callback.body
    replay = {
        name: value for name, value in headers.items() if name not in ("Host", "Content-Length")
    }
    return {
        "method": "POST",
        "url": url,
        "headers": headers,
        "body": body.decode(),
        "curl": as_curl("POST", url, replay, body),
    }


def _attempted(delivery_id: str, attempt: Attempt, delivery: Delivery) -> Response:
    outcome = (
        f"delivered: store answered {attempt.status_code}"
        if attempt.delivered
        else f"not delivered: {attempt.error}"
    )
    return json_response(
        {
            "status": "success",
            "message": f"Callback {delivery_id} {outcome}",
            "delivered": attempt.delivered,
            "attempt": attempt.to_json(),
            "callback": delivery.to_json(),
        }
    )


def _wait(text: str | None) -> float:
    if text is None:
        return 0.0
    if not _SECONDS.fullmatch(text):
        raise ApiError(
            400, f"'wait' must be a number of seconds from 0 to {MAX_WAIT:g}, got {text!r}"
        )
    return float(text)
