"""Query parameters: a name the OpenAPI document does not list for the route is a 400.

The document is the one list of what each route takes, so the server and the document
cannot disagree; a misspelt filter (?orderid=) is refused instead of silently ignored.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from flask import request

from ..errors import ApiError
from .spec import spec

# Flask's <converter:name> as OpenAPI's {name}.
_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@functools.cache
def documented_query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, OpenAPI path) -> the query parameter names the document lists."""
    document: dict[str, Any] = spec()
    shared = document.get("components", {}).get("parameters", {})
    found: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = set()
            for given in [*item.get("parameters", []), *operation.get("parameters", [])]:
                parameter = shared[given["$ref"].rsplit("/", 1)[1]] if "$ref" in given else given
                if parameter["in"] == "query":
                    names.add(parameter["name"])
            found[(method.upper(), path)] = frozenset(names)
    return found


def refuse_unknown_query_parameters() -> None:
    """Before each request: 400 for a query parameter the route's operation does not list."""
    if not request.query_string or request.url_rule is None:
        return
    path = _RULE_VARIABLE.sub(r"{\1}", request.url_rule.rule)
    method = "GET" if request.method == "HEAD" else request.method
    allowed = documented_query_parameters().get((method, path))
    if allowed is None:
        return  # not a JSON API route (pages have their own rules)
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        takes = f"use {', '.join(sorted(allowed))}" if allowed else "it takes none"
        raise ApiError(400, f"'{unknown[0]}' is not a query parameter of {method} {path}; {takes}")
