"""What one API is to the gateway, as moto keeps a backend per service: a `Surface` subclass
in the API's folder says where it lives, what its routes are, how it words an error, and
what state of its own an account keeps for it (`ApiState`: its part of /reset, of the
state file, and of a restart). `registry.SURFACES` lists them; adding an API is a folder
and a line there (or `create_app(surfaces=...)`, as a test does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from flask import Blueprint, Flask, Response, current_app, has_request_context, request

from .responses import json_response

if TYPE_CHECKING:
    # Only the type: the gateway composes the APIs' state, so no API imports it at run time.
    from ..account import Account

SURFACES_KEY = "payments_server.surfaces"


class ApiState(Protocol):
    """An API's own part of one account: what /reset forgets and a restart brings back."""

    def reset(self) -> None:
        """Forget everything (the account was reset)."""

    def restore(self, event: Mapping[str, Any]) -> bool:
        """Apply a state-file line of the API's own kind; False if it is not one."""

    def restore_order(self, event: Mapping[str, Any]) -> None:
        """An order's line read back (its payment's note may be the API's record)."""

    def resume(self) -> None:
        """After the state file was read: start the API's timers and work again."""


class NoState:
    """An API that keeps nothing beyond the account's orders and sessions."""

    def reset(self) -> None:
        """Nothing to forget."""

    def restore(self, event: Mapping[str, Any]) -> bool:
        """No line is this API's own."""
        return False

    def restore_order(self, event: Mapping[str, Any]) -> None:
        """Nothing is kept on an order's line."""

    def resume(self) -> None:
        """Nothing to start."""


class Surface:
    """One API: subclass it in the API's folder and list an instance in SURFACES."""

    id = ""
    title = ""
    base_url = ""
    docs = ""

    def blueprints(self) -> Sequence[Blueprint]:
        """The API's routes."""
        raise NotImplementedError

    def register(self, app: Flask) -> None:
        """Register the routes under the base URL (and any hook the API needs)."""
        for blueprint in self.blueprints():
            app.register_blueprint(blueprint, url_prefix=self.base_url or None)

    def recorded(self) -> frozenset[str]:
        """The blueprints whose writes the activity log keeps (all of them by default)."""
        return frozenset(blueprint.name for blueprint in self.blueprints())

    def new_state(self, account: Account) -> ApiState:
        """The API's own state in a new account (nothing by default)."""
        return NoState()

    def error(self, status: int, message: str, extra: Mapping[str, object]) -> Response:
        """A failure in the API's own shape (the gateway's envelope by default)."""
        return json_response({"status": "failed", "message": message, **extra}, status)

    def owns(self, path: str) -> bool:
        """True if a request path is under this API's base URL."""
        base = self.base_url
        return not base or path == base or path.startswith(base + "/")

    def to_json(self, host_url: str) -> dict[str, str]:
        """As the index (GET /) lists it, base_url absolute on the host the client used."""
        return {
            "id": self.id,
            "title": self.title,
            "base_url": host_url.rstrip("/") + (self.base_url or "/"),
            "docs": self.docs,
        }


def surfaces() -> Sequence[Surface]:
    """The APIs the current app speaks, the gateway's own first."""
    found: Sequence[Surface] = current_app.extensions[SURFACES_KEY]
    return found


def surface_for(path: str) -> Surface:
    """The API a request path belongs to: the one with the longest base URL that owns it."""
    listed = surfaces()
    owners = [surface for surface in listed[1:] if surface.owns(path)]
    return owners[0] if owners else listed[0]


def current_surface() -> Surface | None:
    """The API of the request being handled, or None outside a request."""
    if not has_request_context() or SURFACES_KEY not in current_app.extensions:
        return None
    return surface_for(request.path)
