"""The dashboard: one page that follows GET /events and fetches what changed from the
JSON API, as a script would. The page has no endpoint of its own besides itself."""

from __future__ import annotations

from itertools import islice

from flask import Blueprint, Response, redirect, render_template, request

from ..apis.errors import ApiError
from ..apis.gateway.activity import index
from ..apis.namespace_routing import PREFIX, namespace_name, namespaces
from ..apis.responses import json_response
from ..apis.web import account
from ..callbacks.signing import DEV_WEBHOOK_SECRET
from ..core.jsonio import format_time
from ..core.money import format_balance
from ..core.namespace_names import DEFAULT, NamespaceError, check_name
from .security import secure

bp = Blueprint("dashboard", __name__, template_folder="templates")
# The namespace picker lists this many (by name); GET /namespaces lists them all.
SHOWN_NAMESPACES = 200
bp.after_request(secure)


@bp.get("/")
def home() -> Response:
    """The dashboard for a browser (Accept prefers HTML), the JSON index for anything else."""
    wants = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if wants == "text/html" and account().settings.dashboard:
        return dashboard()
    return index()


@bp.get("/dashboard/secret")
def secret() -> Response:
    """The signing secret, for the dashboard's Reveal: only to a page of this gateway (or a
    script, which sends no Sec-Fetch-Site), never to a page elsewhere."""
    state = account()
    if not state.settings.dashboard:
        raise ApiError(404, "The dashboard is turned off (--no-dashboard)")
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in {"same-origin", "none"}:
        raise ApiError(403, "The secret is shown only to the dashboard's own page")
    return json_response({"status": "success", "secret": state.settings.webhook_secret})


@bp.get("/dashboard")
def dashboard() -> Response:
    """The live dashboard page; 404 JSON with --no-dashboard."""
    state = account()
    settings = state.settings
    if not settings.dashboard:
        raise ApiError(404, "The dashboard is turned off (--no-dashboard)")
    chosen = request.args.get("namespace")
    if chosen is not None:
        return _to_namespace(chosen)
    summary = state.flow.summary()
    every = namespaces()
    body = render_template(
        "dashboard.html",
        holder=summary.holder,
        account_id=summary.account_id,
        balance=format_balance(summary.balance),
        currency=settings.currency,
        callback_url=settings.callback_url,
        development_secret=settings.webhook_secret == DEV_WEBHOOK_SECRET,
        simulation=state.flow.simulation(),
        activity_size=state.activity.size,
        clock_real=state.clock.real,
        clock_frozen=state.clock.frozen,
        clock_now=format_time(state.clock.now()),
        namespace=namespace_name(),
        namespaces=[space.name for space in islice(every, SHOWN_NAMESPACES)],
        namespaces_more=max(0, len(every) - SHOWN_NAMESPACES),
    )
    response = Response(body, mimetype="text/html")
    response.vary.add("Accept")
    return response


def _to_namespace(name: str) -> Response:
    """The picker's choice: that namespace's dashboard (made on first use, as any request
    makes it); 400 for a name that is not one."""
    try:
        check_name(name)
    except NamespaceError as exc:
        raise ApiError(exc.status, exc.message) from None
    where = "/dashboard" if name == DEFAULT else f"{PREFIX}{name}/dashboard"
    return redirect(where, 303)  # type: ignore[return-value]
