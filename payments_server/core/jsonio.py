"""JSON in and out with exact numbers: floats parse as Decimal, Decimals print as written."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import simplejson


def _parse_int(text: str) -> int | Decimal:
    # int() refuses more than 4300 digits; such a number is still valid JSON, and an amount
    # check will reject it with a clear message rather than "not JSON".
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


class LoneSurrogateError(ValueError):
    """JSON whose text holds half of a surrogate pair (\\ud800): no page or log can write it."""

    def __init__(self) -> None:
        super().__init__(
            "Request body must be JSON of valid Unicode: a \\ud800 to \\udfff escape must be"
            " half of a pair"
        )


def loads(data: bytes | str) -> object:
    """Parse JSON, with non-integers (and NaN, Infinity) as Decimal so no float appears;
    raise LoneSurrogateError for text that is not valid Unicode."""
    value = json.loads(data, parse_float=Decimal, parse_int=_parse_int, parse_constant=Decimal)
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


def dumps(obj: object, *, sort_keys: bool = False) -> str:
    """Serialise compactly, writing each Decimal exactly as its str() (179.98 stays 179.98)."""
    return simplejson.dumps(obj, use_decimal=True, separators=(",", ":"), sort_keys=sort_keys)


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, such as 2026-11-22T10:15:02.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
