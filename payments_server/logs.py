"""Logging to stderr from one writer thread, so a request thread never waits on the terminal.

Under 16 busy threads a write to stderr costs far more than its 0.04 ms in isolation: the
writing thread gives up the GIL and queues to get it back. A request thread only puts the
record on a queue; one writer thread formats what has queued up and writes it at once.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from logging.handlers import QueueHandler
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(message)s"
# Lines written by one write, at most, when many are queued.
BATCH = 512

_writer: _Writer | None = None


class _InProcessQueueHandler(QueueHandler):
    """Queues the record untouched: the writer thread formats it, not the request thread.

    (QueueHandler.prepare formats in the caller, to make records safe to pickle; these
    never leave the process, and their arguments are strings and numbers.)"""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record as it is."""
        return record

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and queue the record, without the handler's lock: putting it on a
        SimpleQueue is thread-safe by itself, and the lock was a wait per request line."""
        kept = bool(self.filter(record))
        if kept:
            self.emit(record)
        return kept


def escape(text: str) -> str:
    """The text with every character that is not printable written as an escape: a value a
    client sent cannot forge a line (CR, LF), hide text (NUL) or reverse it (U+202E)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class EscapingFormatter(logging.Formatter):
    """Formats a record with its message escaped (a traceback stays as it is)."""

    def __init__(self, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(  # noqa: N802 -- logging's name
        self, record: logging.LogRecord, datefmt: str | None = None
    ) -> str:
        """logging's time, with the date and time up to the second made once a second
        (most lines of a busy second share it) and the milliseconds added."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if self._second[0] != second:
            self._second = (second, time.strftime(self.default_time_format,
                                                  self.converter(record.created)))  # fmt: skip
        return f"{self._second[1]},{int(record.msecs):03d}"  # logging's "%s,%03d"

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 -- logging's name
        """The line, its message escaped."""
        record.message = escape(record.message)
        return super().formatMessage(record)


class _Writer(threading.Thread):
    """Formats queued records and writes them to the stream, many per write."""

    def __init__(self, records: queue.SimpleQueue[logging.LogRecord | None], stream: TextIO):
        super().__init__(name="log-writer", daemon=True)
        self.records = records
        self.stream = stream
        self.formatter = EscapingFormatter(FORMAT)

    def run(self) -> None:
        """Write until told to stop (None), then write whatever is left."""
        while (record := self.records.get()) is not None:
            batch = [record]
            stop = False
            while len(batch) < BATCH:
                try:
                    more = self.records.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[logging.LogRecord]) -> None:
        text = "".join(self.formatter.format(record) + "\n" for record in batch)
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed under us: nothing sensible left to tell anyone


LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}  # fmt: skip


def configure_logging(quiet: bool, level_name: str = "info") -> None:
    """Log to stderr through the queue at `level_name` (--log-level); --quiet silences the
    per-request and per-callback success lines (warnings stay)."""
    global _writer  # noqa: PLW0603 -- one writer per process, as logging itself is
    stop_logging()
    # Nothing in FORMAT uses them, and each costs time in every record.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # Nor the caller's file and line, found by walking the stack on every record (the
    # logging documentation's "Optimization" section names this switch).
    logging._srcfile = None
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_InProcessQueueHandler(records))
    chosen = LEVELS[level_name]
    root.setLevel(chosen)
    _writer = _Writer(records, sys.stderr)
    _writer.start()
    # granian announces itself at INFO; our startup line says more.
    logging.getLogger("_granian").setLevel(logging.WARNING)
    level = max(logging.WARNING, chosen) if quiet else chosen
    logging.getLogger("payments_server.access").setLevel(level)
    logging.getLogger("payments_server.callbacks").setLevel(level)


def stop_logging() -> None:
    """Write out every queued record and stop the writer thread (nothing is lost)."""
    global _writer  # noqa: PLW0603
    if _writer is None:
        return
    _writer.records.put(None)
    _writer.join()
    _writer = None
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, QueueHandler):
            root.removeHandler(handler)
    # Anything logged after this (at exit) still reaches stderr, directly.
    direct = logging.StreamHandler(sys.stderr)
    direct.setFormatter(EscapingFormatter(FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[direct])
