"""`payments-server check-store`: put a store's callback endpoint through every way real
webhooks go wrong and grade it (docs/check-store.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .callbacks.checks import CHECKS
from .callbacks.report_card import CheckError, StoreChecker, allowed, shell_orders
from .callbacks.signing import DEV_WEBHOOK_SECRET, SecretError, decode_secret

DESCRIPTION = """\
Send a store's callback endpoint (its CONFIRM_URL) the callbacks real webhooks bring, on
purpose, and grade what it does: a correctly signed success and failed, a bad signature, a
missing one and a stale timestamp, the same delivery twice, a late failed after success,
an unknown order, a body that is not JSON, a status it may not know, how fast it answers,
and a burst at once. Each check prints what was sent (as curl), what came back and the fix.

Checks that need an order the store knows take one from --new-order, a shell command that
prints a new order id awaiting payment; without it they are skipped. With --order-status,
the checks also read what the store did, not only its status codes.

Exit status: 0 when every check passed, 1 when one failed, 2 when the checks cannot run.
It calls only CONFIRM_URL and the --order-status URL, on this machine unless
--allow-remote; every request has a timeout and the number of requests is fixed.
"""

EPILOG = """\
Example, against the example store (make store): a new order is a cart checked out.
  payments-server check-store http://127.0.0.1:8000/payments/confirm \\
    --new-order 'bash examples/new_order.sh' \\
    --order-status 'http://127.0.0.1:8000/orders/{order_id}'
docs/check-store.md explains each check and its fix.
"""


def build_parser() -> argparse.ArgumentParser:
    """The check-store command's arguments."""
    checks = "\n".join(f"  {check.name}" + ("" if check.needs_order else " (always runs)")
                       for check in CHECKS)  # fmt: skip
    parser = argparse.ArgumentParser(
        prog="payments-server check-store",
        description=f"{DESCRIPTION}\nThe checks:\n{checks}\n",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("url", metavar="CONFIRM_URL", help="the store's callback endpoint")
    parser.add_argument("--secret", default=DEV_WEBHOOK_SECRET,
                        help="the secret the store verifies with (default: the development"
                             " secret)")  # fmt: skip
    parser.add_argument("--new-order", metavar="CMD",
                        help="a shell command that prints a new order id awaiting"
                             " payment")  # fmt: skip
    parser.add_argument("--order-status", metavar="URL_TEMPLATE",
                        help="the store's order, as JSON naming its state, e.g."
                             " http://127.0.0.1:8000/orders/{order_id}")  # fmt: skip
    parser.add_argument("--callback-timeout", type=float, default=5.0, metavar="SECONDS",
                        help="the gateway's --callback-timeout the store must answer within"
                             " (default: 5)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="the longest any one request may take (default: 10)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow URLs that are not on this machine")  # fmt: skip
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the checks; 0 all passed, 1 one failed, 2 they could not run."""
    args = build_parser().parse_args(argv)
    try:
        decode_secret(args.secret)
        url = allowed(args.url, args.allow_remote)
        if args.order_status is not None:
            allowed(args.order_status.replace("{order_id}", "x"), args.allow_remote)
        checker = StoreChecker(
            url, args.secret,
            new_order=None if args.new_order is None else shell_orders(args.new_order),
            order_status=args.order_status, timeout=args.timeout,
            callback_timeout=args.callback_timeout,
        )  # fmt: skip
        report = checker.run()
    except (CheckError, SecretError) as exc:
        print(f"payments-server check-store: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), indent=2) if args.json else report.to_text())
    return 0 if report.passed else 1
