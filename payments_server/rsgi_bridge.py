"""A WSGI app served over granian's RSGI interface, so that no client can hold a thread.

granian's own WSGI worker reads a request body on the request thread, with no deadline:
16 clients sending half a body stalled every request. Here the body is read in granian's
event loop, where waiting costs a coroutine, under a deadline from the first byte of the
body to its last; only a complete request reaches the app, on a pool of `threads` threads.
A body that misses the deadline, or is too large, still reaches the app: without its
bytes, its status (408, 413) in the environ (`BODY_PROBLEM`), so each API refuses it in
its own shape;
the connection is closed after that answer. An event stream learns at once that its
client left (`DISCONNECTED`), instead of at its next write.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

from granian.rsgi import ProtocolClosed as RSGIProtocolClosed

from .apis.accesslog import PATH_SAFE
from .apis.api_fault_hooks import TRANSPORT_FAULT
from .apis.web import BODY_PROBLEM, DISCONNECTED

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = logging.getLogger("payments_server.server")

NO_BODY_STATUSES = frozenset({204, 304})
T = TypeVar("T")


class BodyTooLargeError(Exception):
    """The body is longer than the app accepts."""


class Bridge:
    """An RSGI application running a WSGI app; `wake()` is called when a client leaves."""

    def __init__(
        self,
        app: WSGIApp,
        threads: int,
        *,
        body_timeout: float,
        max_body: int,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body = max_body
        self._wake = wake
        self._pool = RequestThreads(threads, "request")

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        """Read the body under the deadline, run the app on the pool, send its answer."""
        headers = scope.headers
        problem = None
        length = headers.get("content-length")
        try:
            if (length is None and "transfer-encoding" not in headers) or length == "0":
                body = b""  # nothing to wait for, no deadline to set
            else:
                async with asyncio.timeout(self.body_timeout):
                    body = await self._body(length, proto)
        except TimeoutError:
            body, problem = b"", 408
        except BodyTooLargeError:
            body, problem = b"", 413
        except RSGIProtocolClosed:
            # The client left in the middle of its body: nothing to answer, nothing changed.
            log.info("client left during the body of %s %s", scope.method, _path(scope))
            return
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[_Answer] = loop.create_future()
        self._pool.call(self._answer, loop, answered, scope, body, problem)
        answer = await answered
        # Sent from here, granian's loop, where its protocol object is meant to be used.
        if isinstance(answer, _InMemory):
            proto.response_bytes(answer.status, answer.headers, answer.body)
        elif isinstance(answer, _Broken):
            await answer.send(proto)
        elif answer is not None:
            await self._stream(proto, answer)

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        answered: asyncio.Future[_Answer],
        scope: Any,
        body: bytes,
        problem: int | None,
    ) -> None:
        """Run the app on a pool thread and hand its answer to the event loop (through
        `answered`): in memory, broken on purpose, or a stream; None if it failed."""
        answer: _Answer = None
        try:
            environ = _environ(scope, scope.headers, body)
            departure = _Departure()
            environ[DISCONNECTED] = departure
            if problem is not None:
                environ[BODY_PROBLEM] = problem
            status, sent, chunks = self._call(environ)
            if problem is not None:
                # Bytes of the body may still come: they must not be read as a next request.
                sent.append(("connection", "close"))
            broken = environ.get(TRANSPORT_FAULT)
            if isinstance(chunks, list) and broken is not None:
                kind, delay_ms = broken
                answer = _Broken(kind, delay_ms, status, sent, b"".join(chunks))
            elif isinstance(chunks, list):
                answer = _InMemory(status, sent, b"".join(chunks))
            else:
                answer = _Streamed(status, sent, chunks, departure())
        except Exception:
            # Flask answers the app's own errors; this is the bridge's. granian answers 500.
            log.exception("could not answer %s %s", scope.method, scope.path)
        finally:
            loop.call_soon_threadsafe(_settle, answered, answer)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to prepare (granian calls it when the worker starts)."""

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to release (granian calls it when the worker stops)."""

    def close(self) -> None:
        """Stop the pool once the requests on it are done."""
        self._pool.close()

    async def _body(self, length: str | None, proto: Any) -> bytes:
        if length is not None and length.isdigit():
            if int(length) > self.max_body:
                raise BodyTooLargeError
            return bytes(await proto())
        parts, size = [], 0
        async for part in proto:
            size += len(part)
            if size > self.max_body:
                raise BodyTooLargeError
            parts.append(part)
        return b"".join(parts)

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Any]:
        """Run the app (on a pool thread): its status, headers, and body as a list when it
        is in memory, else as the iterator to stream."""
        started: list[Any] = []

        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            started[:] = [int(status[:3]), list(headers)]
            return lambda data: None  # the legacy write(): nothing here uses it

        body = self.app(environ, start_response)
        if isinstance(body, list):
            return started[0], started[1], body
        iterator = iter(body)
        # start_response may wait for the first chunk (a generator's first step).
        first = next(iterator, None)
        status, headers = started
        if first is None or status in NO_BODY_STATUSES or environ["REQUEST_METHOD"] == "HEAD":
            _close(body)
            return status, headers, [first or b""]
        return status, headers, _Stream(first, iterator, body)

    async def _stream(self, proto: Any, answer: _Streamed) -> None:
        stream, disconnected = answer.body, answer.disconnected
        watcher = asyncio.ensure_future(proto.client_disconnect())

        def left(_: object) -> None:
            disconnected.set()
            self._wake()

        watcher.add_done_callback(left)
        transport = proto.response_stream(answer.status, answer.headers)
        try:
            chunk: bytes | None = stream.first
            while chunk is not None and not disconnected.is_set():
                await transport.send_bytes(chunk)
                chunk = await self._pool.run(stream.next)
        except Exception:
            disconnected.set()
        finally:
            watcher.remove_done_callback(left)
            watcher.cancel()
            await self._pool.run(_close, stream.body)


class RequestThreads:
    """The threads the app runs on: a fixed pool taking plain calls from one queue.

    The hand-off between granian's event loop and the app on every request, so it is kept
    to a queue put and get: no future, lock or condition per call as concurrent.futures
    makes (about 10 % of GET /balance's cost, measured; docs/performance.md)."""

    def __init__(self, size: int, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[..., object], tuple[Any, ...]] | None]
        self._calls = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True)
            for n in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def call(self, function: Callable[..., object], *args: Any) -> None:
        """Run function(*args) on a pool thread, not waiting for it; it logs its own
        errors (one escaping is logged here)."""
        self._calls.put((function, args))

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run function(*args) on a pool thread and await its result (or its error)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()

        def job() -> None:
            try:
                result = function(*args)
            except BaseException as exc:
                loop.call_soon_threadsafe(_fail, done, exc)
            else:
                loop.call_soon_threadsafe(_settle, done, result)

        self.call(job)
        return await done

    def close(self) -> None:
        """Drop the calls not yet started and end each thread after its current one."""
        while True:
            try:
                self._calls.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self._calls.put(None)

    def _work(self) -> None:
        while (item := self._calls.get()) is not None:
            function, args = item
            try:
                function(*args)
            except BaseException:
                log.exception("a request thread's call failed")


