"""`make bench`: payments_server under wrk, against reference points measured in the same run.

Starts the real CLI and a fast keep-alive store, drives GET /balance, POST /payments/orders
and POST /pay with wrk, then the same machine's floor (a minimal Flask /balance on the same
WSGI server) and the naive baseline (bench/naive.py), then this app under other WSGI
servers, then the in-process costs that must stay flat (bench/flat.py). Prints tables and
the ratios the performance targets are stated in; see docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
THREADS = 16
INSTALL_WRK = (
    "wrk is not installed; it drives the load. Install it with `sudo apt-get install wrk`"
    " (Debian, Ubuntu), `sudo dnf install wrk` (Fedora) or `brew install wrk` (macOS)"
)


@dataclass(frozen=True)
class Load:
    """What wrk measured for one endpoint."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    failures: int

    def row(self, name: str) -> str:
        """One line of the results table."""
        flag = "" if not self.failures else f"  ({self.failures} non-2xx or errors)"
        return (
            f"  {name:<44} {self.requests_per_s:>9.0f} {self.p50_ms:>9.2f} {self.p99_ms:>9.2f}"
            f"{flag}"
        )


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(command: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server until the block ends; yield its URL once it accepts connections."""
    # A file, not a pipe: a server that logs every request would fill a pipe nobody reads
    # and stop answering (the naive baseline does, as Flask's development server logs).
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL, stderr=log, text=True,
        )  # fmt: skip
        try:
            _wait_until_listening(process, port, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(process: subprocess.Popen[str], port: int, log: IO[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"{' '.join(map(str, process.args))} exited: {log.read()}")  # type: ignore[arg-type]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{' '.join(map(str, process.args))} did not listen on {port}")  # type: ignore[arg-type]


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, duration: float, connections: int, script: str | None = None) -> Load:
    """Run wrk against url and parse requests/s, p50, p99 and failures."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration:g}s", "--latency"]
    if script:
        command += ["-s", str(BENCH / script)]
    command.append(url)
    if script:
        command += ["--", uuid.uuid4().hex[:8]]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    percentile = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", out, re.MULTILINE))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(n) for n in errors.groups()) if errors else 0
    )
    return Load(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(percentile["50"]),
        p99_ms=_ms(percentile["99"]),
        failures=failures,
    )


@dataclass(frozen=True)
class Server:
    """A server to measure: how to start it on a port, given the store's callback URL."""

    name: str
    command: Callable[[int, str], list[str]]
    env: Callable[[str], dict[str, str]] = lambda store_url: {}


