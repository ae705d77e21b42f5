"""Prepaid cards (the card loader, seed 003): each card's balance and loads, and the
compliance limits on how much may be loaded onto one card within a window of days.

The money loaded comes from the one account: a load is an order payment of the ledger
first, and goes onto the card only once the account was debited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from ...core.jsonio import format_time
from ...core.money import CENT

# The cards that exist from the start, as after the seed's `flask fake-data`.
FIRST_CARDS = range(1, 11)
EVENT = "card_load"  # the key of a load on its order's state-file line
# The real loader's limits (its BaseConfig): 500 a day, 800 in 30 days, 2,000 in a year, and
# a balance of at most 1,000 at any time.
DEFAULT_LIMITS = "1d=500,30d=800,365d=2000,balance=1000"
BALANCE = 0  # the `days` of the balance cap, which looks at the card, not a window
T = TypeVar("T")


class ComplianceError(ValueError):
    """A load over a compliance limit: its code and message, as the card loader words them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ComplianceLimit:
    """At most `limit` loaded onto one card within any `days` days; with `days` BALANCE, at
    most `limit` on the card at any time."""

    days: int
    limit: Decimal

    @property
    def code(self) -> str:
        """compliance-1-day, compliance-30-days, compliance-balance."""
        return "compliance-balance" if self.days == BALANCE else f"compliance-{self._window}"

    def message(self, loaded: Decimal, amount: Decimal) -> str:
        """495.00 + 10.00 > 500 (1 day); 995.00 + 10.00 > 1000 (balance)."""
        window = "balance" if self.days == BALANCE else self._window.replace("-", " ")
        return (
            f"{loaded.quantize(CENT)} + {amount.quantize(CENT)} > {_plain(self.limit)} ({window})"
        )

    @property
    def _window(self) -> str:
        return f"{self.days}-day" if self.days == 1 else f"{self.days}-days"

    def as_option(self) -> str:
        """As --card-load-limits writes it: 1d=500, balance=1000."""
        return f"{'balance' if self.days == BALANCE else f'{self.days}d'}={_plain(self.limit)}"


def parse_limits(text: str) -> tuple[ComplianceLimit, ...]:
    """'1d=500,30d=800,balance=1000' as compliance limits: windows of days, and the balance
    cap; raise ValueError saying what is expected."""
    limits = []
    for part in text.split(","):
        name, _, limit = part.strip().partition("=")
        try:
            days = BALANCE if name == "balance" else int(name.removesuffix("d"))
            if name != "balance" and not name.endswith("d"):
                raise ValueError
            parsed = ComplianceLimit(days, Decimal(limit))
        except (ValueError, ArithmeticError):
            raise ValueError(
                "must be windows such as 1d=500,30d=800 (days=amount) and, if capped, balance=1000"
            ) from None
        in_range = name == "balance" or 1 <= parsed.days <= 366
        if not (in_range and parsed.limit.is_finite() and parsed.limit > 0):
            raise ValueError("must have windows of 1 to 366 days and positive amounts")
        limits.append(parsed)
    # The windows shortest first, then the balance, as the real loader checks them.
    return tuple(sorted(limits, key=lambda limit: (limit.days == BALANCE, limit.days)))


def format_limits(limits: Iterable[ComplianceLimit]) -> str:
    """The limits as --card-load-limits takes them."""
    return ",".join(limit.as_option() for limit in limits)


@dataclass(frozen=True, slots=True)
class CardLoad:
    """Money loaded onto a card: how much, when, and the order that paid for it."""

    id: str
    at: datetime
    amount: Decimal
    order_id: str

    def to_json(self) -> dict[str, object]:
        """As GET /cardloader/cards/<id>/ lists it."""
        return {
            "id": self.id,
            "amount": f"{self.amount.quantize(CENT)}",
            "created_at": format_time(self.at),
            "order_id": self.order_id,
        }

    def to_event(self, card_id: int) -> dict[str, object]:
        """Its part of the order's state-file line."""
        return {"card_id": card_id, "load_id": self.id, "amount": self.amount,
                "at": format_time(self.at)}  # fmt: skip


