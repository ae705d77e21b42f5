"""The timer behind session expiry and pending decisions: on time, in order, forgettable."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from payments_server.core.timer import DueTimer


def in_ms(ms: int) -> datetime:
    return datetime.now(UTC) + timedelta(milliseconds=ms)


def test_keys_come_due_in_time_order_and_a_past_time_at_once() -> None:
    seen: list[tuple[str, float]] = []
    done = threading.Event()
    started = time.monotonic()

    def due(key: str) -> None:
        seen.append((key, time.monotonic() - started))
        if len(seen) == 3:
            done.set()

    timer: DueTimer[str] = DueTimer(due, "test-timer")
    timer.schedule("late", in_ms(300))
    timer.schedule("soon", in_ms(100))
    timer.schedule("overdue", in_ms(-1000))
    assert done.wait(5)
    timer.close()
    assert [key for key, _ in seen] == ["overdue", "soon", "late"]
    assert seen[1][1] >= 0.1 and seen[2][1] >= 0.3


def test_on_due_may_schedule_again_and_clear_forgets_what_is_waiting() -> None:
    seen: list[int] = []
    twice = threading.Event()

    def due(n: int) -> None:
        seen.append(n)
        if n == 1:
            timer.schedule(2, in_ms(0))
        else:
            twice.set()

    timer: DueTimer[int] = DueTimer(due, "t")
    timer.schedule(1, in_ms(0))
    assert twice.wait(5)  # scheduled from on_due itself: the lock is not held then
    timer.schedule(99, in_ms(200))
    timer.clear()
    time.sleep(0.4)
    timer.close()
    assert seen == [1, 2]


def test_nothing_comes_due_after_close() -> None:
    seen: list[str] = []
    timer: DueTimer[str] = DueTimer(seen.append, "t")
    timer.schedule("never", in_ms(100))
    timer.close()
    time.sleep(0.2)
    assert seen == []
