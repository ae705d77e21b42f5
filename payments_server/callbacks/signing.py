"""Standard Webhooks v1 signatures: the secret, message ids and the three signing headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
# Decodes to b"payments_server-dev-secret-not-for-prod". Fixed so that a store's developer can
# copy it from the README or the startup line into their own verification code.
DEV_WEBHOOK_SECRET = "whsec_cGF5bWVudHNfc2VydmVyLWRldi1zZWNyZXQtbm90LWZvci1wcm9k"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
# How far a webhook-timestamp may be from the receiver's clock, as the standard suggests.
TOLERANCE = 5 * 60


class SecretError(ValueError):
    """A webhook secret that is not whsec_ + base64 of 24 to 64 bytes; str() says which part."""


def decode_secret(secret: str) -> bytes:
    """Return the HMAC key inside a whsec_ secret, or raise SecretError saying what is wrong."""
    if not secret.startswith(SECRET_PREFIX):
        raise SecretError(f"must start with {SECRET_PREFIX}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Padding is optional, as in the Standard Webhooks libraries.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(f"must be {SECRET_PREFIX} followed by standard base64") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise SecretError(
            f"must decode to {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, got {len(key)} bytes"
        )
    return key


# A webhook-id must be unique, not secret (it travels beside the body it names); drawing it
# from the OS on every callback cost a system call, and under load each system call is a
# trip through the GIL. Seeded from the OS once per process.
_ids = random.Random()


def new_message_id() -> str:
    """A fresh webhook-id: msg_ and 24 random hex digits, safe in a URL path."""
    return f"msg_{_ids.getrandbits(96):024x}"


class Signer:
    """Signs callback bodies with one key, as the Standard Webhooks v1 scheme prescribes."""

    def __init__(self, secret: str) -> None:
        self._key = decode_secret(secret)

    def signature(self, message_id: str, timestamp: int, body: bytes) -> str:
        """v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> over the exact body bytes."""
        signed = b"%s.%d.%s" % (message_id.encode(), timestamp, body)
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()

    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The webhook-id, webhook-timestamp and webhook-signature headers for one attempt."""
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.signature(message_id, timestamp, body),
        }

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        now: float | None = None,
        tolerance: float = TOLERANCE,
    ) -> bool:
        """True if the headers carry a v1 signature of this body, made within the tolerance."""
        lowered = {name.lower(): value for name, value in headers.items()}
        message_id = lowered.get("webhook-id", "")
        stamp = lowered.get("webhook-timestamp", "")
        if not message_id or not stamp.isascii() or not stamp.isdigit():
            return False
        if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
            return False
        expected = self.signature(message_id, int(stamp), body)
        return any(
            hmac.compare_digest(expected, candidate)
            for candidate in lowered.get("webhook-signature", "").split()
        )
