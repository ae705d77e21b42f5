"""The command line's options: each setting's flag, environment variable, help and parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .callbacks.deliveries import DEFAULT_LOG_SIZE
from .callbacks.retries import DEFAULT_SCHEDULE
from .core.activity import DEFAULT_SIZE as DEFAULT_ACTIVITY_SIZE
from .core.simulation import MAX_LATENCY_MS

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


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError("must be one of 1, true, yes, on, 0, false, no, off")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("must be a number") from None


def _parse_decimal(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValueError("must be a number") from None


def _parse_schedule(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(step) for step in text.split(","))
    except ValueError:
        raise ValueError("must be seconds separated by commas, such as 1,5,30") from None


def format_schedule(schedule: tuple[float, ...]) -> str:
    return ",".join(f"{step:g}" for step in schedule)


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
        _parse_int,
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
        _parse_float,
    ),
    Option(
        "initial_balance",
        "--initial-balance",
        "PAYMENTS_INITIAL_BALANCE",
        "AMOUNT",
        "balance at start and after POST /reset (default: 50000.00)",
        _parse_decimal,
    ),
    Option(
        "threads",
        "--threads",
        "PAYMENTS_THREADS",
        "N",
        "threads that run requests (granian's blocking threads); a slow store holds one per"
        " order payment (default: 16)",
        _parse_int,
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
        _parse_int,
    ),
    Option(
        "callback_schedule",
        "--callback-schedule",
        "PAYMENTS_CALLBACK_SCHEDULE",
        "SECONDS,...",
        "seconds before each retry, each varied by up to 20 percent; the last step repeats"
        f" (default: {format_schedule(DEFAULT_SCHEDULE)})",
        _parse_schedule,
    ),
    Option(
        "callback_log_size",
        "--callback-log-size",
        "PAYMENTS_CALLBACK_LOG_SIZE",
        "N",
        f"finished callbacks kept for GET /callbacks (default: {DEFAULT_LOG_SIZE})",
        _parse_int,
    ),
    Option(
        "decline_rate",
        "--decline-rate",
        "PAYMENTS_DECLINE_RATE",
        "RATE",
        "share of payments declined with card_declined, 0 to 1 (default: 0, none)",
        _parse_float,
    ),
    Option(
        "decline_seed",
        "--decline-seed",
        "PAYMENTS_DECLINE_SEED",
        "N",
        "seed for --decline-rate, so that a run declines the same payments (default: random)",
        _parse_int,
    ),
    Option(
        "latency_ms",
        "--latency-ms",
        "PAYMENTS_LATENCY_MS",
        "MS",
        f"milliseconds to wait before answering each payment, up to {MAX_LATENCY_MS} (default: 0)",
        _parse_int,
    ),
    Option(
        "activity_log_size",
        "--activity-log-size",
        "PAYMENTS_ACTIVITY_LOG_SIZE",
        "N",
        f"entries kept for GET /activity and the dashboard's timeline; 0 keeps none"
        f" (default: {DEFAULT_ACTIVITY_SIZE})",
        _parse_int,
    ),
    Option(
        "dashboard",
        "--no-dashboard",
        "PAYMENTS_DASHBOARD",
        "",
        "do not serve the dashboard page at / and /dashboard (the JSON API stays)",
        _parse_bool,
    ),
    Option(
        "stream_lifetime",
        "--stream-lifetime",
        "PAYMENTS_STREAM_LIFETIME",
        "SECONDS",
        "seconds an open GET /events stream lasts before the browser reconnects, 1 to 60"
        " (default: 60)",
        _parse_float,
    ),
    Option(
        "limit_per_payment",
        "--limit-per-payment",
        "PAYMENTS_LIMIT_PER_PAYMENT",
        "AMOUNT",
        "refuse a payment over this amount with 402 Limit exceeded (default: no limit)",
        _parse_decimal,
    ),
    Option(
        "limit_per_day",
        "--limit-per-day",
        "PAYMENTS_LIMIT_PER_DAY",
        "AMOUNT",
        "refuse a payment that would take the last 24 hours over this amount (default: none)",
        _parse_decimal,
    ),
    Option(
        "refund_callbacks",
        "--no-refund-callbacks",
        "PAYMENTS_REFUND_CALLBACKS",
        "",
        'do not tell the store of refunds (a store that only accepts "success" and "failed")',
        _parse_bool,
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
        _parse_int,
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
        _parse_bool,
    ),
    Option(
        "quiet",
        "--quiet",
        "PAYMENTS_QUIET",
        "",
        "do not log each request or each delivered callback (warnings stay)",
        _parse_bool,
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
NEGATED_SWITCHES = frozenset({"dashboard", "refund_callbacks"})
OPTION_BY_FIELD = {option.field: option for option in OPTIONS}
