"""The running gateway's state: settings, account, callbacks, idempotency keys, simulation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .config import Settings
from .dispatcher import CallbackDispatcher
from .idempotency import IdempotencyStore
from .journal import Journal, JournalError
from .ledger import Ledger
from .simulation import Simulator


@dataclass
class Gateway:
    """Everything one app instance holds; reset() returns it to the start, simulation aside."""

    settings: Settings
    ledger: Ledger
    callbacks: CallbackDispatcher
    simulator: Simulator
    idempotency: IdempotencyStore
    journal: Journal | None = None

    def reset(self, balance: Decimal | None = None) -> Decimal:
        """Forget payments, callbacks and idempotency keys; start from `balance` or the
        initial balance, which is returned. Simulation settings are configuration and stay."""
        # The account first: with a state file it may refuse (JournalError), and then
        # nothing else may have been forgotten either.
        value = self.ledger.reset(balance)
        self.callbacks.reset()
        self.idempotency.clear()
        return value

    def restore(self, journal: Journal) -> None:
        """Replay the state file into the account and the idempotency keys; a new file is
        started with the initial balance.

        Raises JournalError naming the first line that cannot be replayed.
        """
        lines = journal.read()
        if not lines:
            self.ledger.start_journal()
        for line in lines:
            try:
                if line.event["event"] == "idempotency":
                    self.idempotency.restore(line.event)
                else:
                    self.ledger.replay(line.event)
            except ValueError as exc:
                raise JournalError(f"{journal.path} line {line.number}: {exc}") from None

    def close(self) -> int:
        """Stop retrying, release connections and the state file; return how many callbacks
        were pending."""
        if self.journal is not None:
            self.journal.close()
        return self.callbacks.close()
