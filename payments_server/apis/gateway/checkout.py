"""Checkout sessions over HTTP: create, look up, list, expire, and complete without a browser."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ...core.checkout_session import (
    MAX_EXPIRES_IN,
    MIN_EXPIRES_IN,
    CheckoutSession,
    SessionState,
)
from ...core.jsonio import as_integer
from ...core.simulation import DECLINE_CODES
from ..errors import ApiError
from ..idempotent import idempotent
from ..responses import json_response
from ..web import account, json_object, page_of, url_field
from .payments import order_fields
from .streams import client_gone, describe, session_stream, stream_response

bp = Blueprint("checkout", __name__)

FIELDS = (
    "order_id", "amount", "success_url", "cancel_url", "callback_url", "expires_in",
    "description", "metadata",
)  # fmt: skip
URL_FIELDS = ("success_url", "cancel_url", "callback_url")
STATES = tuple(state.value for state in SessionState)
OUTCOMES = ("paid", "declined", "canceled")
MAX_DESCRIPTION = 500
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def session_json(session: CheckoutSession) -> dict[str, object]:
    """The session object, its page URL on the host the client used."""
    return describe(account(), session, f"{request.url_root}checkout/{session.id}")


def found(session_id: str) -> CheckoutSession:
    """The session with this id; 404 if there is none."""
    session = account().checkout.sessions.get(session_id)
    if session is None:
        raise ApiError(404, f"No checkout session with id {session_id!r}")
    return session


@bp.post("/checkout/sessions")
@idempotent
def create() -> Response:
    """Open a checkout session for an order; its `url` is the page to send the customer to."""
    body = json_object()
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ApiError(
            400, f"'{unknown[0]}' is not a checkout session field; use {', '.join(FIELDS)}"
        )
    order_id, amount = order_fields(body)
    details: dict[str, Any] = {name: url_field(body, name) for name in URL_FIELDS}
    details["description"] = _description(body.get("description"))
    details["metadata"] = _metadata(body.get("metadata"))
    state = account()
    expires_in = _expires_in(body.get("expires_in", state.settings.checkout_expiry))
    session = state.checkout.create(order_id, amount, expires_in, **details)
    return json_response({"status": "success", "session": session_json(session)}, 201)


@bp.get("/checkout/sessions/<session_id>")
def show(session_id: str) -> Response:
    """One session: the store's way to check a payment when the customer's browser closed."""
    return json_response({"status": "success", "session": session_json(found(session_id))})


@bp.get("/checkout/sessions")
def listed() -> Response:
    """Sessions newest first, filtered by ?order_id= and ?state=; at most ?limit= of them
    from ?offset= on (total counts them all)."""
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, f"'state' must be one of {', '.join(STATES)}, got {state!r}")
    sessions = account().checkout.sessions.newest_first(
        request.args.get("order_id"), None if state is None else SessionState(state)
    )
    # Only the page is written out: a long history of large sessions is never one answer.
    listed = [session_json(session) for session in page_of(sessions)]
    return json_response({"status": "success", "sessions": listed, "total": len(sessions)})


@bp.post("/checkout/sessions/<session_id>/expire")
def expire(session_id: str) -> Response:
    """Expire an open session now; the store is told "failed"."""
    found(session_id)
    session = account().checkout.expire(session_id)
    return json_response({"status": "success", "session": session_json(session)})


@bp.post("/checkout/sessions/<session_id>/complete")
@idempotent
def complete(session_id: str) -> Response:
    """Finish an open session as the customer would: paid, declined (with a code) or
    canceled, through the same path as the payment page."""
    found(session_id)
    body = json_object()
    outcome, code = body.get("outcome"), body.get("decline_code")
    if set(body) - {"outcome", "decline_code"} or outcome not in OUTCOMES:
        raise ApiError(
            400, "Body must be {\"outcome\": \"paid\" | \"declined\" | \"canceled\"} with"
            " an optional \"decline_code\" for a decline",
        )  # fmt: skip
    if "decline_code" in body and (outcome != "declined" or code not in DECLINE_CODES):
        raise ApiError(
            400, f"'decline_code' goes with \"declined\" and is one of {', '.join(DECLINE_CODES)}"
        )
    checkout = account().checkout
    if outcome == "canceled":
        session = checkout.cancel(session_id)
    else:
        declined = (code or "card_declined") if outcome == "declined" else None
        session = checkout.pay(
            session_id, decline_code=declined, reason="asked for by /complete", final=True
        )
    return json_response({"status": "success", "session": session_json(session)})


def _expires_in(value: object) -> int:
    seconds = as_integer(value)
    if seconds is None or not MIN_EXPIRES_IN <= seconds <= MAX_EXPIRES_IN:
        raise ApiError(
            400, f"'expires_in' must be a whole number of seconds from {MIN_EXPIRES_IN}"
            f" to {MAX_EXPIRES_IN}",
        )  # fmt: skip
    return seconds


def _description(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise ApiError(
            400, f"'description' must be a string of at most {MAX_DESCRIPTION} characters"
        )
    return value


def _metadata(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if (
        not isinstance(value, dict)
        or len(value) > MAX_METADATA_KEYS
        or not all(
            isinstance(key, str) and 0 < len(key) <= MAX_METADATA_KEY
            and isinstance(item, str) and len(item) <= MAX_METADATA_VALUE
            for key, item in value.items()
        )
    ):  # fmt: skip
        raise ApiError(
            400, f"'metadata' must be an object of at most {MAX_METADATA_KEYS} keys of up to"
            f" {MAX_METADATA_KEY} characters, each a string of at most {MAX_METADATA_VALUE}",
        )  # fmt: skip
    return dict(value)


@bp.get("/checkout/sessions/<session_id>/events")
def events(session_id: str) -> Response:
    """Server-Sent Events: the session now, then at each change; a heartbeat comment at
    least every 15 s; the stream ends once the session is final."""
    found(session_id)
    state = account()
    page_url = f"{request.url_root}checkout/{session_id}"
    stream = session_stream(
        state, session_id, page_url, client_gone(request.environ), state.settings.stream_lifetime
    )
    return stream_response(state, stream, "GET /checkout/sessions/<id>")
