"""End to end: the real CLI process, real HTTP, and a real store receiving callbacks."""

from __future__ import annotations

import json
import re
import signal
import socket
import threading

import pytest
import requests

from gateway_process import GatewayProcess, free_port, run_cli
from helpers import Num, exact_json
from payments_server import __version__
from payments_server.testing import StoreStub


def test_help_explains_every_option_and_its_environment_variable() -> None:
    result = run_cli(["--help"])
    assert result.returncode == 0
    for flag, env in [
        ("--host", "PAYMENTS_HOST"),
        ("--port", "PAYMENTS_PORT"),
        ("--callback-url", "PAYMENTS_CALLBACK_URL"),
        ("--callback-timeout", "PAYMENTS_CALLBACK_TIMEOUT"),
        ("--initial-balance", "PAYMENTS_INITIAL_BALANCE"),
        ("--threads", "PAYMENTS_THREADS"),
        ("--webhook-secret", "PAYMENTS_WEBHOOK_SECRET"),
        ("--callback-retries", "PAYMENTS_CALLBACK_RETRIES"),
        ("--callback-schedule", "PAYMENTS_CALLBACK_SCHEDULE"),
        ("--callback-log-size", "PAYMENTS_CALLBACK_LOG_SIZE"),
        ("--decline-rate", "PAYMENTS_DECLINE_RATE"),
        ("--decline-seed", "PAYMENTS_DECLINE_SEED"),
        ("--latency-ms", "PAYMENTS_LATENCY_MS"),
        ("--quiet", "PAYMENTS_QUIET"),
    ]:
        assert flag in result.stdout
        assert env in result.stdout
    assert "mock payments gateway" in result.stdout


def test_version() -> None:
    result = run_cli(["--version"])
    assert (result.returncode, result.stdout.strip()) == (0, f"payments-server {__version__}")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--port", "0"], {}, "--port (PAYMENTS_PORT) must be a whole number from 1 to 65535"),
        ([], {"PAYMENTS_PORT": "70000"}, "--port (PAYMENTS_PORT) must be a whole number from 1"),
        (["--port", "x"], {}, "--port (PAYMENTS_PORT) must be a whole number, got 'x'"),
        (["--initial-balance", "-1"], {}, "must be zero or a positive number, got '-1'"),
        (["--callback-url", "localhost:8000"], {}, "--callback-url (PAYMENTS_CALLBACK_URL) must"),
        ([], {"PAYMENTS_CALLBACK_TIMEOUT": "-3"}, "must be a positive number of seconds"),
        (["--webhook-secret", "hunter2"], {}, "--webhook-secret (PAYMENTS_WEBHOOK_SECRET) must"),
        ([], {"PAYMENTS_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "got 5 bytes"),
        (["--callback-retries", "-2"], {}, "--callback-retries (PAYMENTS_CALLBACK_RETRIES) must"),
        (["--callback-schedule", "1,x"], {}, "--callback-schedule (PAYMENTS_CALLBACK_SCHEDULE)"),
        (["--decline-rate", "1.5"], {}, "--decline-rate (PAYMENTS_DECLINE_RATE) must be a number"),
        ([], {"PAYMENTS_DECLINE_SEED": "x"}, "--decline-seed (PAYMENTS_DECLINE_SEED) must be a"),
        (["--latency-ms", "-1"], {}, "--latency-ms (PAYMENTS_LATENCY_MS) must be a whole number"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli(args, env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("payments-server: error: ")
    assert message in lines[0]


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli(["--port", str(port)])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"payments-server: error: cannot listen on 127.0.0.1:{port}: the port is already"
        " in use (another payments_server? choose another with --port)"
    ]


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("nosuchhost.invalid", "the host name does not resolve"),
        ("192.0.2.1", "Cannot assign requested address"),  # TEST-NET: never this machine's
    ],
)
def test_a_host_that_cannot_be_listened_on_is_one_line_and_exit_2(host: str, problem: str) -> None:
    port = free_port()
    result = run_cli(["--host", host, "--port", str(port)])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"payments-server: error: cannot listen on {host}:{port}: {problem}"
    ]


