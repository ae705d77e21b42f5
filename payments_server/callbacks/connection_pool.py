"""Idle keep-alive connections to stores, shared by every namespace's callbacks.

Each namespace is an account with its own callbacks, but the stores they call are few: a
store's test suite with a namespace per test calls one store stub. Kept per namespace,
the idle connections would grow with the namespaces (one each, up to --threads, open
until the namespace goes: 10,000 namespaces, 10,000 descriptors); kept here, they are
bounded by the stores, and a new namespace's first callback reuses a warm connection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

from .http1 import Connection

# (host, port, TLS): where a connection goes.
Origin = tuple[str, int, bool]
# Stores whose idle connections are kept, the least recently used let go first.
MAX_ORIGINS = 64


class ConnectionPool:
    """Up to `per_origin` idle connections for each of the latest MAX_ORIGINS stores."""

    def __init__(self, per_origin: int = 16) -> None:
        self.per_origin = per_origin
        self._lock = threading.Lock()
        self._idle: OrderedDict[Origin, deque[Connection]] = OrderedDict()
        self._closed = False

    def take(self, origin: Origin) -> Connection | None:
        """An idle connection to the origin the store has not closed meanwhile, or None."""
        while True:
            with self._lock:
                kept = self._idle.get(origin)
                if not kept:
                    return None
                connection = kept.pop()
            if not connection.dropped():
                return connection
            connection.close()

    def give_back(self, origin: Origin, connection: Connection) -> None:
        """Keep a connection whose answer left it open for the next callback (or close it
        when the pool is full or closed)."""
        dropped: list[Connection] = []
        with self._lock:
            if self._closed:
                dropped.append(connection)
            else:
                kept = self._idle.get(origin)
                if kept is None:
                    kept = self._idle[origin] = deque()
                self._idle.move_to_end(origin)
                if len(kept) < self.per_origin:
                    kept.append(connection)
                else:
                    dropped.append(connection)
                while len(self._idle) > MAX_ORIGINS:
                    dropped.extend(self._idle.popitem(last=False)[1])
        for extra in dropped:
            extra.close()

    def close(self) -> None:
        """Close every idle connection; connections given back later are closed too."""
        with self._lock:
            self._closed = True
            kept = [connection for idle in self._idle.values() for connection in idle]
            self._idle.clear()
        for connection in kept:
            connection.close()
