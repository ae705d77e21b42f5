"""Card data recognised wherever a client puts it, so that none is kept: by what a key means
(card_number, cardNumber, CARD-NO, cvv2, securityCode ...) and by the value itself (12 to 19
digits, spaces or dashes allowed, that pass the Luhn check), in any JSON body, form or text.

A number is kept as MASK plus its last four digits, a verification code as MASK alone.
"""

from __future__ import annotations

import re
from typing import Any

from . import jsonio
from .card_numbers import luhn_ok

MASK = "****"
# What a key means once lower-cased with everything but letters and digits taken out.
NUMBER_KEYS = ("cardnumber", "cardno", "cardnum", "ccnumber", "ccnum", "creditcard", "debitcard")
NUMBER_EXACT = frozenset({"pan", "number", "cc"})
CODE_KEYS = ("cvc", "cvv", "cvn", "csc", "securitycode", "verificationcode", "cardcode")
# A run of 12 to 19 digits, each group apart by at most one space or dash.
DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){11,18}(?![0-9])", re.ASCII)
# key=value or "key": value of a verification code in text that is not JSON (a form).
CODE_PAIR = re.compile(
    r"(?i)((?:" + "|".join(CODE_KEYS) + r")[a-z0-9_]*[\"']?\s*[:=]\s*[\"']?)([0-9]{3,4})"
)
# A quick look before any parsing: most bodies have neither a long digit run nor a card key.
SUSPECT = re.compile(rb"(?i)[0-9][0-9 -]{10,}[0-9]|card|cvc|cvv|cvn|csc|security|verification|pan")


def _meaning(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


def key_kind(key: str, within_card: bool = False) -> str | None:
    """'number' or 'code' if a key of that name holds card data, else None."""
    meaning = _meaning(key)
    if any(word in meaning for word in CODE_KEYS):
        return "code"
    if any(word in meaning for word in NUMBER_KEYS) or meaning == "pan":
        return "number"
    if within_card and meaning in NUMBER_EXACT:
        return "number"
    return None


def _digits(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def _luhn(text: str) -> bool:
    digits = _digits(text)
    return digits.isascii() and digits.isdigit() and luhn_ok(digits)


def is_card_number(value: object) -> bool:
    """True for a value that reads as a card number: 12 to 19 digits passing Luhn."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    text = str(value) if isinstance(value, int) else value.strip()
    return DIGIT_RUN.fullmatch(text) is not None and _luhn(text)


def masked_number(value: object) -> str:
    """A card number as it may be kept: MASK and its last four digits."""
    digits = _digits(str(value)) if isinstance(value, str | int) else ""
    tail = digits[-4:] if digits[-4:].isdigit() else ""
    return MASK + tail


def redact(value: Any, within_card: bool = False) -> Any:
    """A JSON value with every card number and verification code masked."""
    if isinstance(value, dict):
        kept: dict[Any, Any] = {}
        for key, item in value.items():
            kind = key_kind(key, within_card) if isinstance(key, str) else None
            if kind == "code" and item is not None:
                kept[key] = MASK
            elif kind == "number" and item is not None and not isinstance(item, dict | list):
                kept[key] = masked_number(item)
            else:
                card = within_card or (isinstance(key, str) and "card" in _meaning(key))
                kept[key] = redact(item, card)
        return kept
    if isinstance(value, list):
        return [redact(item, within_card) for item in value]
    if is_card_number(value):
        return masked_number(value)
    if isinstance(value, str) and DIGIT_RUN.search(value):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Text that is not JSON (a form, a query string, a log line) with every card number and
    `cvc=123`-like pair masked."""
    text = CODE_PAIR.sub(lambda m: m.group(1) + MASK, text)
    return DIGIT_RUN.sub(
        lambda m: masked_number(m.group(0)) if _luhn(m.group(0)) else m.group(0),
        text,
    )


def redact_body(data: bytes) -> bytes:
    """A request body as it may be kept: JSON with its card data masked, other text through
    redact_text; returned unchanged (the same object) when nothing in it can be card data."""
    if not SUSPECT.search(data):
        return data
    try:
        parsed = jsonio.loads(data)
    except (ValueError, RecursionError):
        return redact_text(data.decode("utf-8", "replace")).encode()
    cleaned = redact(parsed)
    if cleaned == parsed:
        return data
    return jsonio.dumps(cleaned, constants=True).encode()
