"""The hosted payment page: GET shows the session, POSTs pay, authenticate or cancel it.

It works as plain forms; checkout.js only fills the form from the test-card table, counts
down and follows the session's event stream. Every value shown is escaped by Jinja.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, redirect, render_template, request

from ..apis.web import account
from ..core.checkout_session import Card, CheckoutSession, SessionNotOpenError
from ..core.money import format_money
from .cards import TEST_CARDS, CardError, card_name, decline_text, read_card
from .security import secure

bp = Blueprint(
    "ui", __name__, template_folder="templates", static_folder="static",
    static_url_path="/ui/static",
)  # fmt: skip

AUTHENTICATION_FAILED = "authentication_required"
# How much of a field typed into the form comes back in it after an error.
MAX_KEPT = 100
bp.after_request(secure)
bp.add_app_template_filter(format_money, "money")
bp.add_app_template_filter(decline_text, "decline_text")
bp.add_app_template_filter(card_name, "card_name")


def _session(session_id: str) -> CheckoutSession | None:
    return account().checkout.sessions.get(session_id)


def _page(
    session: CheckoutSession,
    status: int = 200,
    problems: Mapping[str, str] | None = None,
    entered: Mapping[str, str] | None = None,
) -> Response:
    """The form (with every problem found, by field, and the non-secret fields the
    customer typed) or the result."""
    template = "checkout.html" if session.open else "result.html"
    problems = problems or {}
    body = render_template(
        template, session=session, cards=TEST_CARDS, problems=problems,
        error=" ".join(problems.values()) or None, entered=entered or {},
        currency=session.currency or account().settings.currency,
        seconds_left=max(0, int((session.expires_at - account().clock.now()).total_seconds())),
    )  # fmt: skip
    return Response(body, status=status, mimetype="text/html")


def _missing(session_id: str) -> Response:
    body = render_template("missing.html", session_id=session_id)
    return Response(body, status=404, mimetype="text/html")


@bp.get("/checkout/<session_id>")
def show(session_id: str) -> Response:
    """The payment form while the session is open, its outcome once it is not."""
    session = _session(session_id)
    return _missing(session_id) if session is None else _page(session)


@bp.post("/checkout/<session_id>/pay")
def pay(session_id: str) -> Response:
    """Check the card, then pay (or ask for 3-D Secure first)."""
    session = _session(session_id)
    if session is None:
        return _missing(session_id)
    if not session.open:
        return redirect(f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    form = request.form
    try:
        card = read_card(
            form.get("number", ""), form.get("expiry", ""), form.get("cvc", ""),
            account().clock.now().date(),
        )  # fmt: skip
    except CardError as exc:
        # The expiry and the name come back; the number and the CVC never do.
        kept = {field: form.get(field, "")[:MAX_KEPT] for field in ("expiry", "name")}
        return _page(session, 400, exc.problems, kept)
    if card.three_d_secure:
        account().checkout.hold_for_authentication(
            session_id, Card(card.brand, card.last4), card.decline_code
        )
        return redirect(f"{request.script_root}/checkout/{session_id}/authenticate", 303)  # type: ignore[return-value]
    return _charge(session_id, Card(card.brand, card.last4), card.decline_code)


@bp.get("/checkout/<session_id>/authenticate")
def authenticate_page(session_id: str) -> Response:
    """The 3-D Secure step: complete or fail the authentication."""
    session = _session(session_id)
    if session is None:
        return _missing(session_id)
    held = account().checkout.held(session_id)
    if held is None or not session.open:
        return redirect(f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    body = render_template(
        "authenticate.html", session=session, card=held[0],
        currency=session.currency or account().settings.currency,
    )  # fmt: skip
    return Response(body, mimetype="text/html")


@bp.post("/checkout/<session_id>/authenticate")
def authenticate(session_id: str) -> Response:
    """Pay after a completed authentication; decline after a failed one."""
    held = account().checkout.release(session_id)
    if held is None:
        return redirect(f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    card, decline_code = held
    failed = request.form.get("action") != "complete"
    return _charge(session_id, card, AUTHENTICATION_FAILED if failed else decline_code)


@bp.post("/checkout/<session_id>/cancel")
def cancel(session_id: str) -> Response:
    """The customer gives up: back to the store's cancel_url, or our own result page."""
    try:
        session = account().checkout.cancel(session_id)
    except KeyError:
        return _missing(session_id)
    except SessionNotOpenError:
        return redirect(f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    return redirect(session.cancel_url or f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]


def _charge(session_id: str, card: Card, decline_code: str | None) -> Response:
    try:
        session = account().checkout.pay(
            session_id, card, decline_code, f"the test card ending in {card.last4}"
        )
    except KeyError:
        return _missing(session_id)
    except SessionNotOpenError:
        return redirect(f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    if session.state.value == "paid":
        return redirect(session.success_url or f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    if session.open:
        # Declined, and another card may pay: the form again, saying why (after a
        # redirect, so that reloading the page sends nothing twice).
        return redirect(f"{request.script_root}/checkout/{session_id}", 303)  # type: ignore[return-value]
    return _page(session)
