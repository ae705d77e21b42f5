"""CallbackDispatcher against a real HTTP store: retries, the log, resend, reset and close."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from payments_server.callbacks.client import StoreNotifier
from payments_server.callbacks.deliveries import State
from payments_server.callbacks.dispatcher import CallbackDispatcher, UnknownCallbackError
from payments_server.callbacks.retries import RetryPolicy
from payments_server.callbacks.signing import DEV_WEBHOOK_SECRET, Signer
from payments_server.core.clock import Clock
from payments_server.core.scheduler import Due, Scheduler
from payments_server.testing import StoreStub

FAST = (0.05,) * 5
MakeDispatcher = Callable[..., CallbackDispatcher]


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    """The retries' scheduler, on a frozen clock: they run when the test advances it."""
    scheduler = Scheduler(Clock(frozen=True))
    yield scheduler
    scheduler.close()


def advance(scheduler: Scheduler, seconds: float) -> list[Due]:
    """Move the clock on, making the retries that fall due; return them."""
    return scheduler.advance(scheduler.clock.now() + timedelta(seconds=seconds))


@pytest.fixture
def make(store: StoreStub, scheduler: Scheduler) -> Iterator[MakeDispatcher]:
    """Build dispatchers that call the store stub; each is closed after the test."""
    made: list[CallbackDispatcher] = []

    def build(
        schedule: tuple[float, ...] = FAST, retries: int | None = None, log_size: int = 100
    ) -> CallbackDispatcher:
        notifier = StoreNotifier(
            store.url,
            2.0,
            "payments_server/test",
            Signer(DEV_WEBHOOK_SECRET),
            clock=scheduler.clock.now,
        )
        dispatcher = CallbackDispatcher(
            notifier,
            RetryPolicy(schedule, retries),
            log_size,
            rng=random.Random(7),
            scheduler=scheduler,
        )
        made.append(dispatcher)
        return dispatcher

    yield build
    for dispatcher in made:
        dispatcher.close()


def test_a_delivered_callback_is_logged_with_its_one_attempt(
    make: MakeDispatcher, store: StoreStub
) -> None:
    dispatcher = make()
    delivery = dispatcher.notify("abc", "success")
    assert delivery.state is State.DELIVERED
    assert [attempt.status_code for attempt in delivery.attempts] == [200]
    assert delivery.next_attempt_at is None
    assert dispatcher.get(delivery.id) == delivery
    (received,) = store.received
    assert received.headers["webhook-id"] == delivery.id


