"""Scenario control over HTTP: GET and PUT /simulation."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ...core.simulation import SimulationError, SimulationSettings
from ..api_fault_hooks import documented_path
from ..errors import ApiError
from ..responses import json_response
from ..web import LARGEST_BODY, account, json_object

bp = Blueprint("simulation", __name__)

# A thousand rules with the longest order ids, each character JSON-escaped, fit in this;
# the app's 64 KiB limit would refuse some valid settings with 413 before they are read.
MAX_SETTINGS_BYTES = LARGEST_BODY


@bp.get("/simulation")
def show() -> Response:
    """Show the simulation settings, with what is left of each count rule."""
    return _settings_response()


@bp.put("/simulation")
def replace() -> Response:
    """Replace every simulation setting; {} turns the simulation off."""
    request.max_content_length = MAX_SETTINGS_BYTES
    body = json_object()
    try:
        settings = SimulationSettings.from_json(body)
    except SimulationError as exc:
        raise ApiError(400, str(exc)) from None
    routes = _routes()
    for index, fault in enumerate(settings.api_faults):
        if fault.route not in routes:
            raise ApiError(400, f"'api_faults[{index}].route' is not a route of the gateway,"
                           f" got {fault.route!r}; see GET /openapi.json")  # fmt: skip
    account().flow.configure(settings)
    return _settings_response()


def _routes() -> frozenset[str]:
    """Every "METHOD /path" the app answers, paths as the documents write them."""
    return frozenset(
        f"{method} {documented_path(rule.rule)}"
        for rule in current_app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS") and rule.endpoint != "static"
    )


def _settings_response() -> Response:
    return json_response({"status": "success", "simulation": account().flow.simulation().to_json()})
