"""What each callback attempt leaves behind: a log line and an activity entry."""

from __future__ import annotations

import logging

from ..core.activity import ActivityLog
from .client import Attempt
from .deliveries import Delivery, State

log = logging.getLogger("payments_server.callbacks")

FIRST = "first attempt"
RESEND = "resend"
# How much of the store's answer a log line quotes.
QUOTED = 200


def log_attempt(
    delivery: Delivery, attempt: Attempt, kind: str, url: str, max_retries: int
) -> None:
    """One log line for an attempt: delivered, or why not and what comes next."""
    if attempt.delivered and not log.isEnabledFor(logging.INFO):
        return  # --quiet: the line would be dropped, so it is not even written out
    callback = delivery.callback
    what = f"callback {callback.id} order {callback.order_id} {callback.status} to {url}"
    if kind != FIRST:
        what += f" ({kind})"
    if attempt.fault is not None:
        what += f" [{attempt.fault}, on purpose]"
    if attempt.delivered:
        log.info("%s: %s in %.0f ms", what, attempt.status_code, attempt.duration_ms)
        return
    if kind == RESEND:
        outcome = ""
    elif delivery.next_attempt_at is not None:
        wait = max((delivery.next_attempt_at - attempt.at).total_seconds(), 0)
        outcome = f"; retry {delivery.retries_done + 1} of {max_retries} in {wait:.3g} s"
    elif attempt.gone:
        outcome = "; the store answered 410 Gone, so no more retries"
    elif delivery.state is State.FAILED:
        count = len(delivery.attempts)
        outcome = f"; giving up after {count} {'attempt' if count == 1 else 'attempts'}"
    else:
        outcome = ""
    said = attempt.body_text.strip()
    error = f"{attempt.error}: {said[:QUOTED]}" if said else attempt.error
    log.warning("%s not delivered: %s (%.0f ms)%s", what, error, attempt.duration_ms, outcome)


def record_attempt(
    activity: ActivityLog, delivery: Delivery, attempt: Attempt, kind: str, url: str
) -> None:
    """The attempt in the activity log, for the dashboard."""
    callback = delivery.callback
    answer = (
        f"{attempt.status_code} in {attempt.duration_ms:.0f} ms"
        if attempt.delivered
        else f"not delivered: {attempt.error}"
    )
    activity.add(
        "callback",
        f'callback "{callback.status}" ({kind}'
        + ("" if attempt.fault is None else f", {attempt.fault} on purpose")
        + f"): {answer}",
        callback.order_id,
        "delivered" if attempt.delivered else "not_delivered",
        {
            "delivery_id": callback.id,
            "attempt": len(delivery.attempts),
            "why": kind,
            "url": url,
            "status_code": attempt.status_code,
            "error": attempt.error,
            "duration_ms": round(attempt.duration_ms, 1),
            "state": delivery.state.value,
            "fault": attempt.fault,
            "response_body": attempt.body_text[:QUOTED] or None,
        },
    )
