"""A real HTTP store on 127.0.0.1 that records the gateway's callbacks and answers as told."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any

from ..callbacks.signing import DEV_WEBHOOK_SECRET, Signer
from ..core import jsonio

CONFIRM_PATH = "/payments/confirm"


@dataclass(frozen=True, slots=True)
class ReceivedCallback:
    """One request the store stub received, exactly as it arrived."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float
    client_port: int
    # Whether the webhook-* headers carry a valid, timely signature of the body.
    signature_valid: bool

    @property
    def json(self) -> Any:
        """The body parsed as JSON (numbers that are not integers as Decimal)."""
        return jsonio.loads(self.body)


class _StubHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open between callbacks, as a real store's server does.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment, sent at once: written separately, Nagle's
    # algorithm and the client's delayed ACK held every answer back by about 40 ms.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _StubServer

    def _handle(self) -> None:
        body = self._read_body()
        status, headers, answer = self.server.stub._record(self, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            # The trailer section ends with an empty line.
            while self.rfile.readline().strip():
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815 -- http.server names

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when many payments call back at once.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], stub: StoreStub) -> None:
        super().__init__(address, _StubHandler)
        self.stub = stub


class StoreStub:
    """A store on 127.0.0.1 that records every request and answers as scripted.

    Answers default to 200 with the body {}; `respond_with` sets a default status, a queue
    of statuses used first, extra response headers (such as Retry-After), the body and a
    delay. `hold()` keeps answers
    back until `release()`, so a test can act while the gateway waits on the store;
    `blackhole()` never answers. Each callback's signature is checked with `secret`.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, secret: str = DEV_WEBHOOK_SECRET
    ) -> None:
        self._signer = Signer(secret)
        self._lock = threading.Condition()
        self._received: list[ReceivedCallback] = []
        self._status = 200
        self._statuses: deque[int] = deque()
        self._delay = 0.0
        self._headers: dict[str, str] = {}
        self._body = b"{}"
        self._gate = threading.Event()
        self._gate.set()
        self._server = _StubServer((host, port), self)
        # A short poll interval makes stop() quick; the default would add half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="store-stub", daemon=True
        )

    @property
    def base_url(self) -> str:
        """The stub's root URL, such as http://127.0.0.1:54321."""
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The callback URL to give the gateway: base_url + /payments/confirm."""
        return self.base_url + CONFIRM_PATH

    def start(self) -> StoreStub:
        """Start answering; the socket is already listening, so this returns at once."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release held answers, shut the server down and wait for its thread."""
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> StoreStub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def respond_with(
        self,
        status: int = 200,
        *,
        then: Iterable[int] = (),
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"{}",
    ) -> None:
        """Answer the next requests with the statuses in `then`, after that with `status`;
        each answer carries `headers` and `body` (JSON, as a store's would be)."""
        with self._lock:
            self._status = status
            self._statuses = deque(then)
            self._delay = delay
            self._headers = dict(headers or {})
            self._body = body

    def hold(self) -> None:
        """Keep every answer back (requests are still recorded) until release()."""
        self._gate.clear()

    def blackhole(self) -> None:
        """Never answer (until clear() or stop()): the gateway waits out its callback timeout."""
        self._gate.clear()

    def release(self) -> None:
        """Let held answers go."""
        self._gate.set()

    @property
    def received(self) -> list[ReceivedCallback]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._received)

    @property
    def events(self) -> list[ReceivedCallback]:
        """The received callbacks as a store that deduplicates by webhook-id handles them:
        the first of each webhook-id, oldest first (retries and duplicates dropped)."""
        seen: set[str] = set()
        first = []
        for callback in self.received:
            event = callback.headers.get("webhook-id", "")
            if event not in seen:
                seen.add(event)
                first.append(callback)
        return first

    def assert_each_event_once(self, expected: list[object]) -> None:
        """Assert that, deduplicated by webhook-id, the bodies received are `expected`
        (parsed JSON, in order), saying what arrived and how often if not."""
        got = [callback.json for callback in self.events]
        if got != expected:
            counts: dict[str, int] = {}
            for callback in self.received:
                event = callback.headers.get("webhook-id", "")
                counts[event] = counts.get(event, 0) + 1
            raise AssertionError(
                f"expected the events {expected!r}, got {got!r} (deliveries per webhook-id:"
                f" {counts})"
            )

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedCallback]:
        """Wait until at least `count` requests arrived; raise TimeoutError naming what did."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"store stub received {len(self._received)} requests, expected {count}"
                    )
                self._lock.wait(remaining)
            return list(self._received)

    def clear(self) -> None:
        """Forget received requests and go back to answering 200 at once."""
        with self._lock:
            self._received.clear()
            self._status, self._statuses, self._delay = 200, deque(), 0.0
            self._headers, self._body = {}, b"{}"
        self._gate.set()

    def _record(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Record one request; wait while held; return the status, headers and body to
        answer with."""
        record = ReceivedCallback(
            method=handler.command,
            path=handler.path,
            headers=MappingProxyType(dict(handler.headers.items())),
            body=body,
            received_at=time.time(),
            client_port=handler.client_address[1],
            signature_valid=self._signer.verify(dict(handler.headers.items()), body),
        )
        with self._lock:
            self._received.append(record)
            status = self._statuses.popleft() if self._statuses else self._status
            delay, headers, answer = self._delay, self._headers, self._body
            self._lock.notify_all()
        self._gate.wait()
        if delay:
            time.sleep(delay)
        return status, headers, answer
