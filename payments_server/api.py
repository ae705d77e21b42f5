"""The HTTP routes: parse the request, call the ledger and the callbacks, shape the JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from . import jsonio
from .deliveries import State
from .dispatcher import UnknownCallbackError
from .errors import ApiError
from .gateway import Gateway
from .jsonio import json_response
from .ledger import InsufficientFundsError, OrderAlreadyPaidError
from .money import Amount, AmountError, format_balance, parse_amount

bp = Blueprint("payments", __name__)

EXTENSION_KEY = "payments_server"
MAX_ORDER_ID_LENGTH = 255
MAX_RECIPIENT_LENGTH = 2048
ORDER_FIELDS_REQUIRED = "Both 'order_id' and 'amount' fields are required"
PAY_FIELDS_REQUIRED = "Both 'amount' and 'recipient' fields are required"
STATES = tuple(state.value for state in State)


def _gateway() -> Gateway:
    return current_app.extensions[EXTENSION_KEY]


@bp.get("/balance")
def balance() -> Response:
    """Show the account and its balance."""
    ledger = _gateway().ledger
    return json_response(
        {
            "status": "success",
            "account_id": ledger.account_id,
            "holder": ledger.holder,
            "balance": format_balance(ledger.balance),
        }
    )


@bp.post("/pay")
def pay() -> Response:
    """Pay an amount to a recipient."""
    body = _json_object()
    raw_amount, recipient = body.get("amount"), body.get("recipient")
    if raw_amount is None or recipient is None or recipient == "":
        raise ApiError(400, PAY_FIELDS_REQUIRED)
    amount = _amount(raw_amount)
    if not isinstance(recipient, str) or len(recipient) > MAX_RECIPIENT_LENGTH:
        raise ApiError(
            400,
            f"'recipient' must be a non-empty string of at most {MAX_RECIPIENT_LENGTH} characters",
        )
    try:
        transaction = _gateway().ledger.pay(amount, recipient)
    except InsufficientFundsError as exc:
        raise _insufficient(exc) from None
    return json_response(
        {
            "status": "success",
            "message": f"Payment of {amount.sent} to {recipient} completed",
            "balance": format_balance(transaction.balance_after),
            "transaction": transaction.to_json(),
        }
    )


@bp.post("/payments/orders")
@bp.post("/pay/order")
def pay_order() -> Response:
    """Pay for a store order once, then tell the store how it went."""
    body = _json_object()
    order_id, raw_amount = body.get("order_id"), body.get("amount")
    if order_id is None or raw_amount is None or order_id == "":
        raise ApiError(400, ORDER_FIELDS_REQUIRED)
    amount = _amount(raw_amount)
    if not _is_order_id(order_id):
        raise ApiError(
            400,
            f"'order_id' must be a string of 1 to {MAX_ORDER_ID_LENGTH} characters"
            f" or an integer of at most {MAX_ORDER_ID_LENGTH} digits",
        )
    gateway = _gateway()
    try:
        transaction = gateway.ledger.pay_order(order_id, amount)
    except OrderAlreadyPaidError:
        raise ApiError(409, f"Order {order_id} has already been paid") from None
    except InsufficientFundsError as exc:
        # The store hears about the failure too, but only after the lock is released.
        gateway.callbacks.notify(order_id, "failed")
        raise _insufficient(exc) from None
    delivery = gateway.callbacks.notify(order_id, "success")
    return json_response(
        {
            "status": "success",
            "message": f"Payment of {amount.sent} for order {order_id} completed",
            "balance": format_balance(transaction.balance_after),
            "transaction": transaction.to_json(),
            "shop_notified": delivery.state is State.DELIVERED,
        }
    )


@bp.get("/transactions")
def transactions() -> Response:
    """List every successful payment, oldest first."""
    ledger = _gateway().ledger
    return json_response(
        {
            "status": "success",
            "account_id": ledger.account_id,
            "transactions": [transaction.to_json() for transaction in ledger.transactions()],
        }
    )


@bp.post("/reset")
def reset() -> Response:
    """Restore the initial balance and forget every payment."""
    balance = _gateway().reset()
    return json_response(
        {
            "status": "success",
            "message": "Account reset to default balance",
            "balance": format_balance(balance),
        }
    )


@bp.get("/callbacks")
def callbacks() -> Response:
    """List callback deliveries newest first, filtered by ?order_id= and ?state=."""
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, f"'state' must be one of {', '.join(STATES)}, got {state!r}")
    deliveries = _gateway().callbacks.deliveries(
        request.args.get("order_id"), None if state is None else State(state)
    )
    return json_response(
        {"status": "success", "callbacks": [delivery.to_json() for delivery in deliveries]}
    )


@bp.get("/callbacks/<delivery_id>")
def callback(delivery_id: str) -> Response:
    """Show one callback delivery with all its attempts."""
    try:
        delivery = _gateway().callbacks.get(delivery_id)
    except UnknownCallbackError as exc:
        raise ApiError(404, str(exc)) from None
    return json_response({"status": "success", "callback": delivery.to_json()})


@bp.post("/callbacks/<delivery_id>/retry")
def retry_callback(delivery_id: str) -> Response:
    """Send a callback again now, with the same webhook-id, and report this attempt."""
    try:
        attempt, delivery = _gateway().callbacks.resend(delivery_id)
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


def _json_object() -> dict[str, Any]:
    # Whatever the Content-Type says: curl -d without -H sends form type with a JSON body.
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(400, "Request body must be JSON")
    try:
        body = jsonio.loads(data)
    except RecursionError:
        raise ApiError(400, "Request body is nested too deeply") from None
    except ValueError:
        raise ApiError(400, "Request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


def _amount(raw: object) -> Amount:
    try:
        return parse_amount(raw)
    except AmountError as exc:
        raise ApiError(400, str(exc)) from None


def _is_order_id(order_id: object) -> bool:
    if isinstance(order_id, str):
        return 0 < len(order_id) <= MAX_ORDER_ID_LENGTH
    # bool is an int to Python but not to JSON.
    return (
        isinstance(order_id, int)
        and not isinstance(order_id, bool)
        and len(str(abs(order_id))) <= MAX_ORDER_ID_LENGTH
    )


def _insufficient(exc: InsufficientFundsError) -> ApiError:
    return ApiError(
        402,
        "Insufficient funds",
        balance=format_balance(exc.balance),
        requested=exc.requested.sent,
    )
