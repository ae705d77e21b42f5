"""The activity log: everything the gateway did, newest kept, numbered like the event bus.

Three kinds of entry: a request that could change something (what came in, what went
out), a decision on a payment (paid, insufficient funds, declined and why, already paid)
and a callback attempt (what the store answered). Each entry takes its number from the
notice it publishes, so a live view that saw notice N asks for the entries after N.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .events import EventBus
from .jsonio import format_time
from .limits import LimitExceededError
from .money import format_balance
from .simulation import Decline
from .transactions import OrderId, order_key

DEFAULT_SIZE = 1_000
KINDS = ("request", "decision", "callback", "event")


# An entry's detail, or a function that makes it when the entry is shown: recording is on
# every payment's path, and most entries are never looked at.
Detail = Mapping[str, Any] | Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the gateway did; `detail` depends on the kind."""

    seq: int
    at: float  # seconds since the epoch, on the gateway's clock
    kind: str
    summary: str
    order_id: OrderId | None = None
    outcome: str | None = None
    detail: Detail = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The entry as GET /activity shows it."""
        return {
            "seq": self.seq,
            "at": format_time(datetime.fromtimestamp(self.at, UTC)),
            "kind": self.kind,
            "summary": self.summary,
            "order_id": self.order_id,
            "outcome": self.outcome,
            "detail": self.detail() if callable(self.detail) else dict(self.detail),
        }


class ActivityLog:
    """The newest `size` entries (0: none kept), under one lock."""

    def __init__(
        self, events: EventBus, size: int = DEFAULT_SIZE, clock: Callable[[], float] = time.time
    ) -> None:
        self.size = size
        self._clock = clock
        self._events = events
        self._lock = threading.Lock()
        self._entries: deque[Entry] = deque(maxlen=max(size, 1))

    def add(
        self,
        kind: str,
        summary: str,
        order_id: OrderId | None = None,
        outcome: str | None = None,
        detail: Detail | None = None,
    ) -> Entry | None:
        """Publish a notice and keep the entry; None when the log keeps nothing (the
        notice still goes out: long polls and streams wait on it)."""
        notice_id = None if order_id is None else str(order_id)
        if self.size == 0:
            self._events.publish(kind, notice_id)
            return None
        with self._lock:
            # Published under the lock: whoever wakes on the notice and asks for the
            # entries after it waits for this lock, so it finds the entry there.
            notice = self._events.publish(kind, notice_id)
            entry = Entry(notice.seq, self._clock(), kind, summary, order_id, outcome, detail or {})
            self._entries.append(entry)
        return entry

    def decided(
        self,
        what: str,
        order_id: OrderId | None,
        sent: int | Decimal,
        outcome: str,
        balance: Decimal,
        reason: Decline | LimitExceededError | None = None,
    ) -> None:
        """Keep a decision on a payment: paid, refused and why, and the balance after it."""

        def detail() -> dict[str, Any]:
            shown: dict[str, Any] = {"amount": sent}
            if isinstance(reason, Decline):
                shown.update(decline_code=reason.code or None, reason=reason.reason)
            elif reason is not None:
                shown.update(limit=reason.limit, detail=reason.detail)
            shown["balance"] = format_balance(balance)
            return shown

        summary = f"{what}: {outcome.replace('_', ' ')}"
        if isinstance(reason, Decline):
            # A reason that starts with its code ("2000 Do Not Honor") says it once.
            named = reason.code and not reason.reason.startswith(reason.code)
            summary += f" ({reason.code}, {reason.reason})" if named else f" ({reason.reason})"
        elif reason is not None:
            summary += f" ({reason.detail})"
        self.add("decision", summary, order_id, outcome, detail)

    def newest_first(
        self,
        since: int = 0,
        kind: str | None = None,
        order_id: str | None = None,
        outcome: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Entries after `since`, newest first, filtered by kind, order id (as text) and
        outcome, at most `limit` of them."""
        with self._lock:
            entries = list(self._entries)
        found: list[Entry] = []
        for entry in reversed(entries):
            if entry.seq <= since or (limit is not None and len(found) >= limit):
                break
            if (
                (kind is None or entry.kind == kind)
                and (outcome is None or entry.outcome == outcome)
                and (
                    order_id is None
                    or (entry.order_id is not None and order_key(entry.order_id) == order_id)
                )
            ):
                found.append(entry)
        return found

    def reset(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