class _Departure:
    """When the client left: its threading.Event, made only if asked for (by an event
    stream's route, or by the bridge once it streams), not on every request. The route
    asks on its pool thread before the answer is handed to the loop, and the loop asks
    after, so the two never race."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: threading.Event | None = None

    def __call__(self) -> threading.Event:
        if self._event is None:
            self._event = threading.Event()
        return self._event


class _InMemory(NamedTuple):
    """An answer whose body the app has made whole."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Streamed(NamedTuple):
    """An answer streamed as the app makes it (an event stream), until its client leaves."""

    status: int
    headers: list[tuple[str, str]]
    body: _Stream
    disconnected: threading.Event


class _Broken:
    """An answer broken on the wire on purpose (an API fault): its status line and headers
    (Content-Length saying the whole body), then half the body (truncate), half, a pause
    and the rest (stall), or its first byte only (reset, empty). granian can neither close
    a connection without an answer nor send a reset, and an answer it sends no body byte
    of it ends as complete (Content-Length: 0): one byte is the least it can break."""

    def __init__(
        self, kind: str, delay_ms: int, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self.kind, self.delay_ms, self.status, self.body = kind, delay_ms, status, body
        self.headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        self.headers.append(("content-length", str(len(body))))

    async def send(self, proto: Any) -> None:
        """Send what the fault lets through, then end the answer short (or late)."""
        transport = proto.response_stream(self.status, self.headers)
        half = len(self.body) // 2 if self.kind in ("truncate", "stall") else 1
        try:
            await transport.send_bytes(self.body[:half])
            if self.kind == "stall":
                await asyncio.sleep(self.delay_ms / 1000)
                await transport.send_bytes(self.body[half:])
        except Exception:
            return  # the client left meanwhile: nothing more to break


class _Stream:
    """A streamed body: its first chunk (already produced) and the rest to come."""

    __slots__ = ("body", "first", "rest")

    def __init__(self, first: bytes, rest: Iterator[bytes], body: Iterable[bytes]) -> None:
        self.first, self.rest, self.body = first, rest, body

    def next(self) -> bytes | None:
        """The next chunk, or None at the end."""
        return next(self.rest, None)


# What a pool thread hands back to the event loop for one request (None: nothing to send).
_Answer = _InMemory | _Broken | _Streamed | None


def _path(scope: Any) -> str:
    """The request's path as the access log writes it: nothing a client sent unescaped."""
    return quote(str(scope.path), safe=PATH_SAFE)


def _settle(answered: asyncio.Future[Any], answer: object) -> None:
    # The request's coroutine may have been cancelled meanwhile (its client gone).
    if not answered.done():
        answered.set_result(answer)


def _fail(done: asyncio.Future[Any], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)


def _close(body: object) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


def _environ(scope: Any, headers: Any, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an RSGI request, as granian's WSGI worker builds it."""
    host, _, port = scope.server.rpartition(":")
    client = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # RSGI gives the path decoded as UTF-8; WSGI wants its bytes as latin-1.
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string.encode("utf-8", "surrogateescape").decode("latin-1"),
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        # "[::1]:5000" for IPv6: WSGI's address has no brackets.
        "REMOTE_ADDR": (client[0] or scope.client).strip("[]"),
        "REMOTE_PORT": client[2],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            earlier = environ.get(key)
            joint = "; " if key == "HTTP_COOKIE" else ","
            environ[key] = value if earlier is None else earlier + joint + value
    if body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ
