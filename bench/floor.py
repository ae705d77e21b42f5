"""The floors: the least a Flask app can do for each measured endpoint, served like the gateway.

`python bench/floor.py PORT THREADS CALLBACK_URL [SERVER]` serves, on the gateway's own
serving code (payments_server.http_servers) and thread count:
- GET /balance: the gateway's body, nothing else;
- POST /payments/orders: parse the JSON, one keep-alive POST of {"order_id", "status"}
  to the store with the gateway's own lean client (unsigned), answer; no ledger, no log,
  no record (the order floor);
- GET /stream: a response that never ends (a chunk a second), like an event stream.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from urllib.parse import urlsplit

from flask import Flask, Response, request

from payments_server.callbacks.http1 import Connection
from payments_server.http_servers import SERVERS, ServerLimits

BALANCE = {"status": "success", "account_id": "ACC-001", "holder": "John Doe", "balance": 50000.0}


def make_app(callback_url: str) -> Flask:
    """The floor app; callbacks go to callback_url."""
    app = Flask(__name__)
    store = urlsplit(callback_url)
    idle: deque[Connection] = deque()
    head = (
        f"POST {store.path} HTTP/1.1\r\nHost: {store.netloc}\r\nContent-Type: application/json\r\n"
    ).encode()

    def deadline() -> float:
        return time.monotonic() + 5.0

    @app.get("/balance")
    def balance() -> dict[str, object]:
        return BALANCE

    @app.post("/payments/orders")
    def order() -> dict[str, object]:
        order_id = json.loads(request.get_data())["order_id"]
        try:
            connection = idle.pop()
        except IndexError:
            connection = Connection(store.hostname or "", store.port or 80, 5.0)
        body = json.dumps({"order_id": order_id, "status": "success"}).encode()
        answer = connection.post(head + b"Content-Length: %d\r\n\r\n" % len(body), body, deadline())
        idle.append(connection)
        return {"status": "success", "shop_notified": answer.status == 200}

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            while True:
                yield b": still here\n\n"
                time.sleep(1)

        return Response(chunks(), mimetype="text/event-stream")

    return app


def main() -> None:
    """Serve the floor until SIGTERM."""
    port, threads, callback_url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    server = sys.argv[4] if len(sys.argv) > 4 else "granian"
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with socket.create_server(("127.0.0.1", port), backlog=1024) as listener:
        SERVERS[server](make_app(callback_url), listener, ServerLimits(threads), stopping)


if __name__ == "__main__":
    main()
