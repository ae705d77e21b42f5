"""EventBus and StreamSlots: numbered notices, waiting without polling, a cap on streams."""

from __future__ import annotations

import threading
import time

from payments_server.core.events import EventBus, Notice, StreamSlots


def test_notices_are_numbered_in_order_and_read_after_a_number() -> None:
    bus = EventBus()
    assert bus.last == 0 and bus.since(0) == []
    first = bus.publish("session", "cs_1")
    second = bus.publish("payment")
    assert (first.seq, second.seq, bus.last) == (1, 2, 2)
    assert bus.since(0) == [Notice(1, "session", "cs_1"), Notice(2, "payment", None)]
    assert bus.since(1) == [second]
    assert bus.since(2) == []
    assert first.to_json() == {"seq": 1, "kind": "session", "id": "cs_1"}


def test_a_reader_behind_what_is_kept_is_told_to_fetch_everything_again() -> None:
    bus = EventBus(keep=3)
    for _ in range(5):
        bus.publish("payment")
    assert [n.seq for n in bus.since(2) or []] == [3, 4, 5]
    assert bus.since(1) is None
    assert bus.since(0) is None


def test_a_waiter_wakes_as_soon_as_something_is_published() -> None:
    bus = EventBus()
    woke: list[list[Notice] | None] = []
    waiter = threading.Thread(target=lambda: woke.append(bus.wait(0, timeout=10)))
    waiter.start()
    # Published before or after the waiter waits, notice 1 is what it gets.
    started = time.monotonic()
    bus.publish("callback", "msg_1")
    waiter.join(5)
    assert time.monotonic() - started < 2
    assert woke == [[Notice(1, "callback", "msg_1")]]


def test_a_wait_with_nothing_new_ends_empty_after_its_timeout_or_at_close() -> None:
    bus = EventBus()
    started = time.monotonic()
    assert bus.wait(0, timeout=0.1) == []
    assert 0.09 <= time.monotonic() - started < 2
    results: list[object] = []
    waiter = threading.Thread(target=lambda: results.append(bus.wait(0, timeout=30)))
    waiter.start()
    bus.close()  # before or after it waits, the waiter ends empty
    waiter.join(5)
    assert results == [[]] and bus.closed


def test_stream_slots_refuse_past_the_cap_and_free_on_release() -> None:
    slots = StreamSlots(2)
    assert slots.acquire() and slots.acquire()
    assert not slots.acquire()
    assert slots.open == 2
    slots.release()
    assert slots.acquire()
    assert slots.open == 2


def test_a_stop_set_before_the_wait_began_ends_it_at_once() -> None:
    # A client that left just before its stream began to wait: the wait must not last
    # until the next heartbeat.
    bus = EventBus()
    gone = threading.Event()
    gone.set()
    bus.wake()  # the wake came first, and is not what the wait sees
    started = time.monotonic()
    assert bus.wait(0, timeout=30, stop=gone) == []
    assert time.monotonic() - started < 5
