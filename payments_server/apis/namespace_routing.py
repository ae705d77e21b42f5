"""Which namespace a request is in: the path prefix /ns/<name>/ or the Payments-Namespace
header (the prefix wins when both are sent); neither is the default namespace, as before.

The prefix is taken off the path before Flask routes it and moved to SCRIPT_NAME, so every
route, page and URL the app builds (a checkout page's, a form's action) stays in the
namespace without knowing of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import current_app, g

from ..core.namespace_names import DEFAULT, NamespaceError, check_name
from .errors import ApiError
from .web import EXTENSION_KEY

if TYPE_CHECKING:
    # Only the types: the app composes the namespaces, the API only asks them.
    from ..account import Account
    from ..namespaces import Namespaces

PREFIX = "/ns/"
HEADER = "Payments-Namespace"
# The name the prefix gave, in the WSGI environ; checked by enter_namespace().
ENVIRON_KEY = "payments_server.namespace"
NAMESPACES_KEY = "payments_server.namespaces"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class NamespacePrefix:
    """WSGI middleware: /ns/<name>/rest is served as /rest, in namespace <name>."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            name, _, rest = path[len(PREFIX) :].partition("/")
            environ[ENVIRON_KEY] = name
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + name
            environ["PATH_INFO"] = "/" + rest
        return self.app(environ, start_response)


def namespaces() -> Namespaces:
    """Every namespace of the app handling this request."""
    found: Namespaces = current_app.extensions[NAMESPACES_KEY]
    return found


def namespace_name() -> str:
    """The namespace this request is in (DEFAULT without a prefix or header)."""
    return str(g.get("namespace", DEFAULT))


def enter_namespace(environ: dict[str, Any]) -> Account:
    """Find the account of the request's namespace (made on first use) and keep it for
    web.account(), or refuse the request in its API's shape (400 for a bad name, 503 past
    --max-namespaces)."""
    name = environ.get(ENVIRON_KEY)
    if name is None:
        name = environ.get("HTTP_PAYMENTS_NAMESPACE")
    if name is None:
        chosen: Account = current_app.extensions[EXTENSION_KEY]
    else:
        try:
            chosen = namespaces().account(check_name(name))
        except NamespaceError as exc:
            g.namespace_refused = True
            raise ApiError(exc.status, exc.message) from None
        g.namespace = name
    g.account = chosen
    return chosen
