"""The least HTTP/1.1 a callback needs: one keep-alive connection, one POST, one answer.

http.client costs about 190 us of CPU per keep-alive POST here and makes five system
calls (two writes, two timeout changes, a read); under load each system call is a trip
through the GIL. This writes the request in one `sendall` and reads the answer through a
buffered reader, about 40 us (docs/performance.md). It reads what a callback needs of the
answer: the status, Retry-After, and enough framing (Content-Length, chunked, or the end
of the connection) to find where the answer ends so the connection can be reused; and it
keeps the headers and the first KiB of the body, for the callback log.

Every read waits only for what is left of the attempt's deadline, so a store that dribbles
its answer a byte at a time, or sends 100 Continue forever, is cut off at the deadline.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import time

MAX_LINE = 65_536
MAX_HEADERS = 100
MAX_BODY = 1_048_576
# Statuses that never have a body (RFC 9112, section 6.3).
NO_BODY = frozenset({204, 304})
# What the callback log keeps of an answer.
KEPT_BODY = 2048
KEPT_HEADERS = 4096


class ProtocolError(Exception):
    """The store's answer is not HTTP/1.x as this client reads it."""


class ClosedWithoutAnswerError(ConnectionError):
    """The store closed the connection before the status line."""


class Answer:
    """The part of a store's answer a callback uses, and what the log keeps of it."""

    __slots__ = ("body", "headers", "keep_alive", "retry_after", "status")

    def __init__(
        self,
        status: int,
        retry_after: str | None,
        keep_alive: bool,
        headers: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.keep_alive = keep_alive
        # The headers as sent (up to KEPT_HEADERS bytes of them) and the body's first bytes.
        self.headers = headers
        self.body = body


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes, each read waiting only until the deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = 0.0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        _wait_at_most(self.sock, self.deadline)
        return self.sock.recv_into(buffer)


class Connection:
    """One connection to the store; `post` may be called again while `keep_alive` held."""

    def __init__(
        self, host: str, port: int, timeout: float, tls: ssl.SSLContext | None = None
    ) -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        # The request leaves in one write; this keeps a short one from waiting on Nagle.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock: socket.socket = tls.wrap_socket(sock, server_hostname=host) if tls else sock
        self._raw = _DeadlineReader(self.sock)
        self._reader = io.BufferedReader(self._raw)
        self._version_11 = True
        self._kept = bytearray()

    def post(self, head: bytes, body: bytes, deadline: float) -> Answer:
        """Send head (request line and headers, ending in a blank line) and body; read the
        answer. Raises OSError, TimeoutError, ClosedWithoutAnswerError or ProtocolError."""
        self._raw.deadline = deadline
        _wait_at_most(self.sock, deadline)
        self.sock.sendall(head + body)
        status, headers, kept = self._read_head()
        while 100 <= status < 200:  # 100 Continue, 103 Early Hints: the answer follows
            if status == 101:
                raise ProtocolError("the store switched protocols")
            status, headers, kept = self._read_head()
        keep_alive = headers.get("connection", "").lower() != "close" and self._version_11
        self._kept.clear()
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
        return Answer(status, headers.get("retry-after"), keep_alive, kept, bytes(self._kept))

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

    def _read_head(self) -> tuple[int, dict[str, str], tuple[tuple[str, str], ...]]:
        line = self._reader.readline(MAX_LINE + 1)
        if not line:
            raise ClosedWithoutAnswerError
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
        self._version_11 = parts[0] != b"HTTP/1.0"
        headers: dict[str, str] = {}
        kept: list[tuple[str, str]] = []
        room = KEPT_HEADERS
        for _ in range(MAX_HEADERS + 1):
            line = self._reader.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return int(parts[1]), headers, tuple(kept)
            if not line or len(line) > MAX_LINE:
                raise ProtocolError("the answer's headers end early or run too long")
            name, colon, value = line.partition(b":")
            if not colon:
                raise ProtocolError(f"not a header line: {line[:80]!r}")
            field = name.strip().decode("latin-1"), value.strip().decode("latin-1")
            headers[field[0].lower()] = field[1]
            room -= len(line)
            if room >= 0:
                kept.append(field)
        raise ProtocolError(f"more than {MAX_HEADERS} headers")

    def _skip(self, length: int) -> None:
        if length > MAX_BODY:
            raise ProtocolError(f"an answer of {length} bytes; a callback needs none")
        data = self._reader.read(length)
        self._keep(data)
        if len(data) < length:
            raise ClosedWithoutAnswerError

    def _keep(self, data: bytes) -> None:
        room = KEPT_BODY - len(self._kept)
        if room > 0:
            self._kept += data[:room]

    def _skip_chunked(self) -> None:
        while True:
            size_line = self._reader.readline(MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0], 16)
            except ValueError:
                raise ProtocolError(f"not a chunk size: {size_line[:80]!r}") from None
            if size == 0:
                break
            self._skip(size)
            if self._reader.read(2) != b"\r\n":
                raise ProtocolError("a chunk does not end in CRLF")
        # Trailer fields, then the blank line.
        while self._reader.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
            pass

    def _skip_to_end(self) -> None:
        total = 0
        while chunk := self._reader.read1(MAX_LINE):
            self._keep(chunk)
            total += len(chunk)
            if total > MAX_BODY:
                raise ProtocolError("an endless answer")


def _wait_at_most(sock: socket.socket, deadline: float) -> None:
    """Let the socket's next operation wait until the deadline (within 50 ms of it)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    # Only when it is off by more than a little: each change is a system call.
    if abs((sock.gettimeout() or 0) - remaining) > 0.05:
        sock.settimeout(remaining)


def _length(text: str) -> int:
    if not text.isdigit():
        raise ProtocolError(f"Content-Length {text!r} is not a number")
    return int(text)
