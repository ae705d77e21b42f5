"""Refunds over HTTP: POST /payments/orders/<id>/refunds gives money back for a paid order."""

from __future__ import annotations

from flask import Blueprint, Response

from ..callbacks.deliveries import State
from ..core.ledger import (
    NothingToRefundError,
    OrderNotPaidError,
    RefundTooLargeError,
)
from ..core.money import AmountError, format_balance, parse_amount
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
    except (OrderNotPaidError, NothingToRefundError) as exc:
        raise ApiError(409, str(exc)) from None
    except RefundTooLargeError as exc:
        raise ApiError(400, str(exc)) from None
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
