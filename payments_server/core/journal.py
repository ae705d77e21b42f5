"""The optional state file: every state change appended as a JSON line, replayed on start."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jsonio

log = logging.getLogger("payments_server.journal")

Event = dict[str, Any]
PARTIAL_WRITE = "no room for the whole line (a full disk or a size limit)"


class JournalError(Exception):
    """The state file cannot be used; str() names the file and, if it is corrupt, the line."""


@dataclass(frozen=True, slots=True)
class Line:
    """One event read back from the file, with its line number for error messages."""

    number: int
    event: Event


class Journal:
    """An append-only JSON-lines file. Each event is written with one system call, so it
    survives the process being killed once append() returns; with fsync it survives a power
    loss too. Safe to use from several threads."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._file: Any = None

    def read(self) -> list[Line]:
        """The events in the file, oldest first; a torn last line is cut off with a warning.

        Raises JournalError for any other damage, naming the line.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(f"cannot read the state file {self.path}: {exc.strerror}") from None
        lines = list(_split(data))
        good = len(data)
        if lines and not lines[-1][3]:
            # No newline: the process died while writing it, so it was never acknowledged.
            number, start, _, _ = lines.pop()
            good = start
            log.warning(
                "ignored the torn last line %d of the state file %s (%d bytes, cut short by a"
                " crash)",
                number,
                self.path,
                len(data) - start,
            )
        events = []
        for number, start, end, _ in lines:
            text = data[start:end]
            try:
                event = jsonio.loads(text)
            except (ValueError, RecursionError):
                raise JournalError(f"{self.path} line {number} is not JSON") from None
            if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                raise JournalError(f"{self.path} line {number} is not an event")
            events.append(Line(number, event))
        if good < len(data):
            self._truncate(good)
        return events

    def append(self, event: Event) -> None:
        """Write one event; it is in the file (and on disk, with fsync) when this returns.

        Raises JournalError if it cannot be written; the file is then as it was before.
        """
        line = (jsonio.dumps(event) + "\n").encode()
        with self._lock:
            handle = self._open()
            # The file's size, not tell(): appends go to the end wherever the position is.
            size = os.fstat(handle.fileno()).st_size
            try:
                if handle.write(line) != len(line):
                    raise OSError(errno.ENOSPC, PARTIAL_WRITE)
                if self.fsync:
                    os.fsync(handle.fileno())
            except OSError as exc:
                # A partial line left in place would glue itself to the next one.
                with contextlib.suppress(OSError):
                    handle.truncate(size)
                raise self._write_error(exc) from None

    def rewrite(self, events: list[Event]) -> None:
        """Replace the whole file with these events, atomically (used by /reset to compact)."""
        data = b"".join((jsonio.dumps(event) + "\n").encode() for event in events)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with self._lock:
            try:
                with open(temporary, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                self._close()
                os.replace(temporary, self.path)
                if self.fsync:
                    _fsync_directory(self.path.parent)
            except OSError as exc:
                raise self._write_error(exc) from None

    def close(self) -> None:
        """Close the file; a later append() opens it again."""
        with self._lock:
            self._close()

    def _open(self) -> Any:
        if self._file is None:
            try:
                # Unbuffered: each write() is one system call, nothing waits in our memory.
                self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 -- kept open
            except OSError as exc:
                raise self._write_error(exc) from None
        return self._file

    def _write_error(self, exc: OSError) -> JournalError:
        return JournalError(f"cannot write the state file {self.path}: {exc.strerror or exc}")

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _truncate(self, size: int) -> None:
        with open(self.path, "r+b") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())


def _split(data: bytes) -> Iterator[tuple[int, int, int, bool]]:
    """(line number, start, end, whether a newline ends it) for each line."""
    start, number = 0, 1
    while start < len(data):
        end = data.find(b"\n", start)
        if end == -1:
            yield number, start, len(data), False
            return
        yield number, start, end, True
        start, number = end + 1, number + 1


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is; not possible on Windows.
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
