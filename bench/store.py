"""A fast store for the benchmark: answers every callback 200 over keep-alive (waitress)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from waitress import serve

ANSWER = b"{}"


def store(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Read the callback and acknowledge it."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [ANSWER]


if __name__ == "__main__":
    serve(store, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
