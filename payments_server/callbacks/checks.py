"""The checks of `check-store`, each a way real webhooks go wrong, and the fix for each."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report_card import StoreChecker

# Standard Webhooks' tolerance is 5 minutes: a delivery 10 minutes old must be refused.
STALE = 600
TIMED_DELIVERIES = 5
BURST = 10
Verdict = tuple[bool, "Delivered", str]


def callback_body(order_id: str, status: str) -> bytes:
    """A callback's body as the gateway writes it."""
    return json.dumps({"order_id": order_id, "status": status}, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Delivered:
    """One request sent to the store and what came back."""

    sent: str  # as a curl command
    status: int | None  # None: no answer (refused, timed out)
    text: str
    seconds: float

    @property
    def received(self) -> str:
        """The answer in one line."""
        return "no answer" if self.status is None else f"{self.status} {self.text.strip()[:200]}"

    def is_2xx(self) -> bool:
        """The store took it."""
        return self.status is not None and 200 <= self.status < 300

    def is_4xx(self) -> bool:
        """The store refused it as the sender's fault."""
        return self.status is not None and 400 <= self.status < 500


@dataclass(frozen=True, slots=True)
class Result:
    """A check's verdict: passed (None: could not run), what was sent and received, why."""

    name: str
    passed: bool | None
    sent: str
    received: str
    why: str
    fix: str

    def to_json(self) -> dict[str, object]:
        """As --json prints it."""
        return {"name": self.name, "passed": self.passed, "sent": self.sent,
                "received": self.received, "why": self.why, "fix": self.fix}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Check:
    """One check: its name, whether it needs an order the store knows, and how it runs."""

    name: str
    needs_order: bool
    run_with: Callable[[StoreChecker], Verdict]

    def run(self, checker: StoreChecker) -> Result:
        """Run it and word the verdict."""
        passed, delivered, why = self.run_with(checker)
        return Result(self.name, passed, delivered.sent, delivered.received, why, FIXES[self.name])


def _unchanged(checker: StoreChecker, order: str, delivered: Delivered, refused: str) -> Verdict:
    """A delivery that must be refused with a 4xx and leave the order unpaid."""
    if not delivered.is_4xx():
        return False, delivered, f"{refused} was answered {delivered.status}, not a 4xx"
    if checker.paid(order):
        return False, delivered, f"{refused} was refused, but the order shows paid"
    return True, delivered, f"{refused} was refused with {delivered.status}"


def signed_success(checker: StoreChecker) -> Verdict:
    order = checker.order()
    delivered = checker.deliver(callback_body(order, "success"))
    if not delivered.is_2xx():
        return False, delivered, f"a correctly signed success was answered {delivered.status}"
    if checker.paid(order) is False:
        return False, delivered, "the store took it, but the order does not show paid"
    seen = "" if checker.order_status is None else "; the order shows paid"
    return True, delivered, "accepted" + seen


def signed_failed(checker: StoreChecker) -> Verdict:
    order = checker.order()
    delivered = checker.deliver(callback_body(order, "failed"))
    if not delivered.is_2xx():
        return False, delivered, f"a correctly signed failed was answered {delivered.status}"
    if checker.paid(order):
        return False, delivered, "the order shows paid after a failed payment"
    return True, delivered, "accepted, and the order is not paid"


def bad_signature(checker: StoreChecker) -> Verdict:
    order = checker.order()
    forged = "v1," + "A" * 43 + "="
    return _unchanged(checker, order, checker.deliver(callback_body(order, "success"),
                      signature=forged), "a success with a wrong signature")  # fmt: skip


def missing_signature(checker: StoreChecker) -> Verdict:
    order = checker.order()
    delivered = checker.deliver(callback_body(order, "success"), signed=False)
    return _unchanged(checker, order, delivered, "an unsigned success")


def stale_timestamp(checker: StoreChecker) -> Verdict:
    order = checker.order()
    delivered = checker.deliver(callback_body(order, "success"), timestamp=int(time.time()) - STALE)
    return _unchanged(checker, order, delivered, "a success signed 10 minutes ago")


def duplicate_delivery(checker: StoreChecker) -> Verdict:
    order = checker.order()
    body, message_id = callback_body(order, "success"), "msg_dup_" + order[-12:]
    first = checker.deliver(body, message_id=message_id)
    again = checker.deliver(body, message_id=message_id)
    if not first.is_2xx():
        return False, first, f"the first delivery was answered {first.status}"
    if not again.is_2xx():
        why = f"the same delivery (same webhook-id) again was answered {again.status}, not 2xx"
        return False, again, why + ": the gateway will retry it"
    if checker.paid(order) is False:
        return False, again, "the order does not show paid after the delivery and its duplicate"
    return True, again, f"the duplicate was acknowledged with {again.status}"


def late_failed(checker: StoreChecker) -> Verdict:
    order = checker.order()
    checker.deliver(callback_body(order, "success"))
    late = checker.deliver(callback_body(order, "failed"))
    if late.status is None or late.status >= 500:
        return False, late, f"a late failed was answered {late.received}"
    paid = checker.paid(order)
    if paid is False:
        return False, late, "a late failed after success unpaid the order"
    if paid is None:
        return True, late, f"answered {late.status}; give --order-status to see that it stays paid"
    return True, late, f"answered {late.status}, and the order stays paid"


def success_after_failed(checker: StoreChecker) -> Verdict:
    # The customer tried again after a decline, which the gateway allows as a real
    # processor does: the order's failed is followed by its success.
    order = checker.order()
    checker.deliver(callback_body(order, "failed"))
    retried = checker.deliver(callback_body(order, "success"))
    if not retried.is_2xx():
        why = (
            f"a success after a failed (the customer paid on a retry) was answered {retried.status}"
        )
        return False, retried, why + ": the customer has paid and the order stays unpaid"
    paid = checker.paid(order)
    if paid is False:
        return False, retried, "the store took the success after a failed, but the order is unpaid"
    if paid is None:
        why = f"answered {retried.status}; give --order-status to see that it shows paid"
        return True, retried, why
    return True, retried, f"answered {retried.status}, and the order shows paid"


def unknown_order(checker: StoreChecker) -> Verdict:
    order = "ord_unknown_" + str(time.time_ns())
    delivered = checker.deliver(callback_body(order, "success"))
    if delivered.is_4xx():
        return True, delivered, f"refused with {delivered.status}"
    if delivered.is_2xx() and not checker.paid(order):
        return True, delivered, f"acknowledged with {delivered.status}, and nothing was paid"
    return False, delivered, f"an order the store never made was answered {delivered.received}"


def malformed_body(checker: StoreChecker) -> Verdict:
    delivered = checker.deliver(b'{"order_id": "ord_1", "status": ')
    if delivered.is_4xx():
        return True, delivered, f"refused with {delivered.status}"
    why = f"a correctly signed body that is not JSON was answered {delivered.received}"
    return False, delivered, why


def unknown_status(checker: StoreChecker) -> Verdict:
    order = checker.order()
    delivered = checker.deliver(callback_body(order, "refunded"))
    if delivered.status is None or delivered.status >= 500:
        why = f"a status the store may not know was answered {delivered.received}"
        return False, delivered, why
    if checker.paid(order):
        return False, delivered, "a refunded callback made an unpaid order paid"
    return True, delivered, f"answered {delivered.status}"


def answers_in_time(checker: StoreChecker) -> Verdict:
    order = checker.order()
    body, message_id = callback_body(order, "success"), "msg_timed_" + order[-12:]
    times = [checker.deliver(body, message_id=message_id) for _ in range(TIMED_DELIVERIES)]
    slowest = sorted(times, key=lambda d: d.seconds)
    p95 = slowest[min(len(slowest) - 1, math.ceil(0.95 * len(slowest)) - 1)]
    said = f"p95 {p95.seconds * 1000:.0f} ms over {len(times)} deliveries"
    limit = f"the gateway's {checker.callback_timeout:g} s callback timeout"
    if p95.status is None or p95.seconds >= checker.callback_timeout:
        return False, p95, f"{said}, at or over {limit}"
    return True, p95, f"{said}, within {limit}"


def burst(checker: StoreChecker) -> Verdict:
    answers = checker.burst([callback_body(checker.order(), "success") for _ in range(BURST)])
    bad = [answer for answer in answers if not answer.is_2xx()]
    if bad:
        why = f"{len(bad)} of {len(answers)} callbacks sent at once were not answered 2xx"
        return False, bad[0], why
    return True, answers[-1], f"all {len(answers)} callbacks sent at once were answered 2xx"


CHECKS = (
    Check("signed-success-is-accepted", True, signed_success),
    Check("signed-failed-is-accepted", True, signed_failed),
    Check("bad-signature-is-refused", False, bad_signature),
    Check("missing-signature-is-refused", False, missing_signature),
    Check("stale-timestamp-is-refused", False, stale_timestamp),
    Check("duplicate-delivery-is-acknowledged", True, duplicate_delivery),
    Check("late-failed-does-not-unpay", True, late_failed),
    Check("success-after-failed-pays", True, success_after_failed),
    Check("unknown-order-is-refused", False, unknown_order),
    Check("malformed-body-is-refused", False, malformed_body),
    Check("unknown-status-is-not-a-5xx", True, unknown_status),
    Check("answers-within-the-timeout", True, answers_in_time),
    Check("a-burst-is-all-accepted", True, burst),
)

FIXES = {
    "signed-success-is-accepted": (
        "verify the signature over the raw body bytes, then mark the order paid and answer 2xx"
    ),
    "signed-failed-is-accepted": (
        "answer 2xx to a verified failed callback and leave the order unpaid"
    ),
    "bad-signature-is-refused": (
        "verify webhook-signature (Standard Webhooks) before acting; answer 400 when it does not "
        "match"
    ),
    "missing-signature-is-refused": (
        "refuse a callback without webhook-id, webhook-timestamp and webhook-signature with 400"
    ),
    "stale-timestamp-is-refused": (
        "refuse a webhook-timestamp more than 5 minutes from now (replays): the standardwebhooks "
        "library does"
    ),
    "duplicate-delivery-is-acknowledged": (
        "remember each handled webhook-id; answer the same id again with 2xx and do nothing"
    ),
    "late-failed-does-not-unpay": (
        "once an order is paid, ignore a later failed for it (answer 2xx, change nothing)"
    ),
    "success-after-failed-pays": (
        "a success after a failed is the customer's retry that worked: mark the order paid"
        " (only a paid order ignores what comes after)"
    ),
    "unknown-order-is-refused": (
        "answer 404 (or 410 to stop retries) for an order you never made; never a 5xx"
    ),
    "malformed-body-is-refused": "catch the JSON error after verifying and answer 400",
    "unknown-status-is-not-a-5xx": (
        "answer 2xx to a status you do not handle (refunded) and change nothing"
    ),
    "answers-within-the-timeout": (
        "answer at once and do slow work after (a queue, a thread); the gateway waits at most "
        "--callback-timeout"
    ),
    "a-burst-is-all-accepted": (
        "handle callbacks concurrently (a threaded server, a lock around your order)"
    ),
}
