"""The payment routes: parse the request, call the flow, shape the JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ...core import jsonio
from ...core.money import Amount, AmountError, format_balance, parse_amount
from ...core.transactions import ORDER_ID_RULE, OrderId, as_order_id
from ...flow.outcomes import Declined, Pending, Refused, notified
from ..errors import ApiError
from ..idempotent import idempotent
from ..responses import MIMETYPE, BufferedResponse, json_response
from ..web import (
    EXTENSION_KEY,
    account,
    int_arg,
    json_object,
    optional_json_object,
    page_limit,
)

# The gateway's own API's name, as orders, sessions and the activity log give it.
API = "gateway"

bp = Blueprint("payments", __name__)

__all__ = ["EXTENSION_KEY", "bp"]

MAX_RECIPIENT_LENGTH = 2048
ORDER_FIELDS_REQUIRED = "Both 'order_id' and 'amount' fields are required"
PAY_FIELDS_REQUIRED = "Both 'amount' and 'recipient' fields are required"


@bp.get("/balance")
def balance() -> Response:
    """Show the account and its balance."""
    summary = account().flow.summary()
    return json_response(
        {
            "status": "success",
            "account_id": summary.account_id,
            "holder": summary.holder,
            "balance": format_balance(summary.balance),
        }
    )


@bp.post("/pay")
@idempotent
def pay() -> Response:
    """Pay an amount to a recipient."""
    body = json_object()
    raw_amount, recipient = body.get("amount"), body.get("recipient")
    if raw_amount is None or recipient is None or recipient == "":
        raise ApiError(400, PAY_FIELDS_REQUIRED)
    amount = _amount(raw_amount)
    if not isinstance(recipient, str) or len(recipient) > MAX_RECIPIENT_LENGTH:
        raise ApiError(
            400,
            f"'recipient' must be a non-empty string of at most {MAX_RECIPIENT_LENGTH} characters",
        )
    outcome = account().flow.pay(amount, recipient)
    if isinstance(outcome, Declined):
        raise outcome.reason
    return json_response(
        {
            "status": "success",
            "message": f"Payment of {amount.sent} to {recipient} completed",
            "balance": format_balance(outcome.transaction.balance_after),
            "transaction": outcome.transaction.to_json(),
        }
    )


@bp.post("/payments/orders")
@bp.post("/pay/order")
@idempotent
def pay_order() -> Response:
    """Pay for a store order once, then tell the store how it went."""
    order_id, amount = order_fields(json_object())
    outcome = account().flow.pay_order(order_id, amount, api=API)
    if isinstance(outcome, Pending):
        # No debit and no callback yet: both come when the payment is decided.
        return json_response(
            {"status": "pending",
             "message": f"Payment of {amount.sent} for order {order_id} is pending",
             "order_id": order_id, "amount": amount.sent, "decide_after_ms": outcome.after_ms,
             # The store hears when it is decided: not yet, as a script reading this asks.
             "shop_notified": False},
            202,
        )  # fmt: skip
    if isinstance(outcome, Declined | Refused):
        raise outcome.reason
    transaction = outcome.transaction
    return json_response(
        {
            "status": "success",
            "message": f"Payment of {amount.sent} for order {order_id} completed",
            "balance": format_balance(transaction.balance_after),
            "transaction": transaction.to_json(),
            "shop_notified": notified(outcome.delivery),
        }
    )


@bp.get("/transactions")
def transactions() -> Response:
    """List successful payments, oldest first: all of them, or a page with ?limit=&offset=."""
    flow = account().flow
    head = {"status": "success", "account_id": flow.summary().account_id}
    if "limit" not in request.args and "offset" not in request.args:
        # The whole history can be long: each transaction writes its own JSON.
        listed = ",".join(t.json_text() for t in flow.transactions())
        text = f'{jsonio.dumps(head)[:-1]},"transactions":[{listed}]}}\n'
        return BufferedResponse(text, mimetype=MIMETYPE)
    limit = page_limit()
    offset = int_arg("offset", 0, 0, None)
    page, total = flow.transactions_page(offset, limit)
    return json_response(
        {
            **head,
            "transactions": [t.to_json() for t in page],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@bp.post("/reset")
def reset() -> Response:
    """Forget every payment and callback; start from the initial or the given balance."""
    body = optional_json_object()
    raw_balance = None if body is None else body.get("balance")
    balance: Amount | None = None
    if raw_balance is not None:
        try:
            balance = parse_amount(raw_balance, name="Balance", allow_zero=True)
        except AmountError as exc:
            raise ApiError(400, str(exc)) from None
    value = account().reset(None if balance is None else balance.value)
    return json_response(
        {
            "status": "success",
            "message": (
                "Account reset to default balance"
                if balance is None
                else f"Account reset to balance {balance.sent}"
            ),
            "balance": format_balance(value),
        }
    )


def order_fields(body: dict[str, Any]) -> tuple[OrderId, Amount]:
    """The order id and amount of a body, by the rules of POST /payments/orders; 400 if not."""
    raw_order_id, raw_amount = body.get("order_id"), body.get("amount")
    if raw_order_id is None or raw_amount is None or raw_order_id == "":
        raise ApiError(400, ORDER_FIELDS_REQUIRED)
    amount = _amount(raw_amount)
    order_id = as_order_id(raw_order_id)
    if order_id is None:
        raise ApiError(
            400,
            f"'order_id' must be {ORDER_ID_RULE}",
        )
    return order_id, amount


def _amount(raw: object) -> Amount:
    try:
        return parse_amount(raw)
    except AmountError as exc:
        raise ApiError(400, str(exc)) from None
