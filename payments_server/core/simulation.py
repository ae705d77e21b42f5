"""Failing on purpose: declines by rate, forced declines by order or count, and latency."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .api_faults import ApiFault, ApiFaultError, ApiFaultPicker, FaultHit, parse_api_faults
from .faults import CallbackFault, FaultError, parse_faults
from .jsonio import as_integer, as_rate
from .limits import Limits
from .money import AmountError, parse_amount
from .rules import (
    DECLINE_CODES,
    DEFAULT_DECIDE_AFTER_MS,
    DEFAULT_DECLINE_CODE,
    HoldPending,
    Rule,
    SimulationError,
    decline_code_of,
    parse_rule,
)
from .transactions import OrderId, order_key

MAX_LATENCY_MS = 60_000
MAX_RULES = 1_000
FIELDS = (
    "decline_rate", "seed", "decline_code", "latency_ms", "rules",
    "limit_per_payment", "limit_per_day", "callback_faults", "pending_rate", "api_faults",
)  # fmt: skip


# The rules' names, for whoever imports them from here.
__all__ = ["DECLINE_CODES", "Decline", "HoldPending", "Rule", "SimulationError", "Simulator"]


@dataclass(frozen=True, slots=True)
class Decline:
    """A payment declined on purpose: its code, and why (which rule, the rate, a test card)."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class SimulationSettings:
    """What the simulator does; the defaults do nothing, which is the faithful gateway."""

    decline_rate: float = 0.0
    seed: int | None = None
    decline_code: str = DEFAULT_DECLINE_CODE
    latency_ms: int = 0
    rules: tuple[Rule, ...] = field(default=())
    limit_per_payment: Decimal | None = None
    limit_per_day: Decimal | None = None
    callback_faults: tuple[CallbackFault, ...] = ()
    pending_rate: float = 0.0
    api_faults: tuple[ApiFault, ...] = ()
    # When these settings were made: a day limit counts from then.
    made_at: float = field(default_factory=time.monotonic, compare=False)

    @property
    def active(self) -> bool:
        """True when some payment could be declined or delayed (limits are not: the ledger
        applies them)."""
        return bool(self.decline_rate or self.latency_ms or self.rules or self.pending_rate)

    @property
    def limits(self) -> Limits:
        """The spending limits in force."""
        return Limits(self.limit_per_payment, self.limit_per_day, self.made_at)

    def to_json(self) -> dict[str, object]:
        """The settings as GET and PUT /simulation show them."""
        return {
            "decline_rate": self.decline_rate,
            "seed": self.seed,
            "decline_code": self.decline_code,
            "latency_ms": self.latency_ms,
            "rules": [rule.to_json() for rule in self.rules],
            "limit_per_payment": self.limit_per_payment,
            "limit_per_day": self.limit_per_day,
            "callback_faults": [fault.to_json() for fault in self.callback_faults],
            "pending_rate": self.pending_rate,
            # Shown once set: a gateway that never had any answers as it always has.
            **({"api_faults": [f.to_json() for f in self.api_faults]} if self.api_faults else {}),
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SimulationSettings:
        """Validate a PUT /simulation body; missing fields are off; raise SimulationError."""
        unknown = sorted(set(body) - set(FIELDS))
        if unknown:
            raise SimulationError(
                f"'{unknown[0]}' is not a simulation setting; use {', '.join(FIELDS)}"
            )
        decline_rate = _rate(body.get("decline_rate", 0), "decline_rate")
        seed = body.get("seed")
        if seed is not None and (seed := as_integer(seed)) is None:
            raise SimulationError("'seed' must be an integer or null")
        latency = as_integer(body.get("latency_ms", 0))
        if latency is None or not 0 <= latency <= MAX_LATENCY_MS:
            raise SimulationError(f"'latency_ms' must be an integer from 0 to {MAX_LATENCY_MS}")
        rules = body.get("rules", [])
        if not isinstance(rules, list) or len(rules) > MAX_RULES:
            raise SimulationError(f"'rules' must be a list of at most {MAX_RULES} rules")
        return cls(
            decline_rate=decline_rate,
            seed=seed,
            decline_code=decline_code_of(body.get("decline_code", DEFAULT_DECLINE_CODE), ""),
            latency_ms=latency,
            rules=tuple(parse_rule(rule, f"rules[{index}].") for index, rule in enumerate(rules)),
            limit_per_payment=_limit(body.get("limit_per_payment"), "limit_per_payment"),
            limit_per_day=_limit(body.get("limit_per_day"), "limit_per_day"),
            callback_faults=_faults(body.get("callback_faults", [])),
            pending_rate=_rate(body.get("pending_rate", 0), "pending_rate"),
            api_faults=_api_faults(body.get("api_faults", [])),
        )


def _outcome(rule: Rule, reason: str) -> Decline | HoldPending:
    if rule.pending:
        return HoldPending(rule.decide_after_ms, rule.then, rule.decline_code, reason)
    return Decline(rule.decline_code, reason)


def _faults(value: object) -> tuple[CallbackFault, ...]:
    try:
        return parse_faults(value)
    except FaultError as exc:
        raise SimulationError(str(exc)) from None


def _api_faults(value: object) -> tuple[ApiFault, ...]:
    try:
        return parse_api_faults(value)
    except ApiFaultError as exc:
        raise SimulationError(str(exc)) from None


def _limit(value: object, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_amount(value, name=f"'{name}'").value
    except AmountError as exc:
        raise SimulationError(f"{exc} or null") from None


def _rate(value: object, name: str) -> float:
    if (rate := as_rate(value)) is None:
        raise SimulationError(f"'{name}' must be a number from 0 to 1")
    return rate


class Simulator:
    """Decides, for each payment, whether it is declined; thread-safe and reproducible."""

    def __init__(self, settings: SimulationSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = SimulationSettings()
        self._rng = random.Random()
        self._fault_rng = random.Random()
        self._api_faults = ApiFaultPicker(())
        self.configure(settings or SimulationSettings())

    @property
    def settings(self) -> SimulationSettings:
        """The current settings, with what is left of each count rule."""
        return self._settings

    @property
    def latency(self) -> float:
        """Seconds to wait before answering a payment."""
        return self._settings.latency_ms / 1000

    def configure(self, settings: SimulationSettings) -> None:
        """Replace every setting; the random sequence starts again from the seed."""
        with self._lock:
            self._settings = settings
            self._rng = random.Random(settings.seed)
            # Its own sequence: faults drawn do not change which payments are declined.
            self._fault_rng = random.Random(settings.seed)
            self._api_faults = ApiFaultPicker(settings.api_faults)

    def decline(self, order_id: OrderId | None = None) -> str | None:
        """The decline code for this payment, or None to let it through to the account."""
        decline = self.decide(order_id)
        return decline.code if isinstance(decline, Decline) else None

    def decide(self, order_id: OrderId | None = None) -> Decline | HoldPending | None:
        """The decline for this payment and its reason, a pending outcome (order payments
        only: `order_id` given), or None to let it through.

        Rules for the order win, then the first count rule that applies (using one of its
        payments), then the decline rate, then the pending rate.
        """
        # The common case, nothing simulated, takes no lock: reading the reference is atomic.
        if not self._settings.active:
            return None
        with self._lock:
            settings = self._settings
            key = None if order_id is None else order_key(order_id)
            for number, rule in enumerate(settings.rules, 1):
                if rule.order_id is not None and order_key(rule.order_id) == key:
                    return _outcome(rule, f"simulation rule {number}: order {key}")
            for index, rule in enumerate(settings.rules):
                if rule.count is not None and (key is not None or not rule.pending):
                    self._use_one(index, rule.count)
                    left = rule.count - 1
                    return _outcome(rule, f"simulation rule {index + 1}: next, {left} left")
            if settings.decline_rate and self._rng.random() < settings.decline_rate:
                return Decline(
                    settings.decline_code, f"simulation decline_rate {settings.decline_rate:g}"
                )
            rate = settings.pending_rate
            if key is not None and rate and self._rng.random() < rate:
                reason = f"simulation pending_rate {rate:g}"
                return HoldPending(DEFAULT_DECIDE_AFTER_MS, "paid", DEFAULT_DECLINE_CODE, reason)
            return None

    def callback_fault(self, order_id: OrderId) -> CallbackFault | None:
        """The fault the first attempt of this order's next callback carries, if any:
        one for the order, then the first `next` one (used up), then a rate."""
        if not self._settings.callback_faults:  # the common case takes no lock
            return None
        with self._lock:
            faults = self._settings.callback_faults
            key = order_key(order_id)
            for fault in faults:
                if fault.order_id is not None and order_key(fault.order_id) == key:
                    return fault
            for index, fault in enumerate(faults):
                if fault.count is not None:
                    left = list(faults)
                    if fault.count > 1:
                        left[index] = replace(fault, count=fault.count - 1)
                    else:
                        del left[index]
                    self._settings = replace(self._settings, callback_faults=tuple(left))
                    return fault
            for fault in faults:
                if fault.rate is not None and self._fault_rng.random() < fault.rate:
                    return fault
            return None

    def api_fault(self, method: str, path: str, order_id: OrderId | None) -> FaultHit | None:
        """The API fault a request to this route (about this order) meets, if any."""
        if not self._settings.api_faults:  # the common case takes no lock
            return None
        with self._lock:
            hit = self._api_faults.pick(method, path, order_id)
            if hit is not None and hit.fault.count is not None:
                self._settings = replace(self._settings, api_faults=self._api_faults.faults)
            return hit

    def _use_one(self, index: int, count: int) -> None:
        # A count rule that has declined its last payment is removed.
        rules = list(self._settings.rules)
        if count > 1:
            rules[index] = replace(rules[index], count=count - 1)
        else:
            del rules[index]
        self._settings = replace(self._settings, rules=tuple(rules))
