"""What the gateway did, for live views: the activity log, the change-notice stream, and
the index a script finds at GET /."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ... import __name__ as package_name
from ...core.activity import KINDS
from ..errors import ApiError
from ..responses import json_response
from ..surface import surfaces
from ..web import account, int_arg
from .spec import spec
from .streams import client_gone, notice_stream, stream_response

bp = Blueprint("activity", __name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@bp.get("/activity")
def activity() -> Response:
    """Requests, decisions and callback attempts newest first, after ?since= if given,
    filtered by ?kind=, ?order_id= and ?outcome=."""
    args = request.args
    kind = args.get("kind")
    if kind is not None and kind not in KINDS:
        raise ApiError(400, f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    since = int_arg("since", 0, 0, None)
    limit = int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    state = account()
    last = state.events.last
    entries = state.activity.newest_first(
        since, kind, args.get("order_id"), args.get("outcome"), limit
    )
    return json_response(
        {
            "status": "success",
            "last_seq": last,
            "kept": state.activity.size,
            "activity": [entry.to_json() for entry in entries],
        }
    )


@bp.get("/events")
def events() -> Response:
    """Server-Sent Events: a notice {seq, kind, id} for every change, so a live view knows
    what to fetch again; resumes from Last-Event-ID; ends after --stream-lifetime."""
    state = account()
    raw = request.headers.get("Last-Event-ID")
    last_event_id = int(raw) if raw is not None and raw.isascii() and raw.isdigit() else None
    stream = notice_stream(
        state, last_event_id, state.settings.stream_lifetime, client_gone(request.environ)
    )
    return stream_response(state, stream, "GET /activity?since=<seq> every 2 s")


def index() -> Response:
    """GET / for a script: what this server is and where to go."""
    settings = account().settings
    return json_response(
        {
            "status": "success",
            "name": package_name,
            # The document's version is the package's (tests/apis/gateway/test_spec.py).
            "version": spec()["info"]["version"],  # type: ignore[index]
            "dashboard": f"{request.url_root}dashboard" if settings.dashboard else None,
            "openapi": f"{request.url_root}openapi.json",
            "apis": [surface.to_json(request.url_root) for surface in surfaces()],
        }
    )
