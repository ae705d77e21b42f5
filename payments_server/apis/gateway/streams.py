"""Server-Sent Events from the event bus: what a live view needs, nothing it must poll for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flask import Response

from ...core import jsonio
from ...core.checkout_session import CheckoutSession
from ...core.events import Notice
from ..responses import json_response
from ..web import DISCONNECTED

if TYPE_CHECKING:
    from ...account import Account

HEARTBEAT_S = 15.0


def client_gone(environ: dict[str, Any]) -> threading.Event:
    """Set when the client of this request has left, if the server says so (granian);
    otherwise an event never set, and the stream ends at its next write."""
    departure = environ.get(DISCONNECTED)
    return departure() if callable(departure) else threading.Event()


def sse(data: object, event: str | None = None, id: int | None = None) -> bytes:
    """One Server-Sent Event: optional event name and id, the data as one JSON line."""
    head = (f"event: {event}\n" if event else "") + (f"id: {id}\n" if id is not None else "")
    return f"{head}data: {jsonio.dumps(data)}\n\n".encode()


def describe(state: Account, session: CheckoutSession, page_url: str) -> dict[str, object]:
    """The session object with its callback's delivery state, as the API shows it (in the
    account's currency when the store named none, as the page shows it)."""
    callback_state = None
    if session.callback_id is not None:
        try:
            callback_state = state.flow.delivery(session.callback_id).state.value
        except LookupError:
            callback_state = None  # the log has let it go
    return session.to_json(page_url, callback_state, state.settings.currency)


def session_stream(
    state: Account, session_id: str, page_url: str, gone: threading.Event, lifetime: float
) -> Iterator[bytes]:
    """The session at once, then again whenever it changes; ends when it is final, when
    it is forgotten (a reset), when the client has `gone`, when the gateway stops, or
    after `lifetime` seconds (--stream-lifetime: the page's EventSource comes back for the
    session as it is then, so no stream holds a slot for a session's whole life)."""
    bus = state.events
    seen = bus.last
    deadline = time.monotonic() + lifetime
    while True:
        session = state.checkout.sessions.get(session_id)
        if session is None:
            yield sse({"id": session_id, "state": None}, event="gone")
            return
        yield sse(describe(state, session, page_url), event="session", id=seen)
        if not session.open:
            return
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            notices = bus.wait(seen, min(HEARTBEAT_S, left), gone)
            if bus.closed or gone.is_set():
                return
            if notices is None or any(
                n.kind == "reset" or (n.kind == "session" and n.id == session_id) for n in notices
            ):
                seen = bus.last
                break
            if notices:
                seen = notices[-1].seq
            else:
                yield b": heartbeat\n\n"


def stream_response(state: Account, stream: Iterator[bytes], poll_instead: str) -> Response:
    """The stream as an event-stream answer holding one of the capped slots, or 503 JSON
    with Retry-After when every slot is taken (`poll_instead` says what to poll)."""
    if not state.streams.acquire():
        response = json_response(
            {
                "status": "failed",
                "message": f"Too many open event streams (at most {state.streams.cap});"
                f" poll {poll_instead} instead",
            },
            503,
        )
        response.headers["Retry-After"] = "2"
        return response
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.call_on_close(state.streams.release)
    return response


def notice_stream(
    state: Account, last_event_id: int | None, lifetime: float, gone: threading.Event
) -> Iterator[bytes]:
    """Change notices {seq, kind, id} as they are published, for `lifetime` seconds or
    until the client has `gone`.

    First a `hello` with the newest number, or, resuming from Last-Event-ID, the notices
    missed since, or `resync` if some are no longer kept (fetch everything again).
    """
    bus = state.events
    # Sent at once, so the browser knows the stream is open; it reconnects after 2 s.
    yield b"retry: 2000\n\n"
    seen = bus.last
    missed = None if last_event_id is None else bus.since(last_event_id)
    if last_event_id is None or missed is None:
        yield sse({"seq": seen}, event="hello" if last_event_id is None else "resync", id=seen)
    else:
        yield _notices(missed)
        seen = missed[-1].seq if missed else last_event_id
    deadline = time.monotonic() + lifetime
    while (left := deadline - time.monotonic()) > 0:
        # `gone` is part of the wait: a client that left just before it began ends it too.
        notices = bus.wait(seen, min(HEARTBEAT_S, left), gone)
        if bus.closed or gone.is_set():
            return
        if notices is None:
            seen = bus.last
            yield sse({"seq": seen}, event="resync", id=seen)
        elif notices:
            seen = notices[-1].seq
            yield _notices(notices)
        elif time.monotonic() < deadline:
            yield b": heartbeat\n\n"


def _notices(notices: list[Notice]) -> bytes:
    # Whatever arrived together goes out in one write.
    return b"".join(sse(notice.to_json(), id=notice.seq) for notice in notices)
