"""Settings: everything the gateway can be told at start, validated on creation."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .apis.cardloader.prepaid_cards import DEFAULT_LIMITS, ComplianceLimit, parse_limits
from .callbacks.deliveries import DEFAULT_LOG_SIZE
from .callbacks.retries import DEFAULT_SCHEDULE
from .callbacks.signing import DEV_WEBHOOK_SECRET, SecretError, decode_secret
from .core.activity import DEFAULT_SIZE as DEFAULT_ACTIVITY_SIZE
from .core.api_faults import ApiFault
from .core.checkout_session import MAX_EXPIRES_IN, MIN_EXPIRES_IN
from .core.clock import EARLIEST, LATEST, ONE_YEAR
from .core.jsonio import format_time
from .core.money import AmountError, parse_amount
from .core.simulation import MAX_LATENCY_MS
from .core.urls import is_callback_url, is_origin
from .options import DEFAULT_CALLBACK_URL, OPTION_BY_FIELD, OPTIONS, SWITCHES, format_schedule

__all__ = ["DEFAULT_CALLBACK_URL", "OPTIONS", "SWITCHES", "ConfigError", "Settings"]

MAX_THREADS = 256
MAX_WAIT_S = 3600
MAX_CONNECTIONS = 65536
MAX_RETRIES = 100
MAX_RETRY_STEP = 86_400.0
MAX_LOG_SIZE = 1_000_000
MAX_ACTIVITY_SIZE = 100_000
MAX_NAMESPACES = 1_000_000
ONE_YEAR_S = 366 * 86_400
SERVER_NAMES = ("granian",)
CLOCK_MODES = ("real", "frozen")


class ConfigError(ValueError):
    """A setting that cannot be used; str() is one line naming the flag and the value."""


@dataclass(frozen=True)
class Settings:
    """Everything the gateway can be told at start; validated on creation."""

    host: str = "127.0.0.1"
    port: int = 5000
    callback_url: str = DEFAULT_CALLBACK_URL
    callback_timeout: float = 5.0
    initial_balance: Decimal = Decimal("50000.00")
    # The account's one currency (ISO 4217); an API naming another is refused.
    currency: str = "USD"
    threads: int = 16
    # Deadlines on what a client sends (docs/limits.md).
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_connections: int = 4096
    webhook_secret: str = DEV_WEBHOOK_SECRET
    # None: one retry per step of callback_schedule.
    callback_retries: int | None = None
    callback_schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    callback_log_size: int = DEFAULT_LOG_SIZE
    decline_rate: float = 0.0
    decline_seed: int | None = None
    latency_ms: int = 0
    # None: the account lives in memory only.
    state_file: str | None = None
    fsync: bool = False
    quiet: bool = False
    server: str = "granian"
    checkout_expiry: int = 1800
    activity_log_size: int = DEFAULT_ACTIVITY_SIZE
    dashboard: bool = True
    stream_lifetime: float = 60.0
    # None: no limit.
    limit_per_payment: Decimal | None = None
    limit_per_day: Decimal | None = None
    refund_callbacks: bool = False
    # "frozen": the clock stands still from the start until moved (POST /clock/advance).
    clock: str = "real"
    # Where the clock starts (and goes back to on /reset); None: now.
    clock_start: datetime | None = None
    # The card loader's compliance limits per card (docs/cardloader.md).
    card_load_limits: tuple[ComplianceLimit, ...] = parse_limits(DEFAULT_LIMITS)
    # Besides localhost and IP addresses; "*" is any host.
    allowed_hosts: tuple[str, ...] = ()
    # Pages elsewhere that a browser may send writes from, as scheme://host[:port].
    allowed_origins: tuple[str, ...] = ()
    # How much is logged: debug, info, warning or error.
    log_level: str = "info"
    # The PSP refuses a card past its expiry date (the real PSP checks no date).
    psp_refuse_expired_cards: bool = False
    # Where payment events go (host:port, comma-separated); None: no events.
    kafka_bootstrap_servers: str | None = None
    # Namespaces besides the default at once, and the seconds one may stay unused on the
    # gateway's clock before it is deleted (0: never).
    max_namespaces: int = 10_000
    # The gateway's own failures on purpose from the start (PUT /simulation "api_faults").
    api_faults: tuple[ApiFault, ...] = ()
    namespace_idle: int = 86_400

    def __post_init__(self) -> None:
        # Amounts first: given in code as an int, each becomes a Decimal, so the ledger only
        # ever holds Decimals (and a bad one is refused with the amount's own rule).
        for name in ("initial_balance", "limit_per_payment", "limit_per_day"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parsed = parse_amount(value, allow_zero=name == "initial_balance")
                except AmountError as exc:
                    self._require(name, False, exc.rule)
                object.__setattr__(self, name, parsed.value)
        try:
            decode_secret(self.webhook_secret)
        except SecretError as exc:
            # The value is a secret: the message names what is wrong without echoing it.
            raise ConfigError(f"{OPTION_BY_FIELD['webhook_secret'].names} {exc}") from None
        for field, ok, rule in CHECKS:
            self._require(field, ok(self), rule)
        if self.fsync and self.state_file is None:
            raise ConfigError(f"{OPTION_BY_FIELD['fsync'].names} needs --state-file")

    def _require(self, field: str, ok: bool, rule: str) -> None:
        if not ok:
            value = getattr(self, field)
            if field == "callback_schedule":
                value = format_schedule(value)
            elif isinstance(value, tuple):
                value = ",".join(value)
            raise ConfigError(f"{OPTION_BY_FIELD[field].names} {rule}, got {str(value)!r}")

    @classmethod
    def from_sources(cls, given: Mapping[str, str | None], environ: Mapping[str, str]) -> Settings:
        """Build settings from flag values (None when not given) over environment variables."""
        values: dict[str, object] = {}
        for option in OPTIONS:
            text = given.get(option.field)
            if text is None:
                text = environ.get(option.env)
            if text is None:
                continue
            try:
                values[option.field] = option.parse(text)
            except ValueError as exc:
                raise ConfigError(f"{option.names} {exc}, got {text!r}") from None
        return cls(**values)  # type: ignore[arg-type]  # each parser returns its field's type


def _seconds(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low <= value <= high


# Each setting's rule: the field, the check, and the words of the error (after the option's
# names; the value given follows). Checked in this order; amounts and the secret before.
CHECKS: tuple[tuple[str, Callable[[Settings], bool], str], ...] = (
    ("host", lambda s: bool(s.host.strip()), "must not be empty"),
    ("port", lambda s: 1 <= s.port <= 65535, "must be a whole number from 1 to 65535"),
    ("callback_url", lambda s: is_callback_url(s.callback_url),
     "must be an http:// or https:// URL with a host, no spaces and only ASCII characters"
     " (percent-encode the others)"),
    ("callback_timeout", lambda s: math.isfinite(s.callback_timeout) and s.callback_timeout > 0,
     "must be a positive number of seconds"),
    ("threads", lambda s: 1 <= s.threads <= MAX_THREADS, f"must be from 1 to {MAX_THREADS}"),
    ("currency",
     lambda s: len(s.currency) == 3 and s.currency.isascii() and s.currency.isupper(),
     "must be an ISO 4217 code such as USD or EUR"),
    ("callback_retries",
     lambda s: s.callback_retries is None or 0 <= s.callback_retries <= MAX_RETRIES,
     f"must be from 0 to {MAX_RETRIES}"),
    ("callback_schedule",
     lambda s: bool(s.callback_schedule)
     and all(_seconds(step, 0, MAX_RETRY_STEP) for step in s.callback_schedule),
     f"must be one or more numbers of seconds from 0 to {MAX_RETRY_STEP:g}, separated by"
     " commas"),
    ("callback_log_size", lambda s: 1 <= s.callback_log_size <= MAX_LOG_SIZE,
     f"must be from 1 to {MAX_LOG_SIZE}"),
    ("decline_rate", lambda s: 0 <= s.decline_rate <= 1, "must be a number from 0 to 1"),
    ("latency_ms", lambda s: 0 <= s.latency_ms <= MAX_LATENCY_MS,
     f"must be a whole number from 0 to {MAX_LATENCY_MS}"),
    ("state_file", lambda s: s.state_file is None or bool(s.state_file.strip()), "must be a path"),
    ("server", lambda s: s.server in SERVER_NAMES,
     "must be granian (waitress is no longer offered: it could not hold the limits of"
     " docs/limits.md, slow headers and bodies among them)"),
    ("clock", lambda s: s.clock in CLOCK_MODES, "must be real or frozen"),
    ("log_level", lambda s: s.log_level in ("debug", "info", "warning", "error"),
     "must be debug, info, warning or error"),
    ("clock_start",
     lambda s: s.clock_start is None or EARLIEST <= s.clock_start < LATEST - ONE_YEAR,
     f"must be from {format_time(EARLIEST)} to a year before {format_time(LATEST)}"),
    ("allowed_hosts",
     lambda s: all(name and "/" not in name and ":" not in name for name in s.allowed_hosts),
     "must be host names (no scheme, port or path) separated by commas"),
    ("allowed_origins", lambda s: all(is_origin(origin) for origin in s.allowed_origins),
     "must be origins such as http://localhost:8000 (scheme, host and port only), separated"
     " by commas"),
    ("checkout_expiry", lambda s: MIN_EXPIRES_IN <= s.checkout_expiry <= MAX_EXPIRES_IN,
     f"must be a whole number of seconds from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN}"),
    ("activity_log_size", lambda s: 0 <= s.activity_log_size <= MAX_ACTIVITY_SIZE,
     f"must be from 0 to {MAX_ACTIVITY_SIZE}"),
    ("header_timeout", lambda s: _seconds(s.header_timeout, 0.1, MAX_WAIT_S),
     f"must be a number of seconds from 0.1 to {MAX_WAIT_S}"),
    ("body_timeout", lambda s: _seconds(s.body_timeout, 0.1, MAX_WAIT_S),
     f"must be a number of seconds from 0.1 to {MAX_WAIT_S}"),
    ("max_connections", lambda s: 16 <= s.max_connections <= MAX_CONNECTIONS,
     f"must be a whole number from 16 to {MAX_CONNECTIONS}"),
    ("max_namespaces", lambda s: 0 <= s.max_namespaces <= MAX_NAMESPACES,
     f"must be from 0 to {MAX_NAMESPACES}"),
    ("namespace_idle", lambda s: 0 <= s.namespace_idle <= ONE_YEAR_S,
     f"must be from 0 (never) to {ONE_YEAR_S} seconds"),
    ("stream_lifetime", lambda s: _seconds(s.stream_lifetime, 1, 60),
     "must be a number of seconds from 1 to 60"),
)  # fmt: skip
