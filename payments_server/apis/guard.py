"""What a page elsewhere must not make the gateway do: answer to a name it does not have
(DNS rebinding), or pay, refund, reset or change settings from another origin.

curl and a store's server send neither `Origin` nor `Sec-Fetch-Site`, and they are not
affected. A browser sends them, so a page served by the gateway itself works and a page
elsewhere is refused unless it is allowed (--allowed-origins). docs/security.md.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING, Any

from flask import request

from .errors import ApiError

if TYPE_CHECKING:
    from ..config import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def guard(environ: dict[str, Any], settings: Settings) -> None:
    """Refuse a Host the gateway does not answer to, and a write a browser sends from
    another origin (run before each request, with its WSGI environ and its settings)."""
    # Read from the WSGI environ: on every request, werkzeug's header views cost more.
    host = environ.get("HTTP_HOST") or request.host
    if not _answers_to(host, settings.host, settings.allowed_hosts):
        raise ApiError(
            403, f"Host {host!r} is not a name this gateway answers to: it answers to"
            " localhost and IP addresses; allow another with --allowed-hosts",
        )  # fmt: skip
    if environ.get("REQUEST_METHOD") not in UNSAFE_METHODS:
        return
    origin = environ.get("HTTP_ORIGIN")
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if origin is not None and origin != "null":
        own = request.host_url.rstrip("/").lower()
        if origin.lower() != own and origin.lower() not in settings.allowed_origins:
            raise ApiError(
                403, f"Cross-site request refused: a page at {origin} may not change this"
                f" gateway; allow it with --allowed-origins {origin}",
            )  # fmt: skip
    # No origin to compare: the checkout page's own forms send "null" (its referrer policy
    # is no-referrer), with Sec-Fetch-Site saying where they come from.
    elif site in {"cross-site", "same-site"} or (origin == "null" and site is None):
        raise ApiError(
            403, "Cross-site request refused: a page elsewhere may not change this gateway"
        )


# Remembered per Host value: a client sends the same one on every request.
@functools.lru_cache(maxsize=256)
def _answers_to(host: str, own: str, allowed: tuple[str, ...]) -> bool:
    name = _host_name(host)
    return _local(name) or name == own or "*" in allowed or name in allowed


def _host_name(host: str) -> str:
    host = host.lower()
    if host.startswith("["):  # [::1]:5000
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _local(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
