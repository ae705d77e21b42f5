"""The command line's options: each setting's flag, environment variable, help and parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .apis.cardloader.prepaid_cards import DEFAULT_LIMITS, parse_limits
from .callbacks.deliveries import DEFAULT_LOG_SIZE
from .callbacks.retries import DEFAULT_SCHEDULE
from .core import jsonio
from .core.activity import DEFAULT_SIZE as DEFAULT_ACTIVITY_SIZE
from .core.api_faults import ApiFault, parse_api_faults
from .core.simulation import MAX_LATENCY_MS
from .parsing import (
    format_schedule,
    parse_bool,
    parse_decimal,
    parse_float,
    parse_int,
    parse_names,
    parse_schedule,
    parse_time,
)

__all__ = ["DEFAULT_CALLBACK_URL", "OPTIONS", "OPTION_BY_FIELD", "SWITCHES", "format_schedule"]

DEFAULT_CALLBACK_URL = "http://localhost:8000/payments/confirm"


def parse_api_faults_text(text: str) -> tuple[ApiFault, ...]:
    """--api-faults: a JSON list of API faults; ValueError says what is wrong."""
    try:
        return parse_api_faults(jsonio.loads(text))
    except ValueError as exc:
        raise ValueError(str(exc).replace("'api_faults", "'")) from None


@dataclass(frozen=True, slots=True)
class Option:
    """How one setting is given on the command line and in the environment."""

    field: str
    flag: str
    metavar: str
    help: str
    parse: Callable[[str], object]

    @property
    def env(self) -> str:
        """Its environment variable: PAYMENTS_ and the setting's name."""
        return "PAYMENTS_" + self.field.upper()

    @property
    def names(self) -> str:
        """The flag and its environment variable, as error messages name them."""
        return f"{self.flag} ({self.env})"


