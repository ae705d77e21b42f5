"""CPU per keep-alive callback POST for each HTTP client we considered: `python bench/clients.py`.

Starts the benchmark's store, sends 3,000 signed-size callbacks over one kept connection
with each client in turn, and prints the client's CPU time and wall time per POST. The
gateway's own client (payments_server.callbacks.http1) is the last line.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable

import requests
import urllib3

# Run as a script, its folder is on sys.path, so run.py's helpers import as `run`.
from run import BENCH, PYTHON, free_port, serving

from payments_server.callbacks.http1 import Connection

POSTS = 3_000
BODY = b'{"order_id":"abc123def456","status":"success"}'
HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "payments_server/bench",
    "webhook-id": "msg_0123456789abcdef01234567",
    "webhook-timestamp": "1796158139",
    "webhook-signature": "v1,d37K+ka49VmXkstETyHG0GZOkKkEn7nnqItquE05sfY=",
}


def per_post(send: Callable[[], object]) -> tuple[float, float]:
    """(CPU us, wall us) per POST, after a warm-up."""
    for _ in range(200):
        send()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(POSTS):
        send()
    return (time.process_time() - cpu) / POSTS * 1e6, (time.perf_counter() - wall) / POSTS * 1e6


def main() -> None:
    """Measure each client against the store and print a table."""
    port = free_port()
    with serving([PYTHON, str(BENCH / "store.py"), str(port)], port):
        url = f"http://127.0.0.1:{port}/payments/confirm"
        session = requests.Session()
        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1)
        stdlib = http.client.HTTPConnection("127.0.0.1", port)
        stdlib.connect()
        stdlib.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def via_stdlib() -> int:
            stdlib.request("POST", "/payments/confirm", BODY, HEADERS)
            answer = stdlib.getresponse()
            answer.read()
            return answer.status

        ours = Connection("127.0.0.1", port, 5.0)
        head = (
            "POST /payments/confirm HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
            + f"Content-Length: {len(BODY)}\r\n\r\n"
        ).encode()
        clients: dict[str, Callable[[], object]] = {
            "requests.Session": lambda: session.post(url, data=BODY, headers=HEADERS),
            "urllib3 pool": lambda: pool.urlopen(
                "POST", "/payments/confirm", body=BODY, headers=HEADERS, retries=False
            ),
            "http.client, kept connection": via_stdlib,
            "payments_server http1.Connection": lambda: ours.post(head, BODY, time.monotonic() + 5),
        }
        print(f"{'client':<36} {'CPU us':>8} {'wall us':>8}   ({POSTS} keep-alive POSTs each)")
        for name, send in clients.items():
            cpu, wall = per_post(send)
            print(f"{name:<36} {cpu:>8.0f} {wall:>8.0f}")


if __name__ == "__main__":
    main()
