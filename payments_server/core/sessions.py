"""Hosted checkout sessions: made by the store, paid or not on the gateway's page, expiring.

A session is immutable; the store keeps the current version of each under its lock and
replaces it on every change. Only an open session changes, and only once: to paid, failed,
canceled or expired. Expiry happens on time on a timer thread, whether anyone looks or not.
"""

from __future__ import annotations

import heapq
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from .jsonio import format_time
from .money import Amount
from .transactions import OrderId, order_key

ID_PREFIX = "cs_"
MIN_EXPIRES_IN = 10
MAX_EXPIRES_IN = 86_400
DEFAULT_EXPIRES_IN = 1_800

Clock = Callable[[], datetime]
# Given an open session, the final state it takes and the attempt that led there, if any.
Decide = Callable[["CheckoutSession"], tuple["SessionState", "CardAttempt | None"]]


class SessionState(StrEnum):
    """Where a session stands; every state but open is final."""

    OPEN = "open"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class SessionNotOpenError(Exception):
    """The session has already finished; nothing was changed."""

    def __init__(self, session: CheckoutSession) -> None:
        super().__init__(f"Checkout session {session.id} is {session.state.value}, not open")
        self.session = session


@dataclass(frozen=True, slots=True)
class Card:
    """What the gateway keeps of a card: its brand and last four digits, never more."""

    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class CardAttempt:
    """One try on the page (or through the API): never the card number, only its brand and
    last four digits."""

    at: datetime
    outcome: str
    decline_code: str | None = None
    brand: str | None = None
    last4: str | None = None

    def to_json(self) -> dict[str, object]:
        """The attempt as the session object shows it."""
        return {
            "at": format_time(self.at),
            "outcome": self.outcome,
            "decline_code": self.decline_code,
            "card": None if self.last4 is None else {"brand": self.brand, "last4": self.last4},
        }


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """One payment session for one order."""

    id: str
    order_id: OrderId
    amount: Amount
    created_at: datetime
    expires_at: datetime
    success_url: str | None = None
    cancel_url: str | None = None
    callback_url: str | None = None
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    state: SessionState = SessionState.OPEN
    attempts: tuple[CardAttempt, ...] = ()
    callback_id: str | None = None

    @property
    def open(self) -> bool:
        """True until the session is paid, failed, canceled or expired."""
        return self.state is SessionState.OPEN

    def to_json(self, url: str, callback_state: str | None) -> dict[str, object]:
        """The session object of the API; `url` is its payment page."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "amount": self.amount.sent,
            "state": self.state.value,
            "url": url,
            "created_at": format_time(self.created_at),
            "expires_at": format_time(self.expires_at),
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "callback_url": self.callback_url,
            "description": self.description,
            "metadata": dict(self.metadata),
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "callback": None
            if self.callback_id is None
            else {"id": self.callback_id, "state": callback_state},
        }


def new_session_id() -> str:
    """cs_ and 128 random bits: the page's URL is all a customer needs, so it is unguessable."""
    return ID_PREFIX + secrets.token_hex(16)


class SessionStore:
    """Every session, newest last, under one lock; expires open ones on a timer thread.

    `on_expired(session)` is called, outside the lock, for each session that expired on
    its own; whoever made the store sends the callback from there.
    """

    def __init__(
        self,
        on_expired: Callable[[CheckoutSession], None],
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._on_expired = on_expired
        self._clock = clock
        self._lock = threading.Condition()
        self._sessions: dict[str, CheckoutSession] = {}
        self._due: list[tuple[datetime, str]] = []
        self._timer: threading.Thread | None = None
        self._closed = False

    def add(self, session: CheckoutSession) -> None:
        """Keep a new (or restored) session; an open one is expired at its expires_at."""
        with self._lock:
            self._sessions[session.id] = session
            if session.open:
                heapq.heappush(self._due, (session.expires_at, session.id))
                self._start_timer()
                self._lock.notify_all()

    def new(
        self, order_id: OrderId, amount: Amount, expires_in: int, **details: Any
    ) -> CheckoutSession:
        """Make and keep an open session; {CHECKOUT_SESSION_ID} and {ORDER_ID} in the URLs
        given in `details` are replaced."""
        now = self._clock()
        session_id = new_session_id()
        for name in ("success_url", "cancel_url", "callback_url"):
            if details.get(name) is not None:
                details[name] = (
                    details[name]
                    .replace("{CHECKOUT_SESSION_ID}", session_id)
                    .replace("{ORDER_ID}", str(order_id))
                )
        session = CheckoutSession(
            session_id, order_id, amount, now, now + timedelta(seconds=expires_in), **details
        )
        self.add(session)
        return session

    def get(self, session_id: str) -> CheckoutSession | None:
        """The session with this id, if there is one."""
        with self._lock:
            return self._sessions.get(session_id)

    def newest_first(
        self, order_id: str | None = None, state: SessionState | None = None
    ) -> list[CheckoutSession]:
        """Sessions newest first, optionally for one order (compared as text) or state."""
        with self._lock:
            sessions = list(self._sessions.values())
        return [
            s
            for s in reversed(sessions)
            if (order_id is None or order_key(s.order_id) == order_id)
            and (state is None or s.state is state)
        ]

    def finish(
        self, session_id: str, state: SessionState, attempt: CardAttempt | None = None
    ) -> CheckoutSession:
        """Move an open session to a final state; raise SessionNotOpenError (or KeyError)."""
        return self.settle(session_id, lambda session: (state, attempt))

    def settle(self, session_id: str, decide: Decide) -> CheckoutSession:
        """Finish an open session with what `decide(session)` returns, called under the
        store's lock so that nothing (expiry, a second payment) finishes it meanwhile.

        `decide` may raise: then nothing changes. Raises SessionNotOpenError or KeyError.
        """
        with self._lock:
            session = self._sessions[session_id]
            if not session.open:
                raise SessionNotOpenError(session)
            state, attempt = decide(session)
            attempts = session.attempts if attempt is None else (*session.attempts, attempt)
            finished = replace(session, state=state, attempts=attempts)
            self._sessions[session_id] = finished
            return finished

    def link_callback(self, session_id: str, callback_id: str) -> CheckoutSession | None:
        """Record the callback that told the store how the session ended."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None  # forgotten by a reset meanwhile
            linked = replace(session, callback_id=callback_id)
            self._sessions[session_id] = linked
            return linked

    def reset(self) -> None:
        """Forget every session."""
        with self._lock:
            self._sessions.clear()
            self._due.clear()
            self._lock.notify_all()

    def close(self) -> None:
        """Stop the timer thread."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._timer is not None:
            self._timer.join(1.0)

    def _start_timer(self) -> None:
        if self._timer is None:
            self._timer = threading.Thread(target=self._run, name="session-expiry", daemon=True)
            self._timer.start()

    def _run(self) -> None:
        while (expired := self._next_expired()) is not None:
            # Its own thread: a slow store answering one expiry's callback must not hold
            # back the next session's expiry.
            threading.Thread(
                target=self._on_expired, args=(expired,), name="session-expired", daemon=True
            ).start()

    def _next_expired(self) -> CheckoutSession | None:
        """Wait for the next open session to reach its expires_at and expire it."""
        with self._lock:
            while not self._closed:
                if not self._due:
                    self._lock.wait()
                    continue
                due, session_id = self._due[0]
                wait = (due - self._clock()).total_seconds()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                heapq.heappop(self._due)
                session = self._sessions.get(session_id)
                if session is not None and session.open:
                    expired = replace(session, state=SessionState.EXPIRED)
                    self._sessions[session_id] = expired
                    return expired
            return None
