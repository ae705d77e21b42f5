"""Idempotency keys: the first answer to a key is kept and replayed, never acted on twice."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from . import jsonio
from .journal import Journal, JournalError

log = logging.getLogger("payments_server.idempotency")

T = TypeVar("T")
KEY_TTL = 24 * 60 * 60.0
MAX_KEYS = 100_000
MAX_KEY_LENGTH = 255
KEY_RULE = f"Idempotency-Key must be a token or a quoted string of 1 to {MAX_KEY_LENGTH} characters"
# RFC 9110 token characters, and the printable ASCII an RFC 8941 string may hold.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')


class BadKeyError(ValueError):
    """An Idempotency-Key header that is neither a token nor a quoted string."""


class IdempotencyConflictError(Exception):
    """The key cannot be used for this request now: its HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


REUSED = IdempotencyConflictError(422, "Idempotency-Key reused with a different request")
IN_PROGRESS = IdempotencyConflictError(409, "A request with this Idempotency-Key is in progress")


def parse_key(header: str) -> str:
    """The key in an Idempotency-Key header; "abc" and abc are the same key."""
    header = header.strip()
    if quoted := _QUOTED.fullmatch(header):
        key = re.sub(r"\\(.)", r"\1", quoted.group(1))
    elif _TOKEN.fullmatch(header):
        key = header
    else:
        raise BadKeyError(KEY_RULE)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadKeyError(KEY_RULE)
    return key


def fingerprint(path: str, body: bytes) -> str:
    """What makes two requests the same: the path and the body's JSON, key order aside."""
    try:
        canonical = jsonio.dumps(jsonio.loads(body), sort_keys=True)
    except (ValueError, RecursionError):
        canonical = body.decode("latin-1")
    return f"{path}\n{canonical}"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer given for a key: replayed byte for byte."""

    status: int
    body: bytes


class Claim:
    """A key taken by a request in progress; finish() or abandon() it."""

    __slots__ = ("created", "fingerprint", "key", "response")

    def __init__(self, key: str, fingerprint: str, created: float) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.created = created
        self.response: StoredResponse | None = None


class IdempotencyStore:
    """Keys and the first answer to each, for `ttl` seconds, the newest `limit` of them."""

    def __init__(
        self,
        ttl: float = KEY_TTL,
        limit: int = MAX_KEYS,
        clock: Callable[[], float] = time.time,
        journal: Journal | None = None,
    ) -> None:
        self.ttl = ttl
        self._journal = journal
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        # Oldest first: entries are never moved, so expiry only looks at the front.
        self._claims: OrderedDict[str, Claim] = OrderedDict()

    def __len__(self) -> int:
        return len(self._claims)

    def begin(self, key: str, fingerprint: str) -> Claim | StoredResponse:
        """Take the key for this request, or return the answer to replay.

        Raises IdempotencyConflictError when the key belongs to another request (422) or its
        first request is still running (409).
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            claim = self._claims.get(key)
            if claim is not None:
                if claim.fingerprint != fingerprint:
                    raise REUSED
                if claim.response is None:
                    raise IN_PROGRESS
                return claim.response
            claim = Claim(key, fingerprint, now)
            self._claims[key] = claim
            self._evict()
            return claim

    def finish(self, claim: Claim, status: int, body: bytes) -> None:
        """Keep the answer for replay (unless a reset forgot the key meanwhile)."""
        with self._lock:
            # Under the lock, so that a reset cannot forget the key between the line and
            # memory: a forgotten key's line would come back after a restart.
            if self._claims.get(claim.key) is not claim:
                return
            if self._journal is not None:
                self._write(claim, status, body)
            claim.response = StoredResponse(status, body)

    def _write(self, claim: Claim, status: int, body: bytes) -> None:
        assert self._journal is not None
        event = {
            "event": "idempotency",
            "key": claim.key,
            "fingerprint": claim.fingerprint,
            "status": status,
            "body": body.decode(),
            "at": claim.created,
        }
        try:
            self._journal.append(event)
        except JournalError as exc:
            # The request itself is done; its answer is still replayed until a restart.
            log.warning("%s; Idempotency-Key %r is kept in memory only", exc, claim.key)

    def restore(self, event: Mapping[str, Any]) -> None:
        """Keep an answer read back from the state file, unless it has expired since."""
        key, fingerprint = event.get("key"), event.get("fingerprint")
        status, body, at = event.get("status"), event.get("body"), event.get("at")
        if not (
            isinstance(key, str)
            and isinstance(fingerprint, str)
            and isinstance(status, int)
            and isinstance(body, str)
            and isinstance(at, int | Decimal)
        ):
            raise ValueError("an idempotency event without key, fingerprint, status, body and at")
        age = self._clock() - float(at)
        if age >= self.ttl:
            return
        with self._lock:
            claim = Claim(key, fingerprint, self._clock() - max(age, 0.0))
            claim.response = StoredResponse(status, body.encode())
            self._claims.pop(key, None)
            self._claims[key] = claim
            self._evict()

    def abandon(self, claim: Claim) -> None:
        """Free the key without keeping an answer: the next request with it runs afresh."""
        with self._lock:
            if self._claims.get(claim.key) is claim:
                del self._claims[claim.key]

    def clear(self, before: Callable[[], T] | None = None) -> T | None:
        """Forget every key; `before()`, if given, runs first under the same lock (it may
        raise, and then nothing is forgotten); return what it returned."""
        with self._lock:
            done = None if before is None else before()
            self._claims.clear()
            return done

    def _expire(self, now: float) -> None:
        while self._claims:
            oldest = next(iter(self._claims.values()))
            if now - oldest.created < self.ttl:
                return
            del self._claims[oldest.key]

    def _evict(self) -> None:
        excess = len(self._claims) - self.limit
        if excess <= 0:
            return
        # A key whose request is still running stays, or a duplicate could slip through.
        finished = (key for key, claim in self._claims.items() if claim.response is not None)
        for key in list(islice(finished, excess)):
            del self._claims[key]
