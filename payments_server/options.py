"""The command line's options: each setting's flag, environment variable, help and parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .callbacks.deliveries import DEFAULT_LOG_SIZE
from .callbacks.retries import DEFAULT_SCHEDULE
from .core.activity import DEFAULT_SIZE as DEFAULT_ACTIVITY_SIZE
from .core.simulation import MAX_LATENCY_MS
from .parsing import (
    format_schedule,
    parse_bool,
    parse_decimal,
    parse_float,
    parse_int,
    parse_names,
    parse_schedule,
)

__all__ = ["DEFAULT_CALLBACK_URL", "OPTIONS", "OPTION_BY_FIELD", "SWITCHES", "format_schedule"]

DEFAULT_CALLBACK_URL = "http://localhost:8000/payments/confirm"


@dataclass(frozen=True, slots=True)
class Option:
    """How one setting is given on the command line and in the environment."""

    field: str
    flag: str
    env: str
    metavar: str
    help: str
    parse: Callable[[str], object]

    @property
    def names(self) -> str:
        """The flag and its environment variable, as error messages name them."""
        return f"{self.flag} ({self.env})"


OPTIONS = (
    Option(
        "host",
        "--host",
        "PAYMENTS_HOST",
        "HOST",
        "interface to listen on (default: 127.0.0.1)",
        str,
    ),
    Option(
        "port",
        "--port",
        "PAYMENTS_PORT",
        "PORT",
        "TCP port to listen on (default: 5000)",
        parse_int,
    ),
    Option(
        "callback_url",
        "--callback-url",
        "PAYMENTS_CALLBACK_URL",
        "URL",
        f"where order results are POSTed (default: {DEFAULT_CALLBACK_URL})",
        str,
    ),
    Option(
        "callback_timeout",
        "--callback-timeout",
        "PAYMENTS_CALLBACK_TIMEOUT",
        "SECONDS",
        "seconds to wait for the store's answer before shop_notified is false (default: 5)",
        parse_float,
    ),
    Option(
        "initial_balance",
        "--initial-balance",
        "PAYMENTS_INITIAL_BALANCE",
        "AMOUNT",
        "balance at start and after POST /reset (default: 50000.00)",
        parse_decimal,
    ),
    Option(
        "threads",
        "--threads",
        "PAYMENTS_THREADS",
        "N",
        "threads that run requests (granian's blocking threads); a slow store holds one per"
        " order payment (default: 16)",
        parse_int,
    ),
    Option(
        "webhook_secret",
        "--webhook-secret",
        "PAYMENTS_WEBHOOK_SECRET",
        "SECRET",
        "Standard Webhooks secret that signs callbacks: whsec_ and base64 of 24 to 64 bytes"
        " (default: a fixed development secret, printed at startup)",
        str,
    ),
    Option(
        "callback_retries",
        "--callback-retries",
        "PAYMENTS_CALLBACK_RETRIES",
        "N",
        "retries after a failed callback; 0 sends each callback once"
        " (default: one per step of the schedule)",
        parse_int,
    ),
    Option(
        "callback_schedule",
        "--callback-schedule",
        "PAYMENTS_CALLBACK_SCHEDULE",
        "SECONDS,...",
        "seconds before each retry, each varied by up to 20 percent; the last step repeats"
        f" (default: {format_schedule(DEFAULT_SCHEDULE)})",
        parse_schedule,
    ),
    Option(
        "callback_log_size",
        "--callback-log-size",
        "PAYMENTS_CALLBACK_LOG_SIZE",
        "N",
        f"finished callbacks kept for GET /callbacks (default: {DEFAULT_LOG_SIZE})",
        parse_int,
    ),
    Option(
        "decline_rate",
        "--decline-rate",
        "PAYMENTS_DECLINE_RATE",
        "RATE",
        "share of payments declined with card_declined, 0 to 1 (default: 0, none)",
        parse_float,
    ),
    Option(
        "decline_seed",
        "--decline-seed",
        "PAYMENTS_DECLINE_SEED",
        "N",
        "seed for --decline-rate, so that a run declines the same payments (default: random)",
        parse_int,
    ),
    Option(
        "latency_ms",
        "--latency-ms",
        "PAYMENTS_LATENCY_MS",
        "MS",
        f"milliseconds to wait before answering each payment, up to {MAX_LATENCY_MS} (default: 0)",
        parse_int,
    ),
    Option(
        "activity_log_size",
        "--activity-log-size",
        "PAYMENTS_ACTIVITY_LOG_SIZE",
        "N",
        f"entries kept for GET /activity and the dashboard's timeline; 0 keeps none"
        f" (default: {DEFAULT_ACTIVITY_SIZE})",
        parse_int,
    ),
    Option(
        "dashboard",
        "--no-dashboard",
        "PAYMENTS_DASHBOARD",
        "",
        "do not serve the dashboard page at / and /dashboard (the JSON API stays)",
        parse_bool,
    ),
    Option(
        "stream_lifetime",
        "--stream-lifetime",
        "PAYMENTS_STREAM_LIFETIME",
        "SECONDS",
        "seconds an open GET /events stream lasts before the browser reconnects, 1 to 60"
        " (default: 60)",
        parse_float,
    ),
    Option(
        "limit_per_payment",
        "--limit-per-payment",
        "PAYMENTS_LIMIT_PER_PAYMENT",
        "AMOUNT",
        "refuse a payment over this amount with 402 Limit exceeded (default: no limit)",
        parse_decimal,
    ),
    Option(
        "limit_per_day",
        "--limit-per-day",
        "PAYMENTS_LIMIT_PER_DAY",
        "AMOUNT",
        "refuse a payment that would take the last 24 hours over this amount (default: none)",
        parse_decimal,
    ),
    Option(
        "refund_callbacks",
        "--refund-callbacks",
        "PAYMENTS_REFUND_CALLBACKS",
        "",
        'tell the store of each refund by a "refunded" callback (default: off, as a store'
        ' written for seed 000 accepts only "success" and "failed")',
        parse_bool,
    ),
    Option(
        "allowed_hosts",
        "--allowed-hosts",
        "PAYMENTS_ALLOWED_HOSTS",
        "NAMES",
        "host names the gateway answers to besides localhost and IP addresses, separated by"
        " commas; * for any (a container's name, say; docs/security.md)",
        parse_names,
    ),
    Option(
        "allowed_origins",
        "--allowed-origins",
        "PAYMENTS_ALLOWED_ORIGINS",
        "ORIGINS",
        "pages served elsewhere that may pay and change things from a browser, such as"
        " http://localhost:8000, separated by commas (default: none; docs/security.md)",
        parse_names,
    ),
    Option(
        "clock",
        "--clock",
        "PAYMENTS_CLOCK",
        "MODE",
        "real (the default) or frozen: a frozen clock runs no timer until POST /clock/advance"
        " (expiry, pending decisions, callback retries; docs/clock.md)",
        str,
    ),
    Option(
        "checkout_expiry",
        "--checkout-expiry",
        "PAYMENTS_CHECKOUT_EXPIRY",
        "SECONDS",
        "how long a checkout session stays open unless it asks otherwise, 10 to 86400"
        " (default: 1800)",
        parse_int,
    ),
    Option(
        "state_file",
        "--state-file",
        "PAYMENTS_STATE_FILE",
        "PATH",
        "keep the account in this JSON-lines file, replayed at start (default: in memory only)",
        str,
    ),
    Option(
        "fsync",
        "--fsync",
        "PAYMENTS_FSYNC",
        "",
        "with --state-file, fsync each change so it survives a power loss too",
        parse_bool,
    ),
    Option(
        "quiet",
        "--quiet",
        "PAYMENTS_QUIET",
        "",
        "do not log each request or each delivered callback (warnings stay)",
        parse_bool,
    ),
    Option(
        "server",
        "--server",
        "PAYMENTS_SERVER",
        "NAME",
        "HTTP server: granian (fast, the default) or waitress (pure Python, for platforms"
        " without granian wheels)",
        str,
    ),
)
# Options that are switches: a flag without a value, which turns the setting on (or, for
# the --no- ones, off).
SWITCHES = frozenset({"fsync", "quiet", "dashboard", "refund_callbacks"})
NEGATED_SWITCHES = frozenset({"dashboard"})
OPTION_BY_FIELD = {option.field: option for option in OPTIONS}
