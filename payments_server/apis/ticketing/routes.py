"""The ticketing service's payment API (seed 001, docs/ticketing.md) at /ticketing:
POST /payments as its PaymentsController answers it, and the read side a client expects."""

from __future__ import annotations

import uuid
from decimal import Decimal

from flask import Blueprint, Response, g, request

from ...core.money import Amount, AmountError, parse_amount
from ...core.refusals import LimitExceededError, OrderAlreadyPaidError
from ...core.simulation import Decline
from ...flow.outcomes import Declined, Outcome, Paid, Pending, Refused
from ..responses import json_response
from ..web import about_order, account
from .binding import EMPTY, GUID, PaymentRequest, bind
from .problems import problem_details
from .records import CLASSES, NOTE, PENDING, SUCCEEDED, Payment, Payments

BASE_URL = "/ticketing"
API = "ticketing"
JSON_TYPES = ("application/json", "text/json", "application/*+json")
REQUIRED = "Payment request is required"
# What a request without paymentMethod pays with, as the real service defaults it.
DEFAULT_METHOD = "credit_card"
TEST_AMOUNTS = (
    (Decimal("0.13"), "card_declined", "Your card was declined"),
    (Decimal("0.66"), "insufficient_funds", "Insufficient funds on card"),
    (Decimal("0.99"), "processor_timeout", "Payment processor timeout"),
)

bp = Blueprint(API, __name__)


def payments() -> Payments:
    """The account's ticketing payments."""
    kept = account().apis[API]
    assert isinstance(kept, Payments)
    return kept


@bp.post("/payments")
def process_payment() -> Response:
    """ProcessPayment: validate as the controller does, pay through the one flow, answer
    {success, payment, errorMessage} with the controller's status for each failure."""
    if not any(_matches(request.mimetype, accepted) for accepted in JSON_TYPES):
        return problem_details(415)
    g.raw_body = data = request.get_data()  # for the activity log, as every route keeps it
    payment_request = bind(data)
    if payment_request is not None:
        about_order(str(payment_request.order_id))
    refusal = _controller_refusal(payment_request)
    if refusal is not None or payment_request is None:
        return bad_request(refusal or REQUIRED)
    currency = payment_request.currency or "USD"
    checked = _order_check(payment_request, currency)
    if isinstance(checked, str):
        return failed(400, f"Order validation failed: {checked}")
    return _pay(payment_request, checked, currency)


def _pay(payment_request: PaymentRequest, amount: Amount, currency: str) -> Response:
    """Charge through the one flow (no store callback: this service's news go to Kafka)."""
    state = account()
    order_id = str(payment_request.order_id)
    # The handler's step 0: an order paid here already answers its payment again.
    done = [p for p in payments().for_order(payment_request.order_id) if p.status == SUCCEEDED]
    if done:
        return answer(200, True, done[0], None)
    record = Payment(
        uuid.uuid4(), payment_request.order_id, payment_request.customer_id,
        payment_request.reservation_id, amount.value, currency,
        payment_request.payment_method or DEFAULT_METHOD, PENDING, state.clock.now(),
    )  # fmt: skip

    def event(outcome: Outcome) -> tuple[str, dict[str, object]] | None:
        # The contract's event (contracts/kafka), with the request's own values.
        if isinstance(outcome, Paid):
            return record.succeeded(state.clock.now()).event()
        if isinstance(outcome, Declined) and outcome.code not in CLASSES:
            return record.failed(outcome.code, record.created_at, _detail(outcome)).event()
        return None

    # The request's record rides on the attempt's state-file line (NOTE), so that a
    # restart knows the payment again (Payments.restore_order). The service has no
    # balance: the card pays, and its simulator's test amounts decide first.
    outcome = state.flow.charge(
        order_id, amount,
        decide=lambda: test_amount(amount.value) or state.flow.decision_for(order_id),
        note=lambda _attempt: {NOTE: record.to_json()}, funded=False, event=event, api=API,
    )  # fmt: skip
    if isinstance(outcome, Pending):
        return answer(200, True, payments().add(record), None)
    if isinstance(outcome, Paid):
        return answer(200, True, payments().add(record.succeeded(state.clock.now())), None)
    if isinstance(outcome, Refused):
        paid_before = isinstance(outcome.reason, OrderAlreadyPaidError)
        why = "is already paid" if paid_before else "has a payment pending"
        return failed(400, f"Order validation failed: order {order_id} {why}")
    return _declined(record, outcome)


