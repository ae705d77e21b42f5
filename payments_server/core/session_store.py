"""Hosted checkout sessions, kept: made by the store, paid or not on the page, expiring.

The store keeps the current version of each session under its lock and replaces it on
every change. Only an open session changes, and only once: to paid, failed, canceled or
expired. Expiry happens on time, on the gateway's scheduler, whether anyone looks or not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from .checkout_session import (
    CardAttempt,
    CheckoutSession,
    SessionNotOpenError,
    SessionState,
    new_session_id,
)
from .clock import Clock
from .journal import JournalError
from .money import Amount
from .scheduler import Scheduler
from .transactions import OrderId, order_key

log = logging.getLogger("payments_server.checkout")

T = TypeVar("T")
EXPIRY = "session_expiry"  # the scheduler's kind for a session's expiry
# Given an open session, its final version, and True if that version's state-file line is
# written already (a payment's line holds its session: one line, whole or not at all).
Decide = Callable[[CheckoutSession], tuple[CheckoutSession, bool]]


class SessionStore:
    """Every session, newest last, under one lock; expires open ones on the scheduler.

    `on_expired(session)` is called, outside the lock, for each session that expired on
    its own; whoever made the store sends the callback from there. `record(session)`, if
    given, keeps each new version durably (the state file) before memory changes; it may
    raise, and then the change is not made.
    """

    def __init__(
        self,
        on_expired: Callable[[CheckoutSession], None],
        scheduler: Scheduler | None = None,
        record: Callable[[CheckoutSession], None] | None = None,
    ) -> None:
        self._on_expired = on_expired
        self._own_scheduler = scheduler is None
        self._scheduler = scheduler or Scheduler(Clock())
        self._clock = self._scheduler.clock.now
        self._record = record or (lambda session: None)
        self._lock = threading.Lock()
        self._sessions: dict[str, CheckoutSession] = {}

    def add(self, session: CheckoutSession, *, restored: bool = False) -> None:
        """Keep a new session, or a restored version of one; an open one is expired at its
        expires_at (at once if that has passed while the gateway was stopped)."""
        with self._lock:
            if not restored:
                self._record(session)
            self._sessions[session.id] = session
        if session.open:
            self._scheduler.schedule(
                EXPIRY, session.id, session.expires_at, lambda: self._expire(session.id)
            )

    def new(
        self, order_id: OrderId, amount: Amount, expires_in: int, **details: Any
    ) -> CheckoutSession:
        """Make and keep an open session; {CHECKOUT_SESSION_ID} and {ORDER_ID} in the URLs
        given in `details` are replaced, the order id percent-encoded (it may hold anything
        a request line or a Location header cannot)."""
        now = self._clock()
        session_id = new_session_id()
        for name in ("success_url", "cancel_url", "callback_url"):
            if details.get(name) is not None:
                details[name] = (
                    details[name]
                    .replace("{CHECKOUT_SESSION_ID}", session_id)
                    .replace("{ORDER_ID}", quote(str(order_id), safe=""))
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

        def decide(session: CheckoutSession) -> tuple[CheckoutSession, bool]:
            attempts = session.attempts if attempt is None else (*session.attempts, attempt)
            return replace(session, state=state, attempts=attempts), False

        return self.settle(session_id, decide)

    def settle(self, session_id: str, decide: Decide) -> CheckoutSession:
        """Settle an open session with what `decide(session)` returns (finished, or still
        open with one more attempt), called under the store's lock so that nothing (expiry,
        a second payment) finishes it meanwhile.

        `decide` may raise, and the state file may refuse the new version (JournalError):
        then nothing changes. Raises SessionNotOpenError or KeyError.
        """
        with self._lock:
            session = self._sessions[session_id]
            if not session.open:
                raise SessionNotOpenError(session)
            finished, recorded = decide(session)
            if not recorded:
                self._record(finished)
            self._sessions[session_id] = finished
            if not finished.open:
                # Nothing left for its expiry to do (GET /clock no longer lists it).
                self._scheduler.cancel(EXPIRY, session_id)
            return finished

    def link_callback(self, session_id: str, callback_id: str) -> CheckoutSession | None:
        """Record the callback that told the store how the session ended."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None  # forgotten by a reset meanwhile
            linked = replace(session, callback_id=callback_id)
            self._record_or_warn(linked)  # the callback is on its way whatever happens
            self._sessions[session_id] = linked
            return linked

    def reset(self, before: Callable[[], T] | None = None) -> T | None:
        """Forget every session; `before()`, if given, runs first under the same lock (it
        may raise, and then nothing is forgotten): a session made or finished meanwhile
        would write its line to the state file the reset starts afresh."""
        with self._lock:
            done = None if before is None else before()
            self._sessions.clear()
            self._scheduler.clear(EXPIRY)
            return done

    def _record_or_warn(self, session: CheckoutSession) -> None:
        try:
            self._record(session)
        except JournalError as exc:
            log.warning("session %s is %s in memory only: %s", session.id, session.state, exc)

    def close(self) -> None:
        """Stop expiring sessions."""
        self._scheduler.clear(EXPIRY)
        if self._own_scheduler:
            self._scheduler.close()

    def _expire(self, session_id: str) -> None:
        """Expire a session that is still open at its expires_at, and tell whoever made the
        store (on the scheduler's thread, which a slow store holds up alone)."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or not session.open or session.expires_at > self._clock():
                return
            expired = replace(session, state=SessionState.EXPIRED)
            # Nobody to refuse: the store is told in any case.
            self._record_or_warn(expired)
            self._sessions[session_id] = expired
        self._on_expired(expired)
