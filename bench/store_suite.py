"""What a store's developer feels: the kit's cost per test, and a clock advance's per job.

`python bench/store_suite.py` prints one JSON object:
- ms_per_test: a store's pytest with the kit (`payments_gateway` and `store_stub`), each
  test paying one order and asserting its callback; the run of TESTS tests less the run
  of one (pytest's and the gateway's start-up), divided by the tests between;
- ms_per_test_namespace: the same with a fresh namespace per test (`payments_namespace`);
- advance_ms_1000_jobs: one POST /clock/advance that decides 1,000 pending payments
  (--jobs), each with its callback to a store that answers at once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from run import BENCH, PYTHON, free_port, serving

from payments_server import Settings, close_app, create_app

TESTS = 300
JOBS = 1_000

# One store test as the kit's docs write it: pay an order, assert the callback it got.
SHARED = """
import requests


def test_pay(payments_gateway, store_stub, n):
    answer = requests.post(
        payments_gateway.url_for("/payments/orders"), json={"order_id": f"o{n}", "amount": 1}
    )
    assert answer.json()["shop_notified"] is True
    (callback,) = store_stub.wait_for(1)
    assert callback.json == {"order_id": f"o{n}", "status": "success"}
"""
NAMESPACED = """
import requests


def test_pay(payments_namespace, store_stub, n):
    answer = requests.post(
        payments_namespace.url_for("/payments/orders"), json={"order_id": "o1", "amount": 1}
    )
    assert answer.json()["shop_notified"] is True
    (callback,) = store_stub.wait_for(1)
    assert callback.json == {"order_id": "o1", "status": "success"}
"""
CONFTEST = """
import pytest


def pytest_generate_tests(metafunc):
    metafunc.parametrize("n", range({tests}))
"""


def suite_seconds(body: str, tests: int) -> float:
    """Wall seconds of one pytest run of `tests` copies of the test in `body`."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_store.py").write_text(body)
        Path(folder, "conftest.py").write_text(CONFTEST.format(tests=tests))
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
             "-p", "no:xdist", folder],
            check=True, capture_output=True, cwd=folder,
        )  # fmt: skip
        return time.perf_counter() - started


def ms_per_test(body: str, tests: int, repeats: int) -> float:
    """Milliseconds a test of `body` adds to a run, start-up taken out (the best of
    `repeats` runs of each: a shared machine's noise is as large as what is measured)."""
    one = min(suite_seconds(body, 1) for _ in range(repeats))
    many = min(suite_seconds(body, tests) for _ in range(repeats))
    return (many - one) / (tests - 1) * 1000


def advance_ms(jobs: int) -> float:
    """Milliseconds of one POST /clock/advance that decides `jobs` pending payments."""
    port = free_port()
    with serving([PYTHON, str(BENCH / "store.py"), str(port)], port) as store:
        app = create_app(
            Settings(
                callback_url=store + "/payments/confirm", clock="frozen",
                initial_balance=Decimal(10**9), callback_retries=0,
            )
        )  # fmt: skip
        try:
            client = app.test_client()
            rule = {"next": jobs, "outcome": "pending", "decide_after_ms": 1000}
            assert client.put("/simulation", json={"rules": [rule]}).status_code == 200
            for index in range(jobs):
                paid = client.post("/payments/orders", json={"order_id": f"p{index}", "amount": 1})
                assert paid.status_code == 202, paid.get_json()
            started = time.perf_counter()
            answer = client.post("/clock/advance", json={"seconds": 2})
            elapsed = (time.perf_counter() - started) * 1000
            ran = answer.get_json()["ran"]
            if len(ran) != jobs:
                raise SystemExit(f"the advance ran {len(ran)} jobs, not {jobs}")
            return elapsed
        finally:
            close_app(app)


def main() -> None:
    """Measure and print the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=TESTS, help="tests in the longer run")
    parser.add_argument("--jobs", type=int, default=JOBS, help="jobs the advance runs")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the best is kept")
    args = parser.parse_args()
    figures = {
        "ms_per_test": ms_per_test(SHARED, args.tests, args.repeats),
        "ms_per_test_namespace": ms_per_test(NAMESPACED, args.tests, args.repeats),
        "advance_ms_1000_jobs": advance_ms(args.jobs),
    }
    json.dump(figures, sys.stdout)


if __name__ == "__main__":
    main()