def _controller_refusal(payment_request: PaymentRequest | None) -> str | None:
    """The controller's own checks, in its order, with its words."""
    if payment_request is None:
        return REQUIRED
    if payment_request.order_id == EMPTY:
        return "Valid OrderId is required"
    if payment_request.customer_id == EMPTY:
        return "Valid CustomerId is required"
    if payment_request.amount <= 0:
        return "Amount must be greater than zero"
    return None


def _order_check(payment_request: PaymentRequest, currency: str) -> Amount | str:
    """The amount as money, or what the handler's validation would find wrong with the
    request: an amount the account cannot hold, no payment method, another currency."""
    try:
        amount = parse_amount(payment_request.amount)
    except AmountError as exc:
        return str(exc)
    own = account().settings.currency
    if currency != own:
        return f"currency {currency!r} is not the account's ({own}); a mock converts nothing"
    return amount


@bp.get("/payments/<payment_id>")
def get_payment(payment_id: str) -> Response:
    """One payment by its id, as it stands now (a pending one once decided)."""
    found = payments().get(uuid.UUID(payment_id)) if GUID.fullmatch(payment_id) else None
    if found is None:
        return problem_details(404, f"No payment with id {payment_id!r}")
    return json_response(found.to_json())


@bp.get("/payments")
def list_payments() -> Response:
    """The payments of one order (?orderId=), newest first; none for an id no payment had."""
    order_id = request.args.get("orderId")
    if order_id is None:
        return problem_details(400, "orderId is required")
    if not GUID.fullmatch(order_id):
        return json_response([])
    return json_response([p.to_json() for p in payments().for_order(uuid.UUID(order_id))])


def _declined(record: Payment, outcome: Declined) -> Response:
    code = outcome.code
    if code in CLASSES:
        status, label = CLASSES[code]
        return failed(status, f"{label} (simulation rule: {code})")
    kept = payments().add(record.failed(code, record.created_at, _detail(outcome)))
    return answer(422, False, kept, f"Payment failed: {kept.error_message}")


def _detail(outcome: Declined) -> str | None:
    reason = outcome.reason
    return reason.detail if isinstance(reason, LimitExceededError) else None


def test_amount(value: Decimal) -> Decline | None:
    """The real simulator's test amounts: cents .13 a card declined, .66 insufficient funds,
    .99 a processor timeout, and 999,999.99 or more too large."""
    if value >= Decimal("999999.99"):
        return Decline("amount_too_large", "Amount exceeds maximum limit")
    cents = value % 1
    for ending, code, why in TEST_AMOUNTS:
        if cents == ending:
            return Decline(code, why)
    return None


def answer(status: int, success: bool, payment: Payment | None, message: str | None) -> Response:
    """The handler's response object, {success, payment, errorMessage}, as JSON."""
    body = {"success": success, "payment": None if payment is None else payment.to_json(),
            "errorMessage": message}  # fmt: skip
    response = json_response(body, status)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


def failed(status: int, message: str) -> Response:
    """A failed response with no payment made."""
    return answer(status, False, None, message)


def bad_request(message: str) -> Response:
    """BadRequest("..."): the string as text/plain, or as a JSON string if asked for JSON."""
    best = request.accept_mimetypes.best_match(["text/plain", "application/json"])
    if best == "application/json" and request.accept_mimetypes.quality("text/plain") < 1:
        response = json_response(message, 400)
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        return response
    return Response(message, 400, content_type="text/plain; charset=utf-8")


def _matches(content_type: str, accepted: str) -> bool:
    if accepted.endswith("*+json"):
        return content_type.startswith("application/") and content_type.endswith("+json")
    return content_type == accepted
