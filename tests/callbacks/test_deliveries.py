"""DeliveryLog: records newest first, filters, and a bound that never drops pending events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payments_server.callbacks.client import Attempt, Callback
from payments_server.callbacks.deliveries import Delivery, DeliveryLog, State

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def record(
    order_id: str | int, state: State = State.DELIVERED, status: str = "success"
) -> Delivery:
    return Delivery(Callback.new(order_id, status), AT, state)


def test_records_are_listed_newest_first() -> None:
    log = DeliveryLog()
    first, second, third = record("a"), record("b"), record("c")
    for delivery in (first, second, third):
        log.put(delivery)
    assert log.newest_first() == [third, second, first]


def test_replacing_a_record_keeps_its_place() -> None:
    log = DeliveryLog()
    first, second = record("a", State.PENDING), record("b")
    log.put(first)
    log.put(second)
    done = first.attempted(Attempt(AT, 200, None, 1.0), state=State.DELIVERED)
    log.put(done)
    assert log.newest_first() == [second, done]
    assert log.get(first.id) is done


def test_filters_by_order_id_as_text_and_by_state() -> None:
    log = DeliveryLog()
    paid, refused, other = record(42), record("42", State.FAILED, "failed"), record("43")
    for delivery in (paid, refused, other):
        log.put(delivery)
    assert log.newest_first(order_id="42") == [refused, paid]
    assert log.newest_first(state=State.FAILED) == [refused]
    assert log.newest_first(order_id="42", state=State.DELIVERED) == [paid]
    assert log.newest_first(order_id="44") == []


def test_the_oldest_finished_records_go_first_when_the_log_is_full() -> None:
    log = DeliveryLog(limit=3)
    deliveries = [record(index) for index in range(5)]
    for delivery in deliveries:
        log.put(delivery)
    assert log.newest_first() == deliveries[:1:-1]
    assert len(log) == 3


def test_pending_records_are_never_evicted() -> None:
    log = DeliveryLog(limit=2)
    waiting = [record(index, State.PENDING) for index in range(3)]
    for delivery in waiting:
        log.put(delivery)
    assert len(log) == 3  # over the limit rather than losing a pending event
    finished = record("done")
    log.put(finished)
    # The new finished record is the only one that can go, and it is the one over the limit.
    assert log.newest_first() == waiting[::-1]
    assert log.pending() == 3


def test_a_finished_record_behind_pending_ones_is_evicted_first() -> None:
    log = DeliveryLog(limit=2)
    waiting, finished = record("p", State.PENDING), record("f")
    log.put(waiting)
    log.put(finished)
    newest = record("n")
    log.put(newest)
    assert log.newest_first() == [newest, waiting]


def test_clear_forgets_everything() -> None:
    log = DeliveryLog()
    log.put(record("a", State.PENDING))
    log.clear()
    assert (len(log), log.pending(), log.newest_first()) == (0, 0, [])


def test_a_log_must_hold_at_least_one_record() -> None:
    with pytest.raises(ValueError, match="at least one record, got 0"):
        DeliveryLog(limit=0)


def test_a_record_shows_its_attempts_and_next_attempt() -> None:
    callback = Callback("msg_0123456789abcdef01234567", 77, "failed", b"{}")
    delivery = Delivery(callback, AT).attempted(
        Attempt(AT, None, "could not connect", 0.84),
        next_attempt_at=datetime(2026, 11, 22, 10, 0, 1, 250000, tzinfo=UTC),
    )
    assert delivery.to_json() == {
        "id": "msg_0123456789abcdef01234567",
        "order_id": 77,
        "payment_status": "failed",
        "state": "pending",
        "attempts": [
            {"at": "2026-11-22T10:00:00.000Z", "status_code": None,
             "error": "could not connect", "duration_ms": 0.8, "response": None},
        ],
        "next_attempt_at": "2026-11-22T10:00:01.250Z",
        "created_at": "2026-11-22T10:00:00.000Z",
    }  # fmt: skip
