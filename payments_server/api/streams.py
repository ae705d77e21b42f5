"""Server-Sent Events from the event bus: what a live view needs, nothing it must poll for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..core import jsonio
from ..core.session import CheckoutSession

if TYPE_CHECKING:
    from ..gateway import Gateway

HEARTBEAT_S = 15.0


def sse(data: object, event: str | None = None, id: int | None = None) -> bytes:
    """One Server-Sent Event: optional event name and id, the data as one JSON line."""
    head = (f"event: {event}\n" if event else "") + (f"id: {id}\n" if id is not None else "")
    return f"{head}data: {jsonio.dumps(data)}\n\n".encode()


def describe(state: Gateway, session: CheckoutSession, page_url: str) -> dict[str, object]:
    """The session object with its callback's delivery state, as the API shows it."""
    callback_state = None
    if session.callback_id is not None:
        try:
            callback_state = state.callbacks.get(session.callback_id).state.value
        except LookupError:
            callback_state = None  # the log has let it go
    return session.to_json(page_url, callback_state)


def session_stream(state: Gateway, session_id: str, page_url: str) -> Iterator[bytes]:
    """The session at once, then again whenever it changes; ends when it is final, when
    it is forgotten (a reset), or when the gateway stops."""
    bus = state.events
    seen = bus.last
    while True:
        session = state.checkout.sessions.get(session_id)
        if session is None:
            yield sse({"id": session_id, "state": None}, event="gone")
            return
        yield sse(describe(state, session, page_url), event="session", id=seen)
        if not session.open:
            return
        while True:
            notices = bus.wait(seen, HEARTBEAT_S)
            if bus.closed:
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
