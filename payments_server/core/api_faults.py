"""API faults on purpose: the gateway itself failing the way real processors fail, so that
a store's payment client can be tested against it.

Each fault names a route (a method and a documented path, of any API) and applies to the
next `count` requests to it, to the requests about one order, or at a `rate` drawn from
its own seeded sequence:

- `status`: answered at once with 429, 500, 502, 503 or 504, nothing done (429 and 503
  with `Retry-After`, and any `headers` given, such as a rate limit's);
- `hold` and `latency`: the request waits (a fixed time, or drawn from a uniform or a
  lognormal distribution), then is served as usual;
- `truncate`, `stall`, `reset`, `empty`: served, then the answer breaks on the wire (cut
  short, paused mid-body, or closed before its body);
- `lost_answer`: served (the money moves, the state file and the store hear of it), then
  the answer is lost: a 502 or 504 instead, or the connection closed before its body.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from .jsonio import as_integer, as_rate
from .transactions import ORDER_ID_RULE, OrderId, as_order_id, order_key

KINDS = ("status", "reset", "empty", "truncate", "stall", "hold", "latency", "lost_answer")
# Broken on the wire after the app has answered: the real server does it (rsgi_bridge.py).
TRANSPORT = frozenset({"reset", "empty", "truncate", "stall"})
DELAYED = frozenset({"hold", "latency", "stall"})
STATUSES = (429, 500, 502, 503, 504)
LOST_STATUSES = (502, 504)
RETRY_AFTER = frozenset({429, 503})
MAX_FAULTS = 100
MAX_DELAY_MS = 60_000
MAX_RETRY_AFTER = 3_600
DISTRIBUTIONS = ("fixed", "uniform", "lognormal")
_ROUTE = re.compile(r"(GET|POST|PUT|PATCH|DELETE) (/[^\s]*)")
# A fault's own headers (a rate limit's): a token for the name (RFC 9110), visible ASCII
# for the value; never one that frames the answer or that the answer sets itself.
MAX_HEADERS = 10
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]{0,256}")
RESERVED_HEADERS = frozenset({
    "connection", "content-length", "content-type", "keep-alive", "retry-after", "te",
    "trailer", "transfer-encoding", "upgrade", "x-content-type-options",
})  # fmt: skip
SHAPE = (
    'must be {"route": "METHOD /path", "fault": ..., and one of "count", "order_id" or'
    ' "rate" (with "seed")}'
)


class ApiFaultError(ValueError):
    """API faults that cannot be used; str() names the entry and the rule."""


@dataclass(frozen=True, slots=True)
class Delay:
    """How long a fault waits: fixed, uniform between two bounds, or lognormal around a
    median (sigma the spread of its logarithm), in milliseconds, at most MAX_DELAY_MS."""

    distribution: str = "fixed"
    ms: int = 0
    low_ms: int = 0
    high_ms: int = 0
    median_ms: int = 0
    sigma: float = 0.0

    def draw(self, rng: random.Random) -> int:
        """One wait, in milliseconds."""
        if self.distribution == "uniform":
            return rng.randint(self.low_ms, self.high_ms)
        if self.distribution == "lognormal":
            drawn = rng.lognormvariate(math.log(self.median_ms), self.sigma)
            return min(round(drawn), MAX_DELAY_MS)
        return self.ms

    def to_json(self) -> dict[str, object] | int:
        """As GET /simulation shows it: a number of ms, or the distribution's object."""
        if self.distribution == "uniform":
            return {"distribution": "uniform", "min_ms": self.low_ms, "max_ms": self.high_ms}
        if self.distribution == "lognormal":
            return {"distribution": "lognormal", "median_ms": self.median_ms,
                    "sigma": self.sigma}  # fmt: skip
        return self.ms


@dataclass(frozen=True, slots=True)
class ApiFault:
    """One fault, the route it applies to, and to which of its requests."""

    method: str
    path: str
    fault: str
    status: int | None = None
    retry_after: int | None = None
    order_id: OrderId | None = None
    count: int | None = None
    rate: float | None = None
    seed: int | None = None
    delay: Delay | None = None
    # lost_answer: "status" (a 502 or 504 instead of the answer) or "reset".
    answer: str = "status"
    # Sent with the status answered (a status fault, a lost answer's 502 or 504).
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def route(self) -> str:
        """ "METHOD /path", as it was given."""
        return f"{self.method} {self.path}"

    def to_json(self) -> dict[str, object]:
        """The fault as GET /simulation shows it; `count` is how many are left."""
        shown: dict[str, object] = {"route": self.route, "fault": self.fault}
        if self.status is not None:
            shown["status"] = self.status
        if self.retry_after is not None:
            shown["retry_after"] = self.retry_after
        if self.headers:
            shown["headers"] = dict(self.headers)
        if self.fault == "lost_answer":
            shown["answer"] = self.answer
        if self.delay is not None:
            shown["delay_ms"] = self.delay.to_json()
        if self.order_id is not None:
            shown["order_id"] = self.order_id
        elif self.count is not None:
            shown["count"] = self.count
        else:
            shown["rate"] = self.rate
            shown["seed"] = self.seed
        return shown


