"""The running gateway's state: settings, account, callbacks, idempotency keys, simulation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .config import Settings
from .dispatcher import CallbackDispatcher
from .idempotency import IdempotencyStore
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

    def reset(self, balance: Decimal | None = None) -> Decimal:
        """Forget payments, callbacks and idempotency keys; start from `balance` or the
        initial balance, which is returned. Simulation settings are configuration and stay."""
        self.callbacks.reset()
        self.idempotency.clear()
        return self.ledger.reset(balance)

    def close(self) -> int:
        """Stop retrying and release connections; return how many callbacks were pending."""
        return self.callbacks.close()
