"""The card loader's API (seed 003, docs/cardloader.md) at /cardloader: client tokens, loads
onto prepaid cards paid with a Braintree nonce, and the cards' read side.

A load is an order payment of the one account: checked against the card's compliance
limits, decided by Braintree's sandbox rules and then by the one flow, and put on the card
once the account was debited.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from decimal import Decimal

from flask import Blueprint, Response, g, request

from ...core import jsonio
from ...core.jsonio import dumps
from ...core.money import CENT, MAX_AMOUNT, Amount
from ...core.simulation import Decline
from ...flow.outcomes import Declined, Outcome, Paid
from ..idempotent import CHARGE_ATTEMPTED, idempotent
from ..responses import json_response
from ..web import about_order, account, raw_body
from . import sandbox
from .prepaid_cards import EVENT, CardLoad, ComplianceError, PrepaidCard, PrepaidCards

BASE_URL = "/cardloader"
API = "cardloader"
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please"
    " check your spelling and try again."
)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

bp = Blueprint(API, __name__)


def cards() -> PrepaidCards:
    """The account's prepaid cards."""
    kept = account().apis[API]
    assert isinstance(kept, PrepaidCards)
    return kept


def errors(status: int, *found: tuple[str, str]) -> Response:
    """{"status": "error", "errors": [{"code", "message"}, ...]} with this status."""
    listed = [{"code": code, "message": message} for code, message in found]
    return json_response({"status": "error", "errors": listed}, status)


@bp.post("/tokens/")
def client_token() -> Response:
    """A client token: base64 of the JSON a Braintree client SDK starts from."""
    token = {
        "version": 2,
        "authorizationFingerprint": secrets.token_hex(32),
        "environment": "sandbox",
        "merchantId": "payments_server",
        "clientApiUrl": request.url_root.rstrip("/") + BASE_URL,
    }
    encoded = base64.b64encode(dumps(token).encode()).decode()
    return json_response({"client_token": encoded})


@bp.get("/cards/")
def list_cards() -> Response:
    """Every prepaid card, with its balance and loads."""
    currency = account().settings.currency
    return json_response([card.to_json(currency) for card in cards().all()])


@bp.get("/cards/<int:card_id>/")
def get_card(card_id: int) -> Response:
    """One prepaid card: its balance and its loads, newest first."""
    card = cards().get(card_id)
    if card is None:
        return errors(404, ("http-404", NOT_FOUND))
    return json_response(card.to_json(account().settings.currency))


@bp.post("/cards/<int:card_id>/load/")
@idempotent
def load_card(card_id: int) -> Response:
    """Load `amount` onto the card, paid with the client's `nonce`."""
    card = cards().get(card_id)
    if card is None:
        return errors(404, ("http-404", NOT_FOUND))
    body = _body()
    if isinstance(body, Response):
        return body
    nonce, amount = body.get("nonce"), _amount(body.get("amount"))
    problems = []
    if not isinstance(nonce, str) or not nonce.strip():
        problems.append(("invalid-nonce", "nonce is required: the payment method nonce, a string"))
    if amount is None:
        problems.append(
            ("invalid-amount", "amount is required: a string such as '10.00', more than 0.00"
             " with at most 2 decimal places")
        )  # fmt: skip
    if problems or not isinstance(nonce, str) or amount is None:
        return errors(400, *problems)
    return _load(card, nonce, amount)


def _load(card: PrepaidCard, nonce: str, amount: Decimal) -> Response:
    state = account()
    setattr(g, CHARGE_ATTEMPTED, True)
    refused = sandbox.nonce_error(nonce)
    load_id = str(uuid.uuid4())
    order_id = f"card-{card.id}-load-{load_id[:8]}"
    about_order(order_id)

    def charge(load: CardLoad) -> Outcome:
        return state.flow.charge(
            order_id,
            Amount(amount, amount),
            decide=lambda: _decide(nonce, amount),
            note=lambda _attempt: {EVENT: load.to_event(card.id)},
            latency=False,  # waited before the card's lock, below
            funded=False,  # Braintree charges the customer's card: the one account has no part
            api=API,
        )

    # The simulated latency before the card's lock: other loads of the card need not wait it.
    state.flow.wait_latency()
    try:
        if refused is not None:
            # Braintree refuses the nonce itself: the limits are checked first all the same.
            cards().check(card, amount)
            return errors(400, (refused.code, refused.message))
        outcome = cards().load(
            card, amount, charge, lambda done: isinstance(done, Paid), load_id, order_id
        )
    except ComplianceError as exc:
        return errors(400, (exc.code, exc.message))
    if isinstance(outcome, Paid):
        return json_response({"status": "ok", "errors": []})
    assert isinstance(outcome, Declined)
    return errors(400, _declined(outcome))


