"""Telling the store how an order payment ended: POST {"order_id", "status"} to its callback URL."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Timeout

from . import jsonio
from .ledger import OrderId

log = logging.getLogger("payments_server.callbacks")


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one callback: delivered (2xx in time) or not, and why."""

    order_id: OrderId
    status: str
    delivered: bool
    status_code: int | None
    error: str | None
    elapsed_ms: float


class StoreNotifier:
    """Sends order results to the store over pooled keep-alive connections."""

    def __init__(self, url: str, timeout: float, user_agent: str, *, pool_size: int = 16) -> None:
        self.url = url
        self.timeout = timeout
        # total= makes connect and the wait for the answer share one budget, instead of
        # requests' default of a full timeout for each.
        self._timeout = Timeout(total=timeout)
        self._headers = {"Content-Type": "application/json", "User-Agent": user_agent}
        self._session = requests.Session()
        # The store is local: a proxy from the environment would only get in the way.
        self._session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def notify(self, order_id: OrderId, status: str) -> Delivery:
        """POST the order's result; never raises, whatever the store does."""
        body = jsonio.dumps({"order_id": order_id, "status": status}).encode()
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            response = self._session.post(
                self.url,
                data=body,
                headers=self._headers,
                timeout=self._timeout,  # type: ignore[arg-type]  # requests takes urllib3's
                allow_redirects=False,
            )
            code = response.status_code
        except requests.RequestException as exc:
            error = _describe(exc)
        elapsed = time.perf_counter() - started
        if code is not None and not 200 <= code < 300:
            error = f"store answered {code}"
        elif code is not None and elapsed > self.timeout:
            error = f"store answered after the {self.timeout:g} s timeout"
        delivery = Delivery(order_id, status, error is None, code, error, elapsed * 1000)
        _log(delivery, self.url)
        return delivery

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    return type(exc).__name__


def _log(delivery: Delivery, url: str) -> None:
    what = f"callback order {delivery.order_id} {delivery.status} to {url}"
    if delivery.delivered:
        log.info("%s: %s in %.0f ms", what, delivery.status_code, delivery.elapsed_ms)
    else:
        log.warning("%s not delivered: %s (%.0f ms)", what, delivery.error, delivery.elapsed_ms)
