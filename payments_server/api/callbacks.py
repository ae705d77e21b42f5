"""The callback log over HTTP: list, show one, and send one again."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..callbacks.deliveries import State
from ..callbacks.dispatcher import UnknownCallbackError
from .errors import ApiError
from .responses import json_response
from .web import gateway

bp = Blueprint("callbacks", __name__)

STATES = tuple(state.value for state in State)


@bp.get("/callbacks")
def callbacks() -> Response:
    """List callback deliveries newest first, filtered by ?order_id= and ?state=."""
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, f"'state' must be one of {', '.join(STATES)}, got {state!r}")
    deliveries = gateway().callbacks.deliveries(
        request.args.get("order_id"), None if state is None else State(state)
    )
    return json_response(
        {"status": "success", "callbacks": [delivery.to_json() for delivery in deliveries]}
    )


@bp.get("/callbacks/<delivery_id>")
def callback(delivery_id: str) -> Response:
    """Show one callback delivery with all its attempts."""
    try:
        delivery = gateway().callbacks.get(delivery_id)
    except UnknownCallbackError as exc:
        raise ApiError(404, str(exc)) from None
    return json_response({"status": "success", "callback": delivery.to_json()})


@bp.post("/callbacks/<delivery_id>/retry")
def retry_callback(delivery_id: str) -> Response:
    """Send a callback again now, with the same webhook-id, and report this attempt."""
    try:
        attempt, delivery = gateway().callbacks.resend(delivery_id)
    except UnknownCallbackError as exc:
        raise ApiError(404, str(exc)) from None
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
