"""The small PSP's API (seed 004, docs/psp.md) at /psp: card transactions per merchant
(x-customer-id), the payables they make, and the merchant's balance.

A transaction is an order payment of the one account: decided by the one flow, its payable
made by a worker off the request thread and paid out when the clock passes its date.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from flask import Blueprint, Response, g, request

from ...core import jsonio
from ...core.card_data import redact
from ...core.money import CENT, Amount
from ...core.refusals import InsufficientFundsError, LimitExceededError
from ...flow.outcomes import Declined, Paid
from ..idempotent import CHARGE_ATTEMPTED, idempotent_within
from ..responses import json_response
from ..web import PAGE, about_order, account, raw_body
from .payables import PAID, PENDING_PAYMENT, RULES, TRANSACTION_EVENT, PspTransaction
from .payouts import PayoutWorker
from .validation import CUSTOMER_HEADER, NewTransaction, check_transaction, customer_problem

BASE_URL = "/psp"
API = "psp"

# The real PSP's MAX_PAGINATION_LIMIT: a larger ?limit= reads as this.
MAX_LIMIT = 200

bp = Blueprint(API, __name__)


def payouts() -> PayoutWorker:
    """The account's PSP book and the worker that makes and settles its payables."""
    kept = account().apis[API]
    assert isinstance(kept, PayoutWorker)
    return kept


def error(status: int, message: str, kind: str, details: object = None) -> Response:
    """The PSP's error body: {"message", "type", "details"}, details [] if none, as its error
    handler always writes them."""
    body = {"message": message, "type": kind, "details": [] if details is None else details}
    return json_response(body, status)


def invalid(problems: list[dict[str, str]]) -> Response:
    """422 with every problem found, as the real PSP's UnprocessableEntityError."""
    return error(422, "Invalid request body", "invalid_request_body", problems)


@bp.post("/transactions")
@idempotent_within(lambda: request.headers.get(CUSTOMER_HEADER, ""))
def create_transaction() -> Response:
    """Take a card transaction for the merchant, charged through the one flow."""
    data = raw_body()
    g.raw_body = _masked(data)
    try:
        # JavaScript's JSON.parse, as the PSP's Express reads bodies: no NaN, no Infinity.
        body = jsonio.loads(data, constants=False)
    except RecursionError:
        return error(400, "Bad request", "bad_request", {"context": "nested too deeply"})
    except ValueError as exc:
        return error(400, "Bad request", "bad_request", {"context": str(exc)})
    if not isinstance(body, dict):
        return invalid([{"message": '"value" must be of type object', "path": ""}])
    state = account()
    checked = check_transaction(
        request.headers.get(CUSTOMER_HEADER), body, state.clock.now().date(),
        refuse_expired=state.settings.psp_refuse_expired_cards,
    )  # fmt: skip
    if isinstance(checked, list):
        return invalid(checked)
    return _charge(checked)


def _charge(new: NewTransaction) -> Response:
    state = account()
    setattr(g, CHARGE_ATTEMPTED, True)
    now = state.clock.now()
    transaction_id = str(uuid.uuid4())
    about_order(transaction_id)
    status = PAID if RULES[new.payment_method].days == 0 else PENDING_PAYMENT
    transaction = PspTransaction(
        transaction_id, new.customer_id, new.description, new.amount, new.payment_method,
        new.card_holder_name, new.card_expiration_date, new.card_last_four_numbers, status,
        now, now,
    )  # fmt: skip
    value = (Decimal(new.amount) / 100).quantize(CENT)
    # A PSP transaction is decided at once, never left pending; the money is the card's,
    # not the one account's (the real PSP has no balance).
    outcome = state.flow.charge(
        transaction_id,
        Amount(value, value),
        decide=state.flow.simulated_decline,
        note=lambda _attempt: {TRANSACTION_EVENT: transaction.to_json()},
        funded=False,
        api=API,
    )
    if isinstance(outcome, Paid):
        payouts().book.add_transaction(transaction)
        payouts().enqueue(transaction)
        return json_response(transaction.to_json(), 201)
    assert isinstance(outcome, Declined)  # a new id is never paid or pending already
    problem = {"message": _why(outcome), "code": outcome.code}
    return error(402, "Transaction declined", "transaction_declined", [problem])


def _why(outcome: Declined) -> str:
    reason = outcome.reason
    if isinstance(reason, InsufficientFundsError):
        return "the account behind the card has insufficient funds"
    if isinstance(reason, LimitExceededError):
        return f"over the limit: {reason.detail}"
    return f"the card was declined ({outcome.code})"


@bp.get("/transactions")
def list_transactions() -> Response:
    """The merchant's transactions, newest first (?page=, ?limit=)."""
    customer = _customer()
    if isinstance(customer, Response):
        return customer
    found = payouts().book.transactions(customer)
    return _page([t.to_json() for t in reversed(found)])


@bp.get("/transactions/<transaction_id>")
def get_transaction(transaction_id: str) -> Response:
    """A transaction by its id, whichever merchant's, or null: as the real PSP answers."""
    found = payouts().book.transaction_by_id(transaction_id)
    return json_response(None if found is None else found.to_json())


@bp.get("/payables/<payable_id>")
def get_payable(payable_id: str) -> Response:
    """A payable by its id, whichever merchant's, or null: as the real PSP answers."""
    payouts().drain()
    found = payouts().book.payable_by_id(payable_id)
    return json_response(None if found is None else found.to_json())


@bp.get("/payables")
def list_payables() -> Response:
    """The merchant's payables, newest first, once the worker has made those of every
    transaction taken before this request (?page=, ?limit=)."""
    customer = _customer()
    if isinstance(customer, Response):
        return customer
    payouts().drain()
    found = payouts().book.payables(customer)
    return _page([p.to_json() for p in reversed(found)])


@bp.get("/balance")
def balance() -> Response:
    """What the merchant has been paid out (available) and what waits for its date, in cents."""
    customer = _customer()
    if isinstance(customer, Response):
        return customer
    state = account()
    payouts().drain()
    totals = payouts().book.balance(customer)
    return json_response({"customer_id": customer, **totals, "currency": state.settings.currency})


def _customer() -> str | Response:
    customer = request.headers.get(CUSTOMER_HEADER)
    problem = customer_problem(customer)
    if problem is not None or customer is None:
        return invalid([problem] if problem is not None else [])
    return customer


def _page(items: list[dict[str, object]]) -> Response:
    """One page of a list, as the real PSP pages: ?page= from 1 (0 reads as 1), ?limit=
    items (default 100; more than MAX_LIMIT reads as MAX_LIMIT)."""
    page, limit = _whole("page", 1), _whole("limit", PAGE)
    if isinstance(page, Response):
        return page
    if isinstance(limit, Response):
        return limit
    page, limit = max(page, 1), min(limit, MAX_LIMIT)
    return json_response(items[(page - 1) * limit : page * limit])


def _whole(name: str, default: int) -> int | Response:
    text = request.args.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        problem = {"message": f'"{name}" must be a whole number', "path": name}
        return error(400, "Invalid query", "invalid_query", [problem])
    return int(text)


def _masked(data: bytes) -> bytes:
    """The body as the activity log may keep it: its card data masked wherever and however
    it is named; a body that is not a JSON object is not kept at all."""
    try:
        body = jsonio.loads(data)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        kept = f"({len(data)} bytes, not a JSON object: not kept, as they may hold a card number)"
        return kept.encode()
    return jsonio.dumps(redact(body), constants=True).encode()
