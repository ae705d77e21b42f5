"""The running gateway: its parts (account, callbacks, idempotency keys, simulation) composed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .callbacks.client import StoreNotifier
from .callbacks.dispatcher import CallbackDispatcher
from .callbacks.retries import RetryPolicy
from .callbacks.signing import Signer
from .checkout import Checkout
from .config import Settings
from .core.activity import ActivityLog
from .core.events import EventBus, StreamSlots
from .core.idempotency import IdempotencyStore
from .core.journal import Journal, JournalError
from .core.ledger import Ledger
from .core.session import EVENT as SESSION_EVENT
from .core.simulation import SimulationSettings, Simulator
from .pending import PendingPayments


@dataclass
class Gateway:
    """Everything one app instance holds; reset() returns it to the start, simulation aside."""

    settings: Settings
    ledger: Ledger
    callbacks: CallbackDispatcher
    simulator: Simulator
    idempotency: IdempotencyStore
    checkout: Checkout
    events: EventBus
    streams: StreamSlots
    activity: ActivityLog
    pending: PendingPayments
    journal: Journal | None = None

    @classmethod
    def from_settings(cls, settings: Settings, user_agent: str) -> Gateway:
        """Build every part from the settings; with a state file, replay it.

        Raises JournalError if the file is damaged (a torn last line, from a crash, is
        dropped with a warning).
        """
        journal = (
            None
            if settings.state_file is None
            else Journal(settings.state_file, fsync=settings.fsync)
        )
        events = EventBus()
        activity = ActivityLog(events, settings.activity_log_size)
        simulator = Simulator(
            SimulationSettings(
                decline_rate=settings.decline_rate,
                seed=settings.decline_seed,
                latency_ms=settings.latency_ms,
                limit_per_payment=settings.limit_per_payment,
                limit_per_day=settings.limit_per_day,
            )
        )
        ledger = Ledger(
            settings.initial_balance,
            journal=journal,
            activity=activity,
            limits=lambda: simulator.settings.limits,
        )
        callbacks = CallbackDispatcher(
            StoreNotifier(
                settings.callback_url,
                settings.callback_timeout,
                user_agent=user_agent,
                signer=Signer(settings.webhook_secret),
                pool_size=settings.threads,
            ),
            RetryPolicy(settings.callback_schedule, settings.callback_retries),
            settings.callback_log_size,
            activity=activity,
            faults=simulator.callback_fault,
        )
        gateway = cls(
            settings=settings,
            ledger=ledger,
            callbacks=callbacks,
            simulator=simulator,
            idempotency=IdempotencyStore(journal=journal),
            checkout=Checkout(ledger, callbacks, simulator, events, journal),
            events=events,
            # Each open stream holds a server thread: a quarter of them at most, so that
            # payments always find one (docs/performance.md, "streams held").
            streams=StreamSlots(max(1, settings.threads // 4)),
            activity=activity,
            pending=PendingPayments(ledger, callbacks),
            journal=journal,
        )
        if journal is not None:
            gateway.restore(journal)
            # A payment pending at the stop is still decided on time (at once if overdue).
            for order_id, due in ledger.pending_orders():
                gateway.pending.schedule(order_id, due)
        return gateway

    def reset(self, balance: Decimal | None = None) -> Decimal:
        """Forget payments, callbacks, keys, sessions and activity; start from
        `balance` or the initial balance, which is returned. Simulation settings stay."""
        # The account first: with a state file it may refuse (JournalError), and then
        # nothing else may have been forgotten either.
        value = self.ledger.reset(balance)
        self.callbacks.reset()
        self.idempotency.clear()
        self.checkout.reset()
        self.pending.reset()
        self.activity.reset()
        self.events.publish("reset")
        return value

    def restore(self, journal: Journal) -> None:
        """Replay the state file into the account, the idempotency keys and the checkout
        sessions; a new file is started with the initial balance.

        Raises JournalError naming the first line that cannot be replayed.
        """
        lines = journal.read()
        if not lines:
            self.ledger.start_journal()
        for line in lines:
            kind = line.event["event"]
            try:
                if kind == "idempotency":
                    self.idempotency.restore(line.event)
                elif kind == SESSION_EVENT:
                    self.checkout.restore(line.event)
                else:
                    self.ledger.replay(line.event)
                    if kind == "reset":
                        self.checkout.reset()
            except ValueError as exc:
                raise JournalError(f"{journal.path} line {line.number}: {exc}") from None

    def close(self) -> int:
        """Stop retrying, release connections and the state file; return how many callbacks
        were pending."""
        if self.journal is not None:
            self.journal.close()
        self.checkout.close()
        self.pending.close()
        self.events.close()
        return self.callbacks.close()
