"""The callback log: one immutable record per event, newest kept, pending ones never dropped."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import islice

from ..core.jsonio import format_time
from ..core.refusals import RefusedError
from ..core.transactions import order_key
from .client import Attempt, Callback

DEFAULT_LOG_SIZE = 10_000


class State(StrEnum):
    """Where a callback stands: still being tried, acknowledged by the store, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A callback event and every attempt at it; replaced, never changed, on each attempt."""

    callback: Callback
    created_at: datetime
    state: State = State.PENDING
    attempts: tuple[Attempt, ...] = ()
    # Retries the schedule has spent; resends asked for by hand do not count.
    retries_done: int = 0
    next_attempt_at: datetime | None = None

    @property
    def id(self) -> str:
        """The webhook-id shared by every attempt."""
        return self.callback.id

    def attempted(self, attempt: Attempt, **changes: object) -> Delivery:
        """This record with one more attempt, plus any other changed fields."""
        return replace(self, attempts=(*self.attempts, attempt), **changes)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        """The record as GET /callbacks shows it."""
        return {
            "id": self.id,
            "order_id": self.callback.order_id,
            "payment_status": self.callback.status,
            "state": self.state.value,
            "attempts": [attempt.to_json() for attempt in self.attempts],
            "next_attempt_at": (
                None if self.next_attempt_at is None else format_time(self.next_attempt_at)
            ),
            "created_at": format_time(self.created_at),
        }


class DeliveryLog:
    """Records by webhook-id, oldest first, holding at most `limit` finished ones.

    Not locked itself: the dispatcher that owns it changes and reads it under its own lock.
    """

    def __init__(self, limit: int = DEFAULT_LOG_SIZE) -> None:
        if limit < 1:
            raise ValueError(f"the log must hold at least one record, got {limit}")
        self.limit = limit
        self._records: OrderedDict[str, Delivery] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, delivery_id: str) -> Delivery | None:
        """The record with this webhook-id, if it is still kept."""
        return self._records.get(delivery_id)

    def put(self, delivery: Delivery) -> None:
        """Add a record, or replace the one with the same id in its place."""
        known = delivery.id in self._records
        self._records[delivery.id] = delivery
        if not known:
            self._evict()

    def newest_first(
        self, order_id: str | None = None, state: State | None = None
    ) -> list[Delivery]:
        """Records newest first, only those for an order id (as text) and in a state if given."""
        return [
            delivery
            for delivery in reversed(self._records.values())
            if (order_id is None or order_key(delivery.callback.order_id) == order_id)
            and (state is None or delivery.state is state)
        ]

    def pending(self) -> int:
        """How many records are still pending."""
        return sum(delivery.state is State.PENDING for delivery in self._records.values())

    def counts(self) -> dict[str, int]:
        """How many records are in each state, every state named."""
        counted = dict.fromkeys((state.value for state in State), 0)
        for delivery in self._records.values():
            counted[delivery.state.value] += 1
        return counted

    def clear(self) -> None:
        """Forget every record."""
        self._records.clear()

    def _evict(self) -> None:
        excess = len(self._records) - self.limit
        if excess <= 0:
            return
        # Oldest finished records go first; a pending one stays until its retries end.
        finished = (
            delivery_id
            for delivery_id, delivery in self._records.items()
            if delivery.state is not State.PENDING
        )
        for delivery_id in list(islice(finished, excess)):
            del self._records[delivery_id]


class UnknownCallbackError(RefusedError, LookupError):
    """No callback with this webhook-id is in the log."""

    status = 404

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"No callback with id {delivery_id!r}")
        self.delivery_id = delivery_id


class NotWaitingError(RefusedError):
    """The callback has no retry scheduled: it is delivered, failed, or being tried now."""

    def __init__(self, delivery: Delivery) -> None:
        doing = {State.PENDING: "is being tried now", State.DELIVERED: "was delivered"}.get(
            delivery.state, "has failed"
        )
        super().__init__(f"Callback {delivery.id} {doing}, not waiting for a retry")
        self.delivery = delivery
