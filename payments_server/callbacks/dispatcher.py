"""Delivering callbacks: the first attempt in the request, retries on one background worker."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from time import monotonic

from ..core.activity import ActivityLog
from ..core.transactions import OrderId
from .client import Attempt, Callback, StoreNotifier
from .deliveries import Delivery, DeliveryLog, State
from .retries import RetryPolicy

log = logging.getLogger("payments_server.callbacks")

# How long close() waits for an attempt the worker has in flight before it stops waiting.
CLOSE_WAIT = 1.0


class UnknownCallbackError(LookupError):
    """No callback with this webhook-id is in the log."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"No callback with id {delivery_id!r}")
        self.delivery_id = delivery_id


class NotWaitingError(Exception):
    """The callback has no retry scheduled: it is delivered, failed, or being tried now."""

    def __init__(self, delivery: Delivery) -> None:
        doing = {State.PENDING: "is being tried now", State.DELIVERED: "was delivered"}.get(
            delivery.state, "has failed"
        )
        super().__init__(f"Callback {delivery.id} {doing}, not waiting for a retry")
        self.delivery = delivery


class Kind(Enum):
    """Why an attempt was made."""

    FIRST = "first attempt"
    RETRY = "retry"
    RESEND = "resend"


class CallbackDispatcher:
    """Sends each callback, retries failures on schedule, and keeps the delivery log.

    One lock guards the log and the retry queue, and it is never held while talking to the
    store, so a slow store delays neither requests nor the account.
    """

    def __init__(
        self,
        notifier: StoreNotifier,
        policy: RetryPolicy,
        log_size: int,
        *,
        rng: random.Random | None = None,
        activity: ActivityLog | None = None,
    ) -> None:
        self.notifier = notifier
        self._activity = activity
        self.policy = policy
        self._rng = rng or random.Random()
        self._lock = threading.Condition()
        self._log = DeliveryLog(log_size)
        # (monotonic due time, tie-breaker, webhook-id) of every scheduled retry.
        self._queue: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._worker: threading.Thread | None = None
        self._closed = False

    def notify(
        self,
        order_id: OrderId,
        status: str,
        url: str | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> Delivery:
        """Send a new event now (to `url`, or the server's callback URL) and return its
        record; failures are queued for retry."""
        callback = Callback.new(order_id, status, url, extra)
        delivery = Delivery(callback, datetime.now(UTC))
        with self._lock:
            self._log.put(delivery)
        attempt = self._send(callback)
        return self._after(delivery, attempt, Kind.FIRST)

    def resend(self, delivery_id: str) -> tuple[Attempt, Delivery]:
        """Send a logged event again now, with its webhook-id; return the attempt and record."""
        delivery = self.get(delivery_id)
        attempt = self._send(delivery.callback)
        return attempt, self._after(delivery, attempt, Kind.RESEND)

    def retry_now(self, delivery_id: str) -> tuple[Attempt, Delivery]:
        """Make the scheduled retry of a pending event now instead of at its time; it counts
        as that retry. Raise UnknownCallbackError, or NotWaitingError if none is scheduled."""
        with self._lock:
            delivery = self._log.get(delivery_id)
            if delivery is None:
                raise UnknownCallbackError(delivery_id)
            queued = [entry for entry in self._queue if entry[2] != delivery_id]
            if delivery.state is not State.PENDING or len(queued) == len(self._queue):
                raise NotWaitingError(delivery)
            self._queue = queued
            heapq.heapify(self._queue)
            in_flight = replace(delivery, next_attempt_at=None)
            self._log.put(in_flight)
        attempt = self._send(in_flight.callback)
        return attempt, self._after(in_flight, attempt, Kind.RETRY)

    def sent_headers(self, delivery: Delivery, attempt: Attempt) -> tuple[str, dict[str, str]]:
        """Where an attempt went and the headers it carried, signature included."""
        notifier = self.notifier.for_url(delivery.callback.url)
        return notifier.url, notifier.sent_headers(delivery.callback, attempt.at)

    def get(self, delivery_id: str) -> Delivery:
        """The record with this webhook-id; raise UnknownCallbackError if there is none."""
        with self._lock:
            delivery = self._log.get(delivery_id)
        if delivery is None:
            raise UnknownCallbackError(delivery_id)
        return delivery

    def deliveries(self, order_id: str | None = None, state: State | None = None) -> list[Delivery]:
        """Records newest first, optionally only for one order id (as text) or state."""
        with self._lock:
            return self._log.newest_first(order_id, state)

    def reset(self) -> None:
        """Cancel every pending retry and forget the log."""
        with self._lock:
            self._log.clear()
            self._queue.clear()
            self._lock.notify_all()

    def close(self) -> int:
        """Stop the worker and close connections; return how many events were still pending."""
        with self._lock:
            self._closed = True
            pending = self._log.pending()
            self._lock.notify_all()
        if self._worker is not None:
            # An attempt in flight ends within the callback timeout; shutdown does not wait that.
            self._worker.join(CLOSE_WAIT)
        self.notifier.close()
        return pending

    def _send(self, callback: Callback) -> Attempt:
        return self.notifier.for_url(callback.url).send(callback)

    def _after(self, sent: Delivery, attempt: Attempt, kind: Kind) -> Delivery:
        """Record an attempt and decide what comes next; return the updated record."""
        with self._lock:
            current = self._log.get(sent.id)
            if current is None:
                # POST /reset forgot this event while the attempt was in flight.
                updated = sent.attempted(attempt)
            else:
                updated = self._next_step(current, attempt, kind)
                self._log.put(updated)
        url = sent.callback.url or self.notifier.url
        _log_attempt(updated, attempt, kind, url, self.policy.max_retries)
        if self._activity is not None:
            _record_attempt(self._activity, updated, attempt, kind, url)
        return updated

    def _next_step(self, current: Delivery, attempt: Attempt, kind: Kind) -> Delivery:
        retries_done = current.retries_done + (kind is Kind.RETRY)
        if attempt.delivered:
            return current.attempted(
                attempt, state=State.DELIVERED, retries_done=retries_done, next_attempt_at=None
            )
        # A resend by hand, or a retry that a resend overtook, does not change the plan.
        if kind is Kind.RESEND or current.state is not State.PENDING:
            return current.attempted(attempt, retries_done=retries_done)
        delay = self.policy.next_delay(attempt, retries_done, self._rng)
        if delay is None or self._closed:
            return current.attempted(
                attempt, state=State.FAILED, retries_done=retries_done, next_attempt_at=None
            )
        heapq.heappush(self._queue, (monotonic() + delay, next(self._order), current.id))
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="callback-retries", daemon=True)
            self._worker.start()
        self._lock.notify_all()
        return current.attempted(
            attempt,
            retries_done=retries_done,
            next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
        )

    def _run(self) -> None:
        while (delivery := self._next_due()) is not None:
            self._after(delivery, self._send(delivery.callback), Kind.RETRY)

    def _next_due(self) -> Delivery | None:
        """Wait for the next scheduled retry and take it; None once closed."""
        with self._lock:
            while not self._closed:
                if not self._queue:
                    self._lock.wait()
                    continue
                wait = self._queue[0][0] - monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                delivery_id = heapq.heappop(self._queue)[2]
                delivery = self._log.get(delivery_id)
                # Gone after a reset, or delivered by a resend in the meantime.
                if delivery is not None and delivery.state is State.PENDING:
                    in_flight = replace(delivery, next_attempt_at=None)
                    self._log.put(in_flight)
                    return in_flight
            return None


