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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


def gateway_command(port: int, store_url: str) -> list[str]:
    """The CLI as a user starts it, quiet so the log does not measure the terminal."""
    return [PYTHON, "-m", "payments_server", "--port", str(port), "--quiet",
            "--callback-url", store_url, "--threads", str(THREADS)]  # fmt: skip


def endpoints(url: str, duration: float, connections: int) -> dict[str, Load]:
    """The three endpoints of the main table."""
    return {
        "GET /balance": wrk(url + "/balance", duration, connections),
        "POST /payments/orders": wrk(url, duration, connections, "orders.lua"),
        "POST /pay": wrk(url + "/pay", duration, connections, "pay.lua"),
    }


def other_servers(store_url: str, duration: float, connections: int) -> dict[str, dict[str, Load]]:
    """This app, one process, under gunicorn (gthread) and granian (WSGI, blocking threads)."""
    env = {"PAYMENTS_CALLBACK_URL": store_url, "PYTHONPATH": str(BENCH)}
    results: dict[str, dict[str, Load]] = {}
    port = free_port()
    servers = {
        "gunicorn 1 gthread worker": [
            PYTHON, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1",
            "--threads", str(THREADS), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "wsgi_app:make_app()",
        ],
        "granian 1 WSGI worker": [
            PYTHON, "-m", "granian", "--interface", "wsgi", "--workers", "1",
            "--blocking-threads", str(THREADS), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--factory", "wsgi_app:make_app",
        ],
    }  # fmt: skip
    for name, command in servers.items():
        with serving(command, port, env) as url:
            results[name] = {
                "GET /balance": wrk(url + "/balance", duration, connections),
                "POST /payments/orders": wrk(url, duration, connections, "orders.lua"),
            }
    return results


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


def report(
    ours: dict[str, Load],
    floor: Load,
    naive: dict[str, Load],
    servers: dict[str, dict[str, Load]],
    flat: dict[str, float],
    payments: int,
) -> None:
    """Print the tables and the ratios."""
    header = f"  {'':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}"
    print("\npayments_server (CLI, waitress)\n" + header)
    for name, load in ours.items():
        print(load.row(name))
    print("\nreference points\n" + header)
    print(floor.row("floor: minimal Flask GET /balance, waitress"))
    for name, load in naive.items():
        print(load.row(f"naive baseline {name}"))
    print("\nthis app under other WSGI servers (one process)\n" + header)
    for name in ("GET /balance", "POST /payments/orders"):
        print(ours[name].row(f"waitress {name}"))
    for server, loads in servers.items():
        for name, load in loads.items():
            print(load.row(f"{server} {name}"))
    print(f"\nflat costs, in-process ({payments:,} payments)")
    for name, value in flat.items():
        print(f"  {name:<58} {value:>12.3f}")
    balance, orders = ours["GET /balance"], ours["POST /payments/orders"]
    naive_balance, naive_orders = naive["GET /balance"], naive["POST /payments/orders"]
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
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--payments", type=int, default=1_000_000, help="history size for the flat costs"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="2 s runs, a small history: checks the harness"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.payments = 2, 20_000
    if shutil.which("wrk") is None:
        print(f"make bench: error: {INSTALL_WRK}", file=sys.stderr)
        return 2
    duration, connections = args.duration, args.connections
    python = sys.version.split()[0]
    print(
        f"payments_server benchmark: wrk, 2 threads, {connections} connections,"
        f" {duration:g} s per run, {os.cpu_count()} CPUs, Python {python}"
    )
    store_port = free_port()
    with serving([PYTHON, str(BENCH / "store.py"), str(store_port)], store_port) as store:
        store_url = store + "/payments/confirm"
        port = free_port()
        with serving(gateway_command(port, store_url), port) as url:
            ours = endpoints(url, duration, connections)
        port = free_port()
        with serving([PYTHON, str(BENCH / "floor.py"), str(port), str(THREADS)], port) as url:
            floor = wrk(url + "/balance", duration, connections)
        port = free_port()
        with serving([PYTHON, str(BENCH / "naive.py"), str(port), store_url], port) as url:
            naive = {
                "GET /balance": wrk(url + "/balance", duration, connections),
                "POST /payments/orders": wrk(url, duration, connections, "orders.lua"),
            }
        servers = other_servers(store_url, duration, connections)
    flat = flat_costs(args.payments)
    report(ours, floor, naive, servers, flat, args.payments)
    failures = sum(load.failures for load in [*ours.values(), floor, *naive.values()])
    if failures:
        print(f"\n{failures} requests failed; these numbers are not comparable", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
