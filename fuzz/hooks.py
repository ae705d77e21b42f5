"""Schemathesis hooks for `make fuzz`: keep the run fast and its payments reaching the account."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import schemathesis

# PUT /simulation may ask for up to 60 s per payment, which is valid and would make every
# later payment in the run wait that long; the fuzz run keeps it to a few milliseconds.
MAX_FUZZ_LATENCY_MS = 5
TOKEN_KEY_PREFIX = 200


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """Cap simulated latency, and give each distinct body its own Idempotency-Key."""
    body = case.body
    if case.method.upper() == "PUT" and case.path == "/simulation" and isinstance(body, dict):
        latency = body.get("latency_ms")
        if isinstance(latency, int) and not isinstance(latency, bool):
            body["latency_ms"] = min(latency, MAX_FUZZ_LATENCY_MS)
        # A fault on purpose (a 500 for every later request, an answer cut short) is what
        # the gateway was asked for, not a failure for the fuzzer to find.
        body.pop("api_faults", None)
    # The generator reuses a few keys ("0", "A") across different bodies, so nearly every
    # payment would get 422 (key reused) and never reach the account. Suffixing a token key
    # with the body's hash keeps replays of the same body and lets different bodies through;
    # 422 itself is covered by tests/test_idempotency.py and tests/test_scenarios.py.
    # A long poll that finds nothing waits its whole time (up to a second here): the
    # hooked run does not spend its budget waiting.
    query = case.query or {}
    if case.method.upper() == "GET" and case.path == "/callbacks" and "wait" in query:
        query["wait"] = "0"
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and key and not key.startswith('"') and "," not in key:
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode())
        headers["Idempotency-Key"] = f"{key[:TOKEN_KEY_PREFIX]}-{digest.hexdigest()[:16]}"