def _log_attempt(
    delivery: Delivery, attempt: Attempt, kind: Kind, url: str, max_retries: int
) -> None:
    if attempt.delivered and not log.isEnabledFor(logging.INFO):
        return  # --quiet: the line would be dropped, so it is not even written out
    callback = delivery.callback
    what = f"callback {callback.id} order {callback.order_id} {callback.status} to {url}"
    if kind is not Kind.FIRST:
        what += f" ({kind.value})"
    if attempt.delivered:
        log.info("%s: %s in %.0f ms", what, attempt.status_code, attempt.duration_ms)
        return
    if kind is Kind.RESEND:
        outcome = ""
    elif delivery.next_attempt_at is not None:
        wait = max((delivery.next_attempt_at - datetime.now(UTC)).total_seconds(), 0)
        outcome = f"; retry {delivery.retries_done + 1} of {max_retries} in {wait:.3g} s"
    elif attempt.gone:
        outcome = "; the store answered 410 Gone, so no more retries"
    elif delivery.state is State.FAILED:
        count = len(delivery.attempts)
        outcome = f"; giving up after {count} {'attempt' if count == 1 else 'attempts'}"
    else:
        outcome = ""
    log.warning(
        "%s not delivered: %s (%.0f ms)%s", what, attempt.error, attempt.duration_ms, outcome
    )


def _record_attempt(
    activity: ActivityLog, delivery: Delivery, attempt: Attempt, kind: Kind, url: str
) -> None:
    callback = delivery.callback
    answer = (
        f"{attempt.status_code} in {attempt.duration_ms:.0f} ms"
        if attempt.delivered
        else f"not delivered: {attempt.error}"
    )
    activity.add(
        "callback",
        f'callback "{callback.status}" ({kind.value}): {answer}',
        callback.order_id,
        "delivered" if attempt.delivered else "not_delivered",
        {
            "delivery_id": callback.id,
            "attempt": len(delivery.attempts),
            "why": kind.value,
            "url": url,
            "status_code": attempt.status_code,
            "error": attempt.error,
            "duration_ms": round(attempt.duration_ms, 1),
            "state": delivery.state.value,
        },
    )
