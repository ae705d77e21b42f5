"""The running gateway: its parts (account, callbacks, idempotency keys, simulation) composed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .apis.surface import ApiState, Surface
from .callbacks.client import StoreNotifier
from .callbacks.connection_pool import ConnectionPool
from .callbacks.dispatcher import CallbackDispatcher
from .callbacks.report_card import BackgroundCheck
from .callbacks.retries import RetryPolicy
from .callbacks.signing import Signer
from .collector import thaw
from .config import Settings
from .core.activity import ActivityLog
from .core.checkout_session import EVENT as SESSION_EVENT
from .core.checkout_session import from_event as session_from_event
from .core.clock import Clock
from .core.events import EventBus, StreamSlots
from .core.idempotency import IdempotencyStore
from .core.journal import Journal, JournalError
from .core.ledger import Ledger
from .core.scheduler import Scheduler
from .core.simulation import SimulationSettings, Simulator
from .flow.checkout import Checkout
from .flow.payment_flow import PaymentFlow
from .publishing.kafka import EventPublisher


@dataclass
class Account:
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
    flow: PaymentFlow
    scheduler: Scheduler
    journal: Journal | None = None
    store_check: BackgroundCheck = field(default_factory=BackgroundCheck)
    # Each API's own part of the account (its Surface.new_state), by the API's id.
    apis: dict[str, ApiState] = field(default_factory=dict)

    @property
    def clock(self) -> Clock:
        """The gateway's one clock."""
        return self.scheduler.clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        user_agent: str,
        surfaces: Sequence[Surface] = (),
        *,
        namespace: str | None = None,
        publisher: EventPublisher | None = None,
        streams: StreamSlots | None = None,
        connections: ConnectionPool | None = None,
    ) -> Account:
        """Build every part from the settings, and each API's own state; with a state file,
        replay it. The gateway's parts every account shares (its Kafka client, its cap on
        open streams, its idle connections to stores) are passed in; `namespace` names a
        namespace's account (None: the default's), and its callbacks and events say so.

        Raises JournalError if the file is damaged (a torn last line, from a crash, is
        dropped with a warning).
        """
        journal = (
            None
            if settings.state_file is None
            else Journal(settings.state_file, fsync=settings.fsync)
        )
        clock = Clock(frozen=settings.clock == "frozen", start=settings.clock_start)
        scheduler = Scheduler(clock)
        events = EventBus()
        activity = ActivityLog(events, settings.activity_log_size, clock.timestamp)
        simulator = Simulator(
            SimulationSettings(
                decline_rate=settings.decline_rate,
                seed=settings.decline_seed,
                latency_ms=settings.latency_ms,
                limit_per_payment=settings.limit_per_payment,
                limit_per_day=settings.limit_per_day,
                api_faults=settings.api_faults,
            )
        )
        ledger = Ledger(
            settings.initial_balance,
            journal=journal,
            activity=activity,
            limits=lambda: simulator.settings.limits,
            clock=clock.now,
        )
        callbacks = CallbackDispatcher(
            StoreNotifier(
                settings.callback_url,
                settings.callback_timeout,
                user_agent=user_agent,
                signer=Signer(settings.webhook_secret),
                pool_size=settings.threads,
                clock=clock.now,
                namespace=namespace,
                connections=connections,
            ),
            RetryPolicy(settings.callback_schedule, settings.callback_retries),
            settings.callback_log_size,
            activity=activity,
            faults=simulator.callback_fault,
            scheduler=scheduler,
        )
        flow = PaymentFlow(
            ledger, callbacks, simulator, scheduler,
            refund_callbacks=settings.refund_callbacks,
            publisher=None if publisher is None else publisher.for_account(
                activity, clock.now, namespace
            ),
            journal=journal, activity=activity,
        )  # fmt: skip
        gateway = cls(
            settings=settings,
            ledger=ledger,
            callbacks=callbacks,
            simulator=simulator,
            idempotency=IdempotencyStore(clock=clock.timestamp, journal=journal),
            checkout=Checkout(flow, events, scheduler, journal),
            events=events,
            streams=streams or stream_slots(settings),
            activity=activity,
            flow=flow,
            scheduler=scheduler,
            journal=journal,
        )
        for surface in surfaces:
            gateway.apis[surface.id] = surface.new_state(gateway)
        if journal is not None:
            gateway.restore(journal)
            flow.resume()
            for state in gateway.apis.values():
                state.resume()
        return gateway

    def reset(self, balance: Decimal | None = None) -> Decimal:
        """Forget payments, callbacks, keys, sessions and activity; start from
        `balance` or the initial balance, which is returned. Simulation settings stay; the
        clock goes back to real time (frozen there under --clock frozen)."""
        # The account first: with a state file it may refuse (JournalError), and then
        # nothing else may have been forgotten either. The file starts afresh while no
        # session and no idempotency key can write to it (their locks are held), so none
        # made meanwhile comes back after a restart.
        value = self.checkout.reset(
            lambda: self.idempotency.clear(lambda: self.ledger.reset(balance))
        )
        assert value is not None
        self.callbacks.reset()
        self.flow.reset()
        for state in self.apis.values():
            state.reset()
        self.activity.reset()
        self.clock.reset(frozen=self.settings.clock == "frozen")
        self.scheduler.wake()
        self.events.publish("reset")
        thaw()  # what was forgotten, frozen if a full collection saw it, may go now
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
                elif any(state.restore(line.event) for state in self.apis.values()):
                    pass  # an API's own line
                else:
                    # A checkout payment's line holds its session too: both or neither.
                    held = line.event.get(SESSION_EVENT) if kind == "order" else None
                    session = None if held is None else session_from_event(held)
                    self.ledger.replay(line.event)
                    if session is not None:
                        self.checkout.sessions.add(session, restored=True)
                    if kind == "order":
                        for state in self.apis.values():
                            state.restore_order(line.event)
                    if kind == "reset":
                        self.checkout.reset()
                        for state in self.apis.values():
                            state.reset()
            except ValueError as exc:
                raise JournalError(f"{journal.path} line {line.number}: {exc}") from None

    def close(self) -> int:
        """Stop retrying, release connections and the state file; return how many callbacks
        were pending. The shared parts (the Kafka client) are the gateway's to close."""
        if self.journal is not None:
            self.journal.close()
        self.scheduler.close()
        self.events.close()
        return self.callbacks.close()


def stream_slots(settings: Settings) -> StreamSlots:
    """The cap on open event streams, shared by every account of a gateway: each holds a
    server thread, so a quarter of them at most, and payments always find one
    (docs/performance.md, "streams held")."""
    return StreamSlots(max(1, settings.threads // 4))
