"""Change notices for live views: numbered, kept for a while, waited on without polling.

Whatever changes (a session, a payment, a callback) publishes a small Notice; a live view
(an event stream, a long poll) waits for notices after the last one it saw and then fetches
what changed from the JSON API. One bus serves the checkout page and the dashboard.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass

DEFAULT_KEEP = 1_000


@dataclass(frozen=True, slots=True)
class Notice:
    """Something changed: what kind of thing, and which one (None: the whole of it)."""

    seq: int
    kind: str
    id: str | None = None

    def to_json(self) -> dict[str, object]:
        """The notice as an event stream sends it."""
        return {"seq": self.seq, "kind": self.kind, "id": self.id}


class EventBus:
    """Publishes notices and wakes whoever waits for them; keeps the newest `keep`."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self._changed = threading.Condition()
        self._kept: deque[Notice] = deque(maxlen=keep)
        self._numbers = itertools.count(1)
        self._last = 0
        self._closed = False
        # Raised by wake(): every waiter returns, to see whether its client is still there.
        self._wakes = 0

    @property
    def last(self) -> int:
        """The number of the newest notice (0 before the first)."""
        return self._last

    def publish(self, kind: str, id: str | None = None) -> Notice:
        """Number a notice, keep it and wake every waiter; never blocks on a waiter."""
        with self._changed:
            notice = Notice(next(self._numbers), kind, id)
            self._kept.append(notice)
            self._last = notice.seq
            self._changed.notify_all()
        return notice

    def since(self, seq: int) -> list[Notice] | None:
        """Notices after `seq`, oldest first; None if some of them are no longer kept
        (the reader must fetch everything again)."""
        with self._changed:
            return self._after(seq)

    def wait(
        self, seq: int, timeout: float, stop: threading.Event | None = None
    ) -> list[Notice] | None:
        """Notices after `seq` as soon as there are any, or [] after `timeout` seconds, once
        closed, woken, or `stop` is set (looked at under the lock, so a stop set just before
        the wait began is not missed); None as in since()."""
        with self._changed:
            wakes = self._wakes
            self._changed.wait_for(
                lambda: (
                    self._closed
                    or self._last > seq
                    or self._wakes != wakes
                    or (stop is not None and stop.is_set())
                ),
                timeout,
            )
            return self._after(seq)

    def wake(self) -> None:
        """Make every waiter return now (a client has left: its stream should end)."""
        with self._changed:
            self._wakes += 1
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        """True once close() was called: streams end."""
        return self._closed

    def close(self) -> None:
        """Wake every waiter for the last time (shutdown)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _after(self, seq: int) -> list[Notice] | None:
        if seq >= self._last:
            return []
        if not self._kept or self._kept[0].seq > seq + 1:
            return None
        return [notice for notice in self._kept if notice.seq > seq]


class StreamSlots:
    """At most `cap` streams open at once, so live views never hold every server thread."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._lock = threading.Lock()
        self._open = 0

    @property
    def open(self) -> int:
        """How many streams are open now."""
        return self._open

    def acquire(self) -> bool:
        """Take a slot; False when all are taken (the caller refuses the stream)."""
        with self._lock:
            if self._open >= self.cap:
                return False
            self._open += 1
            return True

    def release(self) -> None:
        """Give a slot back."""
        with self._lock:
            self._open -= 1
