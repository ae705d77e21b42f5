"""Everything hostile at once, for a few seconds, on 127.0.0.1: /balance stays quick.

2,000 idle connections, 50 clients sending half a body, 300 sending their headers a byte
at a time, 50 event streams, and order payments whose store dribbles its answer. The
limits that hold them (docs/limits.md) are the defaults, but for the callback timeout.
On granian, the default server, which these limits are written for.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import requests

from gateway_process import GatewayProcess, dribbling_store

IDLE = 2000
SLOW_BODIES = 50
SLOWLORIS = 300
STREAMS = 50
PAYERS = 4
SOAK_S = 4.0


def connections(port: int, count: int, first: bytes, stack: ExitStack) -> list[socket.socket]:
    """`count` connections, each having sent `first` (nothing if empty)."""
    opened = []
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
        if first:
            sock.sendall(first)
        opened.append(sock)
    return opened


@contextmanager
def running(target: Callable[[threading.Event], None], count: int = 1) -> Iterator[None]:
    """`count` threads running target(stop) until the block ends."""
    stop = threading.Event()
    threads = [threading.Thread(target=target, args=(stop,), daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)


def test_balance_answers_within_100_ms_at_p99_while_everything_hostile_runs_at_once() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    with (
        dribbling_store(b"H") as store,
        GatewayProcess(
            "--callback-url", store, "--callback-timeout", "1", "--callback-retries", "0",
            "--quiet",
        ) as gateway,
        ExitStack() as stack,
    ):  # fmt: skip
        url, port = gateway.url, gateway.port
        connections(port, IDLE, b"", stack)
        slow = connections(
            port, SLOW_BODIES, b"POST /pay HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{", stack,
        )  # fmt: skip
        loris = connections(port, SLOWLORIS, b"GET /balance HTTP/1.1\r\nX-A: ", stack)
        streamed: list[int] = []
        paid: list[int] = []

        def dribble(stop: threading.Event) -> None:
            while not stop.wait(0.5):
                for sock in slow + loris:
                    with contextlib.suppress(OSError):  # cut off by a deadline, as it should be
                        sock.send(b" ")

        def stream(stop: threading.Event) -> None:
            with requests.get(url + "/events", stream=True, timeout=10) as answer:
                streamed.append(answer.status_code)
                if answer.ok:
                    for _ in answer.iter_content(None):
                        if stop.is_set():
                            return

        def pay(stop: threading.Event) -> None:
            with requests.Session() as http:
                while not stop.is_set():
                    answer = http.post(
                        url + "/payments/orders",
                        json={"order_id": f"o-{time.monotonic_ns()}", "amount": 1},
                        timeout=10,
                    )
                    paid.append(answer.status_code)

        latencies = []
        with running(dribble), running(stream, STREAMS), running(pay, PAYERS):
            http = requests.Session()
            ended = time.monotonic() + SOAK_S
            while time.monotonic() < ended:
                started = time.perf_counter()
                answer = http.get(url + "/balance", timeout=5)
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200
        # Streams beyond the cap are refused with 503 (poll instead), never left hanging.
        assert len(streamed) == STREAMS and set(streamed) == {200, 503}
        assert streamed.count(200) == 4  # a quarter of the 16 threads
        # Each payment waited at most the 1 s callback timeout on the dribbling store.
        assert set(paid) == {200} and len(paid) >= PAYERS * (SOAK_S - 1)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    assert len(latencies) > 200
    print(f"p99 {p99 * 1000:.1f} ms over {len(latencies)} requests")
    assert p99 < 0.1, f"p99 {p99 * 1000:.0f} ms over {len(latencies)} requests"
