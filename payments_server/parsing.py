"""Setting values read from text (a flag or an environment variable): each parser raises
ValueError with the rule the value breaks, which the caller prefixes with the option."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation


def parse_bool(text: str) -> bool:
    """1, true, yes, on or 0, false, no, off (or empty)."""
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError("must be one of 1, true, yes, on, 0, false, no, off")


def parse_int(text: str) -> int:
    """A whole number."""
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


def parse_float(text: str) -> float:
    """A number."""
    try:
        return float(text)
    except ValueError:
        raise ValueError("must be a number") from None


def parse_decimal(text: str) -> Decimal:
    """An exact decimal number."""
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None


def parse_schedule(text: str) -> tuple[float, ...]:
    """Seconds separated by commas."""
    try:
        return tuple(float(step) for step in text.split(","))
    except ValueError:
        raise ValueError("must be seconds separated by commas, such as 1,5,30") from None


def format_schedule(schedule: tuple[float, ...]) -> str:
    """A schedule as it is written on the command line."""
    return ",".join(f"{step:g}" for step in schedule)


def parse_names(text: str) -> tuple[str, ...]:
    """Names separated by commas, without blanks or empty ones."""
    names = tuple(name.strip().lower() for name in text.split(","))
    if not all(names) or any(" " in name for name in names):
        raise ValueError("must be names separated by commas, such as payments,shop.test")
    return names


def parse_time(text: str) -> datetime:
    """An RFC 3339 time with its zone, such as 2020-07-19T22:26:23Z."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValueError("must be an RFC 3339 time with its zone, such as 2020-07-19T22:26:23Z")
    return moment
