"""Profile the order payment path in-process with cProfile: `python bench/profile_orders.py`.

Starts the benchmark's store, pays 2,000 orders through the app (each with its callback)
and prints the time per payment and the 25 most expensive calls by cumulative time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

# Run as a script, its folder is on sys.path, so run.py's helpers import as `run`.
from run import BENCH, PYTHON, free_port, serving

from payments_server import Settings, create_app
from payments_server.apis.web import EXTENSION_KEY

PAYMENTS = 2_000


def main() -> None:
    """Profile PAYMENTS order payments and print the report."""
    port = free_port()
    with serving([PYTHON, str(BENCH / "store.py"), str(port)], port) as store:
        app = create_app(Settings(callback_url=store + "/payments/confirm", callback_retries=0))
        client = app.test_client()
        for index in range(200):  # warm up the connection pool and the code paths
            client.post("/payments/orders", data=f'{{"order_id": "w{index}", "amount": 0.01}}')
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for index in range(PAYMENTS):
            client.post("/payments/orders", data=f'{{"order_id": "p{index}", "amount": 0.01}}')
        profile.disable()
        elapsed = time.perf_counter() - started
        app.extensions[EXTENSION_KEY].close()
    print(f"{elapsed / PAYMENTS * 1000:.2f} ms per order payment under cProfile")
    pstats.Stats(profile).sort_stats(*sys.argv[1:2] or ["cumulative"]).print_stats(25)


if __name__ == "__main__":
    main()
