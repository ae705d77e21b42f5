"""GatewayNamespace: one test's own account on a gateway that many tests share, over HTTP.

It talks to the gateway as a store's client would (the standard library's urllib, so the
kit needs nothing more), which is what lets it work with a gateway in another process, in
another xdist worker's, or run as a CI service.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..core import jsonio

__all__ = ["GatewayNamespace", "NamespaceClock", "namespace_name_for"]

# How long one call to the gateway may take before the test fails, in seconds.
TIMEOUT = 30.0
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def namespace_name_for(test_name: str) -> str:
    """A fresh namespace name that says which test it belongs to: the test's name made
    safe, and a random tail so that reruns and workers never meet."""
    readable = _NOT_IN_A_NAME.sub("-", test_name).strip("-")[:48] or "test"
    return f"{readable}-{uuid.uuid4().hex[:12]}"


class GatewayNamespace:
    """A namespace of a running gateway: its base URL for the store's client, its clock,
    its reset; delete() forgets it."""

    def __init__(self, gateway_url: str, name: str) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self.name = name
        self.clock = NamespaceClock(self)

    @classmethod
    def create(
        cls,
        gateway_url: str,
        name: str,
        *,
        callback_url: str | None = None,
        balance: Decimal | int | str | None = None,
    ) -> GatewayNamespace:
        """Make the namespace on the gateway (PUT /namespaces/<name>, which a proxy in front
        of replicas routes to the right one); raise AssertionError with the gateway's
        answer if it refuses."""
        made = cls(gateway_url, name)
        body: dict[str, Any] = {}
        if callback_url is not None:
            body["callback_url"] = callback_url
        if balance is not None:
            body["balance"] = Decimal(str(balance))
        _call("PUT", f"{made.gateway_url}/namespaces/{name}", body, expect=201)
        return made

    @property
    def base_url(self) -> str:
        """Where the store's client points instead of the gateway: every API is under it."""
        return f"{self.gateway_url}/ns/{self.name}"

    def url_for(self, path: str) -> str:
        """The URL of a path in this namespace: url_for("/balance")."""
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """Send one JSON request in this namespace; its status and parsed body."""
        return _call(method, self.url_for(path), body)

    def reset(self, balance: Decimal | int | str | None = None) -> None:
        """Start the namespace again from its balance (or `balance`)."""
        body = None if balance is None else {"balance": Decimal(str(balance))}
        _call("POST", self.url_for("/reset"), body, expect=200)

    def delete(self) -> None:
        """Forget the namespace on the gateway (a second delete is harmless)."""
        _call("DELETE", f"{self.gateway_url}/namespaces/{self.name}", expect=(200, 404))

    def __repr__(self) -> str:
        return f"GatewayNamespace({self.base_url!r})"


class NamespaceClock:
    """The namespace's own clock: freeze it and move it through its timers (no other
    namespace's time moves)."""

    def __init__(self, namespace: GatewayNamespace) -> None:
        self._namespace = namespace

    @property
    def now(self) -> datetime:
        """The namespace's time now."""
        return datetime.fromisoformat(self._state()["now"].replace("Z", "+00:00"))

    @property
    def frozen(self) -> bool:
        """True while the clock stands still."""
        return bool(self._state()["frozen"])

    def freeze(self) -> None:
        """Stop the clock: nothing falls due until advance()."""
        _call("PUT", self._namespace.url_for("/clock"), {"frozen": True}, expect=200)

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        _call("PUT", self._namespace.url_for("/clock"), {"frozen": False}, expect=200)

    def advance(self, seconds: float) -> list[dict[str, str]]:
        """Move the clock on, running what falls due on the way; what ran, in order."""
        _, body = _call(
            "POST", self._namespace.url_for("/clock/advance"), {"seconds": seconds}, expect=200
        )
        ran: list[dict[str, str]] = body["ran"]
        return ran

    def _state(self) -> dict[str, Any]:
        _, body = _call("GET", self._namespace.url_for("/clock"), expect=200)
        return dict(body)


def _call(
    method: str, url: str, body: object = None, *, expect: int | tuple[int, ...] | None = None
) -> tuple[int, Any]:
    data = None if body is None else jsonio.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    parsed = jsonio.loads(raw) if raw else None
    wanted = (expect,) if isinstance(expect, int) else expect
    if wanted is not None and status not in wanted:
        raise AssertionError(
            f"{method} {url} answered {status}, not {' or '.join(map(str, wanted))}:"
            f" {json.dumps(parsed, default=str)}"
        )
    return status, parsed
