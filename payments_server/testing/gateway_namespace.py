"""GatewayNamespace: one test's own account on a gateway that many tests share, over HTTP.

It talks to the gateway as a store's client would, over HTTP (the standard library's
http.client, so the kit needs nothing more), which is what lets it work with a gateway in
another process, in another xdist worker's, or run as a CI service. One keep-alive
connection serves every call of a test run (GatewayConnection): a namespace per test costs
two requests on it, not two new connections.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ..core import jsonio

__all__ = [
    "GatewayConnection",
    "GatewayNamespace",
    "NamespaceClock",
    "api_faults_on",
    "namespace_name_for",
]

# How long one call to the gateway may take before the test fails, in seconds.
TIMEOUT = 30.0
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def namespace_name_for(test_name: str) -> str:
    """A fresh namespace name that says which test it belongs to: the test's name made
    safe, and a random tail so that reruns and workers never meet."""
    readable = _NOT_IN_A_NAME.sub("-", test_name).strip("-")[:48] or "test"
    return f"{readable}-{uuid.uuid4().hex[:12]}"


class GatewayConnection:
    """One keep-alive HTTP connection to a gateway, opened again when the gateway has
    closed it (it closes one idle for --header-timeout); safe to share between threads."""

    def __init__(self, gateway_url: str) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        parts = urlsplit(self.gateway_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http:// or https:// URL: {gateway_url!r}")
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._lock = threading.Lock()
        self._open: http.client.HTTPConnection | None = None

    def call(
        self,
        method: str,
        url: str,
        body: object = None,
        *,
        expect: int | tuple[int, ...] | None = None,
    ) -> tuple[int, Any]:
        """Send one JSON request to a URL of this gateway; its status and parsed body.
        Raise AssertionError, with the answer, when the status is not one `expect`ed."""
        parts = urlsplit(url)
        if parts.netloc != self._netloc:
            raise ValueError(f"{url!r} is not on this connection's gateway {self.gateway_url}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        data = None if body is None else jsonio.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        with self._lock:
            status, raw = self._send(method, target, data, headers)
        parsed = jsonio.loads(raw) if raw else None
        wanted = (expect,) if isinstance(expect, int) else expect
        if wanted is not None and status not in wanted:
            raise AssertionError(
                f"{method} {url} answered {status}, not {' or '.join(map(str, wanted))}:"
                f" {json.dumps(parsed, default=str)}"
            )
        return status, parsed

    def close(self) -> None:
        """Close the connection (the next call opens another)."""
        with self._lock:
            if self._open is not None:
                self._open.close()
                self._open = None

    def _send(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        reused = self._open is not None
        try:
            return self._exchange(method, target, data, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The gateway closed the kept connection while it was idle, before reading
            # this request: send it once more on a new one.
            return self._exchange(method, target, data, headers)

    def _exchange(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        if self._open is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._open = kind(self._netloc, timeout=TIMEOUT)
        connection = self._open
        try:
            connection.request(method, target, body=data, headers=headers)
            answer = connection.getresponse()
            raw = answer.read()
        except BaseException:
            connection.close()
            self._open = None
            raise
        if answer.will_close:
            connection.close()
            self._open = None
        return answer.status, raw


class GatewayNamespace:
    """A namespace of a running gateway: its base URL for the store's client, its clock,
    its reset; delete() forgets it."""

    def __init__(
        self, gateway_url: str, name: str, connection: GatewayConnection | None = None
    ) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self.name = name
        self.clock = NamespaceClock(self)
        self._connection = connection or GatewayConnection(self.gateway_url)

    @classmethod
    def create(
        cls,
        gateway_url: str,
        name: str,
        *,
        callback_url: str | None = None,
        balance: Decimal | int | str | None = None,
        connection: GatewayConnection | None = None,
    ) -> GatewayNamespace:
        """Make the namespace on the gateway (PUT /namespaces/<name>, which a proxy in front
        of replicas routes to the right one); raise AssertionError with the gateway's
        answer if it refuses. Its calls go over `connection` if given (one kept for a
        whole test run), else over one of its own."""
        made = cls(gateway_url, name, connection)
        body: dict[str, Any] = {}
        if callback_url is not None:
            body["callback_url"] = callback_url
        if balance is not None:
            body["balance"] = Decimal(str(balance))
        made._connection.call("PUT", f"{made.gateway_url}/namespaces/{name}", body, expect=201)
        return made

    @property
    def base_url(self) -> str:
        """Where the store's client points instead of the gateway: every API is under it."""
        return f"{self.gateway_url}/ns/{self.name}"

    def url_for(self, path: str) -> str:
        """The URL of a path in this namespace: url_for("/balance")."""
        return self.base_url + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        expect: int | tuple[int, ...] | None = None,
    ) -> tuple[int, Any]:
        """Send one JSON request in this namespace; its status and parsed body. Raise
        AssertionError, with the answer, when the status is not one `expect`ed."""
        return self._connection.call(method, self.url_for(path), body, expect=expect)

    def reset(self, balance: Decimal | int | str | None = None) -> None:
        """Start the namespace again from its balance (or `balance`)."""
        body = None if balance is None else {"balance": Decimal(str(balance))}
        self.request("POST", "/reset", body, expect=200)

    def delete(self) -> None:
        """Forget the namespace on the gateway (a second delete is harmless)."""
        url = f"{self.gateway_url}/namespaces/{self.name}"
        self._connection.call("DELETE", url, expect=(200, 404))

    @contextmanager
    def api_faults(self, *faults: Mapping[str, object]) -> Iterator[None]:
        """These API faults in force in this namespace for a `with` block (PUT /simulation
        "api_faults"), the simulation as it was afterwards."""
        with api_faults_on(self._connection, self.url_for("/simulation"), faults):
            yield

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
        self._namespace.request("PUT", "/clock", {"frozen": True}, expect=200)

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        self._namespace.request("PUT", "/clock", {"frozen": False}, expect=200)

    def back_to_real_time(self) -> list[dict[str, str]]:
        """Bring a clock that is behind real time up to it, running what falls due on the
        way, and run it on real time; what ran. AssertionError (the gateway's 409, saying
        why) for a clock ahead of real time: it never goes back."""
        _, body = self._namespace.request("PUT", "/clock", {"real_time": True}, expect=200)
        ran: list[dict[str, str]] = body["ran"]
        return ran

    def advance(self, seconds: float) -> list[dict[str, str]]:
        """Move the clock on, running what falls due on the way; what ran, in order."""
        _, body = self._namespace.request(
            "POST", "/clock/advance", {"seconds": seconds}, expect=200
        )
        ran: list[dict[str, str]] = body["ran"]
        return ran

    def _state(self) -> dict[str, Any]:
        _, body = self._namespace.request("GET", "/clock", expect=200)
        return dict(body)


@contextmanager
def api_faults_on(
    connection: GatewayConnection, simulation_url: str, faults: tuple[Mapping[str, object], ...]
) -> Iterator[None]:
    """API faults in force for a block (docs/test-controls.md): the simulation at
    `simulation_url` with "api_faults" set, put back as it was when the block ends.
    Raise AssertionError with the gateway's answer if it refuses the faults."""
    _, before = connection.call("GET", simulation_url, expect=200)
    simulation = dict(before["simulation"])
    connection.call("PUT", simulation_url, {**simulation, "api_faults": list(faults)}, expect=200)
    try:
        yield
    finally:
        connection.call("PUT", simulation_url, simulation, expect=200)
