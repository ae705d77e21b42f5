"""The two HTTP servers the gateway can run on, each serving an already-listening socket.

granian (the default) runs the WSGI app on its blocking-thread pool, driven by a Rust
runtime; waitress is pure Python, for platforms without granian wheels. Each call blocks
until `stopping` is set, then stops the server and returns.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from . import __version__

WSGIApp = Callable[..., Any]
Serve = Callable[[WSGIApp, socket.socket, int, threading.Event], None]

# granian's worker defaults (granian.server.common), for one worker on one socket.
RUNTIME_THREADS = 1
RUNTIME_BLOCKING_THREADS = 512
IDLE_TIMEOUT_S = 30
BACKPRESSURE = 1024
BACKLOG = 1024
NO_TLS: tuple[object, ...] = (False, None, None, None, "tls1.3", None, [], False)
NO_METRICS = (None, None)


def serve_granian(
    app: WSGIApp, listener: socket.socket, threads: int, stopping: threading.Event
) -> None:
    """Serve on granian's WSGI worker in this process, with `threads` blocking threads."""
    # granian's own process model (a supervisor forking workers) would put the account in
    # a child process; the worker it runs is the same, started here on our socket.
    # Imported when chosen, and typed loosely: granian's stubs lag behind its extension.
    native: Any = importlib.import_module("granian._granian")
    futures: Any = importlib.import_module("granian._futures")
    loops: Any = importlib.import_module("granian._loops").loops
    wsgi: Any = importlib.import_module("granian.wsgi")

    shutdown = native.WorkerSignal()
    loop = loops.get("auto")
    # granian closes the descriptor it is given when it stops: give it its own.
    holder = native.SocketHolder(os.dup(listener.fileno()), False, BACKLOG)
    worker = native.WSGIWorker(
        1, (None, holder), None,
        RUNTIME_THREADS, RUNTIME_BLOCKING_THREADS, threads, IDLE_TIMEOUT_S, BACKPRESSURE,
        "1", None, None, None, *NO_TLS, NO_METRICS,
    )  # fmt: skip
    callback = wsgi._callback_wrapper(app, {}, None)
    scheduler = futures._new_cbscheduler(loop, callback, impl_asyncio=True)
    worker.serve_mtr(scheduler, loop, shutdown)
    stopping.wait()
    shutdown.set()


def serve_waitress(
    app: WSGIApp, listener: socket.socket, threads: int, stopping: threading.Event
) -> None:
    """Serve on waitress in this thread (the main one: it is stopped by a signal)."""
    from waitress.server import create_server  # noqa: PLC0415 -- only when chosen

    server = create_server(
        app, sockets=[listener], threads=threads, ident=f"payments_server/{__version__}"
    )

    def interrupt(signum: int, frame: FrameType | None) -> None:
        stopping.set()  # ends the event streams too (server.serve)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    try:
        if not stopping.is_set():
            # Returns after KeyboardInterrupt; in-flight requests get up to 5 s to finish.
            server.run()
    except KeyboardInterrupt:
        pass  # stopped before run() had started
    finally:
        server.close()


SERVERS: dict[str, Serve] = {"granian": serve_granian, "waitress": serve_waitress}