def test_a_store_that_fails_twice_then_recovers_gets_one_event_three_times(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(200, then=[500, 503])
    dispatcher = make()
    first = dispatcher.notify(7, "success")
    assert first.state is State.PENDING
    assert first.next_attempt_at is not None
    assert len(advance(scheduler, 1)) == 2
    received = store.received
    assert len(received) == 3
    assert {callback.headers["webhook-id"] for callback in received} == {first.id}
    assert {callback.body for callback in received} == {b'{"order_id":7,"status":"success"}'}
    for callback in received:
        assert Webhook(DEV_WEBHOOK_SECRET).verify(callback.body, dict(callback.headers))
    final = dispatcher.get(first.id)
    assert final.state is State.DELIVERED
    assert [attempt.status_code for attempt in final.attempts] == [500, 503, 200]
    assert final.retries_done == 2
    assert final.next_attempt_at is None
    assert advance(scheduler, 86400) == [] and len(store.received) == 3


def test_retries_end_after_the_configured_number_and_the_event_fails(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(500)
    dispatcher = make(retries=2)
    delivery = dispatcher.notify("o", "failed")
    assert len(advance(scheduler, 86400)) == 2
    assert dispatcher.get(delivery.id).state is State.FAILED
    assert len(dispatcher.get(delivery.id).attempts) == 3
    assert len(store.received) == 3


def test_zero_retries_sends_exactly_one_attempt(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(500)
    dispatcher = make(retries=0)
    delivery = dispatcher.notify("o", "success")
    assert delivery.state is State.FAILED
    assert scheduler.upcoming() == [] and advance(scheduler, 86400) == []
    assert len(store.received) == 1


def test_410_gone_gets_one_attempt(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(410)
    dispatcher = make()
    delivery = dispatcher.notify("o", "success")
    assert delivery.state is State.FAILED
    assert delivery.next_attempt_at is None
    assert scheduler.upcoming() == [] and advance(scheduler, 86400) == []
    assert len(store.received) == 1


def test_retry_after_is_honoured_instead_of_the_schedule(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(200, then=[503], headers={"Retry-After": "1"})
    dispatcher = make(schedule=(30.0,))
    delivery = dispatcher.notify("o", "success")
    assert delivery.next_attempt_at == delivery.attempts[0].at + timedelta(seconds=1)
    assert advance(scheduler, 0.999) == []
    assert len(advance(scheduler, 0.001)) == 1
    assert len(store.received) == 2
    assert dispatcher.get(delivery.id).state is State.DELIVERED


def test_the_worker_holds_no_lock_while_the_store_takes_its_time(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(200, then=[500])
    dispatcher = make()
    delivery = dispatcher.notify("o", "success")
    store.hold()
    retrying = threading.Thread(target=advance, args=(scheduler, 1))
    retrying.start()
    store.wait_for(2)  # the retry is now waiting on the store
    started = time.monotonic()
    assert dispatcher.get(delivery.id).state is State.PENDING
    assert len(dispatcher.deliveries()) == 1
    assert time.monotonic() - started < 1
    store.release()
    retrying.join()
    assert dispatcher.get(delivery.id).state is State.DELIVERED


def test_resend_sends_the_same_event_again_now(make: MakeDispatcher, store: StoreStub) -> None:
    dispatcher = make()
    delivery = dispatcher.notify("abc", "success")
    attempt, resent = dispatcher.resend(delivery.id)
    assert attempt.delivered
    assert resent.state is State.DELIVERED
    assert len(resent.attempts) == 2
    one, two = store.received
    assert one.body == two.body
    assert one.headers["webhook-id"] == two.headers["webhook-id"] == delivery.id


def test_a_successful_resend_of_a_pending_event_ends_its_retries(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(500)
    dispatcher = make(schedule=(0.3,))
    delivery = dispatcher.notify("o", "success")
    store.respond_with(200)
    attempt, resent = dispatcher.resend(delivery.id)
    assert attempt.delivered
    assert (resent.state, resent.next_attempt_at, resent.retries_done) == (State.DELIVERED, None, 0)
    assert scheduler.upcoming() == [] and advance(scheduler, 86400) == []
    assert len(store.received) == 2


def test_a_failed_resend_leaves_a_failed_event_failed(
    make: MakeDispatcher, store: StoreStub
) -> None:
    store.respond_with(500)
    dispatcher = make(retries=0)
    delivery = dispatcher.notify("o", "success")
    attempt, resent = dispatcher.resend(delivery.id)
    assert attempt.error == "store answered 500"
    assert resent.state is State.FAILED
    assert len(resent.attempts) == 2


def test_resending_an_unknown_id_raises(make: MakeDispatcher) -> None:
    with pytest.raises(UnknownCallbackError, match="No callback with id 'msg_nope'"):
        make().resend("msg_nope")


def test_reset_cancels_pending_retries_and_clears_the_log(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(500)
    dispatcher = make(schedule=(0.2,))
    delivery = dispatcher.notify("o", "success")
    dispatcher.reset()
    assert dispatcher.deliveries() == []
    with pytest.raises(UnknownCallbackError):
        dispatcher.get(delivery.id)
    assert advance(scheduler, 86400) == []
    assert len(store.received) == 1


def test_close_is_prompt_and_counts_the_pending_events(
    make: MakeDispatcher, store: StoreStub
) -> None:
    store.respond_with(500)
    dispatcher = make(schedule=(60.0,))
    dispatcher.notify("a", "success")
    dispatcher.notify("b", "failed")
    dispatcher.notify("c", "success")
    store.respond_with(200)
    dispatcher.notify("d", "success")
    started = time.monotonic()
    assert dispatcher.close() == 3
    assert time.monotonic() - started < 1


def test_filters_by_order_id_and_state(make: MakeDispatcher, store: StoreStub) -> None:
    dispatcher = make(retries=0)
    paid = dispatcher.notify(42, "success")
    store.respond_with(500)
    refused = dispatcher.notify("42", "failed")
    other = dispatcher.notify(43, "success")
    assert [d.id for d in dispatcher.deliveries()] == [other.id, refused.id, paid.id]
    assert [d.id for d in dispatcher.deliveries(order_id="42")] == [refused.id, paid.id]
    assert [d.id for d in dispatcher.deliveries(state=State.FAILED)] == [other.id, refused.id]


def test_the_log_keeps_the_newest_records(make: MakeDispatcher) -> None:
    dispatcher = make(log_size=3)
    ids = [dispatcher.notify(index, "success").id for index in range(5)]
    assert [delivery.id for delivery in dispatcher.deliveries()] == ids[:1:-1]


def test_concurrent_failures_are_each_retried_until_delivered(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    store.respond_with(200, then=[500] * 20)
    dispatcher = make(schedule=(0.5,) * 5)
    threads = [
        threading.Thread(target=dispatcher.notify, args=(index, "success")) for index in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(advance(scheduler, 1)) == 20
    deliveries = dispatcher.deliveries()
    assert len(deliveries) == 20
    assert all(delivery.state is State.DELIVERED for delivery in deliveries)
    assert all(len(delivery.attempts) == 2 for delivery in deliveries)
    assert len(store.received) == 40


def test_an_event_with_its_own_url_goes_there_and_so_do_its_retries(
    make: MakeDispatcher, store: StoreStub, scheduler: Scheduler
) -> None:
    with StoreStub() as other:
        other.respond_with(200, then=[503])
        dispatcher = make()
        delivery = dispatcher.notify("cs-order", "success", url=other.url)
        assert delivery.state is State.PENDING
        assert len(advance(scheduler, 1)) == 1
        assert [c.json for c in other.received] == [
            {"order_id": "cs-order", "status": "success"}
        ] * 2
        assert store.received == []
        assert dispatcher.notifier.for_url(other.url) is dispatcher.notifier.for_url(other.url)
        assert dispatcher.notifier.for_url(None) is dispatcher.notifier
        dispatcher.notify("plain", "failed")
        assert [c.json["order_id"] for c in store.received] == ["plain"]
