"""Talking to the store: one signed POST of {"order_id", "status"} per attempt, never raising."""

from __future__ import annotations

import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ..core import jsonio
from ..core.jsonio import format_time
from ..core.transactions import OrderId
from .connection_pool import ConnectionPool
from .http1 import Answer, ClosedWithoutAnswerError, Connection, ProtocolError
from .signing import Signer, new_message_id

GONE = 410
# Faults that change how one attempt is signed (PUT /simulation "callback_faults").
BAD_SIGNATURE = "bad_signature"
STALE_TIMESTAMP = "stale_timestamp"
STALE_BY_S = 600
UNSENDABLE = "the callback URL has characters a request cannot carry (percent-encode them)"
# The statuses whose Retry-After header says when to come back.
RETRY_AFTER_STATUSES = frozenset({429, 503})
# Names the namespace a callback comes from; a default-namespace callback has none.
NAMESPACE_HEADER = "Payments-Namespace"


@dataclass(frozen=True, slots=True)
class Callback:
    """One event for the store: its webhook-id and the body every attempt sends unchanged."""

    id: str
    order_id: OrderId
    status: str
    body: bytes
    # Where it goes when not to the server's callback URL (a checkout session's own).
    url: str | None = None

    @classmethod
    def new(
        cls,
        order_id: OrderId,
        status: str,
        url: str | None = None,
        extra: Mapping[str, object] | None = None,
        callback_id: str | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Callback:
        """A new event with a fresh webhook-id (or `callback_id`); the body is exactly
        {"order_id", "status"}, followed by `extra` (a refund's amounts) when there is one,
        or `body` as given (another API's shape)."""
        sent = {"order_id": order_id, "status": status, **(extra or {})} if body is None else body
        return cls(
            callback_id or new_message_id(), order_id, status, jsonio.dumps(sent).encode(), url
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at delivering a callback: when, what the store answered or why it did not."""

    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    # Seconds the store asked us to wait, from Retry-After on a 429 or 503.
    retry_after: float | None = None
    # The fault this attempt carried on purpose (simulation), if any.
    fault: str | None = None
    # The webhook-timestamp it was signed with: real time, whatever the gateway's clock says,
    # so that a store verifying against its own clock accepts it (docs/clock.md).
    stamp: int | None = None
    # What the store answered: its headers (the first 4 KiB) and the start of its body.
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

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
        shown: dict[str, object] = {
            "at": format_time(self.at),
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
        }
        if self.fault is not None:
            shown["fault"] = self.fault
        shown["response"] = (
            None
            if self.status_code is None
            else {"headers": [list(field) for field in self.headers], "body": self.body_text}
        )
        return shown

    @property
    def body_text(self) -> str:
        """The start of the store's answer as text (bytes that are not UTF-8 replaced)."""
        return self.body.decode("utf-8", "replace")


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
        real: Callable[[], datetime] = lambda: datetime.now(UTC),
        namespace: str | None = None,
        connections: ConnectionPool | None = None,
    ) -> None:
        self.url = url
        self.namespace = namespace
        # A namespace's callbacks say whose they are, so one store can serve several.
        self._namespaced = {} if namespace is None else {NAMESPACE_HEADER: namespace}
        self._clock = clock
        self._real = real
        self.timeout = timeout
        self._signer = signer
        self._user_agent, self._pool_size = user_agent, pool_size
        # Notifiers like this one for other URLs, the least recently used dropped first.
        self._siblings: OrderedDict[str, StoreNotifier] = OrderedDict()
        self._siblings_lock = threading.Lock()
        parts = urlsplit(url)
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._tls else 80)
        self._origin = (self._host, self._port, self._tls is not None)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # As written in the URL, without credentials.
        self._host_header = host = parts.netloc.rpartition("@")[2]
        # The fixed part of every request; the signature headers and the length follow.
        # Empty for a URL a request line cannot carry: each attempt then fails, in words.
        try:
            self._head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
                "Content-Type: application/json\r\n"
            ).encode("ascii")
        except UnicodeEncodeError:
            self._head = b""
        # One connection per request in flight, kept for the next (in the pool every
        # namespace shares, when given one). Nothing reads a proxy from the environment,
        # follows a redirect or retries: a callback is sent once.
        self._own_pool = connections is None
        self._pool = ConnectionPool(pool_size) if connections is None else connections

    def send(self, callback: Callback, fault: str | None = None) -> Attempt:
        """POST the callback once, freshly timestamped and signed (or, with a fault, badly
        signed or stale on purpose); never raises."""
        at, now = self._clock(), self._real()
        stamp = int(now.timestamp())
        if not self._head:
            return Attempt(at, None, UNSENDABLE, 0.0, None, fault, stamp)
        signed = self._signed(callback, stamp, fault)
        head = self._head + (
            "".join(f"{name}: {value}\r\n" for name, value in signed.items())
            + f"Content-Length: {len(callback.body)}\r\n\r\n"
        ).encode("latin-1")
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        connection: Connection | None = None
        answer: Answer | None = None
        try:
            connection = self._connection(deadline)
            answer = connection.post(head, callback.body, deadline)
            code = answer.status
            if code in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(answer.retry_after, now)
            if answer.keep_alive:
                self._pool.give_back(self._origin, connection)
            else:
                connection.close()
        except (OSError, ProtocolError, ValueError) as exc:
            # ValueError: a host name the resolver refuses outright (UnicodeError is one).
            if connection is not None:
                connection.close()
            error = _describe(exc, connecting=connection is None)
        elapsed = time.perf_counter() - started
        if code is not None and not 200 <= code < 300:
            error = f"store answered {code}"
        elif code is not None and elapsed > self.timeout:
            error = f"store answered after the {self.timeout:g} s timeout"
        kept = (answer.headers, answer.body) if answer else ((), b"")
        return Attempt(at, code, error, elapsed * 1000, retry_after, fault, stamp, *kept)

    def sent_headers(self, callback: Callback, attempt: Attempt) -> dict[str, str]:
        """The headers of an attempt, exactly as send() wrote them."""
        stamp = int(attempt.at.timestamp()) if attempt.stamp is None else attempt.stamp
        signed = self._signed(callback, stamp, attempt.fault)
        return {
            "Host": self._host_header,
            "User-Agent": self._user_agent,
            "Content-Type": "application/json",
            **signed,
            "Content-Length": str(len(callback.body)),
        }

    def _signed(self, callback: Callback, stamp: int, fault: str | None) -> dict[str, str]:
        stamp -= STALE_BY_S if fault == STALE_TIMESTAMP else 0
        headers = {**self._namespaced, **self._signer.headers(callback.id, stamp, callback.body)}
        if fault == BAD_SIGNATURE:
            # A real signature of other bytes: well formed, and wrong for this body.
            headers["webhook-signature"] = self._signer.signature(
                callback.id, stamp, callback.body + b" "
            )
        return headers

    def for_url(self, url: str | None) -> StoreNotifier:
        """This notifier, or one like it (same signer, timeout, agent) for another URL."""
        if url is None or url == self.url:
            return self
        with self._siblings_lock:
            sibling = self._siblings.pop(url, None) or StoreNotifier(
                url, self.timeout, self._user_agent, self._signer,
                pool_size=self._pool_size, clock=self._clock, real=self._real,
                namespace=self.namespace, connections=self._pool,
            )  # fmt: skip
            self._siblings[url] = sibling
            evicted = self._siblings.popitem(last=False)[1] if len(self._siblings) > 64 else None
        if evicted is not None:
            evicted.close()
        return sibling

    def close(self) -> None:
        """Close the idle connections, this notifier's and its siblings' (unless the pool
        they are kept in is shared, and closed by whoever made it)."""
        if self._own_pool:
            self._pool.close()
        with self._siblings_lock:
            siblings = list(self._siblings.values())
            self._siblings.clear()
        for sibling in siblings:
            sibling.close()

    def _connection(self, deadline: float) -> Connection:
        """An idle connection the store has not closed, or a new one."""
        connection = self._pool.take(self._origin)
        if connection is not None:
            return connection
        return Connection(
            self._host, self._port, max(deadline - time.monotonic(), 0.001), self._tls
        )


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
    if isinstance(exc, ClosedWithoutAnswerError | ConnectionResetError | BrokenPipeError):
        return "the store closed the connection without an answer"
    if isinstance(exc, ProtocolError):
        return f"the store's answer was not HTTP/1.1: {exc}"
    reason = exc.strerror if isinstance(exc, OSError) else None
    return f"connection error: {reason or type(exc).__name__}"
