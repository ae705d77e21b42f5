"""Simulation rules: a forced decline, or a pending payment decided later, for one order or
for the next N payments."""

from __future__ import annotations

from dataclasses import dataclass

from .jsonio import as_integer
from .transactions import ORDER_ID_RULE, OrderId, as_order_id

# Stripe's decline code names.
DECLINE_CODES = (
    "do_not_honor",
    "insufficient_funds",
    "card_declined",
    "expired_card",
    "processing_error",
    "lost_card",
    "stolen_card",
    # The ticketing service's failure classes (seed 001, docs/ticketing.md): on its API each
    # answers as that service does (404, 400, 400, 401, 500); elsewhere, a decline.
    "order_not_found",
    "order_validation_failed",
    "reservation_validation_failed",
    "unauthorized",
    "internal_error",
)
DEFAULT_DECLINE_CODE = "card_declined"
DEFAULT_DECIDE_AFTER_MS = 2_000
MAX_DECIDE_AFTER_MS = 3_600_000
THEN = ("paid", "declined")
RULE_SHAPE = (
    '{"order_id": ..., "decline_code": ...} or {"next": N, "decline_code": ...}, or with'
    ' "outcome": "pending" (and "decide_after_ms", "then", and the "decline_code" used if'
    ' "then" is "declined")'
)


class SimulationError(ValueError):
    """Simulation settings that cannot be used; str() names the field and the rule."""


@dataclass(frozen=True, slots=True)
class HoldPending:
    """An order payment left pending on purpose, decided `after_ms` later as `then`."""

    after_ms: int
    then: str
    decline_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A forced decline, or a pending payment: for `order_id`, or the next `count` payments
    (a pending rule counts order payments only)."""

    decline_code: str
    order_id: OrderId | None = None
    count: int | None = None
    pending: bool = False
    decide_after_ms: int = DEFAULT_DECIDE_AFTER_MS
    then: str = "paid"

    def to_json(self) -> dict[str, object]:
        """The rule as GET /simulation shows it; `next` is how many are left."""
        head: dict[str, object] = (
            {"order_id": self.order_id} if self.order_id is not None else {"next": self.count}
        )
        if not self.pending:
            return {**head, "decline_code": self.decline_code}
        head.update(outcome="pending", decide_after_ms=self.decide_after_ms, then=self.then)
        if self.then == "declined":
            head["decline_code"] = self.decline_code
        return head


def decline_code_of(code: object, where: str) -> str:
    """The code if it is one of Stripe's decline codes; SimulationError naming `where`."""
    if code not in DECLINE_CODES:
        raise SimulationError(f"'{where}decline_code' must be one of {', '.join(DECLINE_CODES)}")
    return code


def parse_rule(raw: object, where: str) -> Rule:
    """Validate one entry of "rules"; raise SimulationError naming it."""
    shape = f"'{where[:-1]}' must be {RULE_SHAPE}"
    if not isinstance(raw, dict):
        raise SimulationError(shape)
    targets = [name for name in ("order_id", "next") if name in raw]
    pending = raw.get("outcome") == "pending"
    allowed = {*targets, "outcome", "decide_after_ms", "then", "decline_code"}
    if (
        len(targets) != 1
        or not set(raw) <= allowed
        or (not pending and set(raw) != {targets[0], "decline_code"})
    ):
        raise SimulationError(shape)
    code, after, then = DEFAULT_DECLINE_CODE, DEFAULT_DECIDE_AFTER_MS, "paid"
    if pending:
        then = raw.get("then", "paid")
        if then not in THEN:
            raise SimulationError(f"'{where}then' must be paid or declined")
        after_ms = as_integer(raw.get("decide_after_ms", DEFAULT_DECIDE_AFTER_MS))
        if after_ms is None or not 0 <= after_ms <= MAX_DECIDE_AFTER_MS:
            raise SimulationError(
                f"'{where}decide_after_ms' must be an integer from 0 to {MAX_DECIDE_AFTER_MS}"
            )
        after = after_ms
    if "decline_code" in raw:
        code = decline_code_of(raw["decline_code"], where)
    target: dict[str, object] = {}
    if "order_id" in raw:
        order_id = as_order_id(raw["order_id"])
        if order_id is None:
            raise SimulationError(f"'{where}order_id' must be {ORDER_ID_RULE}")
        target["order_id"] = order_id
    else:
        count = as_integer(raw["next"])
        if count is None or count < 1:
            raise SimulationError(f"'{where}next' must be a whole number of at least 1")
        target["count"] = count
    return Rule(code, pending=pending, decide_after_ms=after, then=then, **target)  # type: ignore[arg-type]
