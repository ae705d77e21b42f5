"""Namespaces over HTTP: list, make (with a balance and callback URL), look at, delete.

A namespace is also made by its first request (/ns/<name>/…, or the Payments-Namespace
header); these routes are for a namespace set up ahead, and for cleaning up after.
"""

from __future__ import annotations

from flask import Blueprint, Response

from ...core.money import AmountError, parse_amount
from ...core.namespace_names import NamespaceError, NamespaceOptions
from ..errors import ApiError
from ..namespace_routing import namespaces
from ..responses import json_response
from ..web import json_object, optional_json_object, url_field

bp = Blueprint("namespaces", __name__)

FIELDS = frozenset({"name", "balance", "callback_url"})


@bp.get("/namespaces")
def listed() -> Response:
    """Every namespace, the default first, and how many more may be made."""
    every = namespaces()
    shown = [space.to_json() for space in every]
    return json_response({"namespaces": shown, "count": len(shown), "max": every.cap})


@bp.post("/namespaces")
def create() -> Response:
    """Make a namespace: {"name", "balance"?, "callback_url"?}; 201 with it."""
    body = json_object()
    _refuse_unknown(body, FIELDS)
    name = body.get("name")
    if not isinstance(name, str):
        raise ApiError(400, "'name' is required: 1 to 64 letters, digits, '-' or '_'")
    return _create(name, body)


@bp.put("/namespaces/<name>")
def put(name: str) -> Response:
    """Make a namespace named in the path, {"balance"?, "callback_url"?}: behind a proxy
    that routes by namespace (docs/scaling.md) it reaches the replica that will own it."""
    body = optional_json_object() or {}
    _refuse_unknown(body, FIELDS - {"name"})
    return _create(name, body)


def _refuse_unknown(body: dict[str, object], fields: frozenset[str]) -> None:
    unknown = sorted(set(body) - fields)
    if unknown:
        raise ApiError(400, f"Unknown field {unknown[0]!r}; a namespace takes {sorted(fields)}")


def _create(name: str, body: dict[str, object]) -> Response:
    balance = None
    if body.get("balance") is not None:
        try:
            balance = parse_amount(body["balance"], name="Balance", allow_zero=True).value
        except AmountError as exc:
            raise ApiError(400, str(exc)) from None
    options = NamespaceOptions(balance, url_field(body, "callback_url"))
    try:
        made = namespaces().create(name, options)
    except NamespaceError as exc:
        raise ApiError(exc.status, exc.message) from None
    return json_response(made.to_json(), 201)


@bp.get("/namespaces/<name>")
def show(name: str) -> Response:
    """One namespace, without making it or counting a use."""
    found = namespaces().get(name)
    if found is None:
        raise ApiError(404, f"No namespace {name!r}")
    return json_response(found.to_json())


@bp.delete("/namespaces/<name>")
def delete(name: str) -> Response:
    """Forget a namespace: its account, orders, timers, callbacks and state file."""
    try:
        gone = namespaces().delete(name)
    except NamespaceError as exc:
        raise ApiError(exc.status, exc.message) from None
    if not gone:
        raise ApiError(404, f"No namespace {name!r}")
    return json_response({"status": "success", "message": f"Namespace {name!r} deleted"})
