"""Signatures checked the way a store checks them: with the `standardwebhooks` package."""

from __future__ import annotations

import base64
import re
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from payments_server.callbacks.signing import (
    DEV_WEBHOOK_SECRET,
    SecretError,
    Signer,
    decode_secret,
    new_message_id,
)

BODY = b'{"order_id":"abc123def456","status":"success"}'


def secret_of(length: int) -> str:
    return "whsec_" + base64.b64encode(bytes(range(length))).decode()


def test_the_development_secret_is_a_valid_secret_and_says_what_it_is() -> None:
    assert decode_secret(DEV_WEBHOOK_SECRET) == b"payments_server-dev-secret-not-for-prod"


def test_the_signature_matches_the_standard_webhooks_test_vector() -> None:
    # The example from the Standard Webhooks specification.
    signer = Signer("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = signer.signature(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_store_verifying_with_standardwebhooks_accepts_the_headers() -> None:
    headers = Signer(DEV_WEBHOOK_SECRET).headers("msg_1", int(time.time()), BODY)
    payload = Webhook(DEV_WEBHOOK_SECRET).verify(BODY, headers)
    assert payload == {"order_id": "abc123def456", "status": "success"}
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "msg_1"


@pytest.mark.parametrize(
    ("body", "secret", "age", "error"),
    [
        (b'{"order_id":"abc123def456","status":"failed"}', DEV_WEBHOOK_SECRET, 0,
         "No matching signature found"),
        (BODY, secret_of(32), 0, "No matching signature found"),
        (BODY, DEV_WEBHOOK_SECRET, 6 * 60, "Message timestamp too old"),
        (BODY, DEV_WEBHOOK_SECRET, -6 * 60, "Message timestamp too new"),
    ],
    ids=["tampered body", "wrong secret", "stale timestamp", "future timestamp"],
)  # fmt: skip
def test_a_store_rejects_what_was_not_signed_now_by_the_gateway(
    body: bytes, secret: str, age: int, error: str
) -> None:
    headers = Signer(DEV_WEBHOOK_SECRET).headers("msg_1", int(time.time()) - age, BODY)
    with pytest.raises(WebhookVerificationError, match=error):
        Webhook(secret).verify(body, headers)


def test_the_signature_covers_the_id_and_the_timestamp() -> None:
    signer = Signer(DEV_WEBHOOK_SECRET)
    base = signer.signature("msg_1", 1700000000, BODY)
    assert signer.signature("msg_2", 1700000000, BODY) != base
    assert signer.signature("msg_1", 1700000001, BODY) != base


@pytest.mark.parametrize("length", [24, 32, 64])
def test_secrets_of_24_to_64_bytes_are_accepted(length: int) -> None:
    assert decode_secret(secret_of(length)) == bytes(range(length))


def test_padding_is_optional_as_in_the_standard_webhooks_libraries() -> None:
    padded = secret_of(25)
    assert padded.endswith("=")
    assert decode_secret(padded.rstrip("=")) == bytes(range(25))


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "must start with whsec_"),
        (base64.b64encode(bytes(32)).decode(), "must start with whsec_"),
        ("WHSEC_" + base64.b64encode(bytes(32)).decode(), "must start with whsec_"),
        ("whsec_not base64 at all!", "must be whsec_ followed by standard base64"),
        ("whsec_" + base64.urlsafe_b64encode(b"\xfb" * 30).decode(),
         "must be whsec_ followed by standard base64"),
        ("whsec_abcde", "must be whsec_ followed by standard base64"),
        ("whsec_", "must decode to 24 to 64 bytes, got 0 bytes"),
        (secret_of(23), "must decode to 24 to 64 bytes, got 23 bytes"),
        (secret_of(65), "must decode to 24 to 64 bytes, got 65 bytes"),
    ],
)  # fmt: skip
def test_a_secret_that_is_not_whsec_and_base64_of_24_to_64_bytes_is_refused(
    secret: str, message: str
) -> None:
    with pytest.raises(SecretError) as caught:
        decode_secret(secret)
    assert str(caught.value) == message


def test_message_ids_are_fresh_and_safe_in_a_url() -> None:
    ids = {new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"msg_[0-9a-f]{24}", message_id) for message_id in ids)


def test_verify_accepts_exactly_what_standardwebhooks_accepts() -> None:
    signer = Signer(DEV_WEBHOOK_SECRET)
    now = int(time.time())
    good = signer.headers("msg_1", now, BODY)
    assert signer.verify(good, BODY)
    assert signer.verify({k.title(): v for k, v in good.items()}, BODY)
    several = {**good, "webhook-signature": "v1,bm90IGl0 " + good["webhook-signature"]}
    assert signer.verify(several, BODY)
    Webhook(DEV_WEBHOOK_SECRET).verify(BODY, several)
    assert not signer.verify(good, BODY + b" ")
    assert not Signer(secret_of(32)).verify(good, BODY)
    assert not signer.verify(signer.headers("msg_1", now - 301, BODY), BODY)
    assert not signer.verify(signer.headers("msg_1", now + 301, BODY), BODY)
    assert not signer.verify({**good, "webhook-id": "msg_2"}, BODY)
    assert not signer.verify({}, BODY)
    assert not signer.verify({**good, "webhook-timestamp": "soon"}, BODY)
