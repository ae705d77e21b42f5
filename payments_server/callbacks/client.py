"""Talking to the store: one signed POST of {"order_id", "status"} per attempt, never raising."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import urllib3
from urllib3 import exceptions
from urllib3.util import Timeout

from ..core import jsonio
from ..core.jsonio import format_time
from ..core.transactions import OrderId
from .signing import Signer, new_message_id

GONE = 410
# The statuses whose Retry-After header says when to come back.
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Callback:
    """One event for the store: its webhook-id and the body every attempt sends unchanged."""

    id: str
    order_id: OrderId
    status: str
    body: bytes

    @classmethod
    def new(cls, order_id: OrderId, status: str) -> Callback:
        """A new event with a fresh webhook-id; the body is exactly {"order_id", "status"}."""
        body = jsonio.dumps({"order_id": order_id, "status": status}).encode()
        return cls(new_message_id(), order_id, status, body)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at delivering a callback: when, what the store answered or why it did not."""

    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    # Seconds the store asked us to wait, from Retry-After on a 429 or 503.
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        """True when the store answered 2xx within the timeout."""
        return self.error is None

    @property
    def gone(self) -> bool:
        """True when the store answered 410 Gone: it wants no more attempts of this event."""
        return self.status_code == GONE

    def to_json(self) -> dict[str, object]:
        """The attempt as the callback log shows it."""
        return {
            "at": format_time(self.at),
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
        }


class StoreNotifier:
    """Sends signed callbacks to the store over pooled keep-alive connections."""

    def __init__(
        self,
        url: str,
        timeout: float,
        user_agent: str,
        signer: Signer,
        *,
        pool_size: int = 16,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self._clock = clock
        self.timeout = timeout
        # total= makes connect and the wait for the answer share one budget, instead of
        # requests' default of a full timeout for each.
        self._timeout = Timeout(total=timeout)
        self._headers = {"Content-Type": "application/json", "User-Agent": user_agent}
        self._signer = signer
        # urllib3 itself, not requests: requests' own layers cost about 1 ms of CPU per
        # callback, half of what an order payment spends on it. No proxy from the
        # environment is read (the store is local) and nothing is retried or redirected.
        self._pool = urllib3.connection_from_url(url, maxsize=pool_size, block=False)
        self._path = urllib3.util.parse_url(url).request_uri

    def send(self, callback: Callback) -> Attempt:
        """POST the callback once, freshly timestamped and signed; never raises."""
        at = self._clock()
        headers = self._signer.headers(callback.id, int(at.timestamp()), callback.body)
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            response = self._pool.urlopen(
                "POST",
                self._path,
                body=callback.body,
                headers={**self._headers, **headers},
                timeout=self._timeout,
                retries=False,
                redirect=False,
            )
            code = response.status
            if code in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), at)
        except exceptions.HTTPError as exc:
            error = _describe(exc)
        elapsed = time.perf_counter() - started
        if code is not None and not 200 <= code < 300:
            error = f"store answered {code}"
        elif code is not None and elapsed > self.timeout:
            error = f"store answered after the {self.timeout:g} s timeout"
        return Attempt(at, code, error, elapsed * 1000, retry_after)

    def close(self) -> None:
        """Close pooled connections."""
        self._pool.close()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from Retry-After (delta-seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def _describe(exc: exceptions.HTTPError) -> str:
    # First: urllib3 makes a refused connection a kind of ConnectTimeoutError too.
    if isinstance(exc, exceptions.NewConnectionError):
        return "could not connect"
    if isinstance(exc, exceptions.TimeoutError):
        return "no answer within the timeout"
    if isinstance(exc, exceptions.ProtocolError):
        return "the store closed the connection without an answer"
    return type(exc).__name__