def test_the_seed_walk_through_over_real_http_with_a_real_store() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        http = requests.Session()
        startup = gateway.wait_for_line("listening on")
        assert (
            f"payments_server {__version__} listening on {gateway.url}"
            f" (granian, 16 threads; store callbacks to {store.url}); press Ctrl+C to stop"
        ) in startup
        dashboard = gateway.wait_for_line("dashboard at")
        assert dashboard.endswith(f"dashboard at {gateway.url}/ (every payment, decision and"
                                  " callback, live)")  # fmt: skip

        balance = http.get(gateway.url + "/balance")
        assert balance.headers["Content-Type"] == "application/json"
        assert exact_json(balance.text) == exact_json(
            '{"status":"success","account_id":"ACC-001","holder":"John Doe","balance":50000.0}'
        )
        order = http.post(
            gateway.url + "/payments/orders",
            data='{"order_id": "abc123def456", "amount": 179.98}',
            headers={"Content-Type": "application/json"},
        )
        assert order.status_code == 200
        assert exact_json(order.text)["shop_notified"] is True
        assert exact_json(order.text)["balance"] == Num("49820.02")
        # curl -d without -H sends a form content type; the body is still JSON.
        pay = http.post(
            gateway.url + "/pay",
            data='{"amount": 100, "recipient": "https://example-shop.com"}',
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert exact_json(pay.text)["balance"] == Num("49720.02")
        declined = http.post(gateway.url + "/pay/order", json={"order_id": 77, "amount": 51000})
        assert declined.status_code == 402
        assert exact_json(declined.text) == exact_json(
            '{"status":"failed","message":"Insufficient funds","balance":49720.02,"requested":51000}'
        )
        transactions = http.get(gateway.url + "/transactions").json()["transactions"]
        assert len(transactions) == 2
        reset = http.post(gateway.url + "/reset")
        assert exact_json(reset.text)["balance"] == Num("50000.0")

        received = store.wait_for(2)
        assert [c.body for c in received] == [
            b'{"order_id":"abc123def456","status":"success"}',
            b'{"order_id":77,"status":"failed"}',
        ]
        assert [(c.method, c.path) for c in received] == [("POST", "/payments/confirm")] * 2
        assert received[0].headers["Content-Type"] == "application/json"
        assert received[0].headers["User-Agent"] == f"payments_server/{__version__}"
        assert gateway.stop() == 0
    log = "\n".join(gateway.lines)
    for request_line in [
        '"GET /balance" 200',
        '"POST /payments/orders" 200',
        '"POST /pay" 200',
        '"POST /pay/order" 402',
        '"GET /transactions" 200',
        '"POST /reset" 200',
    ]:
        assert request_line in log
    assert re.search(r"callback msg_[0-9a-f]{24} order abc123def456 success to \S+: 200 in", log)
    assert "payments_server stopped" in log
    assert "Traceback" not in log


def test_api_faults_asked_for_at_start_are_said_once_at_info_and_fire() -> None:
    faults = '[{"route": "GET /balance", "fault": "status", "status": 503, "count": 1}]'
    with GatewayProcess("--api-faults", faults) as gateway:
        line = gateway.wait_for_line("--api-faults")
        first = requests.get(gateway.url + "/balance", timeout=5)
        second = requests.get(gateway.url + "/balance", timeout=5)
    assert " INFO 1 API fault on (--api-faults): the gateway fails on purpose;" in line
    assert [line for line in gateway.lines if "--api-faults" in line] == [line]
    assert (first.status_code, first.headers["Retry-After"], second.status_code) == (503, "1", 200)


def test_errors_are_json_on_the_real_server_too() -> None:
    with GatewayProcess("--callback-url", f"http://127.0.0.1:{free_port()}/x") as gateway:
        cases = [
            requests.get(gateway.url + "/nowhere"),
            requests.delete(gateway.url + "/balance"),
            requests.post(gateway.url + "/pay", data=b"{" * 70_000),
            requests.post(gateway.url + "/pay", data=iter([b'{"amount": 1,', b" " * 70_000])),
            requests.post(gateway.url + "/pay", data="garbage"),
        ]
        assert [r.status_code for r in cases] == [404, 405, 413, 413, 400]
        for response in cases:
            assert response.headers["Content-Type"] == "application/json"
            assert set(response.json()) == {"status", "message"}
        assert requests.get(gateway.url + "/transactions").json()["transactions"] == []


def test_a_dead_store_only_makes_shop_notified_false() -> None:
    dead = f"http://127.0.0.1:{free_port()}/payments/confirm"
    with GatewayProcess("--callback-url", dead, "--callback-timeout", "1") as gateway:
        response = requests.post(
            gateway.url + "/payments/orders", json={"order_id": "o", "amount": 5}
        )
        assert response.status_code == 200
        assert response.json()["shop_notified"] is False
        assert requests.get(gateway.url + "/balance").json()["balance"] == 49995.0
        line = gateway.wait_for_line(" order o success to ")
        assert "not delivered: could not connect" in line
        assert "; retry 1 of 5 in " in line


def test_a_store_that_cannot_be_reached_is_one_warning_then_info_until_it_gives_up() -> None:
    dead = f"http://127.0.0.1:{free_port()}/payments/confirm"
    with GatewayProcess("--callback-url", dead, "--clock", "frozen") as gateway:
        for order in ("o-1", "o-2"):
            requests.post(gateway.url + "/payments/orders", json={"order_id": order, "amount": 5})
        # Every retry of both callbacks falls due (1 + 5 + 30 + 120 + 600 s, with jitter).
        requests.post(gateway.url + "/clock/advance", json={"seconds": 3600})
        assert gateway.stop() == 0
    lines = [line for line in gateway.lines if " callback " in line]
    warnings = [line for line in lines if " WARNING " in line]
    assert len(warnings) == 1, warnings
    assert re.search(r" order o-1 success .*; retry 1 of 5 in [0-9.]+ s; later attempts while it"
                     r" cannot be reached are logged at INFO$", warnings[0])  # fmt: skip
    assert len(lines) == 12 and all(" INFO " in line for line in lines[1:])
    assert sum(line.endswith("; gave up after 6 attempts") for line in lines) == 2


def test_environment_configures_and_a_flag_wins() -> None:
    env = {"PAYMENTS_INITIAL_BALANCE": "100.00", "PAYMENTS_QUIET": "1"}
    with GatewayProcess("--initial-balance", "250.50", env=env) as gateway:
        assert requests.get(gateway.url + "/balance").json()["balance"] == 250.5
        assert requests.post(gateway.url + "/reset").json()["balance"] == 250.5
        assert gateway.stop() == 0
    assert not any('"GET /balance"' in line for line in gateway.lines)  # --quiet via env


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_stop_cleanly(sig: int) -> None:
    with GatewayProcess() as gateway:
        assert requests.get(gateway.url + "/balance").status_code == 200
        assert gateway.stop(sig) == 0
    assert gateway.lines[-1].endswith("payments_server stopped")
    assert "Traceback" not in "\n".join(gateway.lines)


def test_sigint_stops_the_server_even_when_it_was_started_with_sigint_ignored() -> None:
    # What a shell script does to a command it starts in the background.
    gateway = GatewayProcess()
    gateway.popen_options = {"preexec_fn": lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)}
    with gateway:
        assert gateway.stop(signal.SIGINT, timeout=10) == 0
    assert gateway.lines[-1].endswith("payments_server stopped")


