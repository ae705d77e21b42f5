"""`make bench`: payments_server under wrk, against reference points measured in the same run.

Starts the real CLI as `make run` does (access log on) and with --quiet, and a keep-alive
store; drives GET /balance, POST /payments/orders and POST /pay with wrk; the
same for the floors (bench/floor.py: the least a Flask app can do per endpoint, on the same
server code) and the naive baseline (bench/naive.py). Then start-up time, how many
never-ending streams each server holds while /balance still answers quickly, and the
in-process costs that must stay flat (bench/flat.py). Prints tables and the ratios the
performance targets are stated in; see docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
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


def gateway(*options: str) -> Callable[[int, str], list[str]]:
    """The CLI as `make run` starts it, with these options added."""
    return lambda port, store: [
        PYTHON, "-m", "payments_server", "--port", str(port), "--callback-url", store, *options
    ]  # fmt: skip


MAKE_RUN, QUIET = "make run (access log on)", "--quiet"
FLOOR, NAIVE = "floor", "naive baseline"
SERVERS = (
    # What a user runs: the access log goes to stderr, here a file (see serving()).
    Server(MAKE_RUN, gateway()),
    Server(QUIET, gateway("--quiet")),
    Server(FLOOR, lambda port, store: [
        PYTHON, str(BENCH / "floor.py"), str(port), str(THREADS), store]),
    Server(NAIVE, lambda port, store: [PYTHON, str(BENCH / "naive.py"), str(port), store]),
)  # fmt: skip
BALANCE, ORDERS, PAY = "GET /balance", "POST /payments/orders", "POST /pay"
# (server, endpoint): every run, in the order of one round.
PLAN = tuple(
    [(name, BALANCE) for name in (MAKE_RUN, QUIET, FLOOR, NAIVE)]
    + [(name, ORDERS) for name in (MAKE_RUN, QUIET, FLOOR, NAIVE)]
    + [(QUIET, PAY)]
)
TARGETS = {BALANCE: ("/balance", None), ORDERS: ("", "orders.lua"), PAY: ("/pay", "pay.lua")}
# Requests a second against the naive baseline's, at least (docs/performance.md).
TARGETS_AGAINST_NAIVE = {
    (QUIET, BALANCE): 6,
    (MAKE_RUN, BALANCE): 5,
    (QUIET, ORDERS): 4,
    (MAKE_RUN, ORDERS): 3,
}
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
            urls[server.name] = stack.enter_context(serving(server.command(port, store_url), port))
        for _ in range(rounds):
            for name, endpoint in PLAN:
                path, script = TARGETS[endpoint]
                load = wrk(urls[name] + path, duration, connections, script)
                if (name, endpoint) not in best or load.requests_per_s > best[
                    name, endpoint
                ].requests_per_s:
                    best[name, endpoint] = load
    return best


def startup_ms(options: Sequence[str], runs: int) -> float:
    """Median milliseconds from exec to the first 200 of GET /balance."""
    times = []
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen(
            [PYTHON, "-m", "payments_server", "--port", str(port), "--quiet", *options],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not _answers(port):
                if process.poll() is not None or time.perf_counter() - started > 20:
                    raise SystemExit("the gateway did not start")
                time.sleep(0.002)
            times.append((time.perf_counter() - started) * 1000)
        finally:
            process.terminate()
            process.wait(10)
    return statistics.median(times)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /balance HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


STREAM_STEPS = (0, 2, 4, 6, 8, 10, 12, 14, 15, 16, 20, 24)
STREAM_LIMIT_MS = 50.0


def streams_held(server: str, threads: int) -> tuple[int, dict[int, float]]:
    """Open never-ending streams on the floor app step by step; after each step, the slowest
    of 20 GET /balance. Returns the most streams with every answer under 50 ms, and the
    slowest answer at each step."""
    port = free_port()
    slowest: dict[int, float] = {}
    command = [
        PYTHON,
        str(BENCH / "floor.py"),
        str(port),
        str(threads),
        "http://127.0.0.1:9/",
        server,
    ]
    with serving(command, port), ExitStack() as streams:
        held = 0
        for step in STREAM_STEPS:
            while held < step:
                sock = streams.enter_context(socket.create_connection(("127.0.0.1", port)))
                sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                held += 1
            time.sleep(0.3)  # the streams are being served
            slowest[step] = _slowest_balance_ms(port, 20)
            if slowest[step] > 1000:
                break
    within = [step for step, ms in slowest.items() if ms < STREAM_LIMIT_MS]
    return max(within, default=0), slowest


def _slowest_balance_ms(port: int, tries: int) -> float:
    """The slowest of `tries` GET /balance; the first over a second ends the tries (one
    that never answers would otherwise cost 5 s each)."""
    slowest = 0.0
    for _ in range(tries):
        slowest = max(slowest, _balance_ms(port))
        if slowest > 1000:
            break
    return slowest


def _balance_ms(port: int) -> float:
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /balance HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            sock.recv(12)
    except OSError:
        return float("inf")
    return (time.perf_counter() - started) * 1000


def in_own_process(script: str, *args: str) -> dict[str, float]:
    """A bench/ script's JSON figures, run in a process of its own, so that its memory
    reading is its own."""
    out = subprocess.run(
        [PYTHON, str(BENCH / script), *args], capture_output=True, text=True, check=True,
        cwd=BENCH,
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


@dataclass(frozen=True)
class Extras:
    """What is measured besides wrk: start-up, streams held, flat costs."""

    startup: dict[str, float]
    streams: dict[str, tuple[int, dict[int, float]]]
    flat: dict[str, float]
    payments: int
    namespaces: dict[str, float]
    store_suite: dict[str, float]


def report(results: Results, extras: Extras) -> None:
    """Print the tables and the ratios."""
    header = f"  {'':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}"
    for title, names in (
        ("payments_server (the CLI)", (MAKE_RUN, QUIET)),
        ("reference points", (FLOOR, NAIVE)),
    ):
        print(f"\n{title}\n{header}")
        for name in names:
            for endpoint in (BALANCE, ORDERS, PAY):
                if (name, endpoint) in results:
                    label = "order floor" if (name, endpoint) == (FLOOR, ORDERS) else name
                    print(results[name, endpoint].row(f"{label}: {endpoint}"))
    print("\nstart-up, exec to the first 200 (median of 10)")
    for name, ms in extras.startup.items():
        print(f"  {name:<58} {ms:>9.0f} ms")
    print(f"\nnever-ending streams held while GET /balance answers under {STREAM_LIMIT_MS:g} ms")
    for name, (held, slowest) in extras.streams.items():
        steps = ", ".join(f"{n}: {ms:.0f}" for n, ms in slowest.items())
        print(f"  {name:<30} {held:>3} streams   (slowest ms by streams open: {steps})")
    print(f"\nflat costs, in-process ({extras.payments:,} payments)")
    for name, value in extras.flat.items():
        print(f"  {name:<58} {value:>12.3f}")
    spaces = extras.namespaces
    print(f"\nnamespaces, in-process ({spaces['namespaces']:,.0f} idle ones made)")
    for name in ("first_request_ms", "bytes_per_idle_namespace", "namespaces_per_gb",
                 "payments_per_s_one_namespace", "payments_per_s_among_many"):  # fmt: skip
        print(f"  {name:<58} {spaces[name]:>12.3f}")
    suite = extras.store_suite
    print("\nwhat a store's developer feels (bench/store_suite.py)")
    print(
        f"  {'a kit test paying one order, its callback asserted, ms':<58}"
        f" {suite['ms_per_test']:>12.3f}"
    )
    print(
        f"  {'the same with a fresh namespace per test, ms':<58}"
        f" {suite['ms_per_test_namespace']:>12.3f}"
    )
    print(f"  {'POST /clock/advance running 1,000 due payments, ms':<58}"
          f" {suite['advance_ms_1000_jobs']:>12.3f}")  # fmt: skip
    flat = extras.flat
    lines = []
    for name, endpoint in ((QUIET, BALANCE), (QUIET, ORDERS), (MAKE_RUN, BALANCE),
                           (MAKE_RUN, ORDERS)):  # fmt: skip
        ours, naive = results[name, endpoint], results[NAIVE, endpoint]
        target = TARGETS_AGAINST_NAIVE[name, endpoint]
        lines.append(ratio(f"{name}: {endpoint} / naive", ours.requests_per_s,
                           naive.requests_per_s, target))  # fmt: skip
        lines.append(ratio(f"{name}: p99 {endpoint} / naive p99", ours.p99_ms,
                           naive.p99_ms, 1, False))  # fmt: skip
    lines += [
        ratio(f"{QUIET}: {ORDERS} / order floor", results[QUIET, ORDERS].requests_per_s,
              results[FLOOR, ORDERS].requests_per_s, 0.9),
        ratio(f"{QUIET}: {BALANCE} / floor", results[QUIET, BALANCE].requests_per_s,
              results[FLOOR, BALANCE].requests_per_s, 0.85),
        ratio("start-up ms / 500", extras.startup["granian"], 500, 1, False),
        ratio("payments/s with full history / empty", flat["payments_per_s_full"],
              flat["payments_per_s_empty"], 0.9),
        ratio("bytes per stored transaction / 300", flat["bytes_per_transaction"], 300, 1,
              False),
        ratio("page at the end of the history / page of a small one", flat["page_ms_full"],
              flat["page_ms_small"], 1.5, False),
        ratio("GET /transactions of 100,000 / json.dumps of it", flat["list_100k_ms"],
              flat["json_dumps_100k_ms"], 1.5, False),
        ratio(f"payments/s among {spaces['namespaces']:,.0f} namespaces / in the only one",
              spaces["payments_per_s_among_many"], spaces["payments_per_s_one_namespace"], 0.9),
        ratio("a namespace's first request ms / 2", spaces["first_request_ms"], 2, 1, False),
        ratio("bytes per idle namespace / 100 KB", spaces["bytes_per_idle_namespace"],
              100_000, 1, False),
        ratio("a kit test ms / 5", suite["ms_per_test"], 5, 1, False),
        ratio("a fresh namespace's extra ms per kit test / 2",
              suite["ms_per_test_namespace"] - suite["ms_per_test"], 2, 1, False),
    ]  # fmt: skip
    print("\nratios\n" + "\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; 2 if wrk is missing."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; the best is kept")
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
    runs = 3 if args.smoke else 10
    extras = Extras(
        startup={"granian": startup_ms((), runs)},
        streams={"granian": streams_held("granian", THREADS)},
        flat=in_own_process("flat.py", "--payments", str(args.payments)),
        payments=args.payments,
        namespaces=in_own_process(
            "namespaces.py", "--namespaces", str(1_000 if args.smoke else 10_000)
        ),
        store_suite=in_own_process(
            "store_suite.py", *(("--tests", "300", "--repeats", "1") if args.smoke else ())
        ),
    )  # fmt: skip
    report(results, extras)
    failures = sum(load.failures for load in results.values())
    if failures:
        print(f"\n{failures} requests failed; these numbers are not comparable", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
