from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payments_server.apis.cardloader.prepaid_cards import format_limits
from payments_server.config import DEFAULT_CALLBACK_URL, ConfigError, Settings

SECRET = "whsec_" + "QUJD" * 11  # base64 of 33 bytes


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings()
    assert settings == Settings(
        host="127.0.0.1",
        port=5000,
        callback_url="http://localhost:8000/payments/confirm",
        callback_timeout=5.0,
        initial_balance=Decimal("50000.00"),
        threads=16,
        webhook_secret="whsec_cGF5bWVudHNfc2VydmVyLWRldi1zZWNyZXQtbm90LWZvci1wcm9k",
        callback_retries=None,
        callback_schedule=(1.0, 5.0, 30.0, 120.0, 600.0),
        callback_log_size=10_000,
        decline_rate=0.0,
        decline_seed=None,
        latency_ms=0,
        state_file=None,
        fsync=False,
        quiet=False,
    )
    assert settings.callback_url == DEFAULT_CALLBACK_URL


def test_environment_variables_set_every_option() -> None:
    environ = {
        "PAYMENTS_HOST": "0.0.0.0",
        "PAYMENTS_PORT": "5001",
        "PAYMENTS_CALLBACK_URL": "https://shop.local:8443/hooks/pay",
        "PAYMENTS_CALLBACK_TIMEOUT": "0.5",
        "PAYMENTS_INITIAL_BALANCE": "100.25",
        "PAYMENTS_THREADS": "4",
        "PAYMENTS_WEBHOOK_SECRET": SECRET,
        "PAYMENTS_CALLBACK_RETRIES": "2",
        "PAYMENTS_CALLBACK_SCHEDULE": "0.5, 2,10",
        "PAYMENTS_CALLBACK_LOG_SIZE": "50",
        "PAYMENTS_DECLINE_RATE": "0.1",
        "PAYMENTS_DECLINE_SEED": "42",
        "PAYMENTS_LATENCY_MS": "250",
        "PAYMENTS_STATE_FILE": "/tmp/account.jsonl",
        "PAYMENTS_FSYNC": "1",
        "PAYMENTS_QUIET": "yes",
    }
    assert Settings.from_sources({}, environ) == Settings(
        host="0.0.0.0",
        port=5001,
        callback_url="https://shop.local:8443/hooks/pay",
        callback_timeout=0.5,
        initial_balance=Decimal("100.25"),
        threads=4,
        webhook_secret=SECRET,
        callback_retries=2,
        callback_schedule=(0.5, 2.0, 10.0),
        callback_log_size=50,
        decline_rate=0.1,
        decline_seed=42,
        latency_ms=250,
        state_file="/tmp/account.jsonl",
        fsync=True,
        quiet=True,
    )


def test_a_flag_wins_over_its_environment_variable() -> None:
    settings = Settings.from_sources(
        {"port": "5002", "host": None}, {"PAYMENTS_PORT": "5001", "PAYMENTS_HOST": "0.0.0.0"}
    )
    assert (settings.port, settings.host) == (5002, "0.0.0.0")


