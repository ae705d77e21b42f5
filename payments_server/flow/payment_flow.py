"""The one payment flow: decide, charge, record, notify, publish. Every surface calls it.

The ledger decides and charges under its lock and records the attempt (the activity log
and the live views hear of it there); the store is told here, outside every lock. Once
money has moved nothing here raises: the client gets its outcome and the store its
callback, whatever the notifier does.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ..callbacks.client import Attempt
from ..callbacks.deliveries import Delivery, State
from ..callbacks.dispatcher import CallbackDispatcher
from ..core.activity import ActivityLog
from ..core.api_faults import FaultHit
from ..core.journal import Journal
from ..core.ledger import DeclineCheck, Ledger, Note
from ..core.money import Amount, format_balance
from ..core.orders import OrderRecord
from ..core.refusals import (
    InsufficientFundsError,
    LimitExceededError,
    NotPendingError,
    OrderAlreadyPaidError,
    OrderNotFoundError,
    OrderPendingError,
    PaymentDeclinedError,
    PaymentPendingError,
    RefundOwnedElsewhereError,
)
from ..core.scheduler import Due, Scheduler
from ..core.simulation import Decline, HoldPending, SimulationSettings, Simulator
from ..core.transactions import OrderId, Transaction, order_key
from .outcomes import Declined, Outcome, Paid, Pending, Refused, callback_status

# An API's own Kafka event of a decided payment: its key and value, or None for the
# gateway's event.
EventOf = Callable[[Outcome], tuple[str, Mapping[str, object]] | None]

# Due is what advance_clock() and upcoming() return: the surfaces read it from here.
__all__ = ["AccountSummary", "Due", "EventOf", "PaymentFlow", "Publisher"]

log = logging.getLogger("payments_server.flow")

DECISION = "pending_payment"  # the scheduler's kind for a pending payment's decision
REFUND_STATUS = "refunded"
DECLINES = (PaymentDeclinedError, InsufficientFundsError, LimitExceededError)


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The account as an API shows it."""

    account_id: str
    holder: str
    balance: Decimal


class Publisher(Protocol):
    """Where decided order payments are published (publishing/kafka.py)."""

    def publish(
        self,
        order_id: OrderId,
        succeeded: bool,
        data: Mapping[str, object],
        *,
        key: str | None = None,
        whole: bool = False,
    ) -> None:
        """Queue one payment's event; never blocks or raises."""


