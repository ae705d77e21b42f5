"""Hosted checkout, composed: a session is paid, declined, canceled or expired through the
same ledger and callbacks as POST /payments/orders, and every change is announced.

The payment page and POST /checkout/sessions/<id>/complete both come here, so a test that
finishes a session without a browser takes exactly the customer's path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from ..callbacks.signing import new_message_id
from ..core.checkout_session import (
    Card,
    CardAttempt,
    CheckoutSession,
    SessionNotOpenError,
    SessionState,
    from_event,
    to_event,
)
from ..core.events import EventBus
from ..core.journal import Journal
from ..core.money import Amount
from ..core.orders import AttemptOutcome, OrderAttempt
from ..core.refusals import OrderAlreadyPaidError, OrderPendingError
from ..core.scheduler import Scheduler
from ..core.session_store import SessionStore
from ..core.simulation import Decline, HoldPending
from ..core.transactions import OrderId
from .outcomes import DEFAULT_CALLBACK_SHAPE, Refused, session_callback
from .payment_flow import PaymentFlow

# A session refused before any decision: its order was paid some other way (the store was
# told "success" then), or has a pending payment (whose decision will tell the store).
# Either way the session tells the store nothing.
T = TypeVar("T")
ALREADY_PAID = "already_paid"
PAYMENT_PENDING = "payment_pending"
UNTOLD = frozenset({ALREADY_PAID, PAYMENT_PENDING})


class Checkout:
    """Creates sessions and finishes them, telling the store and the live views."""

    def __init__(
        self,
        flow: PaymentFlow,
        events: EventBus,
        scheduler: Scheduler,
        journal: Journal | None = None,
    ) -> None:
        self.flow = flow
        self.events = events
        # The callback body of a session by the API it was opened through (apis register
        # theirs); any other is the seed's.
        self.callback_shapes: dict[str, tuple[str, str]] = {}
        # The APIs whose sessions end at their first decline on the page (the article's
        # shows a failure screen); on any other's the customer may try another card until
        # the session expires or is canceled, and the store hears `failed` only then.
        self.final_declines: set[str] = set()
        record = None if journal is None else lambda session: journal.append(to_event(session))
        self.clock = scheduler.clock
        self.sessions = SessionStore(self._expired, scheduler, record=record)
        # Cards waiting for their 3-D Secure step, by session id: brand, last four and the
        # decline code their number carries; never more of the card.
        self._held: dict[str, tuple[Card, str | None]] = {}
        self._held_lock = threading.Lock()

    def create(
        self, order_id: OrderId, amount: Amount, expires_in: int, **details: Any
    ) -> CheckoutSession:
        """Open a session; raise OrderAlreadyPaidError if the order is paid."""
        if self.flow.ledger.paid_order(order_id) is not None:
            raise OrderAlreadyPaidError(order_id)
        session = self.sessions.new(order_id, amount, expires_in, **details)
        self.events.publish("session", session.id)
        return session

    def pay(
        self,
        session_id: str,
        card: Card | None = None,
        decline_code: str | None = None,
        reason: str = "a test card",
        *,
        final: bool = False,
    ) -> CheckoutSession:
        """Charge the session's order: paid, or declined (a test card's code, for `reason`;
        a simulation rule; the balance; a limit). Paid, or declined with `final` (the
        API's /complete) or on an API in final_declines, the session ends and the store is
        told; declined otherwise, it stays open for another card, the attempt kept. The
        payment and the session's new version are one line of the state file.
        Raises SessionNotOpenError or KeyError."""
        self.flow.wait_latency()
        brand, last4 = (None, None) if card is None else (card.brand, card.last4)
        callback_id = new_message_id()

        def finish(session: CheckoutSession, at: datetime, code: str | None) -> CheckoutSession:
            tried = CardAttempt(at, "paid" if code is None else "declined", code, brand, last4)
            attempts = (*session.attempts, tried)
            if (
                code is not None
                and code not in UNTOLD
                and not final
                and (session.api not in self.final_declines)
            ):
                return replace(session, attempts=attempts)  # open: another card may pay
            return replace(
                session,
                state=SessionState.PAID if code is None else SessionState.FAILED,
                attempts=attempts,
                callback_id=None if code in UNTOLD else callback_id,
            )

        def decide(session: CheckoutSession) -> tuple[CheckoutSession, bool]:
            noted: list[CheckoutSession] = []

            def note(attempt: OrderAttempt) -> dict[str, object]:
                # Under the account's lock, as the attempt's line is written: the session's
                # new version goes on the same line.
                paid = attempt.outcome is AttemptOutcome.PAID
                code = None if paid else attempt.decline_code or attempt.outcome.value
                noted.append(finish(session, attempt.at, code))
                return {"session": to_event(noted[0])}

            outcome = self.flow.charge_order(
                session.order_id,
                session.amount,
                lambda: (
                    Decline(decline_code, reason)
                    if decline_code
                    else _not_pending(self.flow.simulator.decide(session.order_id))
                ),
                note,
                api=session.api,
            )
            if noted:
                return noted[0], True
            # Refused before any decision: the ledger wrote nothing, so the session does.
            pending = isinstance(outcome, Refused) and isinstance(outcome.reason, OrderPendingError)
            code = PAYMENT_PENDING if pending else ALREADY_PAID
            return finish(session, self.clock.now(), code), False

        return self._announce(self.sessions.settle(session_id, decide))

    def hold_for_authentication(
        self, session_id: str, card: Card, decline_code: str | None
    ) -> None:
        """Keep a card until the customer completes or fails its 3-D Secure step."""
        with self._held_lock:
            self._held[session_id] = (card, decline_code)

    def held(self, session_id: str) -> tuple[Card, str | None] | None:
        """The card waiting for authentication on this session, if any."""
        with self._held_lock:
            return self._held.get(session_id)

    def release(self, session_id: str) -> tuple[Card, str | None] | None:
        """Take the waiting card away (the step was answered)."""
        with self._held_lock:
            return self._held.pop(session_id, None)

    def cancel(self, session_id: str) -> CheckoutSession:
        """The customer gave up; raise SessionNotOpenError or KeyError."""
        return self._announce(self.sessions.finish(session_id, SessionState.CANCELED))

    def expire(self, session_id: str) -> CheckoutSession:
        """Expire now; raise SessionNotOpenError or KeyError."""
        return self._announce(self.sessions.finish(session_id, SessionState.EXPIRED))

    def restore(self, event: dict[str, Any]) -> None:
        """Take back a session from its state-file line; an open one that should have
        expired while the gateway was stopped expires at once, and the store is told.

        Raises ValueError if the line does not hold a session.
        """
        self.sessions.add(from_event(event), restored=True)

    def reset(self, before: Callable[[], T] | None = None) -> T | None:
        """Forget every session (their streams learn it from the reset notice); `before()`
        runs first, under the sessions' lock, and its answer is returned."""
        done = self.sessions.reset(before)
        with self._held_lock:
            self._held.clear()
        return done

    def _expired(self, session: CheckoutSession) -> None:
        # Called by the expiry timer, outside the store's lock.
        self._announce(session)

    def _announce(self, session: CheckoutSession) -> CheckoutSession:
        """Tell the store how the session ended (one callback, outside every lock), link
        the delivery to the session if it was not known before, and tell the live views.
        A session still open (a decline the customer may retry) tells the store nothing."""
        attempt = session.attempts[-1] if session.attempts else None
        if not session.open and (attempt is None or attempt.decline_code not in UNTOLD):
            shape = self.callback_shapes.get(session.api, DEFAULT_CALLBACK_SHAPE)
            status, body = session_callback(session, shape)
            delivery = self.flow.notify(
                session.order_id, status, session.callback_url,
                callback_id=session.callback_id, body=body,
            )  # fmt: skip
            if delivery is not None and session.callback_id is None:
                session = self.sessions.link_callback(session.id, delivery.id) or session
        self.events.publish("session", session.id)
        return session


def _not_pending(answer: Decline | HoldPending | None) -> Decline | None:
    # A session is decided while the customer waits on the page: a pending rule pays it.
    return None if isinstance(answer, HoldPending) else answer


__all__ = ["Card", "Checkout", "SessionNotOpenError"]
