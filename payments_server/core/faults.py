"""Webhook faults on purpose: what a store's callback handler must survive.

Each fault applies to the first attempt of a callback, for one order, for the next N
callbacks, or at a rate: `duplicate` (the same event, same webhook-id, twice), `delay`
(the first attempt held back `delay_ms`), `drop` (the first attempt never sent; the retry
schedule delivers it), `reorder` (held until the order's next event has been sent, so the
later event arrives first), `bad_signature` and `stale_timestamp` (signed ten minutes ago).
"""

from __future__ import annotations

from dataclasses import dataclass

from .jsonio import as_integer, as_rate
from .transactions import ORDER_ID_RULE, OrderId, as_order_id

FAULTS = ("duplicate", "delay", "drop", "reorder", "bad_signature", "stale_timestamp")
# The faults that hold a first attempt back; "delay_ms" belongs to them only.
HOLDS = frozenset({"delay", "reorder"})
MAX_FAULTS = 100
MAX_DELAY_MS = 60_000
# How long a reordered event waits for its order's next one before it is sent alone.
REORDER_WAIT_MS = 10_000
SHAPE = (
    'must be {"fault": ..., "order_id": ...}, {"fault": ..., "next": N} or'
    ' {"fault": ..., "rate": 0 to 1}, with "delay_ms" for a delay (required) or a reorder'
    " (optional) and only for them"
)


class FaultError(ValueError):
    """Faults that cannot be used; str() names the entry and the rule."""


@dataclass(frozen=True, slots=True)
class CallbackFault:
    """One fault and whom it applies to: an order, the next `count` callbacks, or a rate."""

    fault: str
    order_id: OrderId | None = None
    count: int | None = None
    rate: float | None = None
    delay_ms: int = 0

    def to_json(self) -> dict[str, object]:
        """The fault as GET /simulation shows it; `next` is how many are left."""
        shown: dict[str, object] = {"fault": self.fault}
        if self.order_id is not None:
            shown["order_id"] = self.order_id
        elif self.count is not None:
            shown["next"] = self.count
        else:
            shown["rate"] = self.rate
        if self.fault in HOLDS:
            shown["delay_ms"] = self.delay_ms
        return shown


def parse_faults(raw: object) -> tuple[CallbackFault, ...]:
    """Validate the "callback_faults" list of PUT /simulation; raise FaultError."""
    if not isinstance(raw, list) or len(raw) > MAX_FAULTS:
        raise FaultError(f"'callback_faults' must be a list of at most {MAX_FAULTS} faults")
    return tuple(_fault(entry, f"callback_faults[{index}]") for index, entry in enumerate(raw))


def _fault(raw: object, where: str) -> CallbackFault:
    if not isinstance(raw, dict):
        raise FaultError(f"'{where}' {SHAPE}")
    fault = raw.get("fault")
    if fault not in FAULTS:
        raise FaultError(f"'{where}.fault' must be one of {', '.join(FAULTS)}")
    if fault == "delay" and "delay_ms" not in raw:
        raise FaultError(f"'{where}.delay_ms' must be an integer from 1 to {MAX_DELAY_MS}")
    targets = [name for name in ("order_id", "next", "rate") if name in raw]
    allowed = {"fault", *targets, *(["delay_ms"] if fault in HOLDS and "delay_ms" in raw else [])}
    if len(targets) != 1 or set(raw) != allowed:
        raise FaultError(f"'{where}' {SHAPE}")
    delay = REORDER_WAIT_MS if fault == "reorder" else 0
    if "delay_ms" in raw:
        delay_ms = as_integer(raw["delay_ms"])
        if delay_ms is None or not 1 <= delay_ms <= MAX_DELAY_MS:
            raise FaultError(f"'{where}.delay_ms' must be an integer from 1 to {MAX_DELAY_MS}")
        delay = delay_ms
    target = targets[0]
    if target == "order_id":
        order_id = as_order_id(raw["order_id"])
        if order_id is None:
            raise FaultError(f"'{where}.order_id' must be {ORDER_ID_RULE}")
        return CallbackFault(fault, order_id=order_id, delay_ms=delay)
    if target == "next":
        count = as_integer(raw["next"])
        if count is None or not 1 <= count <= 1_000_000:
            raise FaultError(f"'{where}.next' must be an integer from 1 to 1000000")
        return CallbackFault(fault, count=count, delay_ms=delay)
    if (rate := as_rate(raw["rate"])) is None:
        raise FaultError(f"'{where}.rate' must be a number from 0 to 1")
    return CallbackFault(fault, rate=rate, delay_ms=delay)