SERVERS = (
    Server("payments_server (waitress)", lambda port, store: [
        PYTHON, "-m", "payments_server", "--port", str(port), "--quiet",
        "--callback-url", store, "--threads", str(THREADS)]),
    Server("floor", lambda port, store: [
        PYTHON, str(BENCH / "floor.py"), str(port), str(THREADS)]),
    Server("naive baseline", lambda port, store: [
        PYTHON, str(BENCH / "naive.py"), str(port), store]),
    Server("gunicorn 1 gthread worker", lambda port, store: [
        PYTHON, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1",
        "--threads", str(THREADS), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "wsgi_app:make_app()"],
        lambda store: {"PAYMENTS_CALLBACK_URL": store, "PYTHONPATH": str(BENCH)}),
    Server("granian 1 WSGI worker", lambda port, store: [
        PYTHON, "-m", "granian", "--interface", "wsgi", "--workers", "1",
        "--blocking-threads", str(THREADS), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--factory", "wsgi_app:make_app"],
        lambda store: {"PAYMENTS_CALLBACK_URL": store, "PYTHONPATH": str(BENCH)}),
)  # fmt: skip
BALANCE, ORDERS, PAY = "GET /balance", "POST /payments/orders", "POST /pay"
# (server, endpoint): every run, in the order of one round.
PLAN = (
    ("payments_server (waitress)", BALANCE), ("floor", BALANCE), ("naive baseline", BALANCE),
    ("payments_server (waitress)", ORDERS), ("naive baseline", ORDERS),
    ("payments_server (waitress)", PAY),
    ("gunicorn 1 gthread worker", BALANCE), ("gunicorn 1 gthread worker", ORDERS),
    ("granian 1 WSGI worker", BALANCE), ("granian 1 WSGI worker", ORDERS),
)  # fmt: skip
TARGETS = {BALANCE: ("/balance", None), ORDERS: ("", "orders.lua"), PAY: ("/pay", "pay.lua")}
Results = dict[tuple[str, str], Load]


def measure(duration: float, connections: int, rounds: int) -> Results:
    """Every server at once (idle ones cost nothing), every run of PLAN once per round; the
    best round of each is kept, so a burst of noise on a shared machine costs one round."""
    best: Results = {}
    with ExitStack() as stack:
        store_port = free_port()
        store = stack.enter_context(
            serving([PYTHON, str(BENCH / "store.py"), str(store_port)], store_port)
        )
        store_url = store + "/payments/confirm"
        urls = {}
        for server in SERVERS:
            port = free_port()
            command = server.command(port, store_url)
            urls[server.name] = stack.enter_context(serving(command, port, server.env(store_url)))
        for _ in range(rounds):
            for name, endpoint in PLAN:
                path, script = TARGETS[endpoint]
                load = wrk(urls[name] + path, duration, connections, script)
                if (name, endpoint) not in best or load.requests_per_s > best[
                    name, endpoint
                ].requests_per_s:
                    best[name, endpoint] = load
    return best


def flat_costs(payments: int) -> dict[str, float]:
    """bench/flat.py in a process of its own, so its memory reading is its own."""
    out = subprocess.run(
        [PYTHON, str(BENCH / "flat.py"), "--payments", str(payments)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    return json.loads(out)


def ratio(
    name: str, numerator: float, denominator: float, target: float, higher: bool = True
) -> str:
    """A ratio line with whether its target is met."""
    if denominator <= 0:
        return f"  {name:<58} {'n/a':>7}   (nothing measured to compare with)"
    value = numerator / denominator
    met = value >= target if higher else value <= target
    sign = ">=" if higher else "<="
    return f"  {name:<58} {value:>7.2f}   target {sign} {target:<5g} {'met' if met else 'MISSED'}"


def report(results: Results, flat: dict[str, float], payments: int) -> None:
    """Print the tables and the ratios."""
    header = f"  {'':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}"
    ours = "payments_server (waitress)"
    print("\npayments_server (CLI, waitress)\n" + header)
    for endpoint in (BALANCE, ORDERS, PAY):
        print(results[ours, endpoint].row(endpoint))
    print("\nreference points\n" + header)
    print(results["floor", BALANCE].row("floor: minimal Flask GET /balance, waitress"))
    for endpoint in (BALANCE, ORDERS):
        print(results["naive baseline", endpoint].row(f"naive baseline {endpoint}"))
    print("\nthis app under each WSGI server (one process)\n" + header)
    for server in (ours, "gunicorn 1 gthread worker", "granian 1 WSGI worker"):
        for endpoint in (BALANCE, ORDERS):
            label = server.replace("payments_server (waitress)", "waitress (the CLI)")
            print(results[server, endpoint].row(f"{label} {endpoint}"))
    print(f"\nflat costs, in-process ({payments:,} payments)")
    for name, value in flat.items():
        print(f"  {name:<58} {value:>12.3f}")
    balance, orders = results[ours, BALANCE], results[ours, ORDERS]
    floor = results["floor", BALANCE]
    naive_balance, naive_orders = (
        results["naive baseline", BALANCE],
        results["naive baseline", ORDERS],
    )
    lines = [
        ratio("GET /balance / floor", balance.requests_per_s, floor.requests_per_s, 0.85),
        ratio("GET /balance / naive", balance.requests_per_s, naive_balance.requests_per_s, 4),
        ratio("POST /payments/orders / naive", orders.requests_per_s,
              naive_orders.requests_per_s, 4),
        ratio("p99 GET /balance / naive p99", balance.p99_ms, naive_balance.p99_ms, 1, False),
        ratio("p99 POST /payments/orders / naive p99", orders.p99_ms, naive_orders.p99_ms, 1,
              False),
        ratio("payments/s with full history / empty", flat["payments_per_s_full"],
              flat["payments_per_s_empty"], 0.9),
        ratio("bytes per stored transaction / 300", flat["bytes_per_transaction"], 300, 1,
              False),
        ratio("page at the end of the history / page of a small one", flat["page_ms_full"],
              flat["page_ms_small"], 1.5, False),
        ratio("GET /transactions of 100,000 / json.dumps of it", flat["list_100k_ms"],
              flat["json_dumps_100k_ms"], 1.5, False),
    ]  # fmt: skip
    print("\nratios\n" + "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; 2 if wrk is missing."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each; the best is kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--payments", type=int, default=1_000_000, help="history size for the flat costs"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="1 s runs, a small history: checks the harness"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.rounds, args.payments = 1, 1, 20_000
    if shutil.which("wrk") is None:
        print(f"make bench: error: {INSTALL_WRK}", file=sys.stderr)
        return 2
    print(
        f"payments_server benchmark: wrk, 2 threads, {args.connections} connections,"
        f" best of {args.rounds} runs of {args.duration:g} s, {os.cpu_count()} CPUs,"
        f" Python {sys.version.split()[0]}"
    )
    results = measure(args.duration, args.connections, args.rounds)
    flat = flat_costs(args.payments)
    report(results, flat, args.payments)
    failures = sum(load.failures for load in results.values())
    if failures:
        print(f"\n{failures} requests failed; these numbers are not comparable", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
