"""The one clock and its scheduler: frozen, advanced, jobs in due order at their own time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from payments_server.core.clock import Clock
from payments_server.core.scheduler import Due, Scheduler

START = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


class RealTime:
    """A stand-in for real time that moves only when told."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    scheduler = Scheduler(Clock(frozen=True))
    yield scheduler
    scheduler.close()


def test_a_frozen_clock_stands_still_and_moves_only_forward() -> None:
    real = RealTime()
    clock = Clock(frozen=True, real=real)
    real.now += timedelta(hours=1)
    assert clock.now() == START and clock.frozen and not clock.real
    clock.move_to(START + timedelta(minutes=5))
    clock.move_to(START)  # never back
    assert clock.now() == START + timedelta(minutes=5)


def test_unfrozen_the_clock_keeps_its_lead_over_real_time() -> None:
    real = RealTime()
    clock = Clock(real=real)
    assert clock.real and not clock.frozen
    clock.freeze()
    clock.move_to(START + timedelta(days=1))
    clock.unfreeze()
    real.now += timedelta(seconds=10)
    assert clock.now() == START + timedelta(days=1, seconds=10)
    assert not clock.real
    clock.reset(frozen=False)
    assert clock.now() == real.now and clock.real


def test_a_clock_given_a_start_runs_from_there_and_goes_back_to_it_on_reset() -> None:
    real = RealTime()
    seed_time = datetime(2020, 7, 19, 22, 26, 23, tzinfo=UTC)
    clock = Clock(start=seed_time, real=real)
    real.now += timedelta(seconds=3)
    assert clock.now() == seed_time + timedelta(seconds=3) and not clock.real
    clock.move_to(seed_time + timedelta(days=30))
    clock.reset(frozen=True)
    real.now += timedelta(seconds=3)
    assert clock.now() == seed_time and clock.frozen
    assert Clock(frozen=True, start=seed_time, real=real).now() == seed_time


def test_advance_runs_jobs_in_due_order_each_at_its_own_time(scheduler: Scheduler) -> None:
    clock = scheduler.clock
    start = clock.now()
    seen: list[tuple[str, datetime]] = []
    for key, minutes in (("late", 30), ("soon", 10), ("overdue", -5)):
        scheduler.schedule("test", key, start + timedelta(minutes=minutes),
                           lambda key=key: seen.append((key, clock.now())))  # fmt: skip
    ran = scheduler.advance(start + timedelta(minutes=20))
    assert [due.key for due in ran] == ["overdue", "soon"]
    assert seen == [("overdue", start), ("soon", start + timedelta(minutes=10))]
    assert clock.now() == start + timedelta(minutes=20)
    assert scheduler.upcoming() == [Due(start + timedelta(minutes=30), "test", "late")]


def test_a_job_scheduled_by_a_job_runs_in_the_same_advance_if_it_falls_due(
    scheduler: Scheduler,
) -> None:
    clock = scheduler.clock
    start = clock.now()
    times: list[datetime] = []

    def retry() -> None:
        times.append(clock.now())
        if len(times) < 10:
            scheduler.schedule("retry", "r", clock.now() + timedelta(seconds=60), retry)

    scheduler.schedule("retry", "r", start + timedelta(seconds=60), retry)
    ran = scheduler.advance(start + timedelta(minutes=5))
    assert times == [start + timedelta(seconds=60 * n) for n in range(1, 6)]
    assert len(ran) == 5
    assert scheduler.upcoming() == [Due(start + timedelta(minutes=6), "retry", "r")]


def test_scheduling_again_replaces_and_cancel_and_clear_forget(scheduler: Scheduler) -> None:
    start = scheduler.clock.now()
    seen: list[str] = []
    scheduler.schedule("a", "1", start + timedelta(seconds=5), lambda: seen.append("first"))
    scheduler.schedule("a", "1", start + timedelta(seconds=9), lambda: seen.append("second"))
    scheduler.schedule("a", "2", start, lambda: seen.append("canceled"))
    scheduler.schedule("b", "1", start, lambda: seen.append("cleared"))
    assert scheduler.cancel("a", "2") and not scheduler.cancel("a", "2")
    scheduler.clear("b")
    assert scheduler.upcoming() == [Due(start + timedelta(seconds=9), "a", "1")]
    assert [due.key for due in scheduler.advance(start + timedelta(seconds=10))] == ["1"]
    assert seen == ["second"]