def parse_api_faults(raw: object) -> tuple[ApiFault, ...]:
    """Validate the "api_faults" list of PUT /simulation; raise ApiFaultError."""
    if not isinstance(raw, list) or len(raw) > MAX_FAULTS:
        raise ApiFaultError(f"'api_faults' must be a list of at most {MAX_FAULTS} faults")
    return tuple(_fault(entry, f"api_faults[{index}]") for index, entry in enumerate(raw))


def _fault(raw: object, where: str) -> ApiFault:
    if not isinstance(raw, dict):
        raise ApiFaultError(f"'{where}' {SHAPE}")
    route = raw.get("route")
    match = _ROUTE.fullmatch(route) if isinstance(route, str) else None
    if match is None:
        raise ApiFaultError(f"'{where}.route' must be a method and a path, such as"
                            " 'POST /payments/orders'")  # fmt: skip
    kind = raw.get("fault")
    if kind not in KINDS:
        raise ApiFaultError(f"'{where}.fault' must be one of {', '.join(KINDS)}")
    status, retry_after, answer = _answer(kind, raw, where)
    allowed = {"route", "fault", "count", "order_id", "rate", "seed"}
    allowed |= {"status", "retry_after", "headers"} if kind == "status" else set()
    allowed |= {"status", "answer", "retry_after", "headers"} if kind == "lost_answer" else set()
    allowed |= {"delay_ms"} if kind in DELAYED else set()
    extra = sorted(set(raw) - allowed)
    if extra:
        raise ApiFaultError(f"'{where}.{extra[0]}' does not go with a {kind} fault")
    delay = _delay(raw.get("delay_ms"), f"{where}.delay_ms") if kind in DELAYED else None
    order_id, count, rate, seed = _target(raw, where)
    headers = _headers(raw.get("headers", {}), f"{where}.headers")
    if headers and answer == "reset":
        raise ApiFaultError(f"'{where}.headers' go with an answer, not a closed connection")
    return ApiFault(match.group(1), match.group(2), kind, status, retry_after, order_id,
                    count, rate, seed, delay, answer, headers)  # fmt: skip


def _headers(raw: object, where: str) -> tuple[tuple[str, str], ...]:
    """A fault's own headers, each checked: nothing a client sent may break the answer."""
    if not isinstance(raw, dict) or len(raw) > MAX_HEADERS:
        raise ApiFaultError(f"'{where}' must be an object of at most {MAX_HEADERS} headers")
    checked = []
    for name, value in raw.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ApiFaultError(f"'{where}' names must be HTTP tokens of 1 to 64 characters")
        if name.lower() in RESERVED_HEADERS:
            raise ApiFaultError(f"'{where}' may not set {name}: the answer sets it itself")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise ApiFaultError(
                f"'{where}.{name}' must be a string of at most 256 visible ASCII characters"
            )
        checked.append((name, value))
    return tuple(checked)


def _answer(kind: str, raw: dict[str, object], where: str) -> tuple[int | None, int | None, str]:
    """The status, Retry-After and (for a lost answer) how it is lost."""
    status, answer = None, "status"
    if kind == "status":
        status = as_integer(raw.get("status"))
        if status not in STATUSES:
            raise ApiFaultError(f"'{where}.status' must be one of {', '.join(map(str, STATUSES))}")
    if kind == "lost_answer":
        answer = str(raw.get("answer", "status"))
        if answer not in ("status", "reset"):
            raise ApiFaultError(f"'{where}.answer' must be 'status' or 'reset'")
        status = as_integer(raw.get("status", 502))
        if status not in LOST_STATUSES:
            raise ApiFaultError(f"'{where}.status' must be 502 or 504")
    if status not in RETRY_AFTER:
        if "retry_after" in raw:
            raise ApiFaultError(f"'{where}.retry_after' goes only with a 429 or a 503")
        return status, None, answer
    retry_after = as_integer(raw.get("retry_after", 1))
    if retry_after is None or not 0 <= retry_after <= MAX_RETRY_AFTER:
        raise ApiFaultError(
            f"'{where}.retry_after' must be a whole number of seconds from 0 to {MAX_RETRY_AFTER}"
        )
    return status, retry_after, answer


