"""Checkout sessions: made once, finished once, expired on time with nobody looking."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments_server.core.checkout_session import (
    CardAttempt,
    CheckoutSession,
    SessionNotOpenError,
    SessionState,
    from_event,
    to_event,
)
from payments_server.core.clock import Clock
from payments_server.core.money import Amount, parse_amount
from payments_server.core.scheduler import Scheduler
from payments_server.core.session_store import SessionStore


class Expiries:
    """What the store reported as expired, with a way to wait for it."""

    def __init__(self) -> None:
        self.sessions: list[CheckoutSession] = []
        self.arrived = threading.Event()

    def __call__(self, session: CheckoutSession) -> None:
        self.sessions.append(session)
        self.arrived.set()


@pytest.fixture
def expiries() -> Expiries:
    return Expiries()


@pytest.fixture
def store(expiries: Expiries) -> Iterator[SessionStore]:
    sessions = SessionStore(expiries)
    yield sessions
    sessions.close()


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    """A scheduler on a frozen clock: sessions expire when the test advances it."""
    scheduler = Scheduler(Clock(frozen=True))
    yield scheduler
    scheduler.close()


@pytest.fixture
def frozen(expiries: Expiries, scheduler: Scheduler) -> SessionStore:
    """A store whose expiry follows the frozen clock."""
    return SessionStore(expiries, scheduler)


def advance(scheduler: Scheduler, seconds: float) -> list[str]:
    ran = scheduler.advance(scheduler.clock.now() + timedelta(seconds=seconds))
    return [due.key for due in ran]


def test_a_new_session_is_open_with_an_unguessable_id_and_its_urls_filled_in(
    store: SessionStore,
) -> None:
    session = store.new(
        "A-1",
        parse_amount(Decimal("12.50")),
        1800,
        success_url="https://shop.test/ok?s={CHECKOUT_SESSION_ID}&o={ORDER_ID}",
        cancel_url="https://shop.test/cart",
        metadata={"cart": "7"},
    )
    assert re.fullmatch(r"cs_[0-9a-f]{32}", session.id)
    assert session.state is SessionState.OPEN
    assert session.success_url == f"https://shop.test/ok?s={session.id}&o=A-1"
    assert session.cancel_url == "https://shop.test/cart"
    assert session.expires_at - session.created_at == timedelta(seconds=1800)
    assert store.get(session.id) == session
    assert len({store.new(1, parse_amount(1), 60).id for _ in range(100)}) == 100


def test_the_session_object_shows_the_amount_as_sent_and_the_card_only_by_its_last_four(
    store: SessionStore,
) -> None:
    session = store.new(42, parse_amount(Decimal("179.98")), 60, description="Two mugs")
    attempt = CardAttempt(session.created_at, "paid", None, "visa", "4242")
    store.finish(session.id, SessionState.PAID, attempt)
    paid = store.link_callback(session.id, "msg_1")
    assert paid is not None
    shown = paid.to_json("http://127.0.0.1:5000/checkout/" + paid.id, "delivered")
    assert shown["order_id"] == 42 and shown["amount"] == Decimal("179.98")
    assert shown["state"] == "paid" and shown["description"] == "Two mugs"
    assert shown["attempts"] == [
        {
            "at": shown["created_at"],
            "outcome": "paid",
            "decline_code": None,
            "card": {"brand": "visa", "last4": "4242"},
        }
    ]
    assert shown["callback"] == {"id": "msg_1", "state": "delivered"}
    assert shown["url"] == f"http://127.0.0.1:5000/checkout/{paid.id}"


@pytest.mark.parametrize("final", [SessionState.PAID, SessionState.FAILED, SessionState.CANCELED])
def test_a_session_finishes_once(store: SessionStore, final: SessionState) -> None:
    session = store.new("o", parse_amount(1), 60)
    assert store.finish(session.id, final).state is final
    with pytest.raises(SessionNotOpenError) as refused:
        store.finish(session.id, SessionState.PAID)
    assert str(refused.value) == f"Checkout session {session.id} is {final.value}, not open"
    assert store.get(session.id).state is final  # type: ignore[union-attr]


def test_an_open_session_expires_on_time_with_nobody_looking(
    store: SessionStore, expiries: Expiries
) -> None:
    now = datetime.now(UTC)
    base = store.new("late", parse_amount(1), 60)
    soon = replace(base, id="cs_soon", expires_at=now + timedelta(seconds=0.3))
    store.add(soon)
    assert expiries.arrived.wait(3)
    (expired,) = expiries.sessions
    assert (expired.id, expired.state) == ("cs_soon", SessionState.EXPIRED)
    # Within about a second of expires_at, never before it.
    assert now + timedelta(seconds=0.3) <= datetime.now(UTC) < now + timedelta(seconds=2)
    assert store.get("cs_soon").state is SessionState.EXPIRED  # type: ignore[union-attr]
    assert store.get(base.id).state is SessionState.OPEN  # type: ignore[union-attr]


def test_a_finished_session_does_not_expire(
    frozen: SessionStore, expiries: Expiries, scheduler: Scheduler
) -> None:
    paid = frozen.new("x", parse_amount(1), 60)
    assert [due.key for due in scheduler.upcoming()] == [paid.id]
    frozen.finish(paid.id, SessionState.PAID)
    assert scheduler.upcoming() == [] and advance(scheduler, 61) == []
    assert expiries.sessions == []
    assert frozen.get(paid.id).state is SessionState.PAID  # type: ignore[union-attr]


def test_a_session_expires_exactly_at_its_expires_at_on_the_clock(
    frozen: SessionStore, expiries: Expiries, scheduler: Scheduler
) -> None:
    session = frozen.new("y", parse_amount(1), 900)
    assert advance(scheduler, 899.999) == []
    assert frozen.get(session.id).state is SessionState.OPEN  # type: ignore[union-attr]
    assert advance(scheduler, 0.001) == [session.id]
    [expired] = expiries.sessions
    assert (expired.id, expired.state, expired.expires_at) == (
        session.id, SessionState.EXPIRED, scheduler.clock.now())  # fmt: skip


def test_sessions_are_listed_newest_first_by_order_and_state(store: SessionStore) -> None:
    first = store.new(7, parse_amount(1), 60)
    second = store.new("7", parse_amount(2), 60)
    third = store.new("8", parse_amount(3), 60)
    store.finish(first.id, SessionState.CANCELED)
    assert [s.id for s in store.newest_first()] == [third.id, second.id, first.id]
    assert [s.id for s in store.newest_first(order_id="7")] == [second.id, first.id]
    assert [s.id for s in store.newest_first(state=SessionState.OPEN)] == [third.id, second.id]


def test_reset_forgets_every_session_and_nothing_expires_afterwards(
    frozen: SessionStore, expiries: Expiries, scheduler: Scheduler
) -> None:
    frozen.new("r", parse_amount(1), 60)
    frozen.reset()
    assert scheduler.upcoming() == [] and advance(scheduler, 86400) == []
    assert frozen.newest_first() == [] and expiries.sessions == []


def test_a_sessions_reference_survives_its_state_file_line() -> None:
    # The article's transaction id paid again under an order id of its own (42~2).
    session = CheckoutSession(
        "cs_1", "42~2", Amount(Decimal(5), 5), datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 15, tzinfo=UTC), api="article", reference=42,
    )  # fmt: skip
    again = from_event(to_event(session))
    assert (again.order_id, again.reference, again.api) == ("42~2", 42, "article")
    assert "reference" not in to_event(replace(session, reference=None))