@dataclass
class PrepaidCard:
    """One card: its balance and every load that went onto it."""

    id: int
    loads: list[CardLoad] = field(default_factory=list)
    balance: Decimal = Decimal("0.00")
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def loaded_since(self, start: datetime) -> Decimal:
        """How much was loaded after `start`."""
        return sum((load.amount for load in self.loads if load.at > start), Decimal(0))

    def to_json(self, currency: str) -> dict[str, object]:
        """The card as GET /cardloader/cards/<id>/ shows it, newest load first."""
        return {
            "id": self.id,
            "balance": f"{self.balance.quantize(CENT)}",
            "currency": currency,
            "loads": [load.to_json() for load in reversed(self.loads)],
        }


class PrepaidCards:
    """Cards 1 to 10, loaded under each card's own lock so that its limits hold under races."""

    def __init__(self, limits: tuple[ComplianceLimit, ...], clock: Callable[[], datetime]) -> None:
        self.limits = limits
        self._clock = clock
        self._cards = {number: PrepaidCard(number) for number in FIRST_CARDS}

    def get(self, card_id: int) -> PrepaidCard | None:
        """The card, or None if there is no such card."""
        return self._cards.get(card_id)

    def all(self) -> list[PrepaidCard]:
        """Every card, by id."""
        return [self._cards[number] for number in sorted(self._cards)]

    def load(
        self,
        card: PrepaidCard,
        amount: Decimal,
        charge: Callable[[CardLoad], T],
        paid: Callable[[T], bool],
        load_id: str,
        order_id: str,
    ) -> T:
        """Check the card's limits, then `charge` the load (its state-file line is written
        there); put it on the card if `paid` says the account was debited. Raises
        ComplianceError, and then nothing was charged."""
        with card.lock:
            now = self._check(card, amount)
            load = CardLoad(load_id, now, amount, order_id)
            outcome = charge(load)
            if paid(outcome):
                self._put(card, load)
            return outcome

    def check(self, card: PrepaidCard, amount: Decimal) -> None:
        """Raise ComplianceError if loading `amount` now would break one of the limits."""
        with card.lock:
            self._check(card, amount)

    def _check(self, card: PrepaidCard, amount: Decimal) -> datetime:
        now = self._clock()
        for limit in self.limits:
            if limit.days == BALANCE:
                loaded = card.balance
            else:
                loaded = card.loaded_since(now - timedelta(days=limit.days))
            if loaded + amount > limit.limit:
                raise ComplianceError(limit.code, limit.message(loaded, amount))
        return now

    def restore_load(self, event: Mapping[str, Any], order_id: str) -> None:
        """Put a load read back from the state file on its card; ValueError if it cannot be."""
        card = self._cards.get(event.get("card_id"))  # type: ignore[arg-type]
        amount, load_id, at = event.get("amount"), event.get("load_id"), event.get("at")
        if (
            card is None
            or not isinstance(amount, Decimal | int)
            or not isinstance(load_id, str)
            or not isinstance(at, str)
        ):
            raise ValueError("a card load without a known card_id, a load_id, an amount and at")
        self._put(card, CardLoad(load_id, datetime.fromisoformat(at), Decimal(amount), order_id))

    def reset(self) -> None:
        """Every card empty again."""
        self._cards = {number: PrepaidCard(number) for number in FIRST_CARDS}

    def restore(self, event: Mapping[str, Any]) -> bool:
        """No line of the state file is the cards' own: a load is on its order's line."""
        return False

    def restore_order(self, event: Mapping[str, Any]) -> None:
        """A paid order's line that carries a card load puts the load back on its card."""
        load = event.get(EVENT)
        if event.get("outcome") == "paid" and isinstance(load, dict):
            self.restore_load(load, str(event["order_id"]))

    def resume(self) -> None:
        """No timer: the limits' windows are read from the clock at each load."""

    @staticmethod
    def _put(card: PrepaidCard, load: CardLoad) -> None:
        card.loads.append(load)
        card.balance += load.amount


def _plain(value: Decimal) -> str:
    """500 as 500 and 500.50 as 500.50: the limit as it was configured."""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value.quantize(CENT)}"
