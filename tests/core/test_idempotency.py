"""IdempotencyStore and Idempotency-Key parsing, without HTTP."""

from __future__ import annotations

import pytest

from payments_server.core.idempotency import (
    KEY_RULE,
    BadKeyError,
    Claim,
    IdempotencyConflictError,
    IdempotencyStore,
    StoredResponse,
    fingerprint,
    parse_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("abc", "abc"),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"8e03978e-40d5"', "8e03978e-40d5"),
        ('"with spaces, commas; and =signs"', "with spaces, commas; and =signs"),
        ('"a \\"quoted\\" one \\\\"', 'a "quoted" one \\'),
        ("  padded  ", "padded"),
        ("k" * 255, "k" * 255),
        ('"' + "k" * 255 + '"', "k" * 255),
    ],
)
def test_a_token_or_a_quoted_string_is_a_key(header: str, key: str) -> None:
    assert parse_key(header) == key


def test_a_quoted_key_and_the_bare_token_are_the_same_key() -> None:
    assert parse_key('"abc"') == parse_key("abc")


@pytest.mark.parametrize(
    "header",
    ["", '""', "k" * 256, '"' + "k" * 256 + '"', "two words", '"unterminated', 'a"b',
     '"bad \\x escape"', '"tab\tinside"', "ключ"],
)  # fmt: skip
def test_anything_else_is_refused(header: str) -> None:
    with pytest.raises(BadKeyError) as caught:
        parse_key(header)
    assert str(caught.value) == KEY_RULE


def test_the_fingerprint_ignores_key_order_and_spacing_but_not_values() -> None:
    one = fingerprint("/pay", b'{"amount": 100, "recipient": "r"}')
    assert one == fingerprint("/pay", b'{"recipient":"r","amount":100}')
    assert one != fingerprint("/pay", b'{"recipient":"r","amount":100.0}')
    assert one != fingerprint("/pay/order", b'{"amount": 100, "recipient": "r"}')
    assert fingerprint("/pay", b"not json") != fingerprint("/pay", b"not json!")


def test_the_first_answer_is_replayed() -> None:
    store = IdempotencyStore()
    claim = store.begin("k", "f")
    assert isinstance(claim, Claim)
    store.finish(claim, 200, b'{"status":"success"}\n')
    assert store.begin("k", "f") == StoredResponse(200, b'{"status":"success"}\n')


def test_a_different_request_with_the_key_is_422() -> None:
    store = IdempotencyStore()
    store.finish(store.begin("k", "f"), 200, b"{}")  # type: ignore[arg-type]
    with pytest.raises(IdempotencyConflictError) as caught:
        store.begin("k", "other")
    assert (caught.value.status, caught.value.message) == (
        422,
        "Idempotency-Key reused with a different request",
    )


def test_the_same_request_while_the_first_runs_is_409() -> None:
    store = IdempotencyStore()
    store.begin("k", "f")
    with pytest.raises(IdempotencyConflictError) as caught:
        store.begin("k", "f")
    assert (caught.value.status, caught.value.message) == (
        409,
        "A request with this Idempotency-Key is in progress",
    )


def test_an_abandoned_key_can_be_used_afresh() -> None:
    store = IdempotencyStore()
    store.abandon(store.begin("k", "f"))  # type: ignore[arg-type]
    assert isinstance(store.begin("k", "other"), Claim)


def test_keys_expire_after_24_hours() -> None:
    clock = Clock()
    store = IdempotencyStore(clock=clock)
    store.finish(store.begin("k", "f"), 200, b"{}")  # type: ignore[arg-type]
    clock.now += 24 * 3600 - 1
    assert store.begin("k", "f") == StoredResponse(200, b"{}")
    clock.now += 1
    assert isinstance(store.begin("k", "other"), Claim)


def test_the_newest_keys_are_kept_but_never_one_in_progress() -> None:
    store = IdempotencyStore(limit=2)
    running = store.begin("running", "f")
    for key in ("a", "b", "c"):
        store.finish(store.begin(key, "f"), 200, key.encode())  # type: ignore[arg-type]
    assert len(store) == 2
    assert isinstance(running, Claim)
    with pytest.raises(IdempotencyConflictError):
        store.begin("running", "f")
    assert store.begin("c", "f") == StoredResponse(200, b"c")
    assert isinstance(store.begin("a", "f"), Claim)  # evicted, so it runs afresh


def test_clear_forgets_every_key_and_a_late_finish_does_not_bring_one_back() -> None:
    store = IdempotencyStore()
    claim = store.begin("k", "f")
    store.clear()
    store.finish(claim, 200, b"{}")  # type: ignore[arg-type]
    assert len(store) == 0
    assert isinstance(store.begin("k", "f"), Claim)