def test_a_slow_store_does_not_stall_balance_on_the_real_server() -> None:
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        store.hold()
        results: list[requests.Response] = []
        paying = threading.Thread(
            target=lambda: results.append(
                requests.post(gateway.url + "/payments/orders", json={"order_id": 1, "amount": 1})
            )
        )
        paying.start()
        try:
            store.wait_for(1)
            assert requests.get(gateway.url + "/balance", timeout=5).json()["balance"] == 49999.0
            pay = requests.post(
                gateway.url + "/pay", json={"amount": 1, "recipient": "r"}, timeout=5
            )
            assert pay.status_code == 200
        finally:
            store.release()
            paying.join()
        assert json.loads(results[0].text)["shop_notified"] is True


def test_a_bad_secret_is_refused_without_printing_it() -> None:
    result = run_cli(["--webhook-secret", "whsec_hunter2!"])
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "payments-server: error: --webhook-secret (PAYMENTS_WEBHOOK_SECRET)"
        " must be whsec_ followed by standard base64"
    )


def test_every_log_line_is_written_before_exit_and_quiet_keeps_only_warnings() -> None:
    with StoreStub() as store:
        with GatewayProcess("--callback-url", store.url, "--callback-retries", "0") as gateway:
            http = requests.Session()
            for order in range(200):
                http.post(gateway.url + "/payments/orders", json={"order_id": order, "amount": 1})
            # Stopped at once: the writer thread must still drain its queue.
            assert gateway.stop() == 0
        log = gateway.lines
        assert sum('"POST /payments/orders" 200' in line for line in log) == 200
        assert sum(" success to " in line and ": 200 in " in line for line in log) == 200
        assert log[-1].endswith("payments_server stopped")

        # A store's words are quoted, on the one line, whatever bytes they are.
        store.respond_with(500, body=b"down for maintenance\r\nINFO forged")
        with GatewayProcess(
            "--callback-url", store.url, "--callback-retries", "0", "--quiet"
        ) as gateway:
            http = requests.Session()
            http.post(gateway.url + "/payments/orders", json={"order_id": "a", "amount": 1})
            store.respond_with(200)
            http.post(gateway.url + "/payments/orders", json={"order_id": "b", "amount": 1})
            assert gateway.stop() == 0
    quiet = "\n".join(gateway.lines)
    assert '"POST /payments/orders"' not in quiet
    assert "order b success" not in quiet  # a delivered callback is not worth a line
    assert re.search(
        r"WARNING callback msg_\w+ order a success .* not delivered: store answered 500:"
        r" down for maintenance\\x0d\\x0aINFO forged \(\d+ ms\); gave up after 1 attempt$",
        quiet,
        re.MULTILINE,
    )
    assert "\nINFO forged" not in quiet


