"""A timer for things due at a wall-clock time: sessions expiring, pending payments decided.

One thread per timer, started with the first schedule, waits for the earliest due time and
hands each key to `on_due` outside the timer's lock. Whoever owns the key decides, under
its own lock, whether it is still due: the timer never cancels, it only forgets on clear().
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

Key = TypeVar("Key")

# How long close() waits for an on_due call in progress.
CLOSE_WAIT = 1.0


def _now() -> datetime:
    return datetime.now(UTC)


class DueTimer(Generic[Key]):
    """Calls `on_due(key)` on its own thread once each scheduled time has come."""

    def __init__(
        self, on_due: Callable[[Key], None], name: str, clock: Callable[[], datetime] = _now
    ) -> None:
        self._on_due = on_due
        self._name = name
        self._clock = clock
        self._lock = threading.Condition()
        # (due time, tie-breaker, key): the tie-breaker keeps keys from being compared.
        self._due: list[tuple[datetime, int, Key]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def schedule(self, key: Key, due: datetime) -> None:
        """Hand `key` to on_due at `due` (at once if that has passed)."""
        with self._lock:
            heapq.heappush(self._due, (due, next(self._order), key))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def clear(self) -> None:
        """Forget everything scheduled."""
        with self._lock:
            self._due.clear()
            self._lock.notify_all()

    def close(self) -> None:
        """Stop the thread; nothing scheduled is handed on any more."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(CLOSE_WAIT)

    def _run(self) -> None:
        while (key := self._next()) is not None:
            self._on_due(key)

    def _next(self) -> Key | None:
        with self._lock:
            while not self._closed:
                if not self._due:
                    self._lock.wait()
                    continue
                wait = (self._due[0][0] - self._clock()).total_seconds()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                return heapq.heappop(self._due)[2]
            return None
