"""Hosted checkout sessions, kept: made by the store, paid or not on the page, expiring.

The store keeps the current version of each session under its lock and replaces it on
every change. Only an open session changes, and only once: to paid, failed, canceled or
expired. Expiry happens on time on a timer thread, whether anyone looks or not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .journal import JournalError
from .money import Amount
from .session import CardAttempt, CheckoutSession, SessionNotOpenError, SessionState, new_session_id
from .timer import DueTimer
from .transactions import OrderId, order_key

log = logging.getLogger("payments_server.checkout")

Clock = Callable[[], datetime]
# Given an open session, the final state it takes and the attempt that led there, if any.
Decide = Callable[[CheckoutSession], tuple[SessionState, CardAttempt | None]]


class SessionStore:
    """Every session, newest last, under one lock; expires open ones on a timer thread.

    `on_expired(session)` is called, outside the lock, for each session that expired on
    its own; whoever made the store sends the callback from there. `record(session)`, if
    given, keeps each new version durably (the state file) before memory changes; it may
    raise, and then the change is not made.
    """

    def __init__(
        self,
        on_expired: Callable[[CheckoutSession], None],
        clock: Clock = lambda: datetime.now(UTC),
        record: Callable[[CheckoutSession], None] | None = None,
    ) -> None:
        self._on_expired = on_expired
        self._clock = clock
        self._record = record or (lambda session: None)
        self._lock = threading.Lock()
        self._sessions: dict[str, CheckoutSession] = {}
        self._timer = DueTimer(self._expire, "session-expiry", clock)

    def add(self, session: CheckoutSession, *, restored: bool = False) -> None:
        """Keep a new session, or a restored version of one; an open one is expired at its
        expires_at (at once if that has passed while the gateway was stopped)."""
        with self._lock:
            if not restored:
                self._record(session)
            self._sessions[session.id] = session
        if session.open:
            self._timer.schedule(session.id, session.expires_at)

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
            if attempt is None:
                self._record(finished)
            else:
                # The attempt has charged the account (or recorded its decline) already:
                # undoing it is not possible, so a failure to record is only a warning.
                self._record_or_warn(finished)
            self._sessions[session_id] = finished
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

    def reset(self) -> None:
        """Forget every session."""
        with self._lock:
            self._sessions.clear()
            self._timer.clear()

    def _record_or_warn(self, session: CheckoutSession) -> None:
        try:
            self._record(session)
        except JournalError as exc:
            log.warning("session %s is %s in memory only: %s", session.id, session.state, exc)

    def close(self) -> None:
        """Stop the timer thread."""
        self._timer.close()

    def _expire(self, session_id: str) -> None:
        """Expire a session that is still open at its expires_at, and tell whoever made the
        store, on a thread of its own: a slow store answering one expiry's callback must not
        hold back the next session's expiry."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or not session.open or session.expires_at > self._clock():
                return
            expired = replace(session, state=SessionState.EXPIRED)
            # Nobody to refuse: the store is told in any case.
            self._record_or_warn(expired)
            self._sessions[session_id] = expired
        threading.Thread(
            target=self._on_expired, args=(expired,), name="session-expired", daemon=True
        ).start()
