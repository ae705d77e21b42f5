"""The HTTP server the gateway runs on, serving an already-listening socket.

granian parses HTTP in a Rust runtime and hands each request to its RSGI interface, where
`rsgi_bridge.Bridge` reads the body under a deadline and runs the WSGI app on a thread
pool. The call blocks until `stopping` is set, then stops the server and returns.
(waitress, once a second choice, could not hold docs/limits.md.)
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .collector import freeze_survivors
from .rsgi_bridge import Bridge, WSGIApp


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What the server allows a client: threads for requests, deadlines, connections."""

    threads: int = 16
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_connections: int = 4096
    max_body: int = 4 * 1024 * 1024
    # Called when a client leaves mid-stream, so its stream can end (EventBus.wake).
    wake: Callable[[], None] = lambda: None


Serve = Callable[[WSGIApp, socket.socket, ServerLimits, threading.Event], None]

# granian's worker defaults (granian.server.common), for one worker on one socket.
RUNTIME_THREADS = 1
RUNTIME_BLOCKING_THREADS = 512
# granian runs RSGI callbacks on its event loop; only WSGI uses more blocking threads.
LOOP_THREADS = 1
IDLE_TIMEOUT_S = 30
BACKLOG = 1024
NO_TLS: tuple[object, ...] = (False, None, None, None, "tls1.3", None, [], False)
NO_METRICS = (None, None)


def serve_granian(
    app: WSGIApp, listener: socket.socket, limits: ServerLimits, stopping: threading.Event
) -> None:
    """Serve on granian's RSGI worker in this process; the event loop runs in this thread."""
    # granian's own process model (a supervisor forking workers) would put the account in
    # a child process; the worker it runs is the same, started here on our socket.
    # Imported when chosen, and typed loosely: granian's stubs lag behind its extension.
    native: Any = importlib.import_module("granian._granian")
    futures: Any = importlib.import_module("granian._futures")
    loops: Any = importlib.import_module("granian._loops").loops
    rsgi: Any = importlib.import_module("granian.rsgi")
    http: Any = importlib.import_module("granian.http")

    bridge = Bridge(
        app, limits.threads,
        body_timeout=limits.body_timeout, max_body=limits.max_body, wake=limits.wake,
    )  # fmt: skip
    shutdown = native.WorkerSignal()
    loop = loops.get("auto")
    # Accepted connections inherit it: an answer granian writes in more than one piece (a
    # static file, an event stream) would otherwise wait on Nagle's algorithm for the
    # client's delayed ACK, 40 ms per answer on a kept-alive connection.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # granian closes the descriptor it is given when it stops: give it its own.
    holder = native.SocketHolder(os.dup(listener.fileno()), False, BACKLOG)
    # hyper's header read timeout also closes a kept-alive connection left idle that long.
    http1 = http.HTTP1Settings(header_read_timeout=int(limits.header_timeout * 1000))
    worker = native.RSGIWorker(
        1, (None, holder), None,
        RUNTIME_THREADS, RUNTIME_BLOCKING_THREADS, LOOP_THREADS, IDLE_TIMEOUT_S,
        limits.max_connections, "1", http1, None, False, None, *NO_TLS, NO_METRICS,
    )  # fmt: skip
    callback = futures._future_watcher_wrapper(rsgi._callback_wrapper(bridge.__rsgi__, None))
    scheduler = futures._new_cbscheduler(loop, callback, impl_asyncio=True)
    stopped = asyncio.Event()
    # granian calls this from its own thread once the worker has stopped taking requests.
    shutdown.add_cb(lambda: loop.call_soon_threadsafe(stopped.set))
    threading.Thread(
        target=lambda: (stopping.wait(), shutdown.set()), name="granian-stop", daemon=True
    ).start()
    # What exists now (modules, the app, an account replayed from its state file) lives as
    # long as the process, and so will what outlives each full collection from now on.
    freeze_survivors()
    worker.serve_mtr(scheduler, loop, shutdown)
    try:
        loop.run_until_complete(stopped.wait())
    finally:
        bridge.close()


SERVERS: dict[str, Serve] = {"granian": serve_granian}
