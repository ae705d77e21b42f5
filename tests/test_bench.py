"""The benchmark harness (bench/): the parts that run without wrk. `make bench-smoke` runs the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_without_wrk_the_benchmark_says_how_to_install_it(tmp_path: Path) -> None:
    # A PATH holding only this Python: no wrk on it.
    (tmp_path / "python").symlink_to(sys.executable)
    result = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--smoke"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PATH": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("make bench: error: wrk is not installed;")
    assert "apt-get install wrk" in result.stderr and "brew install wrk" in result.stderr


def test_the_flat_costs_are_measured_and_plausible() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "flat.py"), "--payments", "5000"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    costs = json.loads(result.stdout)
    assert set(costs) == {
        "payments_per_s_empty", "payments_per_s_full", "bytes_per_transaction",
        "page_ms_small", "page_ms_full", "list_100k_ms", "json_dumps_100k_ms",
    }  # fmt: skip
    assert all(value > 0 for name, value in costs.items() if name != "bytes_per_transaction")
    # The first pages of a new history may reuse memory freed earlier in the process.
    assert costs["bytes_per_transaction"] >= 0


def test_the_cost_table_reads_a_process_cpu_and_places_a_sample() -> None:
    # In a process of its own: the bench modules import each other as scripts do.
    check = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from cost_table import cpu_seconds, part_of
before, process_before = cpu_seconds(os.getpid()), time.process_time()
deadline = time.process_time() + 0.3
while time.process_time() < deadline:
    pass
used, process_used = cpu_seconds(os.getpid()) - before, time.process_time() - process_before
# /proc counts in clock ticks (10 ms): the two agree to within a few of them.
assert abs(used - process_used) < 0.05, (used, process_used)
stack = ("Thread.run (threading.py:982);Flask.wsgi_app (flask/app.py:1511);"
         "Connection.post (payments_server/callbacks/http1.py:97)")
print(part_of(stack))
"""
    result = subprocess.run(
        [sys.executable, "-c", check, str(BENCH)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "callback to the store\n"