def test_a_failing_job_is_logged_and_the_others_still_run(
    scheduler: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    start = scheduler.clock.now()
    seen: list[str] = []
    scheduler.schedule("bad", "x", start, lambda: 1 / 0)  # type: ignore[func-returns-value]
    scheduler.schedule("good", "y", start + timedelta(seconds=1), lambda: seen.append("y"))
    assert len(scheduler.advance(start + timedelta(seconds=1))) == 2
    assert seen == ["y"]
    assert "scheduled bad x failed" in caplog.text


def test_a_running_clock_runs_due_jobs_on_their_own() -> None:
    scheduler = Scheduler(Clock())
    done = threading.Event()
    scheduler.schedule("t", "k", scheduler.clock.now() + timedelta(milliseconds=20), done.set)
    try:
        assert done.wait(5)
    finally:
        scheduler.close()


def test_a_frozen_clock_runs_nothing_until_unfrozen_or_advanced(scheduler: Scheduler) -> None:
    done = threading.Event()
    scheduler.schedule("t", "k", scheduler.clock.now() - timedelta(seconds=1), done.set)
    # Overdue already: only the frozen clock holds it back, so a short look is enough.
    assert not done.wait(0.2)
    scheduler.clock.unfreeze()
    scheduler.wake()
    assert done.wait(5)


def scheduler_threads() -> int:
    return sum(thread.name == "scheduler" for thread in threading.enumerate())


def wait_for_threads(count: int, timeout: float = 5.0) -> int:
    """The number of scheduler threads once it is `count`, or after `timeout`."""
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.start()
    try:
        while scheduler_threads() != count and not deadline.is_set():
            deadline.wait(0.01)
    finally:
        timer.cancel()
    return scheduler_threads()


def test_a_scheduler_with_nothing_to_run_holds_no_thread() -> None:
    """A namespace's timers cost a thread only while something waits on a running clock."""
    before = scheduler_threads()
    scheduler = Scheduler(Clock())
    try:
        done = threading.Event()
        scheduler.schedule("t", "k", scheduler.clock.now() + timedelta(milliseconds=10), done.set)
        assert done.wait(5)
        assert wait_for_threads(before) == before
        again = threading.Event()
        scheduler.schedule("t", "k", scheduler.clock.now(), again.set)
        assert again.wait(5)
        scheduler.clock.freeze()
        scheduler.schedule("t", "later", scheduler.clock.now() + timedelta(hours=1), again.set)
        assert wait_for_threads(before) == before  # frozen: only an advance runs it
        assert [due.key for due in scheduler.upcoming()] == ["later"]
    finally:
        scheduler.close()


def test_nothing_runs_after_close() -> None:
    scheduler = Scheduler(Clock(frozen=True))
    seen: list[str] = []
    scheduler.schedule("t", "k", scheduler.clock.now(), lambda: seen.append("k"))
    scheduler.close()
    assert scheduler.advance(scheduler.clock.now() + timedelta(days=1)) == []
    assert seen == [] and scheduler.upcoming() == []


def test_cancel_at_a_time_leaves_a_job_due_at_another(scheduler: Scheduler) -> None:
    start = scheduler.clock.now()
    scheduler.schedule("a", "1", start + timedelta(seconds=9), lambda: None)
    assert not scheduler.cancel("a", "1", at=start + timedelta(seconds=5))
    assert scheduler.cancel("a", "1", at=start + timedelta(seconds=9))
    assert scheduler.upcoming() == []


def test_an_advance_waits_only_briefly_for_jobs_that_wait_on_the_outside_world() -> None:
    # Ten callbacks to a store that hangs: the advance must not run them one after another
    # on its own thread. It returns while they still hang, and they finish off it.
    scheduler = Scheduler(Clock(frozen=True), io_wait=0.05)
    start = scheduler.clock.now()
    release, finished = threading.Event(), threading.Semaphore(0)

    def hang() -> None:
        release.wait(10)
        finished.release()

    for n in range(10):
        scheduler.schedule("callback", str(n), start + timedelta(seconds=n), hang, waits_on_io=True)
    scheduler.schedule("expiry", "s", start + timedelta(seconds=20), lambda: None)
    advancing = threading.Thread(
        target=lambda: ran.extend(scheduler.advance(start + timedelta(days=1)))
    )
    ran: list[object] = []
    try:
        advancing.start()
        advancing.join(5)
        assert not advancing.is_alive() and not release.is_set()
        assert len(ran) == 11 and scheduler.clock.now() == start + timedelta(days=1)
        release.set()
        assert all(finished.acquire(timeout=5) for _ in range(10))
    finally:
        release.set()
        scheduler.close()


def test_an_advance_hears_a_store_that_answers_in_time_before_moving_on() -> None:
    # A quick job that waits on the outside world runs in due order, each retry it
    # schedules falling due within the same advance, as before.
    scheduler = Scheduler(Clock(frozen=True))
    start = scheduler.clock.now()
    attempts: list[object] = []

    def attempt() -> None:
        attempts.append(scheduler.clock.now())
        if len(attempts) < 3:
            due = scheduler.clock.now() + timedelta(seconds=5)
            scheduler.schedule("callback", "k", due, attempt, waits_on_io=True)

    scheduler.schedule("callback", "k", start + timedelta(seconds=1), attempt, waits_on_io=True)
    try:
        assert len(scheduler.advance(start + timedelta(minutes=1))) == 3
        assert attempts == [start + timedelta(seconds=s) for s in (1, 6, 11)]
    finally:
        scheduler.close()
