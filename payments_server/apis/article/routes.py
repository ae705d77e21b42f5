"""The article's two calls (docs/article.md): open a payment on the hosted page, and ask
how it went. Each is a thin adapter over the gateway's checkout sessions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from flask import Blueprint, Response, request

from ...core.checkout_session import CheckoutSession, SessionState
from ...core.jsonio import format_time
from ...core.money import AmountError, parse_amount
from ...core.refusals import OrderAlreadyPaidError
from ...core.transactions import MAX_ORDER_ID_LENGTH, ORDER_ID_RULE, OrderId, as_order_id
from ..errors import ApiError
from ..responses import json_response
from ..web import account, json_object, url_field

BASE_URL = "/article"
API = "article"
FIELDS = ("amount", "currency", "callback_url", "transaction_id")
# The article's background job asks after a payment once it is 15 minutes old.
EXPIRES_IN = 900
# How a session's state reads to the article's store.
STATUS = {SessionState.OPEN: "pending", SessionState.PAID: "success"}

bp = Blueprint(API, __name__)


@bp.post("/create-session")
def create_session() -> Response:
    """Open a payment for a transaction on the hosted page; its `payment_url` is where the
    customer goes."""
    body = json_object()
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ApiError(
            400, f"'{unknown[0]}' is not a create-session field; use {', '.join(FIELDS)}"
        )
    transaction_id = as_order_id(body.get("transaction_id"))
    if transaction_id is None:
        raise ApiError(400, f"'transaction_id' is required, and must be {ORDER_ID_RULE}")
    try:
        amount = parse_amount(body.get("amount"))
    except AmountError as exc:
        raise ApiError(400, str(exc)) from None
    state = account()
    currency = state.settings.currency
    asked = body.get("currency", currency)
    if asked != currency:
        raise ApiError(
            400, f"'currency' must be {currency}, the account's (--currency), got {asked!r}:"
            " a mock converts nothing",
        )  # fmt: skip
    callback_url = url_field(body, "callback_url")
    # The transaction id is the shop's reference, not the gateway's order: a shop that
    # starts again with a fresh database numbers its transactions from 1 again. A reference
    # already paid is paid again under an order id of its own (1~2, 1~3, ...).
    for order_id in _orders_for(transaction_id):
        try:
            session = state.checkout.create(
                order_id, amount, EXPIRES_IN, callback_url=callback_url, currency=currency,
                api=API, reference=None if order_id == transaction_id else transaction_id,
            )  # fmt: skip
            break
        except OrderAlreadyPaidError:
            continue
    else:
        raise ApiError(
            409,
            f"Transaction {transaction_id!r} is paid already, and its id is too long to be paid"
            f" again under an order id of its own (at most {MAX_ORDER_ID_LENGTH} characters)",
        )
    return json_response(
        {
            "payment_url": f"{request.url_root}checkout/{session.id}",
            "session_id": session.id,
            "transaction_id": transaction_id,
            "status": "pending",
            "expires_at": format_time(session.expires_at),
        }
    )


@bp.get("/status/<path:transaction_id>")
def status(transaction_id: str) -> Response:
    """How the transaction's newest payment stands: pending, success or failure."""
    sessions = [
        session
        for session in account().checkout.sessions.newest_first()
        if session.api == API
        and str(session.order_id if session.reference is None else session.reference)
        == transaction_id
    ]
    if not sessions:
        raise ApiError(404, f"No transaction {transaction_id!r}: create-session opens one")
    return json_response({"status": status_of(sessions[0])})


def _orders_for(transaction_id: OrderId) -> Iterator[OrderId]:
    """The order ids a transaction may be paid under: its own, then 1~2, 1~3, ... as long
    as they are order ids (255 characters at most)."""
    yield transaction_id
    for again in itertools.count(2):
        order_id = f"{transaction_id}~{again}"
        if len(order_id) > MAX_ORDER_ID_LENGTH:
            return  # no order id is longer: the reference cannot be paid again
        yield order_id


def status_of(session: CheckoutSession) -> str:
    """pending while the page is open, success once paid, failure for every other end."""
    return STATUS.get(session.state, "failure")
