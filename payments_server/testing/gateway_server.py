"""GatewayServer: the real gateway app in-process, on a free port, for a store's tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from types import TracebackType
from typing import Any

from flask import Flask, got_request_exception
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .. import close_app, create_app
from ..account import Account
from ..apis.web import EXTENSION_KEY
from ..config import Settings
from ..core.money import parse_amount
from ..serve import base_url
from .gateway_clock import GatewayClock
from .gateway_namespace import GatewayConnection, api_faults_on

__all__ = ["GatewayServer", "GatewayServerError"]


class GatewayServerError(AssertionError):
    """The gateway failed while serving a test: an unexpected error inside a request."""


class _QuietHandler(WSGIRequestHandler):
    # A line per request on stderr would bury the store's own test output.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class GatewayServer:
    """The real gateway app on 127.0.0.1 in a daemon thread, listening before start() returns.

    Keyword options are the CLI's settings by their Settings names (callback_url,
    webhook_secret, initial_balance, ...). Port 0, the default, picks a free port.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, settings: Settings | None = None,
        **options: Any,
    ) -> None:  # fmt: skip
        self.settings = settings or Settings(host=host, **options)
        self.app: Flask = create_app(self.settings)
        self._errors: list[BaseException] = []
        got_request_exception.connect(self._record_error, self.app)
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._serve, name="payments-gateway", daemon=True)

    @property
    def gateway(self) -> Account:
        """The gateway's state (account, callbacks, simulation), for direct inspection."""
        return self.app.extensions[EXTENSION_KEY]

    @property
    def clock(self) -> GatewayClock:
        """The gateway's clock: freeze() it, advance(seconds) it through its timers."""
        return GatewayClock(self.gateway)

    @property
    def port(self) -> int:
        """The port it listens on (the one picked, when asked for port 0)."""
        return self._server.server_port

    @property
    def url(self) -> str:
        """The root URL, such as http://127.0.0.1:54321."""
        return base_url(self.settings.host, self.port)

    def url_for(self, path: str) -> str:
        """The URL of a path on the gateway: url_for("/balance")."""
        return self.url + (path if path.startswith("/") else "/" + path)

    def start(self) -> GatewayServer:
        """Start serving; the socket already listens, so requests can be sent at once."""
        self._thread.start()
        return self

    @contextmanager
    def api_faults(self, *faults: Mapping[str, object]) -> Iterator[None]:
        """These API faults in force for a `with` block (PUT /simulation "api_faults"), the
        simulation as it was afterwards. Faults on the wire (truncate, stall, reset, empty)
        need `python -m payments_server`: this in-process server sends answers whole."""
        connection = GatewayConnection(self.url)
        try:
            with api_faults_on(connection, self.url_for("/simulation"), faults):
                yield
        finally:
            connection.close()

    def reset(self, balance: Decimal | int | str | None = None) -> None:
        """Back to the start: payments, callbacks and keys forgotten, and the clock back on
        real time, as POST /reset does."""
        amount = None
        if balance is not None:
            amount = parse_amount(Decimal(str(balance)), name="balance", allow_zero=True).value
        self.gateway.reset(amount)

    def check(self) -> None:
        """Raise GatewayServerError for the first unexpected error since the last check."""
        if self._errors:
            first, self._errors = self._errors[0], []
            raise GatewayServerError(f"the gateway failed during a request: {first!r}") from first

    def stop(self) -> None:
        """Shut down, wait for the thread, stop callback retries; then raise any error seen."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        close_app(self.app)
        got_request_exception.disconnect(self._record_error, self.app)
        self.check()

    def __enter__(self) -> GatewayServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        try:
            self._server.serve_forever(poll_interval=0.05)
        except BaseException as exc:  # surfaced by check() and stop()
            self._errors.append(exc)

    def _record_error(self, sender: Flask, exception: BaseException, **extra: object) -> None:
        self._errors.append(exception)