def _decide(nonce: str, amount: Decimal) -> Decline | None:
    """Braintree's sandbox first, then the gateway's simulation (never left pending)."""
    found = sandbox.outcome(nonce, amount)
    if isinstance(found, sandbox.GatewayRejection):
        return Decline(f"gateway_rejected_{found.reason}", f"Gateway Rejected: {found.reason}")
    if isinstance(found, sandbox.ProcessorDecline):
        return Decline(str(found.response), f"{found.response} {found.text} (Braintree sandbox)")
    return account().flow.simulated_decline()


def _declined(outcome: Declined) -> tuple[str, str]:
    code = outcome.code
    if code.startswith("gateway_rejected_"):
        # The real loader answers a gateway rejection with Braintree's reason and no text.
        return code.removeprefix("gateway_rejected_"), ""
    response = sandbox.from_decline_code(code)
    return str(response), sandbox.response_text(response)


def _body() -> dict[str, object] | Response:
    """The load's fields: from a form first, as the real loader reads them (request.form),
    else from the body as JSON, whatever its Content-Type."""
    data = raw_body()
    if request.mimetype in FORM_TYPES:
        form = request.form
        if "nonce" in form and "amount" in form:
            return {"nonce": form["nonce"], "amount": form["amount"]}
    try:
        body = jsonio.loads(data)
    except RecursionError:
        return errors(400, ("http-400", "Failed to decode JSON object: nested too deeply"))
    except ValueError as exc:
        return errors(400, ("http-400", f"Failed to decode JSON object: {exc}"))
    if not isinstance(body, dict):
        return errors(400, ("invalid-body", "the body must be a JSON object: {nonce, amount}"))
    return body


def _amount(raw: object) -> Decimal | None:
    """The amount, a string such as '10.00' (or a JSON number, which the real loader takes
    too), as money; None if it is not one."""
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        value: Decimal | None = Decimal(raw)
    elif isinstance(raw, str):
        value = jsonio.number_from_text(raw.strip())
    else:
        return None
    if (
        value is None
        or not value.is_finite()
        or not 0 < value <= MAX_AMOUNT
        or value != value.quantize(CENT)
    ):
        return None
    return value.quantize(CENT)


# The real loader's main page shows its README's instructions (its own tests ask for them);
# these are the same instructions, for the loader as payments_server serves it.
HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Limits: the prepaid-card loader</title></head>
<body><main>
<h1>Limits: load prepaid cards through Braintree</h1>
<p>This is the card loader of the <code>limits</code> project, served by payments_server at
<code>/cardloader</code>. The real project runs with <code>flask run</code> on
http://127.0.0.1:5000/; here it runs inside the gateway (<code>make run</code>), on the
gateway's one account, clock and dashboard.</p>
<h2>Client token generation</h2>
<p><code>POST /cardloader/tokens/</code> with no body answers
<code>{"client_token": "..."}</code>, which a Braintree client SDK starts from.</p>
<h2>Load a card</h2>
<p><code>POST /cardloader/cards/{id}/load/</code> with a form or JSON body:
<code>nonce</code>, the payment method nonce, and <code>amount</code>, such as
<code>'10.00'</code>. It answers <code>{"status": "ok", "errors": []}</code>, or
<code>400</code> with <code>{"status": "error", "errors": [{"code", "message"}]}</code>:
a compliance limit, a processor decline, a gateway rejection or bad input.</p>
<p>Cards 1 to 10 exist from the start. Limits: 500 a day, 800 in 30 days, 2,000 a year, and
1,000 on a card at once (<code>--card-load-limits</code>).</p>
</main></body></html>
"""


@bp.get("/")
@bp.get("/index.html")
def home() -> Response:
    """The instructions page, as the real loader's main page."""
    response = Response(HOME, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response
