"""A request written as the curl command that sends it again, for copy and paste."""

from __future__ import annotations

import shlex
from collections.abc import Mapping


def as_curl(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> str:
    """One curl command line: method, URL, headers in order, and the body byte for byte."""
    parts = ["curl", "-sS", "-X", method, shlex.quote(url)]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        # --data-binary sends the bytes unchanged (-d would strip newlines).
        parts += ["--data-binary", shlex.quote(body.decode("utf-8", "replace"))]
    return " ".join(parts)
