"""A report card for a store's callback endpoint: every way real webhooks go wrong, sent on
purpose, and what the store did with each (docs/check-store.md).

It only ever calls the store's callback URL and, if given, its order-status URL. Every
request has a timeout and the number of requests is fixed, so a check ends in bounded time.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import secrets
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .checks import CHECKS, FIXES, Check, Delivered, Result
from .signing import Signer

log = logging.getLogger("payments_server.store_check")

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class CheckError(Exception):
    """The checks cannot run (a URL not allowed, an order that cannot be made)."""


def _template(order_status: str) -> str:
    """An order-status URL template, checked: {order_id} is its one placeholder."""
    try:
        order_status.format(order_id="x")
    except (KeyError, IndexError, ValueError):
        raise CheckError(
            "--order-status must have {order_id} as its only placeholder (a literal brace is"
            f" written twice: {{{{ }}}}), got {order_status!r}"
        ) from None
    return order_status


@dataclass(frozen=True, slots=True)
class Report:
    """What every check found."""

    url: str
    results: tuple[Result, ...]

    @property
    def passed(self) -> bool:
        """True when no check failed (checks that could not run do not fail)."""
        return all(result.passed is not False for result in self.results)

    def failed(self) -> list[str]:
        """The names of the checks that failed."""
        return [result.name for result in self.results if result.passed is False]

    def to_json(self) -> dict[str, object]:
        """{"passed", "checks": [{"name", "passed", "sent", "received", "why", "fix"}]}."""
        return {"passed": self.passed, "url": self.url,
                "checks": [result.to_json() for result in self.results]}  # fmt: skip

    def to_text(self) -> str:
        """The report as a person reads it in a terminal."""
        lines = [f"check-store {self.url}", ""]
        for result in self.results:
            mark = {True: "PASS", False: "FAIL", None: "SKIP"}[result.passed]
            lines.append(f"{mark}  {result.name}: {result.why}")
            if result.passed is False:
                lines += [f"      sent:     {result.sent}", f"      received: {result.received}",
                          f"      fix:      {result.fix}"]  # fmt: skip
        marks = [result.passed for result in self.results]
        passed, failed, skipped = marks.count(True), marks.count(False), marks.count(None)
        # Counted, so that a run that skipped most checks never reads as a clean bill.
        lines += ["", f"{len(marks)} checks: {passed} passed, {failed} failed, {skipped} skipped"]
        if skipped:
            lines.append("each skipped check says above what it needs to run")
        return "\n".join(lines)


def allowed(url: str, allow_remote: bool) -> str:
    """The URL if it may be called: http(s), and on loopback unless allow_remote."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckError(f"{url!r} is not an http:// or https:// URL")
    if not allow_remote and parts.hostname not in LOOPBACK:
        raise CheckError(
            f"{parts.hostname} is not on this machine: give --allow-remote to check it"
        )
    return url


def shell_orders(command: str) -> Callable[[], str]:
    """A new order id from a shell command that prints one."""

    def make() -> str:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=30,
                              check=False)  # fmt: skip
        order = done.stdout.strip()
        if done.returncode != 0 or not order or "\n" in order:
            raise CheckError(f"--new-order {shlex.quote(command)} printed no order id"
                             f" (exit {done.returncode}): {done.stderr.strip()[:200]}")  # fmt: skip
        return order

    return make


class StoreChecker:
    """Runs every check against one callback URL."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        new_order: Callable[[], str] | None = None,
        order_status: str | None = None,
        timeout: float = 5.0,
        callback_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.signer = Signer(secret)
        self.new_order = new_order
        self.order_status = order_status if order_status is None else _template(order_status)
        self.timeout = timeout
        self.callback_timeout = callback_timeout

    def run(self) -> Report:
        """Run the checks in order; each finds its own orders."""
        results = [self._run(check) for check in CHECKS]
        return Report(self.url, tuple(results))

    def _run(self, check: Check) -> Result:
        if check.needs_order and self.new_order is None:
            return Result(
                check.name, None, "", "", "needs --new-order to make an order", FIXES[check.name]
            )
        return check.run(self)

    # The tools the checks use --------------------------------------------------------
    def order(self) -> str:
        """A fresh order the store knows (or, without --new-order, one it does not)."""
        return (
            self.new_order() if self.new_order is not None else "ord_check_" + secrets.token_hex(6)
        )

    def deliver(
        self,
        body: bytes,
        *,
        message_id: str | None = None,
        timestamp: int | None = None,
        signed: bool = True,
        signature: str | None = None,
    ) -> Delivered:
        """POST a callback, signed as the gateway signs (or not, or wrongly)."""
        message_id = message_id or "msg_" + secrets.token_hex(12)
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": "application/json"}
        if signed:
            headers.update(self.signer.headers(message_id, stamp, body))
            if signature is not None:
                headers["webhook-signature"] = signature
        return self._post(body, headers)

    def paid(self, order_id: str) -> bool | None:
        """Whether the store shows the order paid; None without --order-status."""
        if self.order_status is None:
            return None
        where = self.order_status.format(order_id=quote(order_id, safe=""))
        status, text = _request("GET", where, None, {},
                                self.timeout)  # fmt: skip
        return status is not None and 200 <= status < 300 and _says_paid(text)

    def burst(self, bodies: list[bytes]) -> list[Delivered]:
        """Deliver these callbacks all at once."""
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            return list(pool.map(self.deliver, bodies))

    def _post(self, body: bytes, headers: Mapping[str, str]) -> Delivered:
        started = time.monotonic()
        status, text = _request("POST", self.url, body, headers, self.timeout)
        return Delivered(_curl(self.url, headers, body), status, text, time.monotonic() - started)


def _request(method: str, url: str, body: bytes | None, headers: Mapping[str, str],
             timeout: float) -> tuple[int | None, str]:  # fmt: skip
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        return response.status, response.read(4096).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        return None, f"no answer: {exc or type(exc).__name__}"
    finally:
        connection.close()


def _says_paid(text: str) -> bool:
    try:
        found = json.loads(text)
    except ValueError:
        return re.search(r"\bpaid\b", text) is not None and "unpaid" not in text
    return "paid" in _strings(found)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _curl(url: str, headers: Mapping[str, str], body: bytes) -> str:
    flags = " ".join(f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items())
    return f"curl -sS -X POST {shlex.quote(url)} {flags} --data-binary {shlex.quote(body.decode())}"


class BackgroundCheck:
    """The dashboard's store check: one at a time, on a thread of its own, so that a store
    that dribbles its answers holds no request thread; its last report is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, object] = {"state": "none"}

    def start(self, checker: StoreChecker, now: Callable[[], str]) -> dict[str, object]:
        """Start a run unless one is running (then it is that one); return its state."""
        with self._lock:
            if self._state["state"] != "running":
                self._state = {"state": "running", "url": checker.url, "started_at": now()}
                threading.Thread(
                    target=self._run, args=(checker, now), name="store-check", daemon=True
                ).start()
            return dict(self._state)

    def latest(self) -> dict[str, object]:
        """The running check, or the last one's report, or {"state": "none"}."""
        with self._lock:
            return dict(self._state)

    def _run(self, checker: StoreChecker, now: Callable[[], str]) -> None:
        try:
            report: dict[str, object] = checker.run().to_json()
        except Exception as exc:  # a check's own bug must not leave it running forever
            log.exception("the store check failed")
            report = {"passed": False, "url": checker.url, "checks": [], "error": str(exc)}
        with self._lock:
            started = self._state.get("started_at")
            self._state = {"state": "done", "started_at": started, "finished_at": now(), **report}
