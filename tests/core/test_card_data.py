"""Card data is found by what a key means and by the value itself, however it is spelled."""

from __future__ import annotations

import pytest

from payments_server.core import jsonio
from payments_server.core.card_data import redact, redact_body, redact_text

VISA = "4111111111111111"


@pytest.mark.parametrize(
    "key",
    ["card_number", "cardNumber", "Card_Number", "CARD-NUMBER", "cardNo", "pan", "ccNumber"],
)
def test_a_card_number_under_any_spelling_of_its_key_keeps_its_last_four(key: str) -> None:
    assert redact({key: "4111 1111 1111 1111", "description": "x"}) == {
        key: "****1111",
        "description": "x",
    }


@pytest.mark.parametrize(
    "key",
    ["cvc", "CVV", "cvv2", "card_verification_code", "CARD_VERIFICATION_CODE",
     "cardVerificationCode", "securityCode", "cvn"],
)  # fmt: skip
def test_a_verification_code_under_any_spelling_is_masked_whole(key: str) -> None:
    assert redact({key: "123"}) == {key: "****"}
    assert redact({key: 987}) == {key: "****"}


def test_a_number_is_found_by_its_value_anywhere_in_the_body() -> None:
    body = {
        "order_id": "o-1",
        "note": f"paid with {VISA[:4]} {VISA[4:8]}-{VISA[8:12]} {VISA[12:]} today",
        "items": [{"ref": int(VISA)}, {"ref": "4242-4242-4242-4242"}],
        "card": {"number": "4000000000000002x"[:16], "exp": "12/30"},
    }
    assert redact(body) == {
        "order_id": "o-1",
        "note": "paid with ****1111 today",
        "items": [{"ref": "****1111"}, {"ref": "****4242"}],
        "card": {"number": "****0002", "exp": "12/30"},
    }


def test_digits_that_fail_the_luhn_check_or_are_too_short_are_left_alone() -> None:
    body = {"order_id": "4111111111111112", "phone": "5551234567", "amount": 179.98}
    assert redact(body) == body


def test_a_form_or_text_body_is_masked_too() -> None:
    text = f"nonce=x&card_number={VISA}&cvv=123&amount=10.00"
    assert redact_text(text) == "nonce=x&card_number=****1111&cvv=****&amount=10.00"


def test_a_body_with_nothing_suspect_is_kept_as_the_same_bytes() -> None:
    data = b'{"order_id": "ord_1", "amount": 179.98}'
    assert redact_body(data) is data


def test_a_json_body_is_kept_with_its_card_data_masked() -> None:
    data = b'{"amount": NaN, "cardNumber": "4111111111111111", "cvc": "123"}'
    kept = redact_body(data)
    assert VISA not in kept.decode() and b"123" not in kept
    masked = jsonio.loads(kept)
    assert isinstance(masked, dict)
    assert masked["cardNumber"] == "****1111" and masked["cvc"] == "****"
