"""One gateway process for every xdist worker of a test run, each test in a namespace of it.

The run's main process names a folder; the first worker that needs the gateway claims it
(an exclusive create, which every platform has), starts `python -m payments_server` on a
free port and writes its URL there; the others wait for that line. The main process stops
the gateway when the run ends, whichever worker started it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["ENVIRONMENT", "shared_gateway_url", "stop_shared_gateway"]

# A gateway already running (a CI service, a developer's own): no process is started.
ENVIRONMENT = "PAYMENTS_GATEWAY_URL"
CLAIM, STARTED, LOG = "gateway.claim", "gateway.json", "gateway.log"
# How long a worker waits for the gateway another worker starts, in seconds.
START_WAIT = 60.0
# Namespaces the shared gateway holds at once: a test's is deleted at its end.
MAX_NAMESPACES = 100_000


def shared_gateway_url(folder: Path) -> str:
    """The URL of the run's shared gateway, started by whichever worker asks first."""
    try:
        claim = os.open(folder / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return _wait_for_start(folder)
    os.close(claim)
    try:
        url = _start(folder)
    except BaseException as exc:
        _write(folder / STARTED, {"error": str(exc)})
        raise
    return url


def stop_shared_gateway(folder: Path) -> None:
    """Stop the gateway a worker started in this folder, if any (the run is over)."""
    try:
        started = json.loads((folder / STARTED).read_text("utf-8"))
    except (OSError, ValueError):
        return
    pid = started.get("pid")
    if isinstance(pid, int):
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return


def _start(folder: Path) -> str:
    port = _free_port()
    log = (folder / LOG).open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "payments_server", "--host", "127.0.0.1", "--port", str(port),
         "--quiet", "--max-namespaces", str(MAX_NAMESPACES)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        # Its own session: a Ctrl-C in the terminal reaches pytest, which stops it in turn.
        start_new_session=True,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_WAIT
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            said = (folder / LOG).read_text("utf-8", "replace").strip()
            raise RuntimeError(f"the shared payments_server did not start: {said or 'no output'}")
        time.sleep(0.05)  # polling the port: the child says nothing sooner
    _write(folder / STARTED, {"url": url, "pid": process.pid})
    return url


def _wait_for_start(folder: Path) -> str:
    deadline = time.monotonic() + START_WAIT
    while True:
        try:
            started = json.loads((folder / STARTED).read_text("utf-8"))
        except (OSError, ValueError):
            started = None
        if started is not None:
            if "error" in started:
                raise RuntimeError(started["error"])
            return str(started["url"])
        if time.monotonic() > deadline:
            raise RuntimeError(f"no shared payments_server started within {START_WAIT:g} s")
        time.sleep(0.05)  # another worker is starting it; it writes one file when done


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/balance", timeout=1) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _write(path: Path, data: dict[str, object]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data), "utf-8")
    os.replace(partial, path)
