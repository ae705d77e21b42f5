"""Command line: flags and environment variables -> Settings -> serve."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from . import __version__
from .config import OPTIONS, SWITCHES, ConfigError, Settings
from .logs import configure_logging
from .options import NEGATED_SWITCHES
from .serve import StartupError, serve

PROG = "payments-server"

DESCRIPTION = """\
A mock payments gateway for store development and integration tests.
It holds one in-memory account (ACC-001, John Doe) and serves GET /balance,
POST /pay, POST /payments/orders, POST /pay/order, GET /transactions and
POST /reset. After each order payment it POSTs {"order_id", "status"} to the
store's callback URL and reports whether the store got it in "shop_notified".
Callbacks are signed with Standard Webhooks headers (webhook-id, webhook-timestamp,
webhook-signature), retried in the background when the store fails, and kept in a
log: GET /callbacks, GET /callbacks/<id>, POST /callbacks/<id>/retry.
Refunds: POST /payments/orders/<id>/refunds. Spending limits: --limit-per-payment and
--limit-per-day (402 "Limit exceeded").
Hosted checkout: POST /checkout/sessions, and the payment page at /checkout/<id>.
A live dashboard in the browser at / (GET /dashboard): every request, decision and
callback as it happens; GET /events streams the change notices it follows.
The whole API is described by the OpenAPI document at GET /openapi.json.
With --state-file the account survives a restart or a crash.
"""

EPILOG = """\
Every option can also be set by the environment variable shown; a flag wins.
payments-server check-store CONFIRM_URL grades a store's callback endpoint (--help there).
Example: payments-server --port 5001 --callback-url http://localhost:8001/payments/confirm
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; values stay text here and are validated by Settings."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in OPTIONS:
        help_text = f"{option.help} [env: {option.env}]"
        if option.field in SWITCHES:
            parser.add_argument(
                option.flag,
                dest=option.field,
                action="store_const",
                const="0" if option.field in NEGATED_SWITCHES else "1",
                help=help_text,
            )
        else:
            parser.add_argument(
                option.flag, dest=option.field, metavar=option.metavar, help=help_text
            )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the gateway; return 2 with one line on stderr for bad settings or a busy port."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["check-store"]:
        from .check_store_command import main as check_store  # noqa: PLC0415 -- its own command

        return check_store(arguments[1:])
    args = build_parser().parse_args(arguments)
    try:
        settings = Settings.from_sources(vars(args), os.environ if environ is None else environ)
    except ConfigError as exc:
        return _fail(str(exc))
    configure_logging(settings.quiet, settings.log_level)
    try:
        serve(settings)
    except StartupError as exc:
        return _fail(str(exc))
    # Everything is written and closed. granian's native threads may still be leaving an
    # event stream's Python code, and the interpreter's own shutdown would race them (a
    # panic in Rust, and exit code -6): so the process ends here, without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
