"""Hosted checkout, composed: a session is paid, declined, canceled or expired through the
same ledger and callbacks as POST /payments/orders, and every change is announced.

The payment page and POST /checkout/sessions/<id>/complete both come here, so a test that
finishes a session without a browser takes exactly the customer's path.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from .callbacks.dispatcher import CallbackDispatcher
from .core.events import EventBus
from .core.journal import Journal
from .core.ledger import (
    InsufficientFundsError,
    Ledger,
    OrderAlreadyPaidError,
    PaymentDeclinedError,
)
from .core.limits import LimitExceededError
from .core.money import Amount
from .core.session import (
    Card,
    CardAttempt,
    CheckoutSession,
    SessionNotOpenError,
    SessionState,
    from_event,
    to_event,
)
from .core.sessions import SessionStore
from .core.simulation import Decline, Pending, Simulator
from .core.transactions import OrderId

# What the store is told for each way a session ends; the reason is in the session.
CALLBACK_STATUS = {
    SessionState.PAID: "success",
    SessionState.FAILED: "failed",
    SessionState.CANCELED: "failed",
    SessionState.EXPIRED: "failed",
}
ALREADY_PAID = "already_paid"


class Checkout:
    """Creates sessions and finishes them, telling the store and the live views."""

    def __init__(
        self,
        ledger: Ledger,
        callbacks: CallbackDispatcher,
        simulator: Simulator,
        events: EventBus,
        journal: Journal | None = None,
    ) -> None:
        self.ledger = ledger
        self.callbacks = callbacks
        self.simulator = simulator
        self.events = events
        record = None if journal is None else lambda session: journal.append(to_event(session))
        self.sessions = SessionStore(self._expired, record=record)
        # Cards waiting for their 3-D Secure step, by session id: brand, last four and the
        # decline code their number carries; never more of the card.
        self._held: dict[str, tuple[Card, str | None]] = {}
        self._held_lock = threading.Lock()

    def create(
        self, order_id: OrderId, amount: Amount, expires_in: int, **details: Any
    ) -> CheckoutSession:
        """Open a session; raise OrderAlreadyPaidError if the order is paid."""
        if self.ledger.paid_order(order_id) is not None:
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
    ) -> CheckoutSession:
        """Charge the session's order: paid, or failed with the decline (a test card's
        code, for `reason`; a simulation rule; the balance). Raises SessionNotOpenError or
        KeyError."""

        def decide(session: CheckoutSession) -> tuple[SessionState, CardAttempt]:
            at = datetime.now(UTC)
            brand, last4 = (None, None) if card is None else (card.brand, card.last4)
            try:
                self.ledger.pay_order(
                    session.order_id,
                    session.amount,
                    lambda: (
                        Decline(decline_code, reason)
                        if decline_code
                        else _not_pending(self.simulator.decide(session.order_id))
                    ),
                )
            except PaymentDeclinedError as exc:
                code = exc.decline_code
            except InsufficientFundsError:
                code = "insufficient_funds"
            except LimitExceededError:
                code = "limit_exceeded"
            except OrderAlreadyPaidError:
                code = ALREADY_PAID
            else:
                return SessionState.PAID, CardAttempt(at, "paid", None, brand, last4)
            return SessionState.FAILED, CardAttempt(at, "declined", code, brand, last4)

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

    def reset(self) -> None:
        """Forget every session (their streams learn it from the reset notice)."""
        self.sessions.reset()
        with self._held_lock:
            self._held.clear()

    def close(self) -> None:
        """Stop expiring sessions."""
        self.sessions.close()

    def _expired(self, session: CheckoutSession) -> None:
        # Called by the expiry timer, outside the store's lock.
        self._announce(session)

    def _announce(self, session: CheckoutSession) -> CheckoutSession:
        """Tell the store how the session ended (one callback, outside every lock), link
        the delivery to the session, and tell the live views."""
        attempt = session.attempts[-1] if session.attempts else None
        # An order paid some other way already told the store "success": a failed
        # callback for it now would contradict that.
        if attempt is None or attempt.decline_code != ALREADY_PAID:
            delivery = self.callbacks.notify(
                session.order_id, CALLBACK_STATUS[session.state], session.callback_url
            )
            session = self.sessions.link_callback(session.id, delivery.id) or session
        self.events.publish("session", session.id)
        return session


def _not_pending(answer: Decline | Pending | None) -> Decline | None:
    # A session is decided while the customer waits on the page: a pending rule pays it.
    return None if isinstance(answer, Pending) else answer


__all__ = ["Card", "Checkout", "SessionNotOpenError"]
