"""The running gateway's state: its settings, the account and the store notifier."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .callbacks import StoreNotifier
from .config import Settings
from .ledger import Ledger


@dataclass
class Gateway:
    """Everything one app instance holds; reset() returns all of it to the start."""

    settings: Settings
    ledger: Ledger
    notifier: StoreNotifier

    def reset(self) -> Decimal:
        """Forget every payment and restore the initial balance; return it."""
        return self.ledger.reset()

    def close(self) -> None:
        """Release network resources."""
        self.notifier.close()
