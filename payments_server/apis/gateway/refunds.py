"""Acting on an order after its payment: refund it (POST /payments/orders/<id>/refunds) or
decide a pending payment now (POST /payments/orders/<id>/decide)."""

from __future__ import annotations

from flask import Blueprint, Response

from ...core.money import AmountError, format_balance, parse_amount
from ...flow.outcomes import Declined, Paid, notified
from ..errors import ApiError
from ..idempotent import idempotent
from ..responses import json_response
from ..web import account, optional_json_object

bp = Blueprint("refunds", __name__)

FIELDS = ("amount", "notify_store")


@bp.post("/payments/orders/<path:order_id>/refunds")
@idempotent
def refund(order_id: str) -> Response:
    """Refund a paid order, in full (no body) or in part ({"amount"}); tell the store when
    --refund-callbacks is on or the body asks ({"notify_store": true})."""
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
    notify = body.get("notify_store")
    if notify is not None and not isinstance(notify, bool):
        raise ApiError(400, "'notify_store' must be true, false or null")
    record, delivery = account().flow.refund(order_id, amount, notify_store=notify)
    given = record.refunds[-1].refund
    return json_response(
        {
            "status": "success",
            "message": f"Refund of {given.sent} for order {record.order_id} completed",
            "balance": format_balance(given.balance_after),
            "refund": given.to_json(),
            "amount_refunded": format_balance(record.refunded),
            "amount_left": format_balance(record.refundable),
            "shop_notified": None if delivery is None else notified(delivery),
        }
    )


@bp.post("/payments/orders/<path:order_id>/decide")
def decide(order_id: str) -> Response:
    """Decide a pending payment now: as planned (no body) or {"outcome": "paid" | "declined"};
    the store is told as for any order payment."""
    body = optional_json_object() or {}
    then = body.get("outcome")
    if set(body) - {"outcome"} or then not in (None, "paid", "declined"):
        raise ApiError(400, 'Body must be empty or {"outcome": "paid" | "declined"}')
    record, outcome = account().flow.decide(order_id, then)
    delivery = outcome.delivery if isinstance(outcome, Paid | Declined) else None
    return json_response(
        {
            "status": "success",
            "message": f"Order {record.order_id} is {record.state}",
            "order": record.to_json(),
            "shop_notified": notified(delivery),
        }
    )
