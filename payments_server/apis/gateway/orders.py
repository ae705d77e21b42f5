"""Reading orders: one order's story, or every order (pending ones, say) newest first."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ...core.refusals import OrderNotFoundError
from ...core.transactions import order_key
from ..errors import ApiError
from ..responses import json_response
from ..web import account, page_limit, page_offset

bp = Blueprint("orders", __name__)

STATES = ("paid", "pending", "refunded", "failed")


@bp.get("/payments/orders")
def orders() -> Response:
    """List orders newest first, optionally only those in ?state=; at most ?limit= of them,
    from ?offset= on."""
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ApiError(400, f"'state' must be one of {', '.join(STATES)}, got {state!r}")
    limit, offset = page_limit(), page_offset()
    records, total = account().flow.orders(state, limit, offset)
    return json_response(
        {"status": "success", "orders": [record.to_json() for record in records], "total": total}
    )


@bp.get("/payments/orders/<order_path:order_id>")
def order(order_id: str) -> Response:
    """Show what happened to an order: its attempts, its transaction, its latest callback."""
    state = account()
    record = state.flow.order(order_id)
    if record is None:
        raise OrderNotFoundError(order_id)
    deliveries = state.flow.deliveries(order_id=order_key(order_id))
    callback = {"id": deliveries[0].id, "state": deliveries[0].state.value} if deliveries else None
    return json_response({"status": "success", **record.to_json(), "callback": callback})
