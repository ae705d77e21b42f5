"""The gateway's clock over HTTP: look at it, freeze it, and advance it through its timers."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import Blueprint, Response

from ...core.clock import LATEST, ClockAheadError, ClockRangeError
from ...core.jsonio import format_time
from ...flow.payment_flow import Due
from ..errors import ApiError
from ..responses import json_response
from ..web import account, json_object

bp = Blueprint("clock", __name__)

# A year and a day: far enough for any test of a 30-day settlement, near enough to be a typo.
MAX_ADVANCE_S = 366 * 86_400
ADVANCE_RULE = (
    'Body must be {"seconds": N} with N a number of seconds above 0 and at most'
    f' {MAX_ADVANCE_S}, or {{"to": "<RFC 3339 time with a zone>"}}'
)
TOO_FAR = f"'to' is more than {MAX_ADVANCE_S} seconds after the clock's now"
# RFC 3339's date-time, which OpenAPI's "date-time" format is: any fraction of a second, a
# leap second, a lower-case t or z.
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))"
)
SHOWN_UPCOMING = 10
PUT_RULE = 'Body must be {"frozen": true}, {"frozen": false} or {"real_time": true}'


@bp.get("/clock")
def show() -> Response:
    """The clock: now, whether it stands still, and what runs next."""
    return _clock_response()


@bp.put("/clock")
def set_clock() -> Response:
    """Freeze the clock where it is, let it run again from there, or bring it back to real
    time (up to it, running what falls due on the way: it never goes back)."""
    body = json_object()
    state = account()
    # `is True`: 1 compares equal to True, and the document says true.
    if set(body) == {"real_time"} and body["real_time"] is True:
        try:
            ran = state.flow.clock_to_real_time()
        except ClockAheadError as exc:
            raise ApiError(409, _ahead_message(exc.ahead)) from None
        state.events.publish("clock")
        return _clock_response(ran)
    frozen = body.get("frozen")
    if set(body) != {"frozen"} or not isinstance(frozen, bool):
        raise ApiError(400, PUT_RULE)
    state.flow.set_clock_frozen(frozen)
    state.events.publish("clock")
    return _clock_response()


def _ahead_message(ahead: timedelta) -> str:
    return (
        f"The clock is {_roughly(ahead)} ahead of real time and never goes back: what ran on"
        " the way would have run in the future. POST /reset starts it over where it started"
        ' (with the account), or {"frozen": false} lets it run on from where it is'
    )


def _roughly(span: timedelta) -> str:
    """A span in words, to the minute from 90 s on (a message, not a measurement)."""
    seconds = span.total_seconds()
    if seconds < 90:
        return f"{math.ceil(seconds)} s"
    days, rest = divmod(round(seconds / 60), 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    return " ".join(parts)


@bp.post("/clock/advance")
def advance() -> Response:
    """Move the clock forward, running everything that falls due on the way, in due order,
    callbacks included; answer once they have run."""
    state = account()
    target = _target(json_object(), state.clock.now())
    ran = state.flow.advance_clock(target)
    state.events.publish("clock")
    return _clock_response(ran)


def _target(body: dict[str, object], now: datetime) -> datetime:
    if len(body) != 1:
        raise ApiError(400, ADVANCE_RULE)
    target = _requested(body, now)
    if target > LATEST:
        raise ApiError(422, str(ClockRangeError()))
    return target


def _requested(body: dict[str, object], now: datetime) -> datetime:
    if "seconds" in body:
        seconds = body["seconds"]
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | Decimal)
            or not math.isfinite(seconds)
            or not 0 < seconds <= MAX_ADVANCE_S
        ):
            raise ApiError(400, ADVANCE_RULE)
        return now + timedelta(seconds=float(seconds))
    text = body.get("to")
    moment = _rfc3339(text) if isinstance(text, str) else None
    if moment is None:
        raise ApiError(400, ADVANCE_RULE)
    if moment - now > timedelta(seconds=MAX_ADVANCE_S):
        raise ApiError(422, TOO_FAR)
    # A time already passed moves nothing: what is due runs, as it would have.
    return max(moment, now)


def _rfc3339(text: str) -> datetime | None:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, sign, zone_hours, zone_minutes = match.groups()[6:]
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        offset = timedelta(hours=int(zone_hours or 0), minutes=int(zone_minutes or 0))
        micros = int((fraction or "0")[:6].ljust(6, "0"))
        return moment + timedelta(microseconds=micros) - (offset if sign == "+" else -offset)
    except (ValueError, OverflowError):
        return None


def _clock_response(ran: list[Due] | None = None) -> Response:
    state = account()
    clock = state.clock
    body: dict[str, object] = {
        "status": "success",
        "now": format_time(clock.now()),
        "frozen": clock.frozen,
        "real_time": clock.real,
    }
    if ran is not None:
        body["ran"] = [due.to_json() for due in ran]
    body["scheduled"] = [due.to_json() for due in state.flow.upcoming(SHOWN_UPCOMING)]
    return json_response(body)
