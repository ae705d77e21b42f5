"""What each callback attempt leaves behind: a log line and an activity entry."""

from __future__ import annotations

import logging
import threading

from ..core.activity import ActivityLog
from ..core.jsonio import format_time
from .client import Attempt
from .deliveries import Delivery, State

log = logging.getLogger("payments_server.callbacks")

FIRST = "first attempt"
RESEND = "resend"
# How much of the store's answer a log line quotes.
QUOTED = 200


class AttemptLog:
    """One log line per attempt, at a level a person watching the terminal can live with.

    A store that cannot be reached is one WARNING, which says when the next try is; while
    it stays unreachable, further failed attempts are INFO, and a line says when it answers
    again. A store that answers with an error is a WARNING on a delivery's first attempt;
    its retries are INFO, the last saying that the gateway gave up.
    """

    def __init__(self, namespace: str | None = None) -> None:
        # A namespace's lines say whose they are: many share one terminal.
        self._whose = "" if namespace is None else f" in namespace {namespace}"
        self._lock = threading.Lock()
        self._unreachable: set[str] = set()

    def attempt(
        self, delivery: Delivery, attempt: Attempt, kind: str, url: str, max_retries: int
    ) -> None:
        """Log one attempt: delivered, or why not and what comes next."""
        answered = attempt.status_code is not None
        with self._lock:
            known = url in self._unreachable
            if answered:
                self._unreachable.discard(url)
            elif not attempt.delivered:
                self._unreachable.add(url)
        if known and answered:
            log.info("the store at %s answers again", url)
        if attempt.delivered and not log.isEnabledFor(logging.INFO):
            return  # --quiet: the line would be dropped, so it is not even written out
        callback = delivery.callback
        what = (
            f"callback {callback.id}{self._whose} order {callback.order_id} {callback.status}"
            f" to {url}"
        )
        if kind != FIRST:
            what += f" ({kind})"
        if attempt.fault is not None:
            what += f" [{attempt.fault}, on purpose]"
        if attempt.delivered:
            log.info("%s: %s in %.0f ms", what, attempt.status_code, attempt.duration_ms)
            return
        said = attempt.body_text.strip()
        error = f"{attempt.error}: {said[:QUOTED]}" if said else attempt.error
        outcome = _what_next(delivery, attempt, kind, max_retries)
        if attempt.fault is not None:
            level = logging.INFO  # sent wrong on purpose: the store's refusal is expected
        elif not answered and not known:
            level = logging.WARNING
            outcome += "; later attempts while it cannot be reached are logged at INFO"
        elif answered and kind in (FIRST, RESEND):
            level = logging.WARNING
        else:
            level = logging.INFO
        log.log(level, "%s not delivered: %s (%.0f ms)%s", what, error, attempt.duration_ms,
                outcome)  # fmt: skip

    def reset(self) -> None:
        """Forget which stores could not be reached."""
        with self._lock:
            self._unreachable.clear()


def _what_next(delivery: Delivery, attempt: Attempt, kind: str, max_retries: int) -> str:
    if kind == RESEND:
        return ""
    if delivery.next_attempt_at is not None:
        wait = max((delivery.next_attempt_at - attempt.at).total_seconds(), 0)
        return f"; retry {delivery.retries_done + 1} of {max_retries} in {wait:.3g} s"
    if attempt.gone:
        return "; the store answered 410 Gone, so no more retries"
    if delivery.state is State.FAILED:
        count = len(delivery.attempts)
        return f"; gave up after {count} {'attempt' if count == 1 else 'attempts'}"
    return ""


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
        # A fault named by the kind already ("duplicate") is not named again.
        + ("" if attempt.fault in (None, kind) else f", {attempt.fault} on purpose")
        + (" on purpose" if attempt.fault is not None and attempt.fault == kind else "")
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
            "next_attempt_at": None
            if delivery.next_attempt_at is None
            else format_time(delivery.next_attempt_at),
            "fault": attempt.fault,
            "response_body": attempt.body_text[:QUOTED] or None,
        },
    )
