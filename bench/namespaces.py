"""What namespaces cost, measured in-process; prints one JSON object.

Run by bench/run.py in a process of its own, so the memory reading is the namespaces':
the resident memory each idle namespace adds, how long making one takes (its first
request), and what a payment costs in a gateway of one namespace and of 10,000.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from decimal import Decimal

from flask.testing import FlaskClient
from flat import DEAD_STORE, rss_bytes

from payments_server import Settings, close_app, create_app

SAMPLE = 2_000


def payments_per_s(client: FlaskClient, namespace: str) -> float:
    """POST /ns/<namespace>/payments/orders, SAMPLE fresh orders, through the app."""
    started = time.perf_counter()
    for index in range(SAMPLE):
        body = f'{{"order_id": "o-{index}", "amount": 0.01}}'
        client.post(f"/ns/{namespace}/payments/orders", data=body,
                    content_type="application/json")  # fmt: skip
    return SAMPLE / (time.perf_counter() - started)


def main() -> None:
    """Measure, and print the figures as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--namespaces", type=int, default=10_000)
    count = parser.parse_args().namespaces
    # No retries: a retry running in the background would be counted against the second.
    app = create_app(Settings(callback_url=DEAD_STORE, max_namespaces=count + 10,
                              initial_balance=Decimal(10**9), callback_retries=0))  # fmt: skip
    client = app.test_client()
    one = max(payments_per_s(client, "first"), payments_per_s(client, "second"))
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    for index in range(count):
        client.get(f"/ns/idle-{index}/balance")
    made_ms = (time.perf_counter() - started) * 1000 / count
    gc.collect()
    per_namespace = (rss_bytes() - before) / count
    many = max(payments_per_s(client, "last"), payments_per_s(client, "after-last"))
    close_app(app)
    print(json.dumps({
        "namespaces": count,
        "first_request_ms": made_ms,
        "bytes_per_idle_namespace": per_namespace,
        "namespaces_per_gb": 1e9 / per_namespace,
        "payments_per_s_one_namespace": one,
        "payments_per_s_among_many": many,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
