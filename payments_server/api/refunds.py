"""Acting on an order after its payment: refund it (POST /payments/orders/<id>/refunds) or
decide a pending payment now (POST /payments/orders/<id>/decide)."""

from __future__ import annotations

from flask import Blueprint, Response

from ..callbacks.deliveries import State
from ..core.money import AmountError, format_balance, parse_amount
from ..core.refusals import (
    NothingToRefundError,
    NotPendingError,
    OrderNotPaidError,
    RefundTooLargeError,
)
from .errors import ApiError
from .payments import idempotent
from .responses import json_response
from .web import gateway, optional_json_object

bp = Blueprint("refunds", __name__)

FIELDS = ("amount", "notify_store")
REFUND_STATUS = "refunded"


@bp.post("/payments/orders/<path:order_id>/refunds")
@idempotent
def refund(order_id: str) -> Response:
    """Refund a paid order, in full (no body) or in part ({"amount"}), and tell the store."""
    body = optional_json_object() or {}
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ApiError(400, f"'{unknown[0]}' is not a refund field; use {', '.join(FIELDS)}")
    amount = None
    if body.get("amount") is not None:
        try:
            amount = parse_amount(body["amount"])
        except AmountError as exc:
            raise ApiError(400, str(exc)) from None
    notify = body.get("notify_store", True)
    if not isinstance(notify, bool):
        raise ApiError(400, "'notify_store' must be true or false")
    state = gateway()
    try:
        record = state.ledger.refund(order_id, amount)
    except KeyError:
        raise ApiError(404, f"No payment found for order {order_id}") from None
    except (OrderNotPaidError, NothingToRefundError, RefundTooLargeError) as exc:
        # More than is left is a conflict with the order's state, as "already paid" is:
        # the request itself is well formed (the document cannot know what is left).
        raise ApiError(409, str(exc)) from None
    given = record.refunds[-1].refund
    delivery = None
    if notify and state.settings.refund_callbacks:
        delivery = state.callbacks.notify(
            record.order_id,
            REFUND_STATUS,
            extra={"amount": given.sent, "amount_refunded": format_balance(record.refunded)},
        )
    return json_response(
        {
            "status": "success",
            "message": f"Refund of {given.sent} for order {record.order_id} completed",
            "balance": format_balance(given.balance_after),
            "refund": given.to_json(),
            "amount_refunded": format_balance(record.refunded),
            "amount_left": format_balance(record.refundable),
            "shop_notified": None if delivery is None else delivery.state is State.DELIVERED,
        }
    )


@bp.post("/payments/orders/<path:order_id>/decide")
def decide(order_id: str) -> Response:
    """Decide a pending payment now: as planned (no body) or {"outcome": "paid" | "declined"};
    the store is told as for any order payment."""
    body = optional_json_object() or {}
    outcome = body.get("outcome")
    if set(body) - {"outcome"} or outcome not in (None, "paid", "declined"):
        raise ApiError(400, 'Body must be empty or {"outcome": "paid" | "declined"}')
    try:
        record, delivery = gateway().pending.decide(order_id, outcome)
    except KeyError:
        raise ApiError(404, f"No payment found for order {order_id}") from None
    except NotPendingError as exc:
        raise ApiError(409, str(exc)) from None
    return json_response(
        {
            "status": "success",
            "message": f"Order {record.order_id} is {record.state}",
            "order": record.to_json(),
            "shop_notified": delivery.state is State.DELIVERED,
        }
    )
