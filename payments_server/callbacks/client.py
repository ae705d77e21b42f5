"""Talking to the store: one signed POST of {"order_id", "status"} per attempt, never raising."""

from __future__ import annotations

import select
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.client import HTTPConnection, HTTPException, HTTPSConnection, RemoteDisconnected
from urllib.parse import urlsplit

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
    """Sends signed callbacks to the store over reused keep-alive connections."""

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
        self._headers = {"Content-Type": "application/json", "User-Agent": user_agent}
        self._signer = signer
        parts = urlsplit(url)
        self._connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        self._host, self._port = parts.hostname or "", parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # The standard library's client, one connection per request in flight, kept for the
        # next: 184 us of CPU per keep-alive POST against urllib3's 357 and requests' 796
        # (docs/performance.md). It reads no proxy from the environment, follows no
        # redirect and retries nothing, as a callback must not be sent twice by accident.
        self._idle: deque[HTTPConnection] = deque(maxlen=pool_size)

    def send(self, callback: Callback) -> Attempt:
        """POST the callback once, freshly timestamped and signed; never raises."""
        at = self._clock()
        headers = self._signer.headers(callback.id, int(at.timestamp()), callback.body)
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        connection = self._connection(deadline)
        connecting = connection.sock is None
        try:
            if connecting:
                connection.connect()
                # http.client sends the head and the body in two writes: without this,
                # Nagle's algorithm holds the body until the store's delayed ACK (40 ms).
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                connecting = False
            # Connecting and waiting for the answer share one budget.
            _settimeout(connection, deadline)
            connection.request("POST", self._path, callback.body, {**self._headers, **headers})
            _settimeout(connection, deadline)
            response = connection.getresponse()
            response.read()
            code = response.status
            if code in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.getheader("Retry-After"), at)
            if response.will_close:
                connection.close()
            else:
                self._idle.append(connection)
        except (OSError, HTTPException) as exc:
            connection.close()
            error = _describe(exc, connecting)
        elapsed = time.perf_counter() - started
        if code is not None and not 200 <= code < 300:
            error = f"store answered {code}"
        elif code is not None and elapsed > self.timeout:
            error = f"store answered after the {self.timeout:g} s timeout"
        return Attempt(at, code, error, elapsed * 1000, retry_after)

    def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            self._idle.pop().close()

    def _connection(self, deadline: float) -> HTTPConnection:
        """An idle connection the store has not closed, or a new one."""
        while self._idle:
            try:
                connection = self._idle.pop()
            except IndexError:  # another thread took the last one
                break
            if connection.sock is not None and not _dropped(connection.sock):
                return connection
            connection.close()
        return self._connection_class(
            self._host, self._port, timeout=max(deadline - time.monotonic(), 0.001)
        )


def _settimeout(connection: HTTPConnection, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    if connection.sock is not None:
        connection.sock.settimeout(remaining)


def _dropped(sock: socket.socket) -> bool:
    """True if an idle keep-alive connection was closed by the store (or has stray bytes)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


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


def _describe(exc: Exception, connecting: bool) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the timeout"
    if connecting:
        return "could not connect"
    if isinstance(exc, RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return "the store closed the connection without an answer"
    if isinstance(exc, HTTPException):
        return f"the store's answer was not HTTP ({type(exc).__name__})"
    reason = exc.strerror if isinstance(exc, OSError) else None
    return f"connection error: {reason or type(exc).__name__}"