def test_an_integer_balance_given_in_code_becomes_a_decimal() -> None:
    settings = Settings(initial_balance=100)  # type: ignore[arg-type]
    assert type(settings.initial_balance) is Decimal
    assert settings.initial_balance == Decimal("100")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"port": "0"}, "--port (PAYMENTS_PORT) must be a whole number from 1 to 65535, got '0'"),
        (
            {"port": "65536"},
            "--port (PAYMENTS_PORT) must be a whole number from 1 to 65535, got '65536'",
        ),
        ({"port": "http"}, "--port (PAYMENTS_PORT) must be a whole number, got 'http'"),
        ({"port": "50.5"}, "--port (PAYMENTS_PORT) must be a whole number, got '50.5'"),
        ({"host": " "}, "--host (PAYMENTS_HOST) must not be empty, got ' '"),
        (
            {"initial_balance": "-5"},
            "--initial-balance (PAYMENTS_INITIAL_BALANCE) must be zero or a positive number,"
            " got '-5'",
        ),
        (
            {"initial_balance": "12.345"},
            "--initial-balance (PAYMENTS_INITIAL_BALANCE) must have at most 2 decimal places,"
            " got '12.345'",
        ),
        (
            {"initial_balance": "lots"},
            "--initial-balance (PAYMENTS_INITIAL_BALANCE) must be a number, got 'lots'",
        ),
        (
            {"initial_balance": "NaN"},
            "--initial-balance (PAYMENTS_INITIAL_BALANCE) must be zero or a positive number,"
            " got 'NaN'",
        ),
        (
            {"callback_timeout": "0"},
            "--callback-timeout (PAYMENTS_CALLBACK_TIMEOUT) must be a positive number of seconds,"
            " got '0.0'",
        ),
        (
            {"callback_timeout": "inf"},
            "--callback-timeout (PAYMENTS_CALLBACK_TIMEOUT) must be a positive number of seconds,"
            " got 'inf'",
        ),
        (
            {"callback_timeout": "soon"},
            "--callback-timeout (PAYMENTS_CALLBACK_TIMEOUT) must be a number, got 'soon'",
        ),
        ({"threads": "0"}, "--threads (PAYMENTS_THREADS) must be from 1 to 256, got '0'"),
        (
            {"callback_retries": "-1"},
            "--callback-retries (PAYMENTS_CALLBACK_RETRIES) must be from 0 to 100, got '-1'",
        ),
        (
            {"callback_retries": "many"},
            "--callback-retries (PAYMENTS_CALLBACK_RETRIES) must be a whole number, got 'many'",
        ),
        (
            {"callback_schedule": "1,,5"},
            "--callback-schedule (PAYMENTS_CALLBACK_SCHEDULE) must be seconds separated by"
            " commas, such as 1,5,30, got '1,,5'",
        ),
        (
            {"callback_schedule": "1 5"},
            "--callback-schedule (PAYMENTS_CALLBACK_SCHEDULE) must be seconds separated by"
            " commas, such as 1,5,30, got '1 5'",
        ),
        (
            {"callback_schedule": "1,-5"},
            "--callback-schedule (PAYMENTS_CALLBACK_SCHEDULE) must be one or more numbers of"
            " seconds from 0 to 86400, separated by commas, got '1,-5'",
        ),
        (
            {"callback_schedule": "1,inf"},
            "--callback-schedule (PAYMENTS_CALLBACK_SCHEDULE) must be one or more numbers of"
            " seconds from 0 to 86400, separated by commas, got '1,inf'",
        ),
        (
            {"decline_rate": "nan"},
            "--decline-rate (PAYMENTS_DECLINE_RATE) must be a number from 0 to 1, got 'nan'",
        ),
        (
            {"latency_ms": "60001"},
            "--latency-ms (PAYMENTS_LATENCY_MS) must be a whole number from 0 to 60000,"
            " got '60001'",
        ),
        (
            {"checkout_expiry": "9"},
            "--checkout-expiry (PAYMENTS_CHECKOUT_EXPIRY) must be a whole number of seconds"
            " from 10 to 86400, got '9'",
        ),
        (
            {"server": "waitress"},
            "--server (PAYMENTS_SERVER) must be granian (waitress is no longer offered: it"
            " could not hold the limits of docs/limits.md, slow headers and bodies among them),"
            " got 'waitress'",
        ),
        (
            {"callback_log_size": "0"},
            "--callback-log-size (PAYMENTS_CALLBACK_LOG_SIZE) must be from 1 to 1000000, got '0'",
        ),
        (
            {"state_file": " "},
            "--state-file (PAYMENTS_STATE_FILE) must be a path, got ' '",
        ),
        (
            {"fsync": "yes"},
            "--fsync (PAYMENTS_FSYNC) needs --state-file",
        ),
        (
            {"clock_start": "2020-07-19"},
            "--clock-start (PAYMENTS_CLOCK_START) must be an RFC 3339 time with its zone, such"
            " as 2020-07-19T22:26:23Z, got '2020-07-19'",
        ),
        (
            {"card_load_limits": "500"},
            "--card-load-limits (PAYMENTS_CARD_LOAD_LIMITS) must be windows such as"
            " 1d=500,30d=800 (days=amount) and, if capped, balance=1000, got '500'",
        ),
        (
            {"card_load_limits": "0d=500"},
            "--card-load-limits (PAYMENTS_CARD_LOAD_LIMITS) must have windows of 1 to 366 days"
            " and positive amounts, got '0d=500'",
        ),
        (
            {"quiet": "maybe"},
            "--quiet (PAYMENTS_QUIET) must be one of 1, true, yes, on, 0, false, no, off,"
            " got 'maybe'",
        ),
    ],
)
def test_bad_values_name_the_option_and_the_value(given: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_sources(given, {})
    assert str(caught.value) == message


URL_RULE = (
    "must be an http:// or https:// URL with a host, no spaces and only ASCII"
    " characters (percent-encode the others)"
)


@pytest.mark.parametrize(
    "url",
    [
        "localhost:8000/payments/confirm",
        "ftp://localhost/payments/confirm",
        "http://",
        "http:///payments/confirm",
        "http://localhost:99999/payments/confirm",
        "http://localhost:port/payments/confirm",
        "http://local host/payments/confirm",
        "http://127.0.0.1:9/€",
        "http://bücher.example/payments/confirm",
        "",
    ],
)
def test_unusable_callback_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_sources({}, {"PAYMENTS_CALLBACK_URL": url})
    assert str(caught.value) == f"--callback-url (PAYMENTS_CALLBACK_URL) {URL_RULE}, got {url!r}"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/payments/confirm",
        "https://shop.example/payments/confirm",
        "http://[::1]:8000/payments/confirm",
        "http://127.0.0.1/payments/confirm?token=abc",
    ],
)
def test_usable_callback_urls_are_kept(url: str) -> None:
    assert Settings(callback_url=url).callback_url == url


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        ("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD", "must start with whsec_"),
        ("whsec_%%%%", "must be whsec_ followed by standard base64"),
        ("whsec_QUJD", "must decode to 24 to 64 bytes, got 3 bytes"),
    ],
)
def test_a_bad_webhook_secret_says_what_is_wrong_without_echoing_it(secret: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_sources({"webhook_secret": secret}, {})
    assert str(caught.value) == f"--webhook-secret (PAYMENTS_WEBHOOK_SECRET) {rule}"


def test_an_empty_schedule_given_in_code_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be one or more numbers of seconds"):
        Settings(callback_schedule=())


def test_a_zero_second_schedule_step_is_allowed() -> None:
    assert Settings(callback_schedule=(0.0,)).callback_schedule == (0.0,)


def test_the_card_loader_limits_and_the_clocks_start_are_read_from_text() -> None:
    settings = Settings.from_sources(
        {"card_load_limits": "7d=1000, 1d=500.50", "clock_start": "2020-07-19T22:26:23+02:00"},
        {},
    )
    assert format_limits(settings.card_load_limits) == "1d=500.50,7d=1000"
    assert settings.clock_start == datetime(2020, 7, 19, 20, 26, 23, tzinfo=UTC)
    assert format_limits(Settings().card_load_limits) == "1d=500,30d=800,365d=2000,balance=1000"
