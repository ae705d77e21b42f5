"""The running gateway's state: its settings, the account and the store callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .config import Settings
from .dispatcher import CallbackDispatcher
from .ledger import Ledger


@dataclass
class Gateway:
    """Everything one app instance holds; reset() returns all of it to the start."""

    settings: Settings
    ledger: Ledger
    callbacks: CallbackDispatcher

    def reset(self) -> Decimal:
        """Forget every payment and callback, cancel retries, restore the balance; return it."""
        self.callbacks.reset()
        return self.ledger.reset()

    def close(self) -> int:
        """Stop retrying and release connections; return how many callbacks were pending."""
        return self.callbacks.close()
