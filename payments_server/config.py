"""Settings: every option with its flag, environment variable, default and validation."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from .deliveries import DEFAULT_LOG_SIZE
from .money import AmountError, parse_amount
from .retries import DEFAULT_SCHEDULE
from .signing import DEV_WEBHOOK_SECRET, SecretError, decode_secret
from .simulation import MAX_LATENCY_MS

DEFAULT_CALLBACK_URL = "http://localhost:8000/payments/confirm"
MAX_THREADS = 256
MAX_RETRIES = 100
MAX_RETRY_STEP = 86_400.0
MAX_LOG_SIZE = 1_000_000


class ConfigError(ValueError):
    """A setting that cannot be used; str() is one line naming the flag and the value."""


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


def _format_schedule(schedule: tuple[float, ...]) -> str:
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
        "request worker threads; a slow store holds one per order payment (default: 16)",
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
        f" (default: {_format_schedule(DEFAULT_SCHEDULE)})",
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
    Option("quiet", "--quiet", "PAYMENTS_QUIET", "", "do not log each request", _parse_bool),
)
# Options that are switches: a flag without a value.
SWITCHES = frozenset({"fsync", "quiet"})
OPTION_BY_FIELD = {option.field: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """Everything the gateway can be told at start; validated on creation."""

    host: str = "127.0.0.1"
    port: int = 5000
    callback_url: str = DEFAULT_CALLBACK_URL
    callback_timeout: float = 5.0
    initial_balance: Decimal = Decimal("50000.00")
    threads: int = 16
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

    def __post_init__(self) -> None:
        self._require("host", bool(self.host.strip()), "must not be empty")
        self._require("port", 1 <= self.port <= 65535, "must be a whole number from 1 to 65535")
        self._require(
            "callback_url",
            _is_http_url(self.callback_url),
            "must be an http:// or https:// URL with a host and no spaces",
        )
        self._require(
            "callback_timeout",
            math.isfinite(self.callback_timeout) and self.callback_timeout > 0,
            "must be a positive number of seconds",
        )
        try:
            balance = parse_amount(self.initial_balance, allow_zero=True)
        except AmountError as exc:
            self._require("initial_balance", False, exc.rule)
        # An int given in code becomes a Decimal, so the ledger only ever holds Decimals.
        object.__setattr__(self, "initial_balance", balance.value)
        self._require(
            "threads", 1 <= self.threads <= MAX_THREADS, f"must be from 1 to {MAX_THREADS}"
        )
        try:
            decode_secret(self.webhook_secret)
        except SecretError as exc:
            # The value is a secret: the message names what is wrong without echoing it.
            raise ConfigError(f"{OPTION_BY_FIELD['webhook_secret'].names} {exc}") from None
        self._require(
            "callback_retries",
            self.callback_retries is None or 0 <= self.callback_retries <= MAX_RETRIES,
            f"must be from 0 to {MAX_RETRIES}",
        )
        self._require(
            "callback_schedule",
            bool(self.callback_schedule)
            and all(
                math.isfinite(step) and 0 <= step <= MAX_RETRY_STEP
                for step in self.callback_schedule
            ),
            f"must be one or more numbers of seconds from 0 to {MAX_RETRY_STEP:g},"
            " separated by commas",
        )
        self._require(
            "callback_log_size",
            1 <= self.callback_log_size <= MAX_LOG_SIZE,
            f"must be from 1 to {MAX_LOG_SIZE}",
        )
        self._require("decline_rate", 0 <= self.decline_rate <= 1, "must be a number from 0 to 1")
        self._require(
            "latency_ms",
            0 <= self.latency_ms <= MAX_LATENCY_MS,
            f"must be a whole number from 0 to {MAX_LATENCY_MS}",
        )
        self._require(
            "state_file", self.state_file is None or bool(self.state_file.strip()), "must be a path"
        )
        if self.fsync and self.state_file is None:
            raise ConfigError(f"{OPTION_BY_FIELD['fsync'].names} needs --state-file")

    def _require(self, field: str, ok: bool, rule: str) -> None:
        if not ok:
            value = getattr(self, field)
            if isinstance(value, tuple):
                value = _format_schedule(value)
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


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError when the port is not a number in range
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and not any(char.isspace() for char in url)
    )
