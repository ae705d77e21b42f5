"""Serving the app with waitress: bind, announce, log, and stop cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import errno
import logging
import signal
import sys
from types import FrameType

from waitress.server import create_server

from . import __version__, create_app
from .api.accesslog import AccessLog
from .api.web import EXTENSION_KEY
from .callbacks.signing import DEV_WEBHOOK_SECRET
from .config import Settings
from .core.journal import JournalError
from .core.money import format_balance
from .gateway import Gateway

log = logging.getLogger("payments_server")


class StartupError(Exception):
    """The server could not start; str() is one line for the user."""


def configure_logging(quiet: bool) -> None:
    """Log to stderr; --quiet silences only the per-request lines."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    # waitress announces itself at INFO; our startup line says more.
    logging.getLogger("waitress").setLevel(logging.WARNING)
    # "Task queue depth is N" only says every thread is busy: normal under load, not a fault.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logging.getLogger("payments_server.access").setLevel(logging.WARNING if quiet else logging.INFO)


def base_url(host: str, port: int) -> str:
    """The URL clients use for a host and port (IPv6 addresses in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(settings: Settings) -> None:
    """Serve the gateway until SIGINT or SIGTERM; raise StartupError if it cannot start."""
    try:
        app = create_app(settings)
    except JournalError as exc:
        raise StartupError(str(exc)) from None
    try:
        server = create_server(
            # --quiet drops the per-request lines, and with them the wrapper that times them.
            app if settings.quiet else AccessLog(app),
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident=f"payments_server/{__version__}",
        )
    except OSError as exc:
        raise StartupError(_bind_problem(settings, exc)) from None
    except ValueError:
        # waitress's word for a host name that does not resolve.
        raise StartupError(
            f"cannot listen on {settings.host}:{settings.port}: the host name does not resolve"
        ) from None
    # Installed before the startup lines: whoever reads them may send a signal at once.
    # SIGINT too, explicitly: a shell script starting us in the background leaves SIGINT
    # ignored, and Python then never turns it into KeyboardInterrupt.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        _announce(settings, app.extensions[EXTENSION_KEY])
        # Returns after KeyboardInterrupt; waitress gives in-flight requests up to 5 s to finish.
        server.run()
    except KeyboardInterrupt:
        pass  # stopped before run() had started
    finally:
        server.close()
        pending = app.extensions[EXTENSION_KEY].close()
        if pending:
            log.warning(
                "payments_server stopped with %d %s still pending; they will not be retried",
                pending,
                "callback" if pending == 1 else "callbacks",
            )
        else:
            log.info("payments_server stopped")


def _announce(settings: Settings, gateway: Gateway) -> None:
    log.info(
        "payments_server %s listening on %s (store callbacks to %s); press Ctrl+C to stop",
        __version__,
        base_url(settings.host, settings.port),
        settings.callback_url,
    )
    log.info(
        "callbacks are signed (Standard Webhooks) with %s; %s",
        _describe_secret(settings.webhook_secret),
        gateway.callbacks.policy.describe(),
    )
    if settings.state_file is not None:
        log.info(
            "state kept in %s%s: %d transactions, balance %s",
            settings.state_file,
            " (fsync after each change)" if settings.fsync else "",
            len(gateway.ledger.transactions()),
            format_balance(gateway.ledger.balance),
        )


def _describe_secret(secret: str) -> str:
    # The development secret is printed so it can be copied; a secret of your own is not.
    if secret == DEV_WEBHOOK_SECRET:
        return f"the development secret {secret}"
    return "your secret from --webhook-secret (PAYMENTS_WEBHOOK_SECRET)"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM and SIGINT take the same clean path as Ctrl+C.
    raise KeyboardInterrupt


def _bind_problem(settings: Settings, exc: OSError) -> str:
    where = f"{settings.host}:{settings.port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use"
            " (another payments_server? choose another with --port)"
        )
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {where}: {exc.strerror or exc}"
