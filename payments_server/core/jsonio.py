"""JSON in and out with exact numbers: floats parse as Decimal, Decimals print as written."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import simplejson

# Every number a request holds lies within 10**-MAX_EXPONENT and 10**MAX_EXPONENT in
# magnitude, far past any bound a field has: beyond it, a number is read as that bound (with
# its sign), so no later arithmetic (int(), abs(), a format) can take a billion digits or
# overflow Decimal's context, and every field check still answers as for the number sent.
MAX_EXPONENT = 1000
_HUGE = Decimal(f"1E+{MAX_EXPONENT}")
_TINY = Decimal(f"1E-{MAX_EXPONENT}")


def _parse_int(text: str) -> int | Decimal:
    # int() refuses more than 4300 digits; such a number is still valid JSON, and an amount
    # check will reject it with a clear message rather than "not JSON".
    if len(text) <= MAX_EXPONENT:
        return int(text)
    return -_HUGE if text.startswith("-") else _HUGE


def _parse_decimal(text: str) -> Decimal:
    number = Decimal(text)
    if number.is_zero():
        return number
    exponent = number.adjusted()
    if exponent > MAX_EXPONENT:
        return _HUGE.copy_sign(number)
    if exponent < -MAX_EXPONENT:
        return _TINY.copy_sign(number)
    return number


def number_from_text(text: str) -> Decimal | None:
    """A number written as text (an amount sent as a string), bounded as the reader bounds
    JSON's numbers; None if the text is not a number. NaN and Infinity stay as they are."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return _parse_decimal(text) if number.is_finite() else number


class NotJsonConstantError(ValueError):
    """NaN, Infinity or -Infinity, which JSON does not have, where the API refuses them."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a JSON value")


def _refuse_constant(name: str) -> object:
    raise NotJsonConstantError(name)


class LoneSurrogateError(ValueError):
    """JSON whose text holds half of a surrogate pair (\\ud800): no page or log can write it."""

    def __init__(self) -> None:
        super().__init__(
            "Request body must be JSON of valid Unicode: a \\ud800 to \\udfff escape must be"
            " half of a pair"
        )


def loads(data: bytes | str, *, constants: bool = True) -> object:
    """Parse JSON, with non-integers (and NaN, Infinity) as Decimal so no float appears and
    every number bounded (MAX_EXPONENT); raise LoneSurrogateError for text that is not valid
    Unicode, and NotJsonConstantError for NaN or Infinity unless `constants` (as Python's
    reader takes them; JavaScript's and .NET's do not)."""
    value = json.loads(
        data,
        parse_float=_parse_decimal,
        parse_int=_parse_int,
        parse_constant=Decimal if constants else _refuse_constant,
    )
    # Only an escape can make a lone surrogate: most bodies hold none and are not walked.
    if ("\\u" in data if isinstance(data, str) else b"\\u" in data) and _has_surrogate(value):
        raise LoneSurrogateError
    return value


def _has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return not _encodable(value)
    if isinstance(value, dict):
        return any(_has_surrogate(key) or _has_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def as_integer(value: object, max_digits: int = 4300) -> int | None:
    """The value as an int if JSON Schema calls it an integer (7, 7.0, 7E+2), else None."""
    # bool is an int to Python but not to JSON.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if len(str(abs(value))) <= max_digits else None
    # adjusted() is checked first: int(Decimal("1E+999999999")) would never finish.
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value == value.to_integral_value()
        and (value.is_zero() or value.adjusted() < max_digits)
    ):
        return int(value)
    return None


def as_rate(value: object) -> float | None:
    """The value as a float if it is a JSON number from 0 to 1, else None."""
    # bool is an int to Python but not to JSON; a NaN Decimal refuses to be compared, and
    # an int of 400 digits to become a float: the range is checked before either.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, Decimal | float) and not math.isfinite(value):
        return None
    return float(value) if 0 <= value <= 1 else None


def dumps(obj: object, *, sort_keys: bool = False, constants: bool = False) -> str:
    """Serialise compactly, writing each Decimal exactly as its str() (179.98 stays 179.98);
    NaN and Infinity only with `constants` (a request's body kept as it came)."""
    return simplejson.dumps(
        obj, use_decimal=True, separators=(",", ":"), sort_keys=sort_keys, allow_nan=constants
    )


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, such as 2026-11-22T10:15:02.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
