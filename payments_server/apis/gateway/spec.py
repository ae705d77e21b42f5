"""The OpenAPI 3.1 document of the HTTP API, kept as openapi.json beside this module."""

from __future__ import annotations

import functools
import json
from importlib import resources

from flask import Blueprint, Response

from ..responses import MIMETYPE, BufferedResponse

bp = Blueprint("spec", __name__)

SPEC_FILE = "openapi.json"


@functools.cache
def spec_bytes() -> bytes:
    """The document exactly as it is stored in the package."""
    return resources.files(__package__).joinpath(SPEC_FILE).read_bytes()


def spec() -> dict[str, object]:
    """The document, parsed."""
    return json.loads(spec_bytes())


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document."""
    return BufferedResponse(spec_bytes(), mimetype=MIMETYPE)
