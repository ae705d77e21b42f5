"""Hosted checkout sessions, kept: made by the store, paid or not on the page, expiring.

The store keeps the current version of each session under its lock and replaces it on
every change. Only an open session changes, and only once: to paid, failed, canceled or
expired. Expiry happens on time on a timer thread, whether anyone looks or not.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .journal import JournalError
from .money import Amount
from .session import CardAttempt, CheckoutSession, SessionNotOpenError, SessionState, new_session_id
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
        self._lock = threading.Condition()
        self._sessions: dict[str, CheckoutSession] = {}
        self._due: list[tuple[datetime, str]] = []
        self._timer: threading.Thread | None = None
        self._closed = False

    def add(self, session: CheckoutSession, *, restored: bool = False) -> None:
        """Keep a new session, or a restored version of one; an open one is expired at its
        expires_at (at once if that has passed while the gateway was stopped)."""
        with self._lock:
            if not restored:
                self._record(session)
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
            self._due.clear()
            self._lock.notify_all()

    def _record_or_warn(self, session: CheckoutSession) -> None:
        try:
            self._record(session)
        except JournalError as exc:
            log.warning("session %s is %s in memory only: %s", session.id, session.state, exc)

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
                    # Nobody to refuse: the store is told in any case.
                    self._record_or_warn(expired)
                    self._sessions[session_id] = expired
                    return expired
            return None
