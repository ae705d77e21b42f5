"""Serving the app: bind, announce, serve with granian, stop cleanly on a signal.

One process holds the account. The socket is bound here, by Python, for both servers: the
errors are ours to word, and without SO_REUSEPORT a second gateway on the same port is
refused instead of silently sharing it.
"""

from __future__ import annotations

import errno
import logging
import resource
import signal
import socket
import threading
from types import FrameType

from . import __version__, close_app, create_app
from .account import Account
from .apis.accesslog import AccessLog
from .apis.namespace_routing import NAMESPACES_KEY
from .apis.web import EXTENSION_KEY, LARGEST_BODY
from .callbacks.signing import DEV_WEBHOOK_SECRET
from .config import Settings
from .core.journal import JournalError
from .core.jsonio import format_time
from .core.money import format_balance
from .http_servers import SERVERS, ServerLimits
from .logs import stop_logging
from .namespaces import Namespaces
from .publishing.kafka import KafkaUnavailableError

log = logging.getLogger("payments_server")

BACKLOG = 1024


class StartupError(Exception):
    """The server could not start; str() is one line for the user."""


def base_url(host: str, port: int) -> str:
    """The URL clients use for a host and port (IPv6 addresses in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(settings: Settings) -> None:
    """Serve the gateway until SIGINT or SIGTERM; raise StartupError if it cannot start."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    # Installed first: whoever reads the startup lines may send a signal at once. SIGINT
    # too, explicitly: a shell script starting us in the background leaves SIGINT ignored.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            app = create_app(settings)
        except (JournalError, KafkaUnavailableError) as exc:
            raise StartupError(str(exc)) from None
        gateway: Account = app.extensions[EXTENSION_KEY]
        namespaces: Namespaces = app.extensions[NAMESPACES_KEY]
        try:
            listener = _bind(settings)
        except StartupError:
            close_app(app)
            raise
        # --quiet drops the per-request lines, and with them the wrapper that times them.
        wsgi = app if settings.quiet else AccessLog(app)

        # Open event streams end as soon as a stop is asked for, so they never hold it up.
        def close_streams() -> None:
            stopping.wait()
            for account in namespaces.accounts():
                account.events.close()

        threading.Thread(target=close_streams, name="close-streams", daemon=True).start()
        limits = ServerLimits(
            settings.threads, settings.header_timeout, settings.body_timeout,
            settings.max_connections, LARGEST_BODY, namespaces.wake,
        )  # fmt: skip
        _allow_descriptors(settings.max_connections)
        with listener:
            # The socket already listens: a request sent as soon as this line is read waits
            # in the backlog until the server takes it.
            _announce(settings, gateway)
            SERVERS[settings.server](wsgi, listener, limits, stopping)
        _report_stop(close_app(app))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_logging()


def _allow_descriptors(connections: int) -> None:
    """Let the process hold a descriptor per connection, and some to spare, if it may."""
    wanted = connections + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, ceiling), hard))


def _bind(settings: Settings) -> socket.socket:
    where = f"{settings.host}:{settings.port}"
    try:
        infos = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError):
        raise StartupError(f"cannot listen on {where}: the host name does not resolve") from None
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(BACKLOG)
    except OSError as exc:
        listener.close()
        raise StartupError(_bind_problem(where, exc)) from None
    return listener


def _announce(settings: Settings, gateway: Account) -> None:
    log.info(
        "payments_server %s listening on %s (%s, %d threads; store callbacks to %s);"
        " press Ctrl+C to stop",
        __version__,
        base_url(settings.host, settings.port),
        settings.server,
        settings.threads,
        settings.callback_url,
    )
    log.info(
        "callbacks are signed (Standard Webhooks) with %s; %s",
        _describe_secret(settings.webhook_secret),
        gateway.callbacks.policy.describe(),
    )
    if settings.kafka_bootstrap_servers is not None:
        log.info(
            "payment events to Kafka at %s (payment-succeeded, payment-failed)",
            settings.kafka_bootstrap_servers,
        )
    if gateway.clock.frozen:
        log.info(
            "the clock is frozen at %s: nothing falls due until POST /clock/advance",
            format_time(gateway.clock.now()),
        )
    if settings.api_faults:
        # Asked for, so not a warning: the line says the gateway's failures are on purpose.
        log.info(
            "%d API %s on (--api-faults): the gateway fails on purpose; GET /simulation"
            " shows them, PUT /simulation {} turns them off",
            len(settings.api_faults), "fault" if len(settings.api_faults) == 1 else "faults",
        )  # fmt: skip
    if settings.dashboard:
        log.info(
            "dashboard at %s/ (every payment, decision and callback, live)",
            base_url(settings.host, settings.port),
        )
    if settings.state_file is not None:
        sessions = gateway.checkout.sessions.newest_first()
        open_now = sum(1 for session in sessions if session.open)
        log.info(
            "state kept in %s%s: %d transactions, balance %s%s",
            settings.state_file,
            " (fsync after each change)" if settings.fsync else "",
            len(gateway.ledger.transactions()),
            format_balance(gateway.ledger.balance),
            f"; {len(sessions)} checkout sessions, {open_now} open" if sessions else "",
        )


def _report_stop(pending: int) -> None:
    if pending:
        log.warning(
            "payments_server stopped with %d %s still pending; they will not be retried",
            pending,
            "callback" if pending == 1 else "callbacks",
        )
    else:
        log.info("payments_server stopped")


def _describe_secret(secret: str) -> str:
    # The development secret is printed so it can be copied; a secret of your own is not.
    if secret == DEV_WEBHOOK_SECRET:
        return f"the development secret {secret}"
    return "your secret from --webhook-secret (PAYMENTS_WEBHOOK_SECRET)"


def _bind_problem(where: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: the port is already in use"
            " (another payments_server? choose another with --port)"
        )
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {where}: {exc.strerror or exc}"