def test_clock_frozen_is_said_at_start_and_holds_every_timer_until_advanced() -> None:
    with (
        StoreStub() as store,
        GatewayProcess("--callback-url", store.url, "--clock", "frozen") as gateway,
    ):
        line = gateway.wait_for_line("the clock is frozen")
        clock = requests.get(gateway.url + "/clock", timeout=5).json()
        assert line.endswith(
            f"the clock is frozen at {clock['now']}: nothing falls due until POST /clock/advance"
        )
        assert clock["frozen"] is True
    bad = run_cli(["--clock", "fast"])
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "payments-server: error: --clock (PAYMENTS_CLOCK) must be real or frozen, got 'fast'"
    )


def test_a_value_a_client_sent_cannot_forge_a_log_line() -> None:
    forged = "x\r\n2026-01-01 00:00:00,000 INFO forged\u0000\u202egnp.exe"
    with StoreStub() as store, GatewayProcess("--callback-url", store.url) as gateway:
        paid = requests.post(
            gateway.url + "/payments/orders", json={"order_id": forged, "amount": 1}, timeout=10
        )
        assert paid.status_code == 200
        line = gateway.wait_for_line("POST /payments/orders")
        callback = gateway.wait_for_line("callback msg_")
    assert not any(line.startswith("2026-01-01 00:00:00,000 INFO forged") for line in gateway.lines)
    escaped = r"x\x0d\x0a2026-01-01 00:00:00,000 INFO forged\x00\u202egnp.exe"
    assert escaped in callback, callback
    assert "\r" not in line and "\x00" not in "".join(gateway.lines)


def test_a_callback_url_a_request_cannot_carry_is_one_line_and_exit_2() -> None:
    result = run_cli(["--callback-url", "http://127.0.0.1/€"])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "payments-server: error: --callback-url (PAYMENTS_CALLBACK_URL) must be an http:// or"
        " https:// URL with a host, no spaces and only ASCII characters (percent-encode the"
        " others), got 'http://127.0.0.1/€'"
    ]
