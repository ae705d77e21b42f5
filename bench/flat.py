"""Costs that must stay flat as history grows, measured in-process; prints one JSON object.

Run by bench/run.py in a process of its own: the memory reading is this process's RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from decimal import Decimal

from flask.testing import FlaskClient

from payments_server import Settings, create_app
from payments_server.apis.web import EXTENSION_KEY
from payments_server.core.money import parse_amount

DEAD_STORE = "http://127.0.0.1:9/payments/confirm"
SAMPLE = 5_000


def rss_bytes() -> int:
    """This process's resident memory now (Linux), or its peak elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource  # noqa: PLC0415 -- not on Windows

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def client_with_history(payments: int) -> FlaskClient:
    """A gateway whose account already holds `payments` transactions, made in-process."""
    app = create_app(Settings(callback_url=DEAD_STORE, initial_balance=Decimal(10**12)))
    ledger = app.extensions[EXTENSION_KEY].ledger
    for index in range(payments):
        # A fresh amount per payment, as parsing each request makes one.
        ledger.pay(parse_amount(Decimal(f"0.{index % 90 + 10}")), "shop")
    return app.test_client()


def payments_per_s(client: FlaskClient) -> float:
    """POST /pay through the app, SAMPLE times."""
    body = '{"amount": 0.01, "recipient": "shop"}'
    started = time.perf_counter()
    for _ in range(SAMPLE):
        client.post("/pay", data=body)
    return SAMPLE / (time.perf_counter() - started)


def page_ms(client: FlaskClient, offset: int) -> float:
    """GET /transactions?limit=100 at this offset, averaged."""
    started = time.perf_counter()
    for _ in range(200):
        client.get(f"/transactions?limit=100&offset={offset}")
    return (time.perf_counter() - started) / 200 * 1000


def main() -> None:
    """Measure and print the flat costs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=1_000_000)
    count = parser.parse_args().payments
    results: dict[str, float] = {}

    small = client_with_history(1_000)
    results["payments_per_s_empty"] = payments_per_s(client_with_history(0))
    results["page_ms_small"] = page_ms(small, 900)

    gc.collect()
    before = rss_bytes()
    full = client_with_history(count)
    gc.collect()
    results["bytes_per_transaction"] = (rss_bytes() - before) / count
    results["payments_per_s_full"] = payments_per_s(full)
    results["page_ms_full"] = page_ms(full, count - 100)
    del full
    gc.collect()

    listing = client_with_history(100_000)
    started = time.perf_counter()
    body = listing.get("/transactions").get_data()
    results["list_100k_ms"] = (time.perf_counter() - started) * 1000
    same = json.loads(body)["transactions"]
    started = time.perf_counter()
    json.dumps(same)
    results["json_dumps_100k_ms"] = (time.perf_counter() - started) * 1000
    print(json.dumps(results))


if __name__ == "__main__":
    main()
