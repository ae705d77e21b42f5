"""Delivering callbacks: the first attempt in the request, retries on one background worker."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum

from ..core.activity import ActivityLog
from ..core.clock import Clock
from ..core.faults import HOLDS, CallbackFault
from ..core.scheduler import Scheduler
from ..core.transactions import OrderId, order_key
from .client import BAD_SIGNATURE, STALE_TIMESTAMP, Attempt, Callback, StoreNotifier
from .deliveries import Delivery, DeliveryLog, NotWaitingError, State, UnknownCallbackError
from .reporting import FIRST, RESEND, AttemptLog, record_attempt
from .retries import RetryPolicy

log = logging.getLogger("payments_server.callbacks")

DROPPED = "dropped on purpose (simulation): never sent"
SIGNING_FAULTS = frozenset({BAD_SIGNATURE, STALE_TIMESTAMP})
# The scheduler's kind for a callback's next attempt (a retry, or a held first attempt).
SCHEDULED = "callback"


class Kind(Enum):
    """Why an attempt was made."""

    FIRST = FIRST
    RETRY = "retry"
    RESEND = RESEND
    DUPLICATE = "duplicate"


class CallbackDispatcher:
    """Sends each callback, retries failures on schedule, and keeps the delivery log.

    One lock guards the log and what is held back, and it is never held while talking to
    the store, so a slow store delays neither requests nor the account. Retries run on the
    gateway's scheduler, so they follow its clock.
    """

    def __init__(
        self,
        notifier: StoreNotifier,
        policy: RetryPolicy,
        log_size: int,
        *,
        rng: random.Random | None = None,
        activity: ActivityLog | None = None,
        faults: Callable[[OrderId], CallbackFault | None] | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.notifier = notifier
        self._own_scheduler = scheduler is None
        self._scheduler = scheduler or Scheduler(Clock())
        self._clock = self._scheduler.clock
        self._activity = activity
        self._attempt_log = AttemptLog(notifier.namespace)
        self._faults = faults
        self.policy = policy
        self._rng = rng or random.Random()
        self._lock = threading.Condition()
        self._log = DeliveryLog(log_size)
        # Held first attempts: webhook-id -> its fault ("delay" or "reorder"); and for each
        # order with an event held for a reorder, that event's webhook-id.
        self._held: dict[str, str] = {}
        self._swaps: dict[str, str] = {}
        self._closed = False

    def notify(
        self,
        order_id: OrderId,
        status: str,
        url: str | None = None,
        extra: Mapping[str, object] | None = None,
        *,
        callback_id: str | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Delivery:
        """Send a new event now (to `url`, or the server's callback URL) and return its
        record; failures are queued for retry. `callback_id` is its webhook-id, if chosen
        before (a checkout session records it with its payment); `body` replaces the
        usual one."""
        callback = Callback.new(order_id, status, url, extra, callback_id, body)
        delivery = Delivery(callback, self._clock.now())
        fault = None if self._faults is None else self._faults(order_id)
        swapped = None
        with self._lock:
            self._log.put(delivery)
            earlier = self._swaps.get(order_key(order_id))
            if earlier is not None:
                # The later event of a reordered pair goes first, and at once.
                swapped = self._take_held(earlier)
                fault = None if fault is not None and fault.fault in HOLDS else fault
            elif fault is not None and fault.fault in HOLDS:
                return self._hold(delivery, fault)
        updated = self._first_attempt(delivery, fault)
        if swapped is not None:
            self._after(swapped, replace(self._send(swapped.callback), fault="reorder"), Kind.FIRST)
        return updated

    def _first_attempt(self, delivery: Delivery, fault: CallbackFault | None) -> Delivery:
        callback = delivery.callback
        if fault is None:
            return self._after(delivery, self._send(callback), Kind.FIRST)
        if fault.fault == "drop":
            attempt = Attempt(self._clock.now(), None, DROPPED, 0.0, fault="drop")
        else:
            signing = fault.fault if fault.fault in SIGNING_FAULTS else None
            attempt = replace(self._send(callback, signing), fault=fault.fault)
        updated = self._after(delivery, attempt, Kind.FIRST)
        if fault.fault == "duplicate":
            # The same event again, same webhook-id: what at-least-once delivery allows.
            again = replace(self._send(callback), fault="duplicate")
            updated = self._after(updated, again, Kind.DUPLICATE)
        return updated

    def _hold(self, delivery: Delivery, fault: CallbackFault) -> Delivery:
        """Schedule a callback's first attempt `delay_ms` from now (under the lock); a
        reorder's is sent sooner, right after its order's next event."""
        delay_ms = fault.delay_ms
        due = self._clock.now() + timedelta(milliseconds=delay_ms)
        self._log.put(held := replace(delivery, next_attempt_at=due))
        self._held[delivery.id] = fault.fault
        if fault.fault == "reorder":
            self._swaps[order_key(delivery.callback.order_id)] = delivery.id
        self._schedule(delivery.id, due)
        why = f"held back {delay_ms} ms"
        if fault.fault == "reorder":
            why = f"held until the order's next event is sent (at most {delay_ms} ms)"
        log.info(
            "callback %s order %s %s: first attempt %s on purpose (simulation)",
            delivery.id, delivery.callback.order_id, delivery.callback.status, why,
        )  # fmt: skip
        return held

    def _take_held(self, delivery_id: str) -> Delivery | None:
        """Take a held first attempt off the schedule (under the lock) to send it now;
        None if it is gone or no longer waiting."""
        self._unhold(delivery_id)
        self._scheduler.cancel(SCHEDULED, delivery_id)
        delivery = self._log.get(delivery_id)
        if delivery is None or delivery.state is not State.PENDING:
            return None
        in_flight = replace(delivery, next_attempt_at=None)
        self._log.put(in_flight)
        return in_flight

    def _unhold(self, delivery_id: str) -> str | None:
        """Forget that a first attempt is held (under the lock); return its fault."""
        fault = self._held.pop(delivery_id, None)
        if fault == "reorder":
            self._swaps = {key: held for key, held in self._swaps.items() if held != delivery_id}
        return fault

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
            if delivery.state is not State.PENDING or not self._scheduler.cancel(
                SCHEDULED, delivery_id
            ):
                raise NotWaitingError(delivery)
            self._unhold(delivery_id)
            in_flight = replace(delivery, next_attempt_at=None)
            self._log.put(in_flight)
        attempt = self._send(in_flight.callback)
        return attempt, self._after(in_flight, attempt, Kind.RETRY)

    def sent_headers(self, delivery: Delivery, attempt: Attempt) -> tuple[str, dict[str, str]]:
        """Where an attempt went and the headers it carried, signature included."""
        notifier = self.notifier.for_url(delivery.callback.url)
        return notifier.url, notifier.sent_headers(delivery.callback, attempt)

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

    def counts(self) -> dict[str, int]:
        """How many records of the log are in each state."""
        with self._lock:
            return self._log.counts()

    def reset(self) -> None:
        """Cancel every pending retry and forget the log."""
        with self._lock:
            self._log.clear()
            self._scheduler.clear(SCHEDULED)
            self._held.clear()
            self._swaps.clear()
        self._attempt_log.reset()

    def close(self) -> int:
        """Stop retrying and close connections; return how many events were still pending."""
        with self._lock:
            self._closed = True
            pending = self._log.pending()
            self._scheduler.clear(SCHEDULED)
        if self._own_scheduler:
            self._scheduler.close()
        self.notifier.close()
        return pending

    def _send(self, callback: Callback, fault: str | None = None) -> Attempt:
        return self.notifier.for_url(callback.url).send(callback, fault)

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
        self._attempt_log.attempt(updated, attempt, kind.value, url, self.policy.max_retries)
        if self._activity is not None:
            record_attempt(self._activity, updated, attempt, kind.value, url)
        return updated

    def _next_step(self, current: Delivery, attempt: Attempt, kind: Kind) -> Delivery:
        retries_done = current.retries_done + (kind is Kind.RETRY)
        if attempt.delivered:
            # A resend delivered it: the retry it was waiting for has nothing left to do.
            self._scheduler.cancel(SCHEDULED, current.id)
            return current.attempted(
                attempt, state=State.DELIVERED, retries_done=retries_done, next_attempt_at=None
            )
        # A resend by hand, or a retry that a resend overtook, does not change the plan.
        if kind in (Kind.RESEND, Kind.DUPLICATE) or current.state is not State.PENDING:
            return current.attempted(attempt, retries_done=retries_done)
        delay = self.policy.next_delay(attempt, retries_done, self._rng)
        if delay is None or self._closed:
            return current.attempted(
                attempt, state=State.FAILED, retries_done=retries_done, next_attempt_at=None
            )
        due = self._clock.now() + timedelta(seconds=delay)
        self._schedule(current.id, due)
        return current.attempted(attempt, retries_done=retries_done, next_attempt_at=due)

    def _schedule(self, delivery_id: str, due: datetime) -> None:
        self._scheduler.schedule(
            SCHEDULED, delivery_id, due, lambda: self._due(delivery_id), waits_on_io=True
        )

    def _due(self, delivery_id: str) -> None:
        """Make a scheduled attempt: a retry, or a first attempt held back by a delay or a
        reorder that waited in vain."""
        with self._lock:
            held = self._unhold(delivery_id)
            delivery = self._log.get(delivery_id)
            # Gone after a reset, or delivered by a resend in the meantime.
            if self._closed or delivery is None or delivery.state is not State.PENDING:
                return
            in_flight = replace(delivery, next_attempt_at=None)
            self._log.put(in_flight)
        attempt = self._send(in_flight.callback)
        if held is None:
            self._after(in_flight, attempt, Kind.RETRY)
        else:
            self._after(in_flight, replace(attempt, fault=held), Kind.FIRST)
