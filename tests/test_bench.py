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