def _target(
    raw: dict[str, object], where: str
) -> tuple[OrderId | None, int | None, float | None, int | None]:
    """Whom the fault applies to: (order_id, count, rate, seed), one of the first three."""
    targets = [name for name in ("count", "order_id", "rate") if name in raw]
    if len(targets) != 1 or ("seed" in raw and targets != ["rate"]):
        raise ApiFaultError(f"'{where}' {SHAPE}")
    if targets == ["order_id"]:
        order_id = as_order_id(raw["order_id"])
        if order_id is None:
            raise ApiFaultError(f"'{where}.order_id' must be {ORDER_ID_RULE}")
        return order_id, None, None, None
    if targets == ["count"]:
        count = as_integer(raw["count"])
        if count is None or not 1 <= count <= 1_000_000:
            raise ApiFaultError(f"'{where}.count' must be a whole number from 1 to 1000000")
        return None, count, None, None
    rate = as_rate(raw["rate"])
    if rate is None:
        raise ApiFaultError(f"'{where}.rate' must be a number from 0 to 1")
    seed = raw.get("seed")
    if seed is not None and as_integer(seed) is None:
        raise ApiFaultError(f"'{where}.seed' must be a whole number or null")
    return None, None, rate, None if seed is None else as_integer(seed)


def _delay(raw: object, where: str) -> Delay:
    rule = (
        f"'{where}' must be a whole number of ms from 0 to {MAX_DELAY_MS}, or"
        ' {"distribution": "uniform", "min_ms", "max_ms"} or'
        ' {"distribution": "lognormal", "median_ms", "sigma"}'
    )
    if isinstance(raw, dict):
        kind = raw.get("distribution")
        if kind == "uniform" and set(raw) == {"distribution", "min_ms", "max_ms"}:
            low, high = as_integer(raw["min_ms"]), as_integer(raw["max_ms"])
            if low is not None and high is not None and 0 <= low <= high <= MAX_DELAY_MS:
                return Delay("uniform", low_ms=low, high_ms=high)
        if kind == "lognormal" and set(raw) == {"distribution", "median_ms", "sigma"}:
            median, sigma = as_integer(raw["median_ms"]), _sigma(raw["sigma"])
            if median is not None and sigma is not None and 1 <= median <= MAX_DELAY_MS:
                return Delay("lognormal", median_ms=median, sigma=sigma)
        raise ApiFaultError(rule)
    ms = as_integer(raw)
    if ms is None or not 0 <= ms <= MAX_DELAY_MS:
        raise ApiFaultError(rule)
    return Delay("fixed", ms=ms)


def _sigma(value: object) -> float | None:
    """A lognormal's sigma, from 0 to 3, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number <= 3 else None


@dataclass(frozen=True, slots=True)
class FaultHit:
    """A fault a request met, and the wait drawn for it (ms)."""

    fault: ApiFault
    delay_ms: int = 0


class ApiFaultPicker:
    """Which fault, if any, a request meets: one for its order first, then the first
    `count` one (used up), then each rate in turn, each drawn from its own seeded
    sequence, so a seeded rate gives the same faults on every run. Not thread-safe: the
    simulator calls it under its lock."""

    def __init__(self, faults: tuple[ApiFault, ...]) -> None:
        self.faults = faults
        self._rngs = [random.Random(fault.seed) for fault in faults]

    def pick(self, method: str, path: str, order_id: OrderId | None) -> FaultHit | None:
        """The fault for this request, if any (a count is used up by it), with its wait."""
        key = None if order_id is None else order_key(order_id)
        matching = [(i, f) for i, f in enumerate(self.faults) if f.method == method
                    and f.path == path]  # fmt: skip
        for index, fault in matching:
            if fault.order_id is not None and key is not None and order_key(fault.order_id) == key:
                return self._hit(index)
        for index, fault in matching:
            if fault.count is not None:
                hit = self._hit(index)
                self._use_one(index)
                return hit
        for index, fault in matching:
            if fault.rate is not None and self._rngs[index].random() < fault.rate:
                return self._hit(index)
        return None

    def _hit(self, index: int) -> FaultHit:
        fault = self.faults[index]
        waited = 0 if fault.delay is None else fault.delay.draw(self._rngs[index])
        return FaultHit(fault, waited)

    def _use_one(self, index: int) -> None:
        fault = self.faults[index]
        assert fault.count is not None
        left = list(self.faults)
        if fault.count > 1:
            left[index] = replace(fault, count=fault.count - 1)
            self.faults = tuple(left)
            return
        del left[index]
        del self._rngs[index]
        self.faults = tuple(left)