class PaymentFlow:
    """Pays, decides pending payments and refunds through one ledger, one set of callbacks
    and one scheduler; publishes each decided order payment, if told where."""

    def __init__(
        self,
        ledger: Ledger,
        callbacks: CallbackDispatcher,
        simulator: Simulator,
        scheduler: Scheduler,
        *,
        refund_callbacks: bool = False,
        publisher: Publisher | None = None,
        journal: Journal | None = None,
        activity: ActivityLog | None = None,
    ) -> None:
        self.ledger = ledger
        self.journal = journal
        self.activity = activity
        self.callbacks = callbacks
        self.simulator = simulator
        self.scheduler = scheduler
        self.refund_callbacks = refund_callbacks
        self.publisher = publisher
        # Each API that keeps its own record of a payment says, for an order id, why the
        # account alone must not give its money back (None: it may).
        self.refund_owners: list[Callable[[OrderId], str | None]] = []

    def pay(self, amount: Amount, recipient: str) -> Paid | Declined:
        """A payment to a recipient (the seed's /pay): debited or declined; no callback."""
        self.wait_latency()
        try:
            return Paid(self.ledger.pay(amount, recipient, self.simulator.decide))
        except DECLINES as exc:
            return Declined(exc)

    def pay_order(
        self, order_id: OrderId, amount: Amount, url: str | None = None, api: str | None = None
    ) -> Outcome:
        """Pay for an order once, then tell the store (at `url`, or the callback URL); `api`
        is the API it came through, kept on the order."""
        self.wait_latency()
        outcome = self.charge_order(
            order_id, amount, lambda: self.simulator.decide(order_id), api=api
        )
        return self.tell_store(order_id, outcome, url)

    def charge(
        self,
        order_id: OrderId,
        amount: Amount,
        *,
        decide: DeclineCheck | None = None,
        note: Note | None = None,
        latency: bool = True,
        funded: bool = True,
        event: EventOf | None = None,
        api: str | None = None,
    ) -> Outcome:
        """An API's payment of an order, telling no store: the simulated latency (unless the
        API waited it already), then under the account's lock the decision (`decide`, or the
        simulation's for the order, which may leave it pending) and the charge, with `note`'s
        keys on the attempt's state-file line; published on Kafka when decided. With `funded`
        False the money is not the account's (the API's real system has no balance): the
        order is paid, and no balance or limit is looked at. `event` gives the API's own
        Kafka event of a decided payment (its key and value) instead of the gateway's.
        `api` is the API it came through, kept on the order."""
        if latency:
            self.wait_latency()
        decision = decide or (lambda: self.simulator.decide(order_id))
        return self.charge_order(
            order_id, amount, decision, note, funded=funded, event=event, api=api
        )

    def decision_for(self, order_id: OrderId) -> Decline | HoldPending | None:
        """The simulation's decision for an order's payment: declined, held pending, or
        None (go on)."""
        return self.simulator.decide(order_id)

    # What the APIs read of the account and set of its simulation, so that none of them
    # reaches the ledger or the simulator itself.

    def summary(self) -> AccountSummary:
        """The account: its id, holder and balance."""
        ledger = self.ledger
        return AccountSummary(ledger.account_id, ledger.holder, ledger.balance)

    def transactions(self) -> list[Transaction]:
        """Every transaction of the account, oldest first."""
        return self.ledger.transactions()

    def transactions_page(self, offset: int, limit: int) -> tuple[list[Transaction], int]:
        """A page of the account's transactions, and how many there are."""
        return self.ledger.transactions_page(offset, limit)

    def orders(
        self, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[OrderRecord], int]:
        """Orders newest first (of those in `state`), a page of them, and how many."""
        return self.ledger.orders(state, limit, offset)

    def order(self, order_id: OrderId) -> OrderRecord | None:
        """An order's payment history, if it has one."""
        return self.ledger.order(order_id)

    def simulation(self) -> SimulationSettings:
        """The simulation in force."""
        return self.simulator.settings

    def configure(self, settings: SimulationSettings) -> None:
        """Put new simulation settings in force."""
        self.simulator.configure(settings)

    # The clock, its timers and the record of what happened, as operations for the APIs:
    # none of them reaches the scheduler or the state file itself.

    def now(self) -> datetime:
        """The gateway's time now."""
        return self.scheduler.clock.now()

    def later(self, kind: str, key: str, at: datetime, run: Callable[[], None]) -> None:
        """Run `run()` at `at` on the clock, instead of any job of the same kind and key."""
        self.scheduler.schedule(kind, key, at, run)

    def forget_timers(self, kind: str) -> None:
        """Forget every timer of a kind (a reset)."""
        self.scheduler.clear(kind)

    def set_clock_frozen(self, frozen: bool) -> None:
        """Stop the clock where it is, or let it run again; the timers look again."""
        if frozen:
            self.scheduler.clock.freeze()
        else:
            self.scheduler.clock.unfreeze()
        self.scheduler.wake()

    def clock_to_real_time(self) -> list[Due]:
        """Bring a clock that is behind real time (frozen, or started in the past) up to it,
        running what falls due on the way, then run it on real time; the jobs that ran.
        Raises ClockAheadError, changing nothing, when the clock is ahead of real time."""
        clock = self.scheduler.clock
        ran = self.scheduler.advance(clock.real_now())
        clock.run_on_real_time()
        self.scheduler.wake()
        return ran

    def advance_clock(self, to: datetime) -> list[Due]:
        """Move the clock to `to`, running what falls due on the way; the jobs that ran."""
        return self.scheduler.advance(to)

    def upcoming(self, limit: int) -> list[Due]:
        """The next timers to run, soonest first."""
        return self.scheduler.upcoming(limit)

    def record(self, event: dict[str, object]) -> None:
        """An API's own line in the state file, if there is one; raises JournalError."""
        if self.journal is not None:
            self.journal.append(event)

    def note(self, kind: str, summary: str, order_id: OrderId | None, outcome: str) -> None:
        """An entry in the activity log."""
        if self.activity is not None:
            self.activity.add(kind, summary, order_id, outcome)

    def api_fault(self, method: str, path: str, order_id: OrderId | None) -> FaultHit | None:
        """The API fault (PUT /simulation "api_faults") a request meets, if any; noted in
        the activity log by whoever applies it."""
        return self.simulator.api_fault(method, path, order_id)

    def simulated_decline(self) -> Decline | None:
        """The simulation's decision for a payment decided at once (never left pending): a
        decline rule, rate or test amount of its own, or None."""
        decided = self.simulator.decide(None)
        return decided if isinstance(decided, Decline) else None

    def charge_order(
        self,
        order_id: OrderId,
        amount: Amount,
        decide: DeclineCheck,
        note: Note | None = None,
        *,
        funded: bool = True,
        event: EventOf | None = None,
        api: str | None = None,
    ) -> Outcome:
        """Decide and charge under the account's lock, recording the attempt (with `note`'s
        keys on its state-file line, and the API it came through on the order); tell nobody
        yet. A pending payment is scheduled."""
        outcome: Outcome
        try:
            outcome = Paid(
                self.ledger.pay_order(order_id, amount, decide, note, funded=funded, api=api)
            )
        except PaymentPendingError as exc:
            self.schedule_decision(exc.order_id, exc.due)
            return Pending(exc.order_id, exc.amount, exc.after_ms, exc.due)
        except (OrderAlreadyPaidError, OrderPendingError) as exc:
            return Refused(exc)
        except DECLINES as exc:
            outcome = Declined(exc)
        self._publish(order_id, amount.sent, outcome, event)
        return outcome

    def tell_store(
        self,
        order_id: OrderId,
        outcome: Outcome,
        url: str | None = None,
        callback_id: str | None = None,
    ) -> Outcome:
        """Send the callback an outcome calls for, if any; the outcome with its delivery."""
        status = callback_status(outcome)
        if status is None or isinstance(outcome, Pending | Refused):
            return outcome
        return replace(
            outcome, delivery=self.notify(order_id, status, url, callback_id=callback_id)
        )

    def notify(
        self,
        order_id: OrderId,
        status: str,
        url: str | None = None,
        extra: Mapping[str, object] | None = None,
        *,
        callback_id: str | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Delivery | None:
        """Send the store a callback now, retried on schedule; never raises. `body`, if
        given, is the callback's body instead of {"order_id", "status"} (another API's)."""
        try:
            return self.callbacks.notify(
                order_id, status, url, extra, callback_id=callback_id, body=body
            )
        except Exception:
            # A bug or a URL nobody could send to: the money has moved all the same.
            log.exception("the %s callback for order %s could not be sent", status, order_id)
            return None

    def deliveries(self, order_id: str | None = None, state: State | None = None) -> list[Delivery]:
        """The callbacks sent (or being sent), of one order or in one state, oldest first."""
        return self.callbacks.deliveries(order_id, state)

    def delivery(self, delivery_id: str) -> Delivery:
        """One callback and its attempts; raises KeyError if there is none of that id."""
        return self.callbacks.get(delivery_id)

    def callback_counts(self) -> dict[str, int]:
        """How many callbacks are in each state."""
        return self.callbacks.counts()

    def resend(self, delivery_id: str) -> tuple[Attempt, Delivery]:
        """Send a callback again now, as a new attempt; raises KeyError if there is none."""
        return self.callbacks.resend(delivery_id)

    def retry_now(self, delivery_id: str) -> tuple[Attempt, Delivery]:
        """Bring a callback's next scheduled retry forward to now."""
        return self.callbacks.retry_now(delivery_id)

    def sent_headers(self, delivery: Delivery, attempt: Attempt) -> tuple[str, dict[str, str]]:
        """The URL and the headers an attempt of a callback was sent with."""
        return self.callbacks.sent_headers(delivery, attempt)

    def decide(
        self, order_id: OrderId, then: str | None = None, *, when_due: bool = False
    ) -> tuple[OrderRecord, Outcome]:
        """Decide a pending payment now (as planned, or as `then`) and tell the store.
        Raises OrderNotFoundError or NotPendingError, and then nothing happened."""
        outcome: Outcome
        waiting = self.ledger.order(order_id)
        due = None if waiting is None or waiting.pending is None else waiting.pending.due
        try:
            record = self.ledger.decide(order_id, then, when_due=when_due)
        except KeyError:
            raise OrderNotFoundError(order_id) from None
        except DECLINES as exc:
            record = self._order(order_id)
            outcome = Declined(exc)
        else:
            assert record.transaction is not None  # decided paid
            outcome = Paid(record.transaction)
        # Decided: its timer has nothing left to do (GET /clock no longer lists it). Only
        # that payment's: the order may have a new one pending already.
        if due is not None:
            self.scheduler.cancel(DECISION, order_key(order_id), at=due)
        if record.attempts:
            self._publish(record.order_id, record.attempts[-1].amount.sent, outcome)
        return record, self.tell_store(record.order_id, outcome)

    def schedule_decision(self, order_id: OrderId, due: datetime) -> None:
        """Decide this order's pending payment at `due` on the clock (at once if passed)."""
        self.scheduler.schedule(
            DECISION, order_key(order_id), due, lambda: self._decide_when_due(order_id)
        )

    def refund(
        self, order_id: OrderId, amount: Amount | None, *, notify_store: bool | None = None
    ) -> tuple[OrderRecord, Delivery | None]:
        """Give back `amount` (default: all that is left) and tell the store "refunded" if
        `notify_store` (None: as --refund-callbacks says). Raises OrderNotFoundError, the
        ledger's refusal, or RefundOwnedElsewhereError when the API that took the payment
        keeps its own record of it and has no refunds; then nothing changed."""
        for owner in self.refund_owners:
            why = owner(order_id)
            if why is not None:
                raise RefundOwnedElsewhereError(order_id, why)
        try:
            record = self.ledger.refund(order_id, amount)
        except KeyError:
            raise OrderNotFoundError(order_id) from None
        if not (self.refund_callbacks if notify_store is None else notify_store):
            return record, None
        given = record.refunds[-1].refund
        extra = {"amount": given.sent, "amount_refunded": format_balance(record.refunded)}
        return record, self.notify(record.order_id, REFUND_STATUS, extra=extra)

    def resume(self) -> None:
        """After a restart: decide each payment pending at the stop on time (at once if
        overdue)."""
        for order_id, due in self.ledger.pending_orders():
            self.schedule_decision(order_id, due)

    def reset(self) -> None:
        """Forget every scheduled decision (the ledger forgot the payments)."""
        self.scheduler.clear(DECISION)

    def wait_latency(self) -> None:
        """Wait as long as the simulation says, before a payment; no lock is held."""
        latency = self.simulator.latency
        if latency:
            time.sleep(latency)

    def _publish(
        self,
        order_id: OrderId,
        amount: object,
        outcome: Paid | Declined,
        event: EventOf | None = None,
    ) -> None:
        if self.publisher is None:
            return
        own = None if event is None else event(outcome)
        if own is not None:
            key, value = own
            self.publisher.publish(order_id, isinstance(outcome, Paid), value, key=key, whole=True)
            return
        code = outcome.code if isinstance(outcome, Declined) else None
        data = {"amount": amount, "declineCode": code}
        self.publisher.publish(order_id, isinstance(outcome, Paid), data)

    def _order(self, order_id: OrderId) -> OrderRecord:
        record = self.ledger.order(order_id)
        if record is None:
            raise OrderNotFoundError(order_id)
        return record

    def _decide_when_due(self, order_id: OrderId) -> None:
        # Decided through the API first, or forgotten by a reset: nothing left to do.
        with contextlib.suppress(OrderNotFoundError, NotPendingError):
            self.decide(order_id, when_due=True)


__all__ = ["DECISION", "REFUND_STATUS", "PaymentFlow"]
