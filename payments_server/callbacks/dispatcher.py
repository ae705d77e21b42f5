"""Delivering callbacks: the first attempt in the request, retries on one background worker."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from time import monotonic

from ..core.activity import ActivityLog
from ..core.faults import HOLDS, CallbackFault
from ..core.transactions import OrderId, order_key
from .client import BAD_SIGNATURE, STALE_TIMESTAMP, Attempt, Callback, StoreNotifier
from .deliveries import Delivery, DeliveryLog, NotWaitingError, State, UnknownCallbackError
from .reporting import FIRST, RESEND, log_attempt, record_attempt
from .retries import RetryPolicy

log = logging.getLogger("payments_server.callbacks")

DROPPED = "dropped on purpose (simulation): never sent"
SIGNING_FAULTS = frozenset({BAD_SIGNATURE, STALE_TIMESTAMP})

# How long close() waits for an attempt the worker has in flight before it stops waiting.
CLOSE_WAIT = 1.0


class Kind(Enum):
    """Why an attempt was made."""

    FIRST = FIRST
    RETRY = "retry"
    RESEND = RESEND
    DUPLICATE = "duplicate"


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
        faults: Callable[[OrderId], CallbackFault | None] | None = None,
    ) -> None:
        self.notifier = notifier
        self._activity = activity
        self._faults = faults
        self.policy = policy
        self._rng = rng or random.Random()
        self._lock = threading.Condition()
        self._log = DeliveryLog(log_size)
        # (monotonic due time, tie-breaker, webhook-id) of every scheduled retry.
        self._queue: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        # Held first attempts: webhook-id -> its fault ("delay" or "reorder"); and for each
        # order with an event held for a reorder, that event's webhook-id.
        self._held: dict[str, str] = {}
        self._swaps: dict[str, str] = {}
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
            attempt = Attempt(datetime.now(UTC), None, DROPPED, 0.0, fault="drop")
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
        heapq.heappush(self._queue, (monotonic() + delay_ms / 1000, next(self._order), delivery.id))
        due = datetime.now(UTC) + timedelta(milliseconds=delay_ms)
        self._log.put(held := replace(delivery, next_attempt_at=due))
        self._held[delivery.id] = fault.fault
        if fault.fault == "reorder":
            self._swaps[order_key(delivery.callback.order_id)] = delivery.id
        self._start_worker()
        self._lock.notify_all()
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
        self._queue = [entry for entry in self._queue if entry[2] != delivery_id]
        heapq.heapify(self._queue)
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
            queued = [entry for entry in self._queue if entry[2] != delivery_id]
            if delivery.state is not State.PENDING or len(queued) == len(self._queue):
                raise NotWaitingError(delivery)
            self._unhold(delivery_id)
            self._queue = queued
            heapq.heapify(self._queue)
            in_flight = replace(delivery, next_attempt_at=None)
            self._log.put(in_flight)
        attempt = self._send(in_flight.callback)
        return attempt, self._after(in_flight, attempt, Kind.RETRY)

    def sent_headers(self, delivery: Delivery, attempt: Attempt) -> tuple[str, dict[str, str]]:
        """Where an attempt went and the headers it carried, signature included."""
        notifier = self.notifier.for_url(delivery.callback.url)
        return notifier.url, notifier.sent_headers(delivery.callback, attempt.at, attempt.fault)

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
            self._held.clear()
            self._swaps.clear()
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
        log_attempt(updated, attempt, kind.value, url, self.policy.max_retries)
        if self._activity is not None:
            record_attempt(self._activity, updated, attempt, kind.value, url)
        return updated

    def _next_step(self, current: Delivery, attempt: Attempt, kind: Kind) -> Delivery:
        retries_done = current.retries_done + (kind is Kind.RETRY)
        if attempt.delivered:
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
        heapq.heappush(self._queue, (monotonic() + delay, next(self._order), current.id))
        self._start_worker()
        self._lock.notify_all()
        return current.attempted(
            attempt,
            retries_done=retries_done,
            next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
        )

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="callback-retries", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while (due := self._next_due()) is not None:
            delivery, held = due
            attempt = self._send(delivery.callback)
            if held is None:
                self._after(delivery, attempt, Kind.RETRY)
            else:  # a first attempt held back by a delay, or a reorder that waited in vain
                self._after(delivery, replace(attempt, fault=held), Kind.FIRST)

    def _next_due(self) -> tuple[Delivery, str | None] | None:
        """Wait for the next scheduled attempt and take it, with the fault that held it
        back if it is a first attempt; None once closed."""
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
                held = self._unhold(delivery_id)
                delivery = self._log.get(delivery_id)
                # Gone after a reset, or delivered by a resend in the meantime.
                if delivery is not None and delivery.state is State.PENDING:
                    in_flight = replace(delivery, next_attempt_at=None)
                    self._log.put(in_flight)
                    return in_flight, held
            return None
