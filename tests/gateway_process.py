"""Running the real CLI as a subprocess, for end-to-end tests."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType

READY = "listening on"


# What a hostile store sends, a piece every 0.3 s, forever: each piece comes well within
# any per-read timeout, so only a deadline on the whole attempt ends the wait.
DRIBBLES = {
    "never answers": b"",
    "a byte at a time": b"H",
    "endless 100 Continue": b"HTTP/1.1 100 Continue\r\n\r\n",
    "endless chunked body": b"1\r\nx\r\n",
}
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@contextmanager
def dribbling_store(piece: bytes) -> Iterator[str]:
    """A store that accepts connections and never finishes an answer, sending `piece`
    every 0.3 s (nothing if empty): the callback URL to it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def dribble(connection: socket.socket) -> None:
            if piece.startswith(b"1\r\n"):
                connection.sendall(CHUNKED_HEAD)
            while piece and not stop.wait(0.3):
                try:
                    connection.sendall(piece)
                except OSError:
                    return

        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue
                threading.Thread(target=dribble, args=(accepted[-1],), daemon=True).start()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/payments/confirm"
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(
    args: Sequence[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the CLI to completion (for --help and startup errors)."""
    return subprocess.run(
        [sys.executable, "-m", "payments_server", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
        check=False,
    )


class GatewayProcess:
    """`python -m payments_server` on a free port, started and stopped around a test."""

    command: tuple[str, ...] = ("-m", "payments_server")
    ready = READY

    def __init__(self, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--port", str(self.port), *args]
        self.env = {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process: subprocess.Popen[str] | None = None
        # Extra subprocess.Popen arguments, such as preexec_fn.
        self.popen_options: dict[str, object] = {}

    def start(self, timeout: float = 15.0) -> GatewayProcess:
        """Start the server and wait for its startup line."""
        self.process = subprocess.Popen(
            self.argv(),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=self.env,
            **self.popen_options,  # type: ignore[arg-type]
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for_line(self.ready, timeout)
        return self

    def argv(self) -> list[str]:
        """The command line that starts it."""
        return [sys.executable, *self.command, *self.args]

    def _read(self) -> None:
        assert self.process and self.process.stderr
        for line in self.process.stderr:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def mark(self) -> int:
        """Where the lines printed so far end: wait_for_line(since=) looks only after it."""
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return len(self.lines)
            if line is None:
                self._lines.put(None)  # the end stays for whoever waits next
                return len(self.lines)
            self.lines.append(line)

    def wait_for_line(self, text: str, timeout: float = 10.0, since: int = 0) -> str:
        """Wait for a stderr line containing `text` (from line `since` on, a mark());
        fail with what was printed."""
        deadline = time.monotonic() + timeout
        for line in self.lines[since:]:
            if text in line:
                return line
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r}; stderr so far:\n" + "\n".join(self.lines))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send a signal, wait for exit, and return the exit code."""
        assert self.process
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self._drain()
        return code

    def _drain(self) -> None:
        while True:
            try:
                line = self._lines.get(timeout=2)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
