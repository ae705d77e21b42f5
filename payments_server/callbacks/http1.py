"""The least HTTP/1.1 a callback needs: one keep-alive connection, one POST, one answer.

http.client costs about 190 us of CPU per keep-alive POST here and makes five system
calls (two writes, two timeout changes, a read); under load each system call is a trip
through the GIL. This writes the request in one `sendall` and reads the answer through a
buffered reader, about 40 us (docs/performance.md). It reads what a callback needs of the
answer: the status, Retry-After, and enough framing (Content-Length, chunked, or the end
of the connection) to find where the answer ends so the connection can be reused.
"""

from __future__ import annotations

import select
import socket
import ssl
import time

MAX_LINE = 65_536
MAX_HEADERS = 100
MAX_BODY = 1_048_576
# Statuses that never have a body (RFC 9112, section 6.3).
NO_BODY = frozenset({204, 304})


class ProtocolError(Exception):
    """The store's answer is not HTTP/1.x as this client reads it."""


class ClosedWithoutAnswerError(ConnectionError):
    """The store closed the connection before the status line."""


class Answer:
    """The part of a store's answer a callback uses."""

    __slots__ = ("keep_alive", "retry_after", "status")

    def __init__(self, status: int, retry_after: str | None, keep_alive: bool) -> None:
        self.status = status
        self.retry_after = retry_after
        self.keep_alive = keep_alive


class Connection:
    """One connection to the store; `post` may be called again while `keep_alive` held."""

    def __init__(
        self, host: str, port: int, timeout: float, tls: ssl.SSLContext | None = None
    ) -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        # The request leaves in one write; this keeps a short one from waiting on Nagle.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock: socket.socket = tls.wrap_socket(sock, server_hostname=host) if tls else sock
        self._reader = self.sock.makefile("rb")
        self._version_11 = True

    def post(self, head: bytes, body: bytes, deadline: float) -> Answer:
        """Send head (request line and headers, ending in a blank line) and body; read the
        answer. Raises OSError, TimeoutError, ClosedWithoutAnswerError or ProtocolError."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        # Only when it changed by more than a little: each change is a system call.
        if (self.sock.gettimeout() or 0) - remaining > 0.05:
            self.sock.settimeout(remaining)
        self.sock.sendall(head + body)
        status, headers = self._read_head()
        while 100 <= status < 200:  # 100 Continue, 103 Early Hints: the answer follows
            if status == 101:
                raise ProtocolError("the store switched protocols")
            status, headers = self._read_head()
        keep_alive = headers.get("connection", "").lower() != "close" and self._version_11
        if status in NO_BODY:
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._skip_chunked()
        elif "content-length" in headers:
            self._skip(_length(headers["content-length"]))
        else:
            # The body ends with the connection.
            self._skip_to_end()
            keep_alive = False
        return Answer(status, headers.get("retry-after"), keep_alive)

    def dropped(self) -> bool:
        """True if the store closed this idle connection (or sent bytes nobody asked for)."""
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        """Close the connection."""
        self._reader.close()
        self.sock.close()

    def _read_head(self) -> tuple[int, dict[str, str]]:
        line = self._reader.readline(MAX_LINE + 1)
        if not line:
            raise ClosedWithoutAnswerError
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
        self._version_11 = parts[0] != b"HTTP/1.0"
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self._reader.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return int(parts[1]), headers
            if not line or len(line) > MAX_LINE:
                raise ProtocolError("the answer's headers end early or run too long")
            name, colon, value = line.partition(b":")
            if not colon:
                raise ProtocolError(f"not a header line: {line[:80]!r}")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        raise ProtocolError(f"more than {MAX_HEADERS} headers")

    def _skip(self, length: int) -> None:
        if length > MAX_BODY:
            raise ProtocolError(f"an answer of {length} bytes; a callback needs none")
        if len(self._reader.read(length)) < length:
            raise ClosedWithoutAnswerError

    def _skip_chunked(self) -> None:
        while True:
            size_line = self._reader.readline(MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0], 16)
            except ValueError:
                raise ProtocolError(f"not a chunk size: {size_line[:80]!r}") from None
            if size == 0:
                break
            self._skip(size + 2)  # the chunk and its CRLF
        # Trailer fields, then the blank line.
        while self._reader.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
            pass

    def _skip_to_end(self) -> None:
        total = 0
        while chunk := self._reader.read1(MAX_LINE):
            total += len(chunk)
            if total > MAX_BODY:
                raise ProtocolError("an endless answer")


def _length(text: str) -> int:
    if not text.isdigit():
        raise ProtocolError(f"Content-Length {text!r} is not a number")
    return int(text)