OPTIONS = (
    Option("host", "--host", "HOST", "interface to listen on (default: 127.0.0.1)", str),
    Option("port", "--port", "PORT", "TCP port to listen on (default: 5000)", parse_int),
    Option(
        "callback_url",
        "--callback-url",
        "URL",
        f"where order results are POSTed (default: {DEFAULT_CALLBACK_URL})",
        str,
    ),
    Option(
        "callback_timeout",
        "--callback-timeout",
        "SECONDS",
        "seconds to wait for the store's answer before shop_notified is false (default: 5)",
        parse_float,
    ),
    Option(
        "initial_balance",
        "--initial-balance",
        "AMOUNT",
        "balance at start and after POST /reset (default: 50000.00)",
        parse_decimal,
    ),
    Option(
        "currency",
        "--currency",
        "CODE",
        "the account's currency, ISO 4217; an API asking for another is refused (default: USD)",
        str,
    ),
    Option(
        "threads",
        "--threads",
        "N",
        "threads that run requests; a slow store holds one per order payment (default: 16)",
        parse_int,
    ),
    Option(
        "header_timeout",
        "--header-timeout",
        "SECONDS",
        "a client has this long to send a request's headers, and a kept-alive connection"
        " is closed after this long without one (default: 10)",
        parse_float,
    ),
    Option(
        "body_timeout",
        "--body-timeout",
        "SECONDS",
        "a client has this long to send a request's body, from its headers to its last byte;"
        " later, 408 and the connection is closed (default: 10)",
        parse_float,
    ),
    Option(
        "max_connections",
        "--max-connections",
        "N",
        "connections served at once; more wait to be accepted until one closes (default: 4096)",
        parse_int,
    ),
    Option(
        "webhook_secret",
        "--webhook-secret",
        "SECRET",
        "Standard Webhooks secret that signs callbacks: whsec_ and base64 of 24 to 64 bytes"
        " (default: a fixed development secret, printed at startup)",
        str,
    ),
    Option(
        "callback_retries",
        "--callback-retries",
        "N",
        "retries after a failed callback; 0 sends each callback once"
        " (default: one per step of the schedule)",
        parse_int,
    ),
    Option(
        "callback_schedule",
        "--callback-schedule",
        "SECONDS,...",
        "seconds before each retry, each varied by up to 20 percent; the last step repeats"
        f" (default: {format_schedule(DEFAULT_SCHEDULE)})",
        parse_schedule,
    ),
    Option(
        "callback_log_size",
        "--callback-log-size",
        "N",
        f"finished callbacks kept for GET /callbacks (default: {DEFAULT_LOG_SIZE})",
        parse_int,
    ),
    Option(
        "decline_rate",
        "--decline-rate",
        "RATE",
        "share of payments declined with card_declined, 0 to 1 (default: 0)",
        parse_float,
    ),
    Option(
        "decline_seed",
        "--decline-seed",
        "N",
        "seed for --decline-rate, so that a run declines the same payments (default: random)",
        parse_int,
    ),
    Option(
        "latency_ms",
        "--latency-ms",
        "MS",
        f"milliseconds to wait before answering each payment, up to {MAX_LATENCY_MS} (default: 0)",
        parse_int,
    ),
    Option(
        "activity_log_size",
        "--activity-log-size",
        "N",
        f"entries kept for GET /activity and the dashboard's timeline; 0 keeps none"
        f" (default: {DEFAULT_ACTIVITY_SIZE})",
        parse_int,
    ),
    Option(
        "dashboard",
        "--no-dashboard",
        "",
        "do not serve the dashboard page at / and /dashboard (the JSON API stays)",
        parse_bool,
    ),
    Option(
        "api_faults",
        "--api-faults",
        "JSON",
        "the gateway's own failures on purpose from the start: PUT /simulation's"
        ' "api_faults" list, such as \'[{"route": "POST /payments/orders", "fault":'
        ' "status", "status": 503, "rate": 0.1, "seed": 1}]\' (docs/test-controls.md)',
        parse_api_faults_text,
    ),
    Option(
        "max_namespaces",
        "--max-namespaces",
        "N",
        "namespaces (/ns/<name>/, or the Payments-Namespace header) at once besides the"
        " default; past it a new one is refused with 503 (default: 10000)",
        parse_int,
    ),
    Option(
        "namespace_idle",
        "--namespace-idle",
        "SECONDS",
        "a namespace unused this long on the gateway's clock is deleted, 0 for never"
        " (default: 86400)",
        parse_int,
    ),
    Option(
        "stream_lifetime",
        "--stream-lifetime",
        "SECONDS",
        "seconds an open event stream (GET /events, a checkout session's) lasts before the"
        " browser reconnects, 1 to 60 (default: 60)",
        parse_float,
    ),
    Option(
        "limit_per_payment",
        "--limit-per-payment",
        "AMOUNT",
        "refuse a payment over this amount with 402 Limit exceeded (default: no limit)",
        parse_decimal,
    ),
    Option(
        "limit_per_day",
        "--limit-per-day",
        "AMOUNT",
        "refuse a payment that would take the last 24 hours over this amount (default: none)",
        parse_decimal,
    ),
    Option(
        "refund_callbacks",
        "--refund-callbacks",
        "",
        'tell the store of each refund by a "refunded" callback (default: off; a store'
        ' written for the documented API accepts only "success" and "failed")',
        parse_bool,
    ),
    Option(
        "allowed_hosts",
        "--allowed-hosts",
        "NAMES",
        "host names the gateway answers to besides localhost and IP addresses, separated by"
        " commas; * for any (a container's name, say; docs/security.md)",
        parse_names,
    ),
    Option(
        "allowed_origins",
        "--allowed-origins",
        "ORIGINS",
        "pages served elsewhere that may pay and change things from a browser, such as"
        " http://localhost:8000, separated by commas (default: none; docs/security.md)",
        parse_names,
    ),
    Option(
        "kafka_bootstrap_servers",
        "--kafka-bootstrap-servers",
        "HOST:PORT",
        "publish payment-succeeded and payment-failed events to this Kafka broker, for every"
        " decided order payment (default: none; docs/kafka.md)",
        str,
    ),
    Option(
        "clock",
        "--clock",
        "MODE",
        "real or frozen: a frozen clock runs no timer until POST /clock/advance (expiry,"
        " pending decisions, callback retries) (default: real; docs/clock.md)",
        str,
    ),
    Option(
        "clock_start",
        "--clock-start",
        "TIME",
        "start the clock at this RFC 3339 time instead of now, running or frozen (and go"
        " back to it on /reset), e.g. 2020-07-19T22:26:23Z (default: now; docs/clock.md)",
        parse_time,
    ),
    Option(
        "psp_refuse_expired_cards",
        "--psp-refuse-expired-cards",
        "",
        "the PSP refuses a card past its expiry date (default: off, as the real PSP checks no"
        " date; docs/psp.md)",
        parse_bool,
    ),
    Option(
        "card_load_limits",
        "--card-load-limits",
        "LIMITS",
        "how much the card loader may load onto one card within any N days (Nd=AMOUNT), and"
        " hold at once (balance=AMOUNT), separated by commas (default: the real loader's,"
        f" {DEFAULT_LIMITS}; docs/cardloader.md)",
        parse_limits,
    ),
    Option(
        "checkout_expiry",
        "--checkout-expiry",
        "SECONDS",
        "how long a checkout session stays open unless it asks otherwise, 10 to 86400"
        " (default: 1800)",
        parse_int,
    ),
    Option(
        "state_file",
        "--state-file",
        "PATH",
        "keep the account in this JSON-lines file, replayed at start (default: in memory only)",
        str,
    ),
    Option(
        "fsync",
        "--fsync",
        "",
        "with --state-file, fsync each change so it survives a power loss too",
        parse_bool,
    ),
    Option(
        "log_level",
        "--log-level",
        "LEVEL",
        "debug, info, warning or error (default: info; debug adds the dashboard's own"
        " requests, static files and event streams)",
        lambda text: text.strip().lower(),
    ),
    Option(
        "quiet",
        "--quiet",
        "",
        "do not log each request or each delivered callback (warnings stay)",
        parse_bool,
    ),
    Option(
        "server",
        "--server",
        "NAME",
        "HTTP server: granian, the only one (waitress is no longer offered: it could not"
        " hold the limits of docs/limits.md) (default: granian)",
        str,
    ),
)
# Options that are switches: a flag without a value, which turns the setting on (or, for
# the --no- ones, off).
SWITCHES = frozenset(
    {"fsync", "quiet", "dashboard", "refund_callbacks", "psp_refuse_expired_cards"}
)
NEGATED_SWITCHES = frozenset({"dashboard"})
OPTION_BY_FIELD = {option.field: option for option in OPTIONS}
